"""The Slack channel end to end: real signed requests through the real Bolt app.

Slack's Web API is faked on 127.0.0.1 (tests/fakes/slack_api.py) and records every call, so
each test checks what a person would notice: the messages, updates, private notes and home
views Slack was asked to show, and the rows left in SQLite. `process_before_response=True`
makes every listener finish before `dispatch` returns, so only the export thread is waited on.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot import cli, messages
from bot.channels.slack import texts
from bot.channels.slack.app import SlackCoach, SlackSettings
from bot.channels.slack.server import settings_from_env, wsgi_app
from bot.engine import Engine
from bot.errors import ConfigError
from bot.turns import Await, BotMessage, Choice, Reply, UserInput
from storage.store import Store
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack_support import (
    BOT_TOKEN,
    SIGNING_SECRET,
    block_action,
    dm_event,
    home_opened,
    join_exports,
    signed_headers,
    slack_encoded,
    slash_command,
)
from tests.test_erasure import file_bytes

PAYLOADS = Path(__file__).parent / "slack_payloads"
USER_TABLES = ("users", "conversations", "messages", "next_steps", "safety_events", "deliveries")
U1 = "slack:T1:U1"
U2 = "slack:T1:U2"

SITUATION = "The partnership board <!channel> decides our funding & we have no seat"
OTHER_PARTY = "Northshire Council"
HOPE = "We sit on the board and our report shapes the decision"
CHECKIN_LABELS = ["Done", "Partly", "Not yet", "Dropped it", "Remind me later"]


# == the workspace, as a test drives it ===========================================================


def ack_body(response: BoltResponse) -> dict[str, Any]:
    """What a slash command's acknowledgement shows the user: its text (and blocks)."""
    if not response.body:
        return {}
    try:
        data = json.loads(response.body)
    except ValueError:
        return {"text": response.body}
    return data if isinstance(data, dict) else {"text": response.body}


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every piece of text a person can read in some blocks."""
    found: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), dict):
                found.append(element["text"]["text"])
            elif isinstance(element.get("text"), str):
                found.append(element["text"])
    return found


def shown(post: dict[str, Any]) -> str:
    """What a person reads in one posted message: every text in its blocks, in order."""
    return "\n".join(block_texts(post["blocks"]))


def sections_of(post: dict[str, Any]) -> list[str]:
    """The section texts of one posted message, in order: each message of the turn has its own."""
    return [b["text"]["text"] for b in post["blocks"] if b["type"] == "section"]


class Slack:
    """One workspace: people DM the app, click its buttons, type /coach and open its home.

    Every request is signed the way Slack signs it and goes through `App.dispatch`; what
    Slack was asked to show is read back from the fake Web API.
    """

    def __init__(self, coach: SlackCoach, fake: FakeSlackAPI) -> None:
        self.coach = coach
        self.fake = fake
        self.response_url = f"http://127.0.0.1:{fake.port}/response/1"
        self.clicked: list[tuple[str, str]] = []  # (ts of the clicked message, chosen label)
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"Ev{time.time_ns()}{next(self._ids)}"

    # -- sending ------------------------------------------------------------------------------

    def send(
        self, body: str, *, json_body: bool, headers: dict[str, str] | None = None
    ) -> BoltResponse:
        if headers is None:
            headers = signed_headers(body, json_body=json_body)
        return self.coach.app.dispatch(BoltRequest(body=body, headers=headers))

    def event(self, payload: dict[str, Any]) -> BoltResponse:
        return self.send(json.dumps(payload), json_body=True)

    def dm(
        self, text: str, *, user: str = "U1", event_id: str | None = None, as_sent: bool = False
    ) -> BoltResponse:
        body = dm_event(user, text, event_id=event_id or self.new_id(), as_sent=as_sent)
        response = self.send(body, json_body=True)
        assert response.status == 200, response.body
        return response

    def command(self, text: str, *, user: str = "U1", channel: str | None = None) -> BoltResponse:
        body = slash_command(user, text, response_url=self.response_url, channel=channel)
        response = self.send(body, json_body=False)
        assert response.status == 200, response.body
        return response

    def action(
        self,
        action: dict[str, Any],
        *,
        user: str = "U1",
        message: dict[str, Any] | None = None,
        action_ts: str | None = None,
    ) -> BoltResponse:
        body = block_action(
            user, action, message=message, response_url=self.response_url, action_ts=action_ts
        )
        return self.send(body, json_body=False)

    # -- reading what the user sees -------------------------------------------------------------

    def posts(self, user: str = "U1") -> list[tuple[str, dict[str, Any]]]:
        """Every chat.postMessage to the user's DM, with the ts the fake answered it with."""
        found = []
        number = 0
        for method, params in list(self.fake.calls):
            if method == "chat.postMessage":
                number += 1
                if params.get("channel") in (user, f"D{user}"):
                    found.append((f"{1700000000 + number}.000100", params))
        return found

    def last_post(self, user: str = "U1") -> tuple[str, dict[str, Any]]:
        posts = self.posts(user)
        assert posts, "the app has posted nothing to this user"
        return posts[-1]

    def said_since(self, count: int, user: str = "U1") -> str:
        """What the messages posted to the user after their first `count` show."""
        return "\n".join(shown(p) for _, p in self.posts(user)[count:])

    @staticmethod
    def buttons(post: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [
            (block["block_id"], element)
            for block in post["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
            if element["type"] == "button"
        ]

    def labels(self, user: str = "U1") -> list[str]:
        return [e["text"]["text"] for _, e in self.buttons(self.last_post(user)[1])]

    # -- clicking ---------------------------------------------------------------------------------

    def click(
        self,
        label: str | None = None,
        *,
        index: int | None = None,
        user: str = "U1",
        post: tuple[str, dict[str, Any]] | None = None,
        action_ts: str | None = None,
    ) -> BoltResponse:
        """Click a button of the user's latest message (or of `post`): by label, or index."""
        ts, payload = post or self.last_post(user)
        buttons = self.buttons(payload)
        if index is not None:
            block_id, element = buttons[index]
        else:
            matches = [b for b in buttons if b[1]["text"]["text"] == label]
            assert matches, f"no button {label!r} in {[e['text']['text'] for _, e in buttons]}"
            block_id, element = matches[0]
        message = {
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "ts": ts,
            "text": payload["text"],
            "blocks": payload["blocks"],
        }
        response = self.action(
            {**element, "block_id": block_id}, user=user, message=message, action_ts=action_ts
        )
        assert response.status == 200, response.body
        self.clicked.append((ts, element["text"]["text"]))
        return response

    def pick_date(
        self,
        date: str,
        *,
        user: str = "U1",
        post: tuple[str, dict[str, Any]] | None = None,
    ) -> BoltResponse:
        """Choose `date` in the datepicker of the user's latest message (or of `post`)."""
        ts, payload = post or self.last_post(user)
        block = next(
            b
            for b in payload["blocks"]
            if b["type"] == "actions" and b["block_id"].startswith("date:")
        )
        element = block["elements"][0]
        assert element["action_id"] == "date_pick"
        action = {**element, "block_id": block["block_id"], "selected_date": date}
        message = {
            "type": "message",
            "ts": ts,
            "text": payload["text"],
            "blocks": payload["blocks"],
        }
        response = self.action(action, user=user, message=message)
        assert response.status == 200, response.body
        self.clicked.append((ts, date))
        return response

    # -- App Home ----------------------------------------------------------------------------------

    def open_home(self, user: str = "U1") -> dict[str, Any]:
        before = len(self.fake.of("views.publish"))
        response = self.send(home_opened(user, event_id=self.new_id()), json_body=True)
        assert response.status == 200
        published = self.fake.of("views.publish")
        assert len(published) == before + 1
        assert published[-1]["user_id"] == user
        return published[-1]["view"]

    def click_home(
        self, view: dict[str, Any], action_id: str, step_id: int, *, user: str = "U1"
    ) -> BoltResponse:
        """Click a step's button on the App Home tab, as Slack reports a click in a view."""
        payload = json.loads((PAYLOADS / "home_step_action.json").read_text())
        payload["user"]["id"] = user
        payload["view"]["blocks"] = view["blocks"]
        block = next(b for b in view["blocks"] if b.get("block_id") == f"step_actions:{step_id}")
        element = next(e for e in block["elements"] if e["action_id"] == action_id)
        payload["actions"] = [
            {**element, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}"}
        ]
        return self.send(urlencode({"payload": json.dumps(payload)}), json_body=False)


def run_diagnosis(slack: Slack, user: str = "U1") -> list[str]:
    """A whole "Diagnose a power situation" by DMs and clicks; returns the two steps taken.

    The first step's date is picked in the datepicker, the second's typed ("in 2 weeks").
    """
    slack.dm("hello", user=user)
    slack.click("Diagnose a power situation", user=user)
    slack.click("I work in or run a voluntary or community organisation", user=user)
    slack.dm(SITUATION, user=user)
    slack.dm(OTHER_PARTY, user=user)
    assert OTHER_PARTY in slack.last_post(user)[1]["text"]
    slack.click("An organisation, such as a council, NHS trust or funder", user=user)
    slack.click("No", user=user)  # not in the room where it's decided
    slack.click("Resources others need (money, staff, buildings)", user=user)
    slack.click("Elected representatives (councillors, MPs, a mayor)", user=user)
    slack.click("The community", user=user)
    for label in ("5 – a great deal", "2", "4", "3", "4", "3", "5 – at the centre", "2"):
        slack.click(label, user=user)
    slack.click("Local knowledge", user=user)
    slack.click("A meeting (a board, committee, panel or public meeting)", user=user)
    slack.dm("Partnership board on the 14th", user=user)
    slack.click("Other voluntary groups", user=user)
    slack.click("Yes", user=user)
    slack.dm(HOPE, user=user)
    assert "Which of these will you take on?" in shown(slack.last_post(user)[1])
    first = slack.labels(user)[0]
    slack.click(first, user=user)
    slack.pick_date("2026-12-01", user=user)
    second = slack.labels(user)[0]
    slack.click(second, user=user)
    assert "When will you do" in shown(slack.last_post(user)[1])
    slack.dm("in 2 weeks", user=user)
    slack.click("That's enough for now", user=user)
    return [first, second]


# == fixtures =====================================================================================


#: The shared fake (the `fake` fixture in conftest polls for shutdown every 20 ms).
FakeSlack = FakeSlackAPI


def build_coach(engine: Engine, fake: FakeSlackAPI) -> SlackCoach:
    return SlackCoach(
        engine,
        SlackSettings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url),
        client=WebClient(token=BOT_TOKEN, base_url=fake.base_url),
        process_before_response=True,
    )


@pytest.fixture
def coach(engine: Engine, fake: FakeSlackAPI) -> SlackCoach:
    return build_coach(engine, fake)


@pytest.fixture
def slack(coach: SlackCoach, fake: FakeSlackAPI) -> Slack:
    return Slack(coach, fake)


def count_rows(db_path: Path, table: str, user: str | None = None) -> int:
    """Rows in a table straight from the SQLite file (all of them, or one user's)."""
    with sqlite3.connect(db_path) as conn:
        if user is None:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        column = "id" if table == "users" else "user_id"
        sql = f"SELECT COUNT(*) FROM {table} WHERE {column} = ?"
        return int(conn.execute(sql, (user,)).fetchone()[0])


def user_messages(store: Store, user: str = U1) -> list[str]:
    return [m["text"] for m in store.messages_of(user) if m["sender"] == "user"]


def snapshot(store: Store, user: str = U1) -> tuple[Any, ...]:
    """Everything a turn could change about a user's conversation."""
    row = store.current_conversation(user)
    assert row is not None
    return (row.id, row.state, row.status, row.turn, row.slots, len(store.messages_of(user)))


def load_payload(name: str, **event: Any) -> dict[str, Any]:
    payload = json.loads((PAYLOADS / name).read_text())
    payload["event"].update(event)
    return payload


# == a whole diagnosis, and the home tab ==========================================================


def test_a_whole_diagnosis_by_dms_and_buttons_ends_with_dated_steps_on_the_home_tab(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    taken = run_diagnosis(slack)

    assert len(slack.posts()) == len(user_messages(store))  # one post per turn, not per message
    said = slack.said_since(0)
    assert "Here's your diagnosis, in your words." in said
    assert "That's your plan:" in said
    steps = store.next_steps_of(U1)
    assert [(s.title, s.due_date, s.status) for s in steps] == [
        (taken[0], "2026-12-01", "open"),
        (taken[1], "2026-12-07", "open"),
    ]
    conversation = store.conversations_of(U1)[-1]
    assert (conversation.dialogue, conversation.status) == ("diagnose", "completed")
    assert conversation.slots["situation"] == SITUATION

    view = slack.open_home()
    assert view["type"] == "home"
    texts = block_texts(view["blocks"])
    assert f"*{taken[0]}*: by Tuesday 1 December 2026" in "\n".join(texts)
    assert f"*{taken[1]}*: by Monday 7 December 2026" in "\n".join(texts)
    for step in steps:
        actions = next(b for b in view["blocks"] if b.get("block_id") == f"step_actions:{step.id}")
        assert [(e["text"]["text"], e["action_id"]) for e in actions["elements"]] == [
            ("Done", "step_done"),
            ("Not yet", "step_not_yet"),
            ("Dropped", "step_dropped"),
        ]
    assert any(OTHER_PARTY in t for t in texts)  # the diagnosis is listed as a past one

    response = slack.click_home(view, "step_done", steps[0].id)

    assert response.status == 200
    done = store.get_next_step(steps[0].id)
    assert done is not None
    assert (done.status, done.outcome) == ("closed", "done")
    assert store.get_next_step(steps[1].id).status == "open"  # type: ignore[union-attr]
    republished = fake.of("views.publish")[-1]
    assert republished["user_id"] == "U1"
    block_ids = [b.get("block_id") for b in republished["view"]["blocks"]]
    assert f"step:{steps[0].id}" not in block_ids
    assert f"step_actions:{steps[0].id}" not in block_ids
    assert f"step:{steps[1].id}" in block_ids
    still_shown = "\n".join(block_texts(republished["view"]["blocks"]))
    assert f"*{taken[0]}*: by" not in still_shown
    assert f"*{taken[1]}*: by Monday 7 December 2026" in still_shown


def test_a_home_tab_with_more_steps_than_slack_shows_is_published_with_a_pointer_to_the_rest(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    conversation = store.current_conversation(U1)
    assert conversation is not None
    long_words = "Smith & Jones at the partnership board " * 100
    with store.transaction():
        store.add_next_steps(
            conversation.id,
            U1,
            [
                {
                    "title": f"Step {n} {long_words}",
                    "text": long_words,
                    "idea": long_words,
                    "due_date": f"2026-12-{n % 28 + 1:02d}",
                }
                for n in range(60)
            ],
            "2026-11-23T09:00:00+00:00",
        )

    view = slack.open_home()

    assert fake.refusals == []  # Slack took it: within 100 blocks, every text within its limit
    shown = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("step:")]
    hidden = 60 - len(shown)
    assert hidden > 0
    assert f"…and {hidden} more: `/coach steps` lists them all." in str(view["blocks"])
    listed = ack_body(slack.command("steps"))["text"]
    assert listed.count("• Step ") == 60
    assert len(listed) < 40_000  # Slack cuts a message's text there


def test_a_home_button_for_someone_elses_step_changes_nothing(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    run_diagnosis(slack)
    theirs = store.next_steps_of(U1)[0]
    view = slack.open_home()

    response = slack.click_home(view, "step_dropped", theirs.id, user="U2")

    assert response.status == 200
    still = store.get_next_step(theirs.id)
    assert still is not None and (still.status, still.outcome) == ("open", None)
    republished = fake.of("views.publish")[-1]
    assert republished["user_id"] == "U2"
    assert theirs.title not in "\n".join(block_texts(republished["view"]["blocks"]))


def test_every_clicked_message_is_updated_in_place_to_show_the_answer(
    slack: Slack, fake: FakeSlackAPI
) -> None:
    run_diagnosis(slack)

    updates = fake.of("chat.update")
    assert len(updates) == len(slack.clicked)
    by_ts = {u["ts"]: u for u in updates}
    posted = dict(slack.posts())
    for ts, chosen in slack.clicked:
        update = by_ts[ts]
        assert update["channel"] == "DU1"
        kinds = [b["type"] for b in update["blocks"]]
        assert "actions" not in kinds, chosen
        texts = block_texts(update["blocks"])
        assert texts[-1] == f"✓ *{chosen}*"
        assert not any(t.startswith("…or type one") for t in texts)  # the date hint is gone
        # Every message of the turn stays shown above the answer, in order.
        sections = [b for b in posted[ts]["blocks"] if b["type"] == "section"]
        assert update["blocks"][:-1] == sections, chosen
    assert len(by_ts) == len(slack.clicked)  # one update per clicked message
    assert "2026-12-01" in [chosen for _, chosen in slack.clicked]  # the datepicker too


def test_the_diagnosis_summary_shows_the_users_mrkdwn_escaped(slack: Slack) -> None:
    run_diagnosis(slack)

    summary = next(p for _, p in slack.posts() if "Here's your diagnosis" in str(p["blocks"]))
    shown = "\n".join(block_texts(summary["blocks"]))
    assert "&lt;!channel&gt;" in shown
    assert "&amp; we have no seat" in shown
    assert "<!channel>" not in shown


def test_the_notification_text_of_an_echo_is_escaped_too(slack: Slack) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.click("I work in or run a voluntary or community organisation")
    slack.dm(SITUATION)
    slack.dm("summary")

    summary = next(p for _, p in slack.posts() if p["text"].startswith("What you've told me"))
    assert "&lt;!channel&gt;" in "\n".join(block_texts(summary["blocks"]))
    assert "<!channel>" not in summary["text"]


def test_a_refused_date_is_not_shown_as_answered(slack: Slack, fake: FakeSlackAPI) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.click("I work in or run a voluntary or community organisation")
    slack.dm(SITUATION)
    slack.dm(OTHER_PARTY)
    slack.click("An organisation, such as a council, NHS trust or funder")
    slack.click("No")  # not in the room where it's decided
    slack.click("Resources others need (money, staff, buildings)")
    slack.click("Elected representatives (councillors, MPs, a mayor)")
    slack.click("The community")
    for _ in range(8):  # the eight 1-to-5 scales
        slack.click(index=0)
    slack.click("Local knowledge")
    slack.click("Nothing yet")
    slack.click("Other voluntary groups")
    slack.click("Yes")
    slack.dm(HOPE)
    slack.click(index=0)
    question = slack.last_post()
    posted = len(slack.posts())

    slack.pick_date("2026-11-01")  # three weeks ago on the fake clock

    assert len(slack.posts()) == posted + 1
    assert "has already passed" in slack.said_since(posted)
    asked_again = slack.last_post()[1]["blocks"]
    assert asked_again[-2]["block_id"].startswith("date:")  # the date picker again, last
    assert asked_again[-1]["block_id"] == "date_hint"
    shown = [u for u in fake.of("chat.update") if u["ts"] == question[0]]
    assert not any("2026-11-01" in t for u in shown for t in block_texts(u["blocks"]))


# == one post per turn ============================================================================


def test_a_turn_is_one_post_with_its_messages_in_order_and_the_buttons_last(
    slack: Slack, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")

    [(_, post)] = slack.posts()
    assert [b["type"] for b in post["blocks"]] == ["section", "section", "actions"]
    greeting, menu = sections_of(post)
    assert greeting.startswith("Hello. I'm Influence Coach.")
    assert menu == messages.MENU
    assert post["text"] == greeting  # the notification: the turn's opening words
    assert "Diagnose a power situation" in slack.labels()

    slack.click("Diagnose a power situation")

    [_, (_, post)] = slack.posts()
    assert [b["type"] for b in post["blocks"]] == ["section", "section", "actions"]
    introduction, question = sections_of(post)
    assert introduction.startswith("Let's look at one situation together.")
    assert question.startswith("First, which of these is closest to your role")
    assert len(fake.of("chat.postMessage")) == 2  # two turns, two Web API calls


def test_the_diagnosis_its_suggestions_and_the_first_pick_are_one_post(slack: Slack) -> None:
    run_diagnosis(slack)

    post = next(p for _, p in slack.posts() if "Here's your diagnosis" in str(p["blocks"]))
    # Seven suggestions are more than one section holds: they run on into a second.
    ack, summary, *suggestions, question = sections_of(post)
    assert post["text"] == ack  # the last answer's acknowledgement opens the turn
    assert ack.startswith("Thank you. Keep that picture in mind")
    assert summary.startswith("Here's your diagnosis, in your words.")
    assert OTHER_PARTY in summary
    assert suggestions[0].startswith("From what you've told me, these are the options")
    assert question.startswith("Which of these will you take on?")
    assert [b["type"] for b in post["blocks"]][-1] == "actions"
    assert sum(b["type"] == "actions" for b in post["blocks"]) == 1


def test_a_reply_too_big_for_one_slack_message_is_split_between_messages(
    slack: Slack, coach: SlackCoach
) -> None:
    listed = (Choice("a", "Option A"), Choice("b", "Option B"))
    points = [BotMessage(f"Point {n}: worth reading.", listed) for n in range(30)]
    question = BotMessage("Which point first?")
    awaits = Await("choice", (Choice("first", "The first"), Choice("last", "The last")), ref="9")

    coach.post_reply("U1", Reply((*points, question), awaits), key=U1)

    # Each point is a section and the list of its options: 60 blocks, and the question and
    # its buttons two more. Slack takes 50 a message: 25 points, then the rest.
    posts = [p for _, p in slack.posts()]
    assert [len(p["blocks"]) for p in posts] == [50, 12]
    assert [p["text"] for p in posts] == ["Point 0: worth reading.", "Point 25: worth reading."]
    assert [s for p in posts for s in sections_of(p)] == [
        *(t for n in range(30) for t in (f"Point {n}: worth reading.", "1. Option A\n2. Option B")),
        "Which point first?",
    ]
    assert all(b["type"] == "section" for b in posts[0]["blocks"])  # no buttons but on the last
    assert [b["type"] for b in posts[1]["blocks"]][-2:] == ["section", "actions"]
    assert slack.labels() == ["The first", "The last"]


def test_the_date_picker_and_its_hint_are_on_the_last_post_only(
    slack: Slack, coach: SlackCoach
) -> None:
    # Six long messages: more text than one Slack message may hold, so two posts.
    long = [BotMessage(f"Part {n}. " + "Words & more words. " * 120) for n in range(6)]
    coach.post_reply("U1", Reply((*long, BotMessage("When?")), Await("date", ref="7")), key=U1)

    posts = [p for _, p in slack.posts()]
    assert len(posts) == 2
    assert ["actions" in [b["type"] for b in p["blocks"]] for p in posts] == [False, True]
    assert [b.get("block_id") for b in posts[1]["blocks"]][-2:] == ["date:7", "date_hint"]
    assert [s[:7] for p in posts for s in sections_of(p)] == [
        *(f"Part {n}." for n in range(6)),
        "When?",
    ]
    for post in posts:
        assert "&amp; more" in shown(post) and "& more" not in shown(post)
        assert "& more" not in post["text"] and len(post["text"]) <= 3000


# == request verification =========================================================================


@pytest.mark.parametrize("tamper", ["bad signature", "no signature headers", "six minutes old"])
def test_a_request_not_signed_by_slack_now_is_refused_and_makes_no_turn(
    slack: Slack, db_path: Path, fake: FakeSlackAPI, tamper: str
) -> None:
    body = dm_event("U1", "hello", event_id="EvFORGED")
    if tamper == "bad signature":
        headers = signed_headers(body, secret="not-the-signing-secret", json_body=True)
    elif tamper == "no signature headers":
        headers = {"content-type": "application/json"}
    else:
        headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60, json_body=True)

    response = slack.send(body, json_body=True, headers=headers)

    assert response.status == 401
    assert count_rows(db_path, "messages") == 0
    assert count_rows(db_path, "users") == 0
    assert fake.of("chat.postMessage") == []


def test_a_forged_click_is_refused(slack: Slack, db_path: Path, fake: FakeSlackAPI) -> None:
    action = {"type": "button", "action_id": "answer_0", "value": '{"r":"menu","v":"diagnose"}'}
    body = block_action("U1", action, message=None, response_url=slack.response_url)
    headers = signed_headers(body, secret="not-the-signing-secret", json_body=False)

    assert slack.send(body, json_body=False, headers=headers).status == 401
    assert count_rows(db_path, "conversations") == 0
    assert fake.calls == []


# == exactly once =================================================================================


def test_an_event_delivered_three_times_makes_one_turn_and_one_reply(
    slack: Slack, store: Store
) -> None:
    body = dm_event("U1", "hello", event_id="EvRETRIED")
    assert slack.send(body, json_body=True).status == 200
    replied = len(slack.posts())
    assert replied == 1  # the greeting and the menu, in one post

    for attempt in (1, 2):
        headers = signed_headers(body, json_body=True)
        headers["x-slack-retry-num"] = str(attempt)
        headers["x-slack-retry-reason"] = "http_timeout"
        assert slack.send(body, json_body=True, headers=headers).status == 200

    assert user_messages(store) == ["hello"]
    assert len(slack.posts()) == replied


def test_a_double_clicked_button_makes_one_turn_and_a_private_note(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    role = slack.last_post()
    label = "I'm a community leader or a resident"
    slack.click(label, post=role, action_ts="1700009000.000001")
    before = snapshot(store)
    posts, updates = len(slack.posts()), len(fake.of("chat.update"))

    slack.click(label, post=role, action_ts="1700009000.400002")

    notes = fake.of("chat.postEphemeral")
    assert len(notes) == 1
    assert (notes[0]["channel"], notes[0]["user"]) == ("DU1", "U1")
    assert "earlier question" in notes[0]["text"]
    assert snapshot(store) == before
    assert len(slack.posts()) == posts
    assert len(fake.of("chat.update")) == updates
    assert user_messages(store).count("community") == 1
    assert store.current_conversation(U1).slots["role"] == "community"  # type: ignore[union-attr]


def test_a_button_of_an_earlier_question_changes_nothing(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    role = slack.last_post()
    slack.click("I'm an elected councillor", post=role)
    slack.dm(SITUATION)
    slack.dm(OTHER_PARTY)
    before = snapshot(store)
    posts = len(slack.posts())

    slack.click("I'm a community leader or a resident", post=role)

    assert len(fake.of("chat.postEphemeral")) == 1
    assert "earlier question" in fake.of("chat.postEphemeral")[0]["text"]
    assert snapshot(store) == before
    assert store.current_conversation(U1).slots["role"] == "councillor"  # type: ignore[union-attr]
    assert len(slack.posts()) == posts


def test_a_button_from_before_restart_changes_nothing(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.click("I'm an elected councillor")
    slack.dm(SITUATION)
    slack.dm(OTHER_PARTY)
    kind_question = slack.last_post()
    slack.dm("restart")
    assert "First, which of these is closest to your role" in shown(slack.last_post()[1])
    before = snapshot(store)
    posts = len(slack.posts())

    slack.click(
        "A person (for example someone who uses a service, or one individual)", post=kind_question
    )

    assert len(fake.of("chat.postEphemeral")) == 1
    assert snapshot(store) == before
    row = store.current_conversation(U1)
    assert row is not None and row.state == "role" and "other_kind" not in row.slots
    assert len(slack.posts()) == posts


# == /coach =======================================================================================


def test_coach_help_lists_every_subcommand(slack: Slack) -> None:
    text = ack_body(slack.command("help"))["text"]

    for sub in ("start diagnose", "start own_power", "status", "steps", "export", "forget"):
        assert f"`/coach {sub}`" in text


def test_coach_status_says_where_the_user_is(slack: Slack) -> None:
    assert "not in a dialogue" in ack_body(slack.command("status"))["text"]
    slack.dm("hello")
    slack.click("Diagnose a power situation")

    text = ack_body(slack.command("status"))["text"]

    assert "*Diagnose a power situation*" in text
    assert "*Your role*" in text


def test_coach_steps_lists_the_steps_of_a_finished_diagnosis_with_dates(slack: Slack) -> None:
    assert "no open next steps" in ack_body(slack.command("steps"))["text"]
    taken = run_diagnosis(slack)

    text = ack_body(slack.command("steps"))["text"]

    assert f"• {taken[0]} (by Tuesday 1 December 2026)" in text  # as the Home tab writes dates
    assert f"• {taken[1]} (by Monday 7 December 2026)" in text


def test_coach_start_diagnose_in_the_dm_asks_the_first_question(slack: Slack, store: Store) -> None:
    response = slack.send(
        slash_command("U1", "start diagnose", response_url=slack.response_url),
        json_body=False,
    )

    assert response.status == 200
    assert ack_body(response).get("text") in (None, "")
    [(_, first)] = slack.posts()  # the introduction and the first question, in one post
    assert first["channel"] == "U1"  # the app's DM with the user
    assert first["text"].startswith("Let's look at one situation")
    assert "closest to your role" in shown(first)
    assert "I work in or run a voluntary or community organisation" in slack.labels()
    row = store.current_conversation(U1)
    assert row is not None and (row.dialogue, row.state) == ("diagnose", "role")


def test_coach_start_in_a_channel_says_it_went_to_the_dm(slack: Slack) -> None:
    response = slack.command("start diagnose", channel="C0PUBLIC")

    said = ack_body(response)["text"]
    assert "direct message" in said
    assert "<https://slack.com/app_redirect?app=A1&team=T1|direct message>" in said
    _, first = slack.last_post()
    assert first["channel"] == "U1"
    assert "closest to your role" in shown(first)


def test_an_unknown_coach_subcommand_says_so_and_points_to_help(slack: Slack) -> None:
    text = ack_body(slack.command("frobnicate now"))["text"]

    assert text == "I don't know `/coach frobnicate`. Try `/coach help`."


def test_coach_export_uploads_the_users_words_and_steps_as_markdown(
    slack: Slack, fake: FakeSlack
) -> None:
    taken = run_diagnosis(slack)

    ack = ack_body(slack.command("export"))

    assert "export" in ack["text"].lower()
    completed = fake.wait_for("files.completeUploadExternal")[0]
    join_exports()
    assert fake.of("conversations.open")[0]["users"] == "U1"
    asked = fake.of("files.getUploadURLExternal")[0]
    assert asked["filename"] == "influence-coach-export.md"
    assert [m for m, _ in fake.calls].count("upload/F1") == 1
    uploaded = [p["raw"] for p in fake.of("upload/F1")]
    assert len(uploaded) == 1
    assert int(asked["length"]) == len(uploaded[0])
    content = uploaded[0].decode()
    assert content.startswith("# Influence Coach")
    for words in (SITUATION, OTHER_PARTY, HOPE, "in 2 weeks"):
        assert words in content
    assert "## Next steps" in content
    assert f"- **{taken[0]}**, by 2026-12-01" in content
    assert f"- **{taken[1]}**, by 2026-12-07" in content
    assert completed["channel_id"] == "DU1"
    assert "F1" in json.dumps(completed["files"])


def test_a_retried_coach_export_uploads_one_file(slack: Slack, fake: FakeSlack) -> None:
    slack.dm("hello")
    body = slash_command("U1", "export", response_url=slack.response_url)

    for retry in range(3):  # the command, and Slack's retries of it (same trigger id)
        headers = signed_headers(body, json_body=False)
        if retry:
            headers["x-slack-retry-num"] = str(retry)
        assert slack.send(body, json_body=False, headers=headers).status == 200
    join_exports()

    assert len(fake.of("files.completeUploadExternal")) == 1


def _forget_setup(slack: Slack, db_path: Path) -> dict[str, dict[str, int]]:
    """Two users with rows in every table: a finished diagnosis and a safety interruption."""
    for user in ("U1", "U2"):
        run_diagnosis(slack, user=user)
        slack.dm("I'm being bullied at work", user=user)
    counts = {key: {t: count_rows(db_path, t, key) for t in USER_TABLES} for key in (U1, U2)}
    for key in (U1, U2):
        assert all(counts[key].values()), counts[key]
    return counts


def test_coach_forget_confirmed_erases_every_row_of_that_user_only(
    slack: Slack, db_path: Path, fake: FakeSlackAPI
) -> None:
    counts = _forget_setup(slack, db_path)

    ack = ack_body(slack.command("forget"))

    buttons = [e for b in ack["blocks"] if b["type"] == "actions" for e in b["elements"]]
    confirm = next(e for e in buttons if e["action_id"] == "forget_confirm")
    assert {t: count_rows(db_path, t, U1) for t in USER_TABLES} == counts[U1]

    response = slack.action({**confirm, "block_id": "forget"})

    assert response.status == 200
    assert {t: count_rows(db_path, t, U1) for t in USER_TABLES} == dict.fromkeys(USER_TABLES, 0)
    assert {t: count_rows(db_path, t, U2) for t in USER_TABLES} == counts[U2]
    answered = [p for m, p in fake.calls if m == "response/1"]
    assert len(answered) == 1
    assert "erased" in answered[0]["text"]
    assert answered[0]["replace_original"] is True


def test_coach_forget_cancelled_erases_nothing(
    slack: Slack, db_path: Path, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.dm("I'm being bullied at work")
    before = {t: count_rows(db_path, t, U1) for t in USER_TABLES}
    ack = ack_body(slack.command("forget"))
    buttons = [e for b in ack["blocks"] if b["type"] == "actions" for e in b["elements"]]
    cancel = next(e for e in buttons if e["action_id"] == "forget_cancel")

    assert slack.action({**cancel, "block_id": "forget"}).status == 200

    assert {t: count_rows(db_path, t, U1) for t in USER_TABLES} == before
    answered = [p for m, p in fake.calls if m == "response/1"]
    assert [a["text"] for a in answered] == ["Cancelled: nothing was erased."]


# == threads and files ===========================================================================


def test_a_dm_written_in_a_thread_is_answered_in_that_thread_and_so_are_its_clicks(
    slack: Slack, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")
    parent_ts, _ = slack.last_post()

    slack.event(load_payload("thread_reply.json", thread_ts=parent_ts, text="menu"))

    threaded = slack.last_post()[1]
    assert threaded["thread_ts"] == parent_ts
    assert "What would you like to do?" in shown(threaded)
    ts, post = slack.last_post()
    block_id, button = next(b for b in Slack.buttons(post) if "Diagnose" in b[1]["text"]["text"])
    message = {"type": "message", "ts": ts, "thread_ts": parent_ts, **post}
    slack.action({**button, "block_id": block_id}, message=message)

    answered = slack.last_post()[1]
    assert answered["thread_ts"] == parent_ts
    assert "First, which of these is closest to your role" in shown(answered)
    assert "thread_ts" not in slack.posts()[0][1]  # the top-level DM stays top-level


def test_a_file_shared_with_words_is_answered_on_the_words_and_the_file_is_not_kept(
    slack: Slack, store: Store, db_path: Path
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.click("I work in or run a voluntary or community organisation")

    slack.event(load_payload("file_share.json"))

    post = slack.last_post()[1]
    assert sections_of(post)[0] == texts.FILES_SET_ASIDE
    assert user_messages(store)[-1] == "Here are the board minutes & the agenda"
    assert b"minutes.pdf" not in db_path.read_bytes()
    assert b"files.slack.com" not in db_path.read_bytes()


def test_a_file_alone_gets_one_short_note_however_often_slack_sends_it(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    payload = load_payload("file_share.json", text="")

    for _ in range(3):  # the event, and two of Slack's retries
        assert slack.event(payload).status == 200

    assert [p["text"] for p in fake.of("chat.postMessage")] == [texts.FILES_ONLY]
    assert user_messages(store) == []


# == edits and deletions ==========================================================================


def dm_with_ts(slack: Slack, text: str) -> str:
    """Send a DM as the user and return its Slack timestamp (what an edit or deletion names)."""
    body = json.loads(dm_event("U1", text, event_id=slack.new_id()))
    assert slack.event(body).status == 200
    return str(body["event"]["ts"])


def edited(ts: str, before: str, after: str) -> dict[str, Any]:
    """Slack's message_changed event for the user's DM `ts`, its words changed."""
    return load_payload(
        "message_changed.json",
        message={
            "type": "message",
            "user": "U1",
            "text": after,
            "ts": ts,
            "edited": {"user": "U1", "ts": "1700000100.000000"},
        },
        previous_message={"type": "message", "user": "U1", "text": before, "ts": ts},
    )


def test_an_edited_answer_gets_one_short_note_and_the_first_answer_stands(
    slack: Slack, store: Store, fake: FakeSlackAPI
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.click("I work in or run a voluntary or community organisation")
    ts = dm_with_ts(slack, SITUATION)
    before = len(slack.posts())

    edit = edited(ts, SITUATION, "Something else entirely")
    for _ in range(2):  # the event and Slack's retry of it
        assert slack.event(edit).status == 200

    notes = [p["text"] for _, p in slack.posts()[before:]]
    assert notes == [texts.EDIT_NOT_REREAD]
    assert "Something else entirely" not in user_messages(store)
    assert user_messages(store)[-1] == SITUATION


def test_an_edit_that_changes_no_words_says_nothing(slack: Slack) -> None:
    slack.dm("hello")
    ts = dm_with_ts(slack, "menu")
    before = len(slack.posts())

    slack.event(edited(ts, "menu", "menu"))  # e.g. Slack adding a link preview

    assert len(slack.posts()) == before


def test_a_deleted_dm_leaves_the_transcript_and_the_export_and_its_turn_stays(
    slack: Slack, store: Store, fake: FakeSlack, db_path: Path
) -> None:
    slack.dm("hello")
    secret = "Smith & Jones are leaving the partnership"
    ts = dm_with_ts(slack, secret)
    lines = len(store.messages_of(U1))
    before = len(slack.posts())

    deletion = load_payload("message_deleted.json", deleted_ts=ts)
    deletion["event"]["previous_message"].update(ts=ts, text=slack_encoded(secret))
    for _ in range(2):
        assert slack.event(deletion).status == 200

    transcript = store.messages_of(U1)
    assert len(transcript) == lines  # the turn stays
    assert secret not in [m["text"] for m in transcript]
    assert b"leaving the partnership" not in file_bytes(db_path)  # nor in the files
    assert len(slack.posts()) == before  # deleted quietly, as in Slack
    slack.command("export")
    fake.wait_for("files.completeUploadExternal")
    join_exports()
    content = fake.of("upload/F1")[0]["raw"].decode()
    assert "Smith" not in content
    assert "(you deleted this message)" in content


# == what Slack sends that is not a turn ==========================================================


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(load_payload("message_without_user.json"), id="no user"),
        pytest.param(load_payload("message_changed.json"), id="message_changed"),
        pytest.param(load_payload("bot_message.json"), id="another bot's message"),
        pytest.param(load_payload("own_bot_message.json"), id="our own bot_id"),
        pytest.param(
            {
                **load_payload("own_bot_message.json"),
                "event": {
                    k: v
                    for k, v in load_payload("own_bot_message.json")["event"].items()
                    if k not in ("bot_id", "bot_profile", "app_id")
                },
            },
            id="user is our bot user",
        ),
    ],
)
def test_events_that_are_not_a_persons_dm_make_no_turn(
    slack: Slack, db_path: Path, fake: FakeSlackAPI, payload: dict[str, Any]
) -> None:
    response = slack.event(payload)

    assert response.status == 200
    for table in USER_TABLES:
        assert count_rows(db_path, table) == 0, table
    assert fake.of("chat.postMessage") == []


def test_a_button_the_app_does_not_know_gets_a_private_note(
    slack: Slack, fake: FakeSlackAPI, db_path: Path
) -> None:
    action = {
        "type": "button",
        "action_id": "launch_rocket",
        "block_id": "old_layout",
        "text": {"type": "plain_text", "text": "Launch"},
        "value": "1",
    }

    response = slack.action(action)

    assert response.status == 200
    notes = fake.of("chat.postEphemeral")
    assert [n["text"] for n in notes] == [
        "That button isn't one I recognise any more, so nothing changed."
    ]
    assert count_rows(db_path, "messages") == 0


@pytest.mark.parametrize("value", ["diagnose", "", "null", '{"v": 3}', "[1, 2]", "{broken"])
def test_an_answer_button_with_a_foreign_value_gets_a_private_note(
    slack: Slack, fake: FakeSlackAPI, db_path: Path, value: str
) -> None:
    slack.dm("hello")
    messages = count_rows(db_path, "messages")
    action = {
        "type": "button",
        "action_id": "answer_0",
        "block_id": "choices:menu:0",
        "text": {"type": "plain_text", "text": "Diagnose a power situation"},
        "value": value,
    }

    response = slack.action(action)

    assert response.status == 200
    assert len(fake.of("chat.postEphemeral")) == 1
    assert "nothing changed" in fake.of("chat.postEphemeral")[0]["text"]
    assert count_rows(db_path, "messages") == messages
    assert count_rows(db_path, "conversations") == 0


def test_after_a_foreign_button_value_the_next_message_is_answered_at_once(
    slack: Slack, coach: SlackCoach
) -> None:
    action = {"type": "button", "action_id": "answer_0", "block_id": "x", "value": "diagnose"}
    assert slack.action(action).status == 200

    started = time.monotonic()
    slack.dm("hello")
    waited = time.monotonic() - started

    assert slack.posts()
    assert waited < 1.0, f"the reply waited {waited:.1f} s"


def test_a_5000_character_dm_is_refused_naming_the_limit_and_nothing_is_stored(
    slack: Slack, db_path: Path
) -> None:
    story = ("They moved the meeting again and nobody told us. " * 110)[:4999] + "!"
    assert len(story) == 5000
    slack.dm(story)

    said = slack.said_since(0)
    assert "5,000 characters" in said
    assert "the limit is 4,000" in said
    for table in USER_TABLES:
        assert count_rows(db_path, table) == 0, table


def test_a_too_long_dm_retried_by_slack_is_refused_once(slack: Slack) -> None:
    body = dm_event("U1", "x" * 5000, event_id="EvLONG")

    for retry in range(3):  # the event, and two of Slack's retries
        headers = signed_headers(body, json_body=True)
        if retry:
            headers["x-slack-retry-num"] = str(retry)
            headers["x-slack-retry-reason"] = "http_timeout"
        assert slack.send(body, json_body=True, headers=headers).status == 200

    (refusal,) = slack.posts()
    assert "the limit is 4,000" in shown(refusal[1])


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def http_url(coach: SlackCoach) -> Iterator[str]:
    """The app behind our WSGI handler, as `coach slack` serves it (server.run_http)."""
    server = make_server("127.0.0.1", 0, wsgi_app(coach), handler_class=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events"
    server.shutdown()
    server.server_close()


def post_http(url: str, body: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_signed_dm_over_http_is_answered(http_url: str, slack: Slack) -> None:
    body = dm_event("U1", "hello", event_id="EvHTTP")

    assert post_http(http_url, body, signed_headers(body, json_body=True)) == 200
    assert slack.posts()


@pytest.mark.parametrize("body", ["this is not json at all", "{broken"])
def test_a_signed_body_that_is_not_json_gets_a_4xx_not_a_500(
    http_url: str, db_path: Path, body: str
) -> None:
    status = post_http(http_url, body, signed_headers(body, json_body=True))

    assert 400 <= status < 500
    assert count_rows(db_path, "messages") == 0


# == follow-ups ===================================================================================


def test_a_due_step_gets_exactly_one_check_in_even_across_a_restart(
    slack: Slack,
    coach: SlackCoach,
    fake: FakeSlackAPI,
    store: Store,
    clock: Any,
    db_path: Path,
    catalog: Any,
) -> None:
    taken = run_diagnosis(slack)
    clock.advance(days=9)  # 2 Dec 2026: the first step (1 Dec) is due, the second isn't
    posted = len(slack.posts())

    assert coach.push_due_checkins() == 1

    assert len(slack.posts()) == posted + 1  # the check-in is one post
    check_in = slack.said_since(posted)
    assert "quick check-in" in check_in
    assert taken[0] in check_in and taken[1] not in check_in
    assert all(p["channel"] == "U1" for _, p in slack.posts()[posted:])
    assert slack.labels() == CHECKIN_LABELS
    posted = len(slack.posts())

    assert coach.push_due_checkins() == 0
    assert len(slack.posts()) == posted

    restarted_store = Store(db_path)
    try:
        restarted = build_coach(Engine(restarted_store, catalog, clock=clock), fake)
        assert restarted.push_due_checkins() == 0
        assert len(slack.posts()) == posted

        again = Slack(restarted, fake)
        again.dm("Done")
        assert "What happened, and what did you learn?" in again.last_post()[1]["text"]
        again.dm("They put our item on the agenda")
        assert "that's recorded" in again.said_since(posted)
    finally:
        restarted_store.close()

    first, second = store.next_steps_of(U1)
    assert (first.status, first.outcome, first.learned) == (
        "closed",
        "done",
        "They put our item on the agenda",
    )
    assert (second.status, second.outcome) == ("open", None)


# == settings =====================================================================================


@pytest.mark.parametrize(
    ("env", "names", "where"),
    [
        pytest.param({}, ["SLACK_BOT_TOKEN"], "OAuth & Permissions", id="no bot token"),
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxp-a-user-token", "SLACK_SIGNING_SECRET": "s"},
            ["SLACK_BOT_TOKEN", "xoxb-"],
            "OAuth & Permissions",
            id="not a bot token",
        ),
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-not-an-app-token"},
            ["SLACK_APP_TOKEN", "xapp-"],
            "App-Level Token",
            id="not an app token",
        ),
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            ["SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"],
            "Basic Information",
            id="neither app token nor signing secret",
        ),
    ],
)
def test_settings_from_env_names_the_variable_and_where_to_get_it(
    env: dict[str, str], names: list[str], where: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_env(env)

    message = str(raised.value)
    for name in names:
        assert name in message
    assert where in message
    assert "coach chat" in message


def test_settings_from_env_reads_a_complete_http_setup() -> None:
    settings = settings_from_env(
        {
            "SLACK_BOT_TOKEN": " xoxb-1 ",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": "https://slack-gov.com/api",
        }
    )

    assert (settings.bot_token, settings.signing_secret, settings.app_token) == (
        "xoxb-1",
        "secret",
        None,
    )
    assert settings.api_url == "https://slack-gov.com/api/"


def test_coach_slack_without_settings_exits_2_with_one_line_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "COACH_DB",
        "COACH_DIALOGUES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

    code = cli.main(["slack"])

    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("coach: ")
    assert "SLACK_BOT_TOKEN" in err[0]
    assert "coach chat" in err[0]
    assert not (tmp_path / "coach.db").exists()


def test_a_rate_limited_reply_is_retried_not_lost(slack: Slack, fake: FakeSlackAPI) -> None:
    fake.rate_limits["chat.postMessage"] = 1  # Slack says 429, Retry-After: 0

    slack.dm("hello")
    assert len(fake.of("chat.postMessage")) == 1  # refused; it waits in the outbox
    slack.coach.deliver_held()  # the follow-up loop's next pass

    attempts = fake.of("chat.postMessage")
    assert len(attempts) == 2  # the refused one, then the retry
    assert attempts[0] == attempts[1]
    assert "What would you like to do?" in str(attempts[1]["blocks"])


# == kept before acknowledged (the inbox) ==========================================================


def test_a_dm_that_cannot_be_kept_is_not_acknowledged_and_its_retry_makes_one_turn(
    engine: Engine, fake: FakeSlackAPI, db_path: Path
) -> None:
    """A locked store when the DM arrives: Slack gets a 503, not a 200, so it sends the event
    again; the retry, once the store is free, makes the turn and the reply, once."""
    quick = Engine(Store(db_path, busy_timeout_ms=100), engine.catalog, clock=engine.clock)
    slack = Slack(build_coach(quick, fake), fake)
    body = dm_event("U1", "hello", event_id="EvLOCKED")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        refused = slack.send(body, json_body=True)
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert refused.status == 503
    assert slack.posts() == []
    assert count_rows(db_path, "inbox") == count_rows(db_path, "messages") == 0

    headers = signed_headers(body, json_body=True)
    headers["x-slack-retry-num"] = "1"
    headers["x-slack-retry-reason"] = "http_error"
    for _ in range(2):  # Slack's retry, and a second one for good measure
        assert slack.send(body, json_body=True, headers=headers).status == 200

    assert user_messages(quick.store) == ["hello"]
    assert len(slack.posts()) == 1
    assert count_rows(db_path, "inbox") == 0


def test_a_dm_acknowledged_before_a_crash_is_answered_when_the_coach_starts(
    engine: Engine, fake: FakeSlackAPI, db_path: Path, catalog: Any
) -> None:
    """The process died after the 200 and before the turn: the DM waits in the inbox, and
    the next coach on the same database answers it (and only it) on its first pass."""
    slack = Slack(build_coach(engine, fake), fake)
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    before = len(slack.posts())
    # What the middleware keeps before acknowledging; then the process is gone.
    waiting = json.loads(dm_event("U1", "still there?", event_id="EvCRASH"))
    assert slack.coach.receive(waiting, {}) is None
    assert count_rows(db_path, "inbox", U1) == 1

    restarted = build_coach(Engine(Store(db_path), catalog, clock=engine.clock), fake)
    assert restarted.run_stranded(everything=True) == 1

    assert user_messages(restarted.engine.store)[-1] == "still there?"
    assert len(slack.posts()) == before + 1
    assert count_rows(db_path, "inbox") == 0
    assert restarted.run_stranded(everything=True) == 0  # nothing runs twice


def test_a_turn_that_fails_is_tried_again_and_the_user_is_told_once(
    engine: Engine, fake: FakeSlackAPI, db_path: Path
) -> None:
    """The DM was kept, but its turn found the store locked: the user hears that it will be
    answered, and the next pass answers it, without their sending it again."""
    quick = Engine(Store(db_path, busy_timeout_ms=100), engine.catalog, clock=engine.clock)
    coach = build_coach(quick, fake)
    body = json.loads(dm_event("U1", "hello", event_id="EvSLOW"))
    assert coach.receive(body, {}) is None
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        coach.run_waiting(U1)
        coach.run_waiting(U1)  # still locked: no second note
    finally:
        other.execute("ROLLBACK")
        other.close()
    notes = [p["text"] for p in fake.of("chat.postMessage")]
    assert notes == [texts.DELAYED]
    assert count_rows(db_path, "inbox") == 1

    coach.run_waiting(U1)

    assert user_messages(quick.store) == ["hello"]
    assert "What would you like to do?" in str(fake.of("chat.postMessage")[-1]["blocks"])
    assert count_rows(db_path, "inbox") == 0


def test_the_inbox_keeps_no_token_and_no_response_url(
    slack: Slack, coach: SlackCoach, db_path: Path
) -> None:
    slack.dm("hello")
    action = block_action(
        "U1",
        {"type": "button", "action_id": "answer_0", "value": '{"r":"menu","v":"diagnose"}'},
        message=None,
        response_url="https://hooks.slack.com/actions/T1/secret",
    )
    body = json.loads(urllib.parse.parse_qs(action)["payload"][0])
    body["token"] = "verification-token"
    assert coach.receive(body, {}) is None
    with sqlite3.connect(db_path) as conn:
        (payload,) = conn.execute("SELECT payload FROM inbox").fetchone()
    assert "secret" not in payload and "verification-token" not in payload
    assert json.loads(payload)["text"] == "diagnose"


def test_a_reply_lost_in_a_crash_is_made_good_at_the_next_start(
    engine: Engine, fake: FakeSlackAPI, db_path: Path, catalog: Any
) -> None:
    """The turn was saved, then the process died before its reply went out: the next start
    shows the user where the conversation is now, once, without running the turn again."""
    slack = Slack(build_coach(engine, fake), fake)
    slack.dm("hello")
    before = len(slack.posts())
    waiting = json.loads(dm_event("U1", "Diagnose a power situation", event_id="EvLOST"))
    assert slack.coach.receive(waiting, {}) is None
    # The turn runs and is saved; the process is gone before it posts.
    engine.handle(U1, UserInput("Diagnose a power situation", delivery_id="EvLOST"))
    turns = count_rows(db_path, "messages", U1)

    restarted = build_coach(Engine(Store(db_path), catalog, clock=engine.clock), fake)
    assert restarted.run_stranded(everything=True) == 1

    (post,) = [p for _, p in slack.posts()[before:]]
    assert sections_of(post)[0] == texts.INTERRUPTED
    assert "First, which of these is closest to your role" in shown(post)
    assert "I'm a community leader or a resident" in [
        e["text"]["text"] for _, e in Slack.buttons(post)
    ]
    assert count_rows(db_path, "messages", U1) == turns  # shown again, not run again
    assert count_rows(db_path, "inbox") == 0
    assert restarted.run_stranded(everything=True) == 0


# == safety in a DM ===============================================================================

SHOUTED_AT = (
    "the manager at the trust shouted at me on the phone today and I felt really threatened"
)


def test_distress_typed_at_the_menu_in_a_dm_is_met_with_care_not_the_menu(
    slack: Slack, store: Store, catalog: Any
) -> None:
    slack.dm("hello")

    slack.dm(SHOUTED_AT)

    said = shown(slack.last_post()[1])
    assert catalog.safety.concern_ask in said
    assert "Diagnose a power situation" not in slack.labels()
    labels = catalog.safety.concern_labels
    assert slack.labels() == [labels.support, labels.carry_on, labels.unsafe, labels.stop]

    slack.click(labels.support)

    hostility = next(c for c in catalog.safety.categories if c.id == "hostility")
    assert hostility.message.strip().splitlines()[0] in shown(slack.last_post()[1])
    assert slack.labels() == [catalog.safety.continue_label, catalog.safety.stop_label]
    assert [(e["category"], e["level"]) for e in store.safety_events_of(U1)] == [
        ("hostility", "concern")
    ]

    slack.click(catalog.safety.continue_label)

    # what they wrote is offered as the situation to work on, and they may decline it
    assert slack.labels() == ["Yes, let's start", "Something else"]
    slack.click("Something else")
    assert "Diagnose a power situation" in slack.labels()


def test_danger_typed_mid_diagnosis_in_a_dm_stops_the_coaching(slack: Slack, store: Store) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.click("I work in or run a voluntary or community organisation")
    before = snapshot(store)

    slack.dm("he cornered me in the car park after the meeting")

    said = shown(slack.last_post()[1])
    assert "999" in said and "101" in said
    assert "Who do you most need to influence" not in said
    assert slack.labels() == ["Carry on with the coaching", "Stop here for now"]
    row = store.current_conversation(U1)
    assert row is not None and (row.state, row.pending) == (before[1], "safety")
    assert "situation" not in row.slots

    slack.click("Stop here for now")

    row = store.current_conversation(U1)
    assert row is not None and row.status == "paused"


# == Slack's own encoding of what people type =====================================================


def test_words_typed_with_ampersands_and_angle_brackets_are_kept_and_shown_as_typed(
    slack: Slack, store: Store
) -> None:
    slack.dm("hello")
    slack.click("Diagnose a power situation")
    slack.click("I work in or run a voluntary or community organisation")
    # As Slack sends it: HTML-encoded, with a mention and a link in its angle brackets.
    slack.dm(
        "Smith &amp; Jones &lt;Partnership&gt; cut our grant, see "
        "<https://example.org/report|the report> and ask <@U0ABC|sam>",
        as_sent=True,
    )
    slack.dm("Smith & Jones")  # typed so; Slack sends "Smith &amp; Jones"

    row = store.current_conversation(U1)
    assert row is not None
    assert row.slots["situation"] == (
        "Smith & Jones <Partnership> cut our grant, see the report "
        "(https://example.org/report) and ask @sam"
    )
    assert row.slots["other_party"] == "Smith & Jones"
    raw = json.dumps(slack.last_post()[1]["blocks"])
    assert "Smith &amp; Jones" in raw  # escaped once for Slack to show "Smith & Jones"
    assert "&amp;amp;" not in raw
