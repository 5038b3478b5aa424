"""`coach slack` in HTTP mode, end to end: a real process under gunicorn, real signed requests.

Each test starts the fake Slack Web API and `coach slack` as a subprocess on a fresh
database, talks to it over loopback HTTP as Slack would, and reads what a user would see:
the acknowledgements, the DMs that arrive at the (fake) Web API, and the stored transcript.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.channels.slack.texts import INTERRUPTED
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack_support import (
    BOT_TOKEN,
    SIGNING_SECRET,
    dm_event,
    plant_overdue_step,
    posts_in,
    sections,
    signed_headers,
    wait_for_posts,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TEAM = "T1"
START_TIMEOUT = 20.0
FOLLOWUP_SECONDS = 0.5
#: Slack gives up on a request it has not seen acknowledged within this long.
SLACK_ACK_LIMIT = 3.0
#: How long "nothing more arrives" is watched for.
QUIET = 1.5


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def post(port: int, body: str, headers: dict[str, str]) -> tuple[int, float]:
    """POST a body to /slack/events; (HTTP status, seconds until the response)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        conn.close()


class CoachProcess:
    """`coach slack` (HTTP mode) as a subprocess; restartable on the same database and port."""

    def __init__(self, db: Path, api_url: str, logs: Path) -> None:
        self.db = db
        self.port = free_port()
        self.logs = logs
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "COACH_FOLLOWUP_SECONDS": str(FOLLOWUP_SECONDS),
            "COACH_CHECKIN_HOURS": "always",  # the real clock: check-ins at any hour
        }
        self.env.pop("SLACK_APP_TOKEN", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def stderr(self) -> str:
        return self.logs.read_text(errors="replace") if self.logs.exists() else ""

    def start(self) -> None:
        self.starts += 1
        with self.logs.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "bot.cli", "slack", "--db", str(self.db)),
                    *("--host", HOST, "--port", str(self.port)),
                ],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own group: the gunicorn worker goes with it
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Until the port accepts connections and the worker answers (bounded)."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"coach slack exited with {self.proc.returncode}:\n{self.stderr()}")
            try:
                # Unsigned: refused with 401 and no side effect, once the worker is serving.
                status, _ = post(self.port, "{}", {"content-type": "application/json"})
                if status == 401:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"coach slack did not serve within {START_TIMEOUT}s:\n{self.stderr()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def fake_api() -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI().start()
    yield fake
    fake.stop()


@pytest.fixture
def coach(tmp_path: Path, fake_api: FakeSlackAPI) -> Iterator[CoachProcess]:
    server = CoachProcess(tmp_path / "coach.db", fake_api.base_url, tmp_path / "coach.log")
    server.start()
    yield server
    server.stop()


# -- helpers a test reads like a user -------------------------------------------------------


def say(
    coach: CoachProcess,
    user: str,
    text: str,
    *,
    event_id: str,
    extra: dict[str, str] | None = None,
    **signing: Any,
) -> tuple[int, float]:
    body = dm_event(user, text, event_id=event_id, team=TEAM)
    headers = signed_headers(body, json_body=True, **signing)
    return post(coach.port, body, {**headers, **(extra or {})})


def group_gone(pgid: int, timeout: float = 5.0) -> None:
    """Until no process of the group is left (a killed worker outlives its master briefly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    pytest.fail(f"process group {pgid} still alive {timeout}s after SIGKILL")


def transcript(db: Path, user: str) -> list[tuple[str, str]]:
    """(sender, text) of the user's stored messages, in their order."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT sender, text FROM messages WHERE user_id = ? ORDER BY seq",
            (f"slack:{TEAM}:{user}",),
        ).fetchall()
    finally:
        conn.close()
    return [(s, t) for s, t in rows]


# -- the tests --------------------------------------------------------------------------------


def test_a_dm_is_acknowledged_at_once_and_answered(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    status, took = say(coach, "UA", "hello", event_id="EvA1")
    assert status == 200
    assert took < 1.0, f"ack took {took:.3f}s"

    # The greeting and the menu, in one post: its notification is the greeting.
    [dm] = wait_for_posts(fake_api, "DUA", 1)
    assert dm["text"].startswith("Hello. I'm Influence Coach.")
    greeting, menu = sections(dm)
    assert greeting == dm["text"]
    assert menu == messages.MENU

    # A second message from a user who is already known is acknowledged even faster.
    status, took = say(coach, "UA", "start diagnose", event_id="EvA2")
    assert (status, took < 0.5) == (200, True), f"{status} after {took:.3f}s"
    dm = wait_for_posts(fake_api, "DUA", 2)[1]
    assert dm["text"].startswith("Let's look at one situation")
    assert sections(dm)[-1].startswith("First, which of these")
    assert len(posts_in(fake_api, "DUA")) == 2  # one post per turn (turns run in order)


def test_a_bad_signature_is_refused_and_not_answered(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    status, _ = say(coach, "UB", "hello", event_id="EvB1", secret="not-the-signing-secret")
    assert status == 401
    time.sleep(QUIET)
    assert posts_in(fake_api, "DUB") == []
    assert transcript(coach.db, "UB") == []


def test_an_old_timestamp_is_refused_as_a_replay(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    ten_minutes_ago = int(time.time()) - 600
    status, _ = say(coach, "UC", "hello", event_id="EvC1", timestamp=ten_minutes_ago)
    assert status == 401
    time.sleep(QUIET)
    assert posts_in(fake_api, "DUC") == []
    assert transcript(coach.db, "UC") == []


def test_a_retried_event_makes_one_turn(coach: CoachProcess, fake_api: FakeSlackAPI) -> None:
    first = say(coach, "UD", "hello", event_id="EvD1")
    retries = [
        say(
            coach,
            "UD",
            "hello",
            event_id="EvD1",
            extra={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"},
        )
        for n in (1, 2)
    ]
    assert [s for s, _ in (first, *retries)] == [200, 200, 200]

    wait_for_posts(fake_api, "DUD", 1)
    time.sleep(QUIET)
    dms = posts_in(fake_api, "DUD")
    assert len(dms) == 1, dms  # one reply to the turn, not three
    assert sections(dms[0])[-1] == messages.MENU
    said = transcript(coach.db, "UD")
    assert [t for s, t in said if s == "user"] == ["hello"]


# What each user says, one message after another, and the first words of each message the
# bot answers with (one post per turn, a section per message): out of order, they could not
# line up.
SCRIPT = [
    ("hello", ["Hello. I'm Influence Coach.", messages.MENU]),
    ("start diagnose", ["Let's look at one situation", "First, which of these"]),
    ("1", ["Thank you. Small organisations", "What's going on?"]),
    (
        "The board decides our funding next month",
        ["When the money is decided", "Who do you most need to influence"],
    ),
    ("{other}", ["Which of these best describes {other}?"]),
]


def test_ten_users_at_once_each_get_every_reply_in_order(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    users = [f"UP{n:02d}" for n in range(10)]
    acks: dict[str, list[int]] = {u: [] for u in users}
    failures: list[BaseException] = []

    def converse(user: str) -> None:
        try:
            for n, (text, _) in enumerate(SCRIPT):
                status, _ = say(
                    coach, user, text.format(other=f"Council {user}"), event_id=f"Ev{user}{n}"
                )
                acks[user].append(status)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=converse, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not failures, failures
    assert acks == {u: [200] * len(SCRIPT) for u in users}

    for user in users:
        other = f"Council {user}"
        dms = wait_for_posts(fake_api, f"D{user}", len(SCRIPT), timeout=20)
        assert len(dms) == len(SCRIPT), (user, [d["text"] for d in dms])  # a post per turn
        for dm, (_, replies) in zip(dms, SCRIPT, strict=True):
            shown = sections(dm)
            assert len(shown) == len(replies), (user, shown)
            for got, want in zip(shown, replies, strict=True):
                assert got.startswith(want.format(other=other)), (user, shown)
            assert dm["text"] == shown[0], (user, dm["text"])

        said = transcript(coach.db, user)
        assert [t for s, t in said if s == "user"] == [
            text.format(other=other) for text, _ in SCRIPT
        ]
        senders = [s for s, _ in said]
        # Each user message is followed by the bot's answer to it before the next one.
        for n, sender in enumerate(senders):
            if sender == "user":
                assert n + 1 < len(senders) and senders[n + 1] == "bot", (user, said)


def test_a_due_next_step_is_checked_in_once_even_across_a_restart(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    for n, text in enumerate(["hello", "start diagnose"]):
        assert say(coach, "UF", text, event_id=f"EvF{n}")[0] == 200
    wait_for_posts(fake_api, "DUF", 2)

    key = f"slack:{TEAM}:UF"
    plant_overdue_step(coach.db, key)

    # The check-in goes to the user id, which opens the app's DM with them.
    [checkin] = wait_for_posts(fake_api, "UF", 1, timeout=5)
    assert checkin["text"] == messages.CHECKIN_INTRO  # the notification says what this is
    assert any("Call the chair" in t for t in sections(checkin))
    time.sleep(4 * FOLLOWUP_SECONDS)
    assert len(posts_in(fake_api, "UF")) == 1

    coach.restart()
    time.sleep(6 * FOLLOWUP_SECONDS)
    assert len(posts_in(fake_api, "UF")) == 1
    assert sections(posts_in(fake_api, "DUF")[-1])[-1].startswith("First, which of these")


def test_stopping_the_server_finishes_every_acknowledged_turn_first(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    """A deploy (SIGTERM) right after a burst: Slack got its 200s and will not resend, so
    every acknowledged event must still get its turn and its reply before the worker exits."""
    users = [f"UB{n:02d}" for n in range(40)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        acks = list(pool.map(lambda u: say(coach, u, "hello", event_id=f"EvBurst{u}")[0], users))
    assert acks == [200] * len(users)

    coach.stop()  # SIGTERM at once, with turns still queued behind the acks

    for user in users:
        assert transcript(coach.db, user)[:1] == [("user", "hello")], user
        assert len(transcript(coach.db, user)) >= 2, user  # and the bot's answer
        assert len(posts_in(fake_api, f"D{user}")) == 1, user


def test_a_hard_crash_loses_no_acknowledged_message(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    """SIGKILL (the OOM killer, a power cut) with turns still queued behind their 200s and
    replies on their way: Slack will not resend, so the next start runs every waiting turn,
    none twice, and shows where they are to users whose reply may not have arrived."""
    fake_api.delays["chat.postMessage"] = 1.0  # replies crawl out: turns pile up behind acks
    users = [f"UK{n:02d}" for n in range(30)]
    with ThreadPoolExecutor(max_workers=15) as pool:
        acks = list(pool.map(lambda u: say(coach, u, "hello", event_id=f"EvKill{u}")[0], users))
    assert acks == [200] * len(users)
    # Kill once a first turn is stored: its reply is then crawling out (or about to).
    deadline = time.monotonic() + 10
    while not any(transcript(coach.db, u) for u in users) and time.monotonic() < deadline:
        time.sleep(0.02)

    assert coach.proc is not None
    os.killpg(coach.proc.pid, signal.SIGKILL)  # no drain, no goodbye
    coach.proc.wait(timeout=5)
    group_gone(coach.proc.pid)  # the gunicorn worker too: a write in flight lands first
    coach.proc = None
    waiting = [u for u in users if not transcript(coach.db, u)]
    assert waiting, "every turn had run before the kill: the test proved nothing"

    fake_api.delays.clear()
    coach.start()

    for user in users:  # every one is answered: run now, or shown where they are
        posts = wait_for_posts(fake_api, f"D{user}", 1, timeout=20)
        assert sections(posts[-1])[-1].startswith("What would you like to do?"), (
            user,
            sections(posts[-1]),
            coach.stderr(),
        )
    time.sleep(QUIET)
    for user in users:
        said = [t for s, t in transcript(coach.db, user) if s == "user"]
        assert said == ["hello"], (user, said)  # every acknowledged message, exactly once
        posts = posts_in(fake_api, f"D{user}")
        if user in waiting:
            assert len(posts) == 1, (user, [sections(p) for p in posts])
        else:
            # Run before the kill: its reply went out, or was on its way. After the restart
            # the user is shown where they are, in case it never arrived.
            assert 1 <= len(posts) <= 2, (user, [sections(p) for p in posts])
            if len(posts) == 2:
                assert sections(posts[-1])[0] == INTERRUPTED, (user, sections(posts[-1]))
    shown_again = [u for u in users if sections(posts_in(fake_api, f"D{u}")[-1])[0] == INTERRUPTED]
    assert shown_again, "no reply was on its way at the kill: the test proved less than it says"
    with sqlite3.connect(coach.db) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone() == (0,)


def test_a_rate_limited_reply_is_sent_by_the_follow_up_loop_after_slacks_retry_after(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    fake_api.rate_limits["chat.postMessage"] = 1  # the first reply is refused: 429
    fake_api.retry_after = "1"

    assert say(coach, "UA", "hello", event_id="EvR1")[0] == 200
    wait_for_posts(fake_api, "DUA", 1)  # tried, refused
    assert say(coach, "UB", "hello", event_id="EvR2")[0] == 200

    # Others are answered meanwhile; UA's reply goes out from the outbox once Slack's
    # Retry-After has passed (tests/test_slack_failures.py shows the turn never waited).
    [answered] = wait_for_posts(fake_api, "DUB", 1)
    assert answered["text"].startswith("Hello. I'm Influence Coach.")
    refused, sent = wait_for_posts(fake_api, "DUA", 2)
    assert refused == sent
    assert [p["channel"] for p in fake_api.of("chat.postMessage")] == ["DUA", "DUB", "DUA"]


def test_a_reply_slack_rate_limited_before_a_hard_crash_is_sent_once_after_the_restart(
    coach: CoachProcess, fake_api: FakeSlackAPI
) -> None:
    """SIGKILL while a reply waits for Slack's Retry-After: the next `coach slack` on the same
    database sends it, once (before, the outbox lived in memory and the reply was lost)."""
    fake_api.rate_limits["chat.postMessage"] = 1
    fake_api.retry_after = "4"
    assert say(coach, "UA", "hello", event_id="EvOwed")[0] == 200
    [refused] = wait_for_posts(fake_api, "DUA", 1)
    deadline = time.monotonic() + 10
    while not owed(coach.db) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert owed(coach.db) == 1

    assert coach.proc is not None
    os.killpg(coach.proc.pid, signal.SIGKILL)  # before the Retry-After has passed
    coach.proc.wait(timeout=5)
    group_gone(coach.proc.pid)
    coach.proc = None
    assert len(posts_in(fake_api, "DUA")) == 1
    coach.start()

    first, sent = wait_for_posts(fake_api, "DUA", 2, timeout=20)
    assert first == refused == sent
    time.sleep(QUIET)
    assert len(posts_in(fake_api, "DUA")) == 2
    assert owed(coach.db) == 0


def owed(db: Path) -> int:
    """Replies waiting in the outbox."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


def test_add_to_slack_in_the_running_server_installs_and_answers_with_the_new_token(
    tmp_path: Path, fake_api: FakeSlackAPI
) -> None:
    from tests.fakes.slack_api import FakeOAuth, Install
    from tests.test_slack_install import Browser

    server = CoachProcess(tmp_path / "coach.db", fake_api.base_url, tmp_path / "coach.log")
    server.env.pop("SLACK_BOT_TOKEN")
    server.env.update(
        SLACK_CLIENT_ID=FakeOAuth.CLIENT_ID, SLACK_CLIENT_SECRET=FakeOAuth.CLIENT_SECRET
    )
    server.start()
    try:
        browser = Browser(f"http://{HOST}:{server.port}", fake_api)
        browser.install(Install(team=TEAM))
        [token] = list(fake_api.oauth.issued)

        browser.dm("UA", "hello", team=TEAM)

        [dm] = wait_for_posts(fake_api, "DUA", 1)
        assert dm["text"].startswith("Hello. I'm Influence Coach.")
        assert [t for m, t, p in fake_api.authed if p is dm] == [token]
    finally:
        server.stop()
