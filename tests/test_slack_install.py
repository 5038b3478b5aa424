""" "Add to Slack" for many workspaces: Bolt's OAuth flow against the running app, a bot token
per workspace (or per Enterprise Grid organisation) for every Web API call, token rotation,
and an uninstall that deletes the workspace's tokens at once.

The app is served over loopback HTTP by our WSGI handler (as `coach slack` serves it); Slack's
side of OAuth is the fake Web API's `oauth.v2.access`, which refuses a wrong code, client id
or secret, and once workspaces have installed accepts only the tokens it gave them.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from ruamel.yaml import YAML
from slack_sdk import WebClient

from bot.channels.slack.app import SlackCoach, SlackSettings
from bot.channels.slack.installs import BOT_SCOPES
from bot.channels.slack.server import settings_from_env, wsgi_app
from bot.engine import Engine
from bot.errors import ConfigError
from storage.store import Store
from tests.conftest import FakeClock
from tests.fakes.slack_api import FakeOAuth, FakeSlackAPI, Install
from tests.slack_support import SIGNING_SECRET, dm_event, signed_headers, slash_command
from tests.test_erasure import file_bytes

MANIFEST = Path(__file__).parent.parent / "slack" / "manifest.yaml"
PAYLOADS = Path(__file__).parent / "slack_payloads"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        return


def authorize_query(page: str) -> dict[str, list[str]]:
    """What the install page's "Add to Slack" link asks Slack for."""
    found = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert found is not None, page
    return urllib.parse.parse_qs(urllib.parse.urlparse(html.unescape(found.group(1))).query)


class Browser:
    """An admin's browser and Slack's servers, talking to the running app over HTTP."""

    def __init__(self, base: str, fake: FakeSlackAPI) -> None:
        self.base = base
        self.fake = fake
        self._events = 0

    def get(self, path: str, cookie: str | None = None) -> tuple[int, Message, str]:
        """GET a page as a browser would: (status, headers, body)."""
        headers = {"Cookie": cookie} if cookie else {}
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode()

    def add_to_slack(self) -> tuple[str, str]:
        """Open /slack/install: the state Slack will send back, and its browser cookie."""
        status, headers, page = self.get("/slack/install")
        assert status == 200, page
        cookie = str(headers.get("Set-Cookie")).split(";")[0]
        return authorize_query(page)["state"][0], cookie

    def come_back(self, code: str, state: str, cookie: str | None) -> tuple[int, str]:
        """Slack sends the admin's browser back to the app with a code."""
        status, _, page = self.get(f"/slack/oauth_redirect?code={code}&state={state}", cookie)
        return status, page

    def install(self, install: Install) -> None:
        state, cookie = self.add_to_slack()
        status, page = self.come_back(self.fake.oauth.plan(install), state, cookie)
        assert status == 200, page

    def event(self, body: str) -> int:
        return self.post(body, json_body=True)

    def post(self, body: str, *, json_body: bool) -> int:
        """A signed request from Slack to /slack/events: its status."""
        request = urllib.request.Request(
            self.base + "/slack/events",
            data=body.encode(),
            headers=signed_headers(body, json_body=json_body),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def dm(self, user: str, text: str, team: str, **grid: Any) -> None:
        self._events += 1
        body = dm_event(user, text, event_id=f"EvI{self._events}", team=team, **grid)
        assert self.event(body) == 200


def distributed_coach(
    engine: Engine, fake: FakeSlackAPI, secret: str = FakeOAuth.CLIENT_SECRET
) -> SlackCoach:
    settings = SlackSettings(
        bot_token=None,
        signing_secret=SIGNING_SECRET,
        api_url=fake.base_url,
        client_id=FakeOAuth.CLIENT_ID,
        client_secret=secret,
    )
    client = WebClient(base_url=fake.base_url)
    return SlackCoach(engine, settings, client=client, process_before_response=True)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers = []

    def start(coach: SlackCoach, fake: FakeSlackAPI) -> Browser:
        server = make_server("127.0.0.1", 0, wsgi_app(coach), handler_class=_QuietHandler)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        servers.append(server)
        return Browser(f"http://127.0.0.1:{server.server_port}", fake)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def coach(engine: Engine, fake: FakeSlackAPI) -> SlackCoach:
    return distributed_coach(engine, fake)


@pytest.fixture
def browser(serve: Any, coach: SlackCoach, fake: FakeSlackAPI) -> Browser:
    return serve(coach, fake)


def bots(db_path: Path) -> list[tuple[str, str, str]]:
    """(enterprise, team, token) of every bot token in the installation store."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT enterprise_id, team_id, bot_token FROM slack_bots").fetchall()
    return [(str(e), str(t), str(token)) for e, t, token in rows]


def tokens_of_posts(fake: FakeSlackAPI, channel: str) -> list[str]:
    return [t for m, t, p in fake.authed if m == "chat.postMessage" and p["channel"] == channel]


def plant_due_step(db_path: Path, key: str, clock: FakeClock) -> None:
    """Give the person's current conversation a next step that fell due yesterday."""
    store = Store(db_path)
    try:
        conversation = store.current_conversation(key)
        assert conversation is not None
        yesterday = (clock.now.date() - dt.timedelta(days=1)).isoformat()
        with store.transaction():
            store.add_next_steps(
                conversation.id,
                key,
                [{"title": "Call the chair", "text": "Ask for a seat", "due_date": yesterday}],
                clock.now.isoformat(),
            )
    finally:
        store.close()


# == the OAuth flow ===============================================================================


def test_add_to_slack_installs_the_coach_and_refuses_a_wrong_code_or_state(
    browser: Browser, fake: FakeSlackAPI, db_path: Path
) -> None:
    status, _, page = browser.get("/slack/install")
    assert status == 200 and "Add to Slack" in page
    asked = authorize_query(page)
    assert asked["client_id"] == [FakeOAuth.CLIENT_ID]
    assert tuple(asked["scope"][0].split(",")) == BOT_SCOPES

    state, cookie = browser.add_to_slack()
    assert browser.come_back("not-a-code-slack-gave", state, cookie)[0] == 401
    state, cookie = browser.add_to_slack()
    code = fake.oauth.plan(Install(team="T1"))
    assert browser.come_back(code, "forged-state", cookie)[0] in (400, 401)
    assert browser.come_back(code, state, None)[0] == 400  # not the browser that started
    assert not bots(db_path)

    status, page = browser.come_back(code, state, cookie)

    assert status == 200, page
    [(enterprise, team, token)] = bots(db_path)
    assert (enterprise, team) == ("", "T1") and token in fake.oauth.issued
    assert browser.come_back(code, state, cookie)[0] in (400, 401)  # a state is used once


def test_an_app_whose_client_secret_slack_does_not_know_installs_nothing(
    serve: Any, engine: Engine, fake: FakeSlackAPI, db_path: Path, caplog: Any
) -> None:
    browser = serve(distributed_coach(engine, fake, secret="an-old-secret"), fake)
    state, cookie = browser.add_to_slack()
    code = fake.oauth.plan(Install(team="T1"))

    status, _ = browser.come_back(code, state, cookie)

    assert status == 401
    assert not bots(db_path)
    assert "oauth.v2.access" in caplog.text and code not in caplog.text  # a code is a secret


# == a token per workspace ========================================================================


def test_two_workspaces_are_each_answered_and_checked_in_on_with_their_own_token(
    browser: Browser, coach: SlackCoach, fake: FakeSlackAPI, db_path: Path, clock: FakeClock
) -> None:
    browser.install(Install(team="T1"))
    browser.install(Install(team="T2"))
    token = {team: t for _, team, t in bots(db_path)}
    fake.oauth.member("U1", "T1")
    fake.oauth.member("U9", "T2")

    browser.dm("U1", "hello", team="T1")
    browser.dm("U9", "start diagnose", team="T2")

    assert tokens_of_posts(fake, "DU1") and set(tokens_of_posts(fake, "DU1")) == {token["T1"]}
    assert tokens_of_posts(fake, "DU9") and set(tokens_of_posts(fake, "DU9")) == {token["T2"]}
    assert not [r for r in fake.refusals if r[0] == "chat.postMessage"]

    # Later, with no request to borrow a token from: the check-in of U9's step.
    plant_due_step(db_path, "slack:T2:U9", clock)
    assert coach.push_due_checkins() == 1
    checkin = [t for m, t, p in fake.authed if m == "chat.postMessage" and p["channel"] == "U9"]
    assert checkin == [token["T2"]]


def test_the_fake_refuses_a_dm_sent_with_another_workspaces_token(fake: FakeSlackAPI) -> None:
    """What keeps the test above honest: Slack answers channel_not_found."""
    fake.oauth.member("U9", "T2")
    access = WebClient(base_url=fake.base_url).oauth_v2_access(
        client_id=FakeOAuth.CLIENT_ID,
        client_secret=FakeOAuth.CLIENT_SECRET,
        code=fake.oauth.plan(Install(team="T1")),
    )
    client = WebClient(token=access["access_token"], base_url=fake.base_url)

    with pytest.raises(Exception, match="channel_not_found"):
        client.chat_postMessage(channel="U9", text="hello")


def test_an_org_wide_install_gives_a_person_one_history_across_the_orgs_workspaces(
    browser: Browser, fake: FakeSlackAPI, db_path: Path
) -> None:
    browser.install(Install(team=None, enterprise="E1", org_wide=True))
    [(enterprise, team, org_token)] = bots(db_path)
    assert (enterprise, team) == ("E1", "")
    fake.oauth.member("W5", "T3", "E1")

    assert browser.event(json.dumps(json.loads((PAYLOADS / "grid_org_dm.json").read_text()))) == 200
    browser.dm("W5", "history", team="T4", enterprise="E1", org_wide=True)  # another workspace

    store = Store(db_path)
    try:
        assert store.users_with_prefix("slack:E1:") == ["slack:E1:W5"]
        assert not store.users_with_prefix("slack:T3:") and not store.users_with_prefix("slack:T4:")
        said = [m["text"] for m in store.messages_of("slack:E1:W5") if m["sender"] == "user"]
    finally:
        store.close()
    assert said == ["hello", "history"]
    assert set(tokens_of_posts(fake, "DW5")) == {org_token}


def test_a_slash_command_in_an_org_wide_install_is_the_same_persons(
    browser: Browser, fake: FakeSlackAPI, db_path: Path
) -> None:
    browser.install(Install(team=None, enterprise="E1", org_wide=True))
    browser.dm("W5", "hello", team="T3", enterprise="E1", org_wide=True)
    # As Slack sends a slash command from an org-wide app (Slack's slash command docs).
    command = slash_command("W5", "start diagnose", response_url=browser.base + "/r", team="T4")
    command += "&enterprise_id=E1&is_enterprise_install=true"

    assert browser.post(command, json_body=False) == 200

    store = Store(db_path)
    try:
        said = [m["text"] for m in store.messages_of("slack:E1:W5") if m["sender"] == "user"]
        assert store.users_with_prefix("slack:T4:") == []
    finally:
        store.close()
    assert said == ["hello", "start diagnose"]


def test_a_rotating_token_is_refreshed_before_it_expires_and_the_spent_one_is_not_used(
    browser: Browser, coach: SlackCoach, fake: FakeSlackAPI, db_path: Path
) -> None:
    browser.install(Install(team="T1", lifetime=60))  # expires well within the 120 minutes
    [(_, _, first)] = bots(db_path)

    browser.dm("U1", "hello", team="T1")
    browser.dm("U1", "menu", team="T1")

    refreshes = [p for p in fake.of("oauth.v2.access") if p.get("grant_type") == "refresh_token"]
    assert len(refreshes) == 1
    assert first in fake.oauth.expired
    used = set(tokens_of_posts(fake, "DU1"))
    assert len(used) == 1 and used <= set(fake.oauth.issued)
    [(_, _, kept)] = bots(db_path)  # the spent token is gone from the store and the file
    assert used == {kept} and first.encode() not in file_bytes(db_path)
    assert not [r for r in fake.refusals if r[0] == "chat.postMessage"]


# == uninstall ====================================================================================


def test_an_uninstall_deletes_that_workspaces_installation_and_tokens_at_once(
    browser: Browser, coach: SlackCoach, fake: FakeSlackAPI, db_path: Path
) -> None:
    browser.install(Install(team="T1"))
    browser.install(Install(team="T2"))
    token = {team: t for _, team, t in bots(db_path)}
    browser.dm("U1", "hello", team="T1")
    uninstalled = json.loads((PAYLOADS / "app_uninstalled.json").read_text())

    assert browser.event(json.dumps(uninstalled)) == 200

    assert [team for _, team, _ in bots(db_path)] == ["T2"]
    with sqlite3.connect(db_path) as conn:
        installs = [t for (t,) in conn.execute("SELECT team_id FROM slack_installations")]
    assert installs == ["T2"]
    assert token["T1"].encode() not in file_bytes(db_path)
    assert token["T2"].encode() in file_bytes(db_path)
    posted = len(fake.of("chat.postMessage"))
    browser.dm("U1", "menu", team="T1")  # nothing can answer without a token
    assert len(fake.of("chat.postMessage")) == posted


def test_an_uninstalled_workspace_gets_no_check_ins_and_is_erased_after_the_grace_period(
    browser: Browser, coach: SlackCoach, fake: FakeSlackAPI, db_path: Path, clock: FakeClock
) -> None:
    browser.install(Install(team="T1"))
    browser.install(Install(team="T2"))
    browser.dm("U1", "start diagnose", team="T1")
    browser.dm("U9", "start diagnose", team="T2")
    plant_due_step(db_path, "slack:T1:U1", clock)
    plant_due_step(db_path, "slack:T2:U9", clock)
    uninstalled = json.loads((PAYLOADS / "app_uninstalled.json").read_text())

    assert browser.event(json.dumps(uninstalled)) == 200

    assert coach.push_due_checkins() == 1
    assert {p["channel"] for p in fake.of("chat.postMessage")} == {"DU1", "DU9", "U9"}
    clock.advance(days=29)
    assert coach.erase_removed_workspaces() == 0
    clock.advance(days=2)
    assert coach.erase_removed_workspaces() == 1
    store = Store(db_path)
    try:
        assert store.users_with_prefix("slack:T1:") == []
        assert store.users_with_prefix("slack:T2:") == ["slack:T2:U9"]
    finally:
        store.close()


def test_a_workspace_that_adds_the_coach_again_keeps_its_people_and_gets_answers(
    browser: Browser, coach: SlackCoach, fake: FakeSlackAPI, db_path: Path, clock: FakeClock
) -> None:
    browser.install(Install(team="T1"))
    browser.dm("U1", "start diagnose", team="T1")
    browser.event(json.dumps(json.loads((PAYLOADS / "app_uninstalled.json").read_text())))
    clock.advance(days=2)

    browser.install(Install(team="T1"))  # no event yet: the install itself says it is back
    clock.advance(days=40)

    assert coach.erase_removed_workspaces() == 0
    [(_, _, token)] = bots(db_path)
    browser.dm("U1", "menu", team="T1")
    assert tokens_of_posts(fake, "DU1")[-1] == token


def test_a_revoked_bot_token_deletes_the_installation_too(
    browser: Browser, fake: FakeSlackAPI, db_path: Path
) -> None:
    browser.install(Install(team="T1"))
    revoked = json.loads((PAYLOADS / "tokens_revoked.json").read_text())

    assert browser.event(json.dumps(revoked)) == 200

    assert bots(db_path) == []


def grid_event(kind: str, teams: list[str], event_id: str) -> str:
    """An org admin's change to which workspaces the org's app reaches, as Slack sends it."""
    body = json.loads((PAYLOADS / "team_access_revoked.json").read_text())
    body["event"].update(type=kind, team_ids=teams)
    body["event_id"] = event_id
    return json.dumps(body)


def test_an_org_admin_taking_a_workspace_from_the_app_removes_it_like_an_uninstall(
    browser: Browser, coach: SlackCoach, fake: FakeSlackAPI, db_path: Path, clock: FakeClock
) -> None:
    """Before, `team_access_revoked` was ignored: the workspace's token stayed in the file,
    its people were still sent check-ins, and their data was kept for ever."""
    browser.install(Install(team="T1", enterprise="E1"))
    browser.install(Install(team="T2", enterprise="E1"))
    token = {team: t for _, team, t in bots(db_path)}
    browser.dm("U1", "start diagnose", team="T1", enterprise="E1")
    browser.dm("U9", "start diagnose", team="T2", enterprise="E1")
    plant_due_step(db_path, "slack:T1:U1", clock)
    plant_due_step(db_path, "slack:T2:U9", clock)
    revoked = grid_event("team_access_revoked", ["T1", "T3"], "EvTAR1")

    assert browser.event(revoked) == 200
    assert browser.event(revoked) == 200  # Slack's retry: still removed, not "back"

    assert [team for _, team, _ in bots(db_path)] == ["T2"]
    assert token["T1"].encode() not in file_bytes(db_path)
    assert coach.push_due_checkins() == 1  # T2's person only
    assert {p["channel"] for p in fake.of("chat.postMessage")} == {"DU1", "DU9", "U9"}
    clock.advance(days=31)
    assert coach.erase_removed_workspaces() == 1
    store = Store(db_path)
    try:
        assert store.users_with_prefix("slack:T1:") == []
        assert store.users_with_prefix("slack:T2:") == ["slack:T2:U9"]
    finally:
        store.close()


def test_a_workspace_taken_from_an_org_wide_install_leaves_the_orgs_people_their_history(
    browser: Browser, coach: SlackCoach, fake: FakeSlackAPI, db_path: Path, clock: FakeClock
) -> None:
    """An org-wide install keys each person by the organisation, and may still reach them
    in its other workspaces: the organisation's install and its people stay."""
    browser.install(Install(team=None, enterprise="E1", org_wide=True))
    installed = bots(db_path)
    fake.oauth.member("W5", "T3", "E1")
    browser.dm("W5", "start diagnose", team="T3", enterprise="E1", org_wide=True)
    plant_due_step(db_path, "slack:E1:W5", clock)

    assert browser.event(grid_event("team_access_revoked", ["T3"], "EvTAR3")) == 200

    assert bots(db_path) == installed
    assert coach.push_due_checkins() == 1
    clock.advance(days=31)
    assert coach.erase_removed_workspaces() == 0
    store = Store(db_path)
    try:
        assert store.users_with_prefix("slack:E1:") == ["slack:E1:W5"]
    finally:
        store.close()


# == OAuth states ================================================================================


def states(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM oauth_states").fetchone()[0])


def test_add_to_slack_clicks_never_finished_leave_no_state_behind(
    serve: Any, engine: Engine, fake: FakeSlackAPI, db_path: Path, clock: FakeClock
) -> None:
    """Before, slack_sdk's state store kept every state it issued that was never used: one
    row for each "Add to Slack" an admin opened and left, for ever."""
    browser = serve(distributed_coach(engine, fake), fake)
    browser.add_to_slack()
    left, cookie = browser.add_to_slack()  # two clicks never finished
    assert states(db_path) == 2
    clock.advance(seconds=601)  # past the ten minutes a state lasts

    assert browser.come_back(fake.oauth.plan(Install(team="T1")), left, cookie)[0] in (400, 401)
    browser.install(Install(team="T1"))  # a new click: the expired ones go

    assert states(db_path) == 0
    browser.add_to_slack()
    clock.advance(seconds=601)
    distributed_coach(engine, fake)  # the next start
    assert states(db_path) == 0


# == settings and the manifest ====================================================================


def test_add_to_slack_settings_need_both_credentials_http_mode_and_no_single_token() -> None:
    both = {
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "s",
        "SLACK_SIGNING_SECRET": "x",
    }
    settings = settings_from_env(both)
    assert settings.distributed and settings.bot_token is None

    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET is not set"):
        settings_from_env({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "x"})
    with pytest.raises(ConfigError, match="HTTP mode"):
        settings_from_env({**both, "SLACK_APP_TOKEN": "xapp-1"})
    with pytest.raises(ConfigError, match="Unset SLACK_BOT_TOKEN"):
        settings_from_env({**both, "SLACK_BOT_TOKEN": "xoxb-1"})


def test_the_manifest_asks_for_what_the_install_asks_for_and_names_the_redirect_url() -> None:
    manifest = YAML(typ="safe").load(MANIFEST.read_text())
    oauth = manifest["oauth_config"]

    assert tuple(oauth["scopes"]["bot"]) == BOT_SCOPES
    assert [u.rsplit("/", 2)[-2:] for u in oauth["redirect_urls"]] == [["slack", "oauth_redirect"]]
