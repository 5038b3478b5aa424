"""`coach slack` in Socket Mode, end to end, without reaching Slack.

`coach slack` runs as a real subprocess with an app-level token. It asks the fake Web API
(`apps.connections.open`, with the app token) where to connect, opens a real WebSocket to the
fake Socket Mode server on 127.0.0.1, and from then on gets Slack's envelopes over it: it must
acknowledge each one, and its replies arrive at the fake Web API as chat.postMessage calls.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from tests.fakes.socket_mode import FakeSocketModeServer, SocketModeSlackAPI
from tests.slack_support import (
    dm_event,
    plant_overdue_step,
    posts_in,
    sections,
    wait_for_posts,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
TEAM = "T1"
BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
CONNECT_TIMEOUT = 20.0
FOLLOWUP_SECONDS = 0.5
#: Slack redelivers an envelope it has not seen acknowledged within this long.
SLACK_ACK_LIMIT = 3.0
#: How long "nothing more arrives" is watched for.
QUIET = 1.5
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")


class SocketModeCoach:
    """`coach slack` in Socket Mode as a subprocess, with its stderr kept in a file."""

    def __init__(self, db: Path, api_url: str, logs: Path) -> None:
        self.db = db
        self.logs = logs
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": api_url,
            "COACH_FOLLOWUP_SECONDS": str(FOLLOWUP_SECONDS),
            "COACH_CHECKIN_HOURS": "always",  # the real clock: check-ins at any hour
        }
        self.env.pop("SLACK_SIGNING_SECRET", None)
        self.env.pop("COACH_LOG_LEVEL", None)  # the default: errors only
        for name in PROXY_VARIABLES:  # the SDK would tunnel even 127.0.0.1 through one
            self.env.pop(name, None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None
        self.needed_kill = False

    def stderr(self) -> str:
        return self.logs.read_text(errors="replace") if self.logs.exists() else ""

    def start(self) -> None:
        with self.logs.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "slack", "--db", str(self.db)],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # Bolt prints its boot banner there
                stderr=log,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.needed_kill = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.exit_code = proc.returncode


@pytest.fixture
def socket_server() -> Iterator[FakeSocketModeServer]:
    server = FakeSocketModeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_api(socket_server: FakeSocketModeServer) -> Iterator[SocketModeSlackAPI]:
    fake = SocketModeSlackAPI(socket_server.url).start()
    yield fake
    fake.stop()


@pytest.fixture
def coach(
    tmp_path: Path, fake_api: SocketModeSlackAPI, socket_server: FakeSocketModeServer
) -> Iterator[SocketModeCoach]:
    process = SocketModeCoach(tmp_path / "coach.db", fake_api.base_url, tmp_path / "coach.log")
    process.start()
    try:
        wait_until_connected(process, socket_server)
        yield process
    finally:
        # Stopped before the fakes (fixture order), so no lost connection is logged.
        was_running = process.alive()
        process.stop()
    stderr = process.stderr()
    assert was_running, f"coach slack had already exited ({process.exit_code}):\n{stderr}"
    assert not process.needed_kill, f"coach slack ignored SIGTERM:\n{stderr}"
    assert process.exit_code == 0, (process.exit_code, stderr)  # SIGTERM closes cleanly
    assert "Traceback" not in stderr, stderr
    assert " ERROR " not in stderr, stderr


def wait_until_connected(process: SocketModeCoach, server: FakeSocketModeServer) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while time.monotonic() < deadline:
        if not process.alive():
            process.stop()
            pytest.fail(f"coach slack exited with {process.exit_code}:\n{process.stderr()}")
        if server.connected:
            return
        time.sleep(0.05)
    process.stop()
    pytest.fail(f"coach slack did not connect within {CONNECT_TIMEOUT}s:\n{process.stderr()}")


# -- helpers a test reads like a user -------------------------------------------------------


def user_messages(db: Path, user: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT text FROM messages WHERE user_id = ? AND sender = 'user' ORDER BY seq",
            (f"slack:{TEAM}:{user}",),
        ).fetchall()
    finally:
        conn.close()
    return [t for (t,) in rows]


def first_button(post: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(block_id, element) of the first button in a posted message's blocks."""
    for block in post.get("blocks") or []:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                return block["block_id"], element
    raise AssertionError(f"no button in {post}")


def click(user: str, block_id: str, button: dict[str, Any], message: dict[str, Any]) -> dict:
    """A block_actions payload for a click on `button`, as Socket Mode delivers it (a dict)."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "fake"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A1",
        "token": "unused",
        "trigger_id": "trigger",
        "channel": {"id": f"D{user}", "name": "directmessage"},
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": f"D{user}",
            "is_ephemeral": False,
        },
        "message": message,
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                **button,
                "block_id": block_id,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


# -- the test ---------------------------------------------------------------------------------


def test_socket_mode_dm_redelivery_and_button_click(
    coach: SocketModeCoach, fake_api: SocketModeSlackAPI, socket_server: FakeSocketModeServer
) -> None:
    # It asked where to connect with the app-level token, and connected where it was told.
    assert fake_api.tokens_for("apps.connections.open") == [APP_TOKEN]
    assert socket_server.connects == ["/link/?ticket=fake-ticket&app_id=A1"]

    # A DM is acknowledged over the socket at once, and answered through the Web API.
    body = json.loads(dm_event("UA", "hello", event_id="EvS1", team=TEAM))
    started = time.monotonic()
    first = socket_server.send_event(body)
    assert socket_server.wait_for_ack(first, timeout=SLACK_ACK_LIMIT) == {"envelope_id": first}
    assert time.monotonic() - started < SLACK_ACK_LIMIT

    # The greeting and the menu, in one post.
    posts = wait_for_posts(fake_api, "DUA", 1)
    assert posts[0]["text"].startswith("Hello. I'm Influence Coach.")
    assert sections(posts[0])[-1] == messages.MENU
    assert set(fake_api.tokens_for("chat.postMessage")) == {BOT_TOKEN}

    # The same envelope again, then the same event (same event_id) as Slack's retry in a new
    # envelope: each is acknowledged, and neither makes a second turn.
    assert socket_server.send_event(body, envelope_id=first) == first
    socket_server.wait_for_acks(first, 2, timeout=SLACK_ACK_LIMIT)
    again = socket_server.send_event(body, retry_attempt=1, retry_reason="timeout")
    assert again != first
    assert socket_server.wait_for_ack(again, timeout=SLACK_ACK_LIMIT) == {"envelope_id": again}
    time.sleep(QUIET)
    assert len(posts_in(fake_api, "DUA")) == 1, [p.get("text") for p in posts_in(fake_api, "DUA")]
    assert user_messages(coach.db, "UA") == ["hello"]

    # Clicking the menu's first button starts that dialogue: its first question arrives.
    menu = {**posts[0], "ts": "1700000001.000100"}
    block_id, button = first_button(menu)
    clicked = socket_server.send_interactive(click("UA", block_id, button, menu))
    assert socket_server.wait_for_ack(clicked, timeout=SLACK_ACK_LIMIT) == {"envelope_id": clicked}

    posts = wait_for_posts(fake_api, "DUA", 2)
    question = posts[1]  # the dialogue's introduction and its first question, in one post
    assert question["text"].startswith("Let's look at one situation"), question["text"]
    assert sections(question)[-1].startswith("First, which of these"), sections(question)
    _, answer = first_button(question)  # the question comes with its own answer buttons
    assert json.loads(answer["value"])["r"] != json.loads(button["value"])["r"]

    # The clicked menu is marked answered in place, with the bot token.
    updates = fake_api.wait_for("chat.update", 1)
    assert updates[0]["ts"] == menu["ts"]
    assert updates[0]["channel"] == "DUA"
    assert user_messages(coach.db, "UA")[0] == "hello"
    assert len(user_messages(coach.db, "UA")) == 2

    # Every delivery was acknowledged once, and nothing else was sent over the socket.
    assert [a["envelope_id"] for a in socket_server.acks] == [first, first, again, clicked]
    assert socket_server.received == socket_server.acks


def test_socket_mode_pushes_a_due_checkin(
    coach: SocketModeCoach, fake_api: SocketModeSlackAPI, socket_server: FakeSocketModeServer
) -> None:
    """The follow-up loop runs beside the socket: a due next step gets its check-in DM."""
    for n, text in enumerate(["hello", "start diagnose"]):
        body = json.loads(dm_event("UF", text, event_id=f"EvF{n}", team=TEAM))
        socket_server.wait_for_ack(socket_server.send_event(body), timeout=SLACK_ACK_LIMIT)
        wait_for_posts(fake_api, "DUF", n + 1)

    key = f"slack:{TEAM}:UF"
    plant_overdue_step(coach.db, key)

    # The check-in goes to the user id, which opens the app's DM with them; once.
    [checkin] = wait_for_posts(fake_api, "UF", 1, timeout=5)
    assert checkin["text"] == messages.CHECKIN_INTRO  # the notification says what this is
    assert any("Call the chair" in t for t in sections(checkin))
    time.sleep(4 * FOLLOWUP_SECONDS)
    assert len(posts_in(fake_api, "UF")) == 1
