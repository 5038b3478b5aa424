"""Live reload as an admin meets it: a running `coach chat` picks up a saved edit at its
next turn, a file that fails validation never replaces the live version (the error is
logged with file:line:col), `coach dialogues status` says what is live and what is refused,
and `history` / `diff` show the versions conversations ran on."""

from __future__ import annotations

import json
import logging
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.engine import Engine
from bot.loader import load_catalog
from bot.reloading import DialogueWatcher
from bot.turns import UserInput
from storage.store import Store
from tests.conftest import DIALOGUES, FakeClock

REPO = Path(__file__).resolve().parent.parent
OLD_TITLE = "title: Diagnose a power situation"
BROKEN = "id: own_power\nsteps: {\n"
WAIT = 20.0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, copy)
    return copy


def retitle(folder: Path, title: str) -> None:
    path = folder / "diagnose.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD_TITLE, title, 1))


def menu_labels(engine: Engine, user: str = "terminal:ana") -> list[str]:
    return [c.label for c in engine.open(user).messages[-1].choices]


def poll(check: Any, what: str) -> None:
    """Wait for `check()` to hold, looking every 50 ms; fail after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


# == a running engine with its watcher ======================================================


def test_a_refused_edit_keeps_the_live_version_and_is_logged_where_it_is(
    folder: Path, store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(store, load_catalog(folder), clock=clock)
    watcher = DialogueWatcher(engine, folder, debounce_ms=50)
    watcher.start()
    caplog.set_level(logging.ERROR, logger="coach")
    try:
        time.sleep(0.3)  # let the watch begin (watchfiles has no "ready" signal)
        (folder / "own_power.yaml").write_text(BROKEN, encoding="utf-8")
        poll(lambda: "refused on reload" in caplog.text, "the refusal to be logged")
        retitle(folder, "title: Map a power situation")
        poll(lambda: "Map a power situation" in menu_labels(engine), "the good edit")
    finally:
        watcher.stop()
        watcher.join(5)
    assert f"{folder / 'own_power.yaml'}:3:1:" in caplog.text  # file:line:col
    engine.open("terminal:ana")
    reply = engine.handle("terminal:ana", UserInput("start own_power"))
    assert "power you hold" in reply.text  # the last good version still serves


# == coach dialogues status ===================================================================


def test_status_lists_what_is_live_and_each_refused_file_with_its_problem(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dialogues", "status", "--dialogues", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{folder / 'diagnose.yaml'}" in out and "live     diagnose v" in out
    assert "REFUSED" not in out

    (folder / "own_power.yaml").write_text(BROKEN, encoding="utf-8")
    assert main(["dialogues", "status", "--dialogues", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "live     own_power" not in out
    assert (
        f"REFUSED  {folder / 'own_power.yaml'}: a running coach keeps serving its last good version"
    ) in out
    assert f"  {folder / 'own_power.yaml'}:3:1: " in out


# == coach dialogues history and diff =========================================================


def test_history_counts_conversations_per_version_and_diff_shows_the_edit(
    folder: Path, tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "coach.db"
    store = Store(str(db))
    engine = Engine(store, load_catalog(folder), clock=clock)
    engine.open("terminal:ana")
    engine.handle("terminal:ana", UserInput("start diagnose"))  # in progress on the first
    path = folder / "diagnose.yaml"
    text = path.read_text(encoding="utf-8")
    version = int(text.split("\nversion: ", 1)[1].split("\n", 1)[0])
    edited = text.replace(OLD_TITLE, "title: Map a power situation", 1).replace(
        f"\nversion: {version}\n", f"\nversion: {version + 1}\n", 1
    )
    path.write_text(edited, encoding="utf-8")
    assert engine.reload(folder) == []
    for user in ("terminal:bo", "terminal:cy"):
        engine.open(user)
        engine.handle(user, UserInput("start diagnose"))
    store.close()

    assert main(["dialogues", "history", "diagnose", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"v{version}  ") and "1 conversation(s), 1 in progress" in lines[0]
    assert lines[1].startswith(f"v{version + 1}  ")
    assert "2 conversation(s), 2 in progress" in lines[1]
    assert f"first used {clock().date().isoformat()}" in lines[1]

    assert (
        main(["dialogues", "diff", "diagnose", str(version), f"v{version + 1}", "--db", str(db)])
        == 0
    )
    out = capsys.readouterr().out
    assert f"--- diagnose v{version} (" in out and f"+++ diagnose v{version + 1} (" in out
    assert f"-{OLD_TITLE}" in out and "+title: Map a power situation" in out


def test_diff_names_the_versions_there_are_when_one_is_unknown(
    tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "coach.db"
    Store(str(db)).close()
    assert main(["dialogues", "diff", "diagnose", "1", "9", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "'diagnose' has no stored version '1'. Stored: none" in err
    assert "Traceback" not in err


# == a real `coach chat` ======================================================================


@pytest.mark.slow
def test_a_running_coach_chat_picks_up_an_edit_without_a_restart(
    folder: Path, tmp_path: Path
) -> None:
    chat = subprocess.Popen(
        [
            *(sys.executable, "-m", "bot.cli", "chat", "--json", "--user", "ana"),
            *("--db", str(tmp_path / "coach.db"), "--dialogues", str(folder)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"},
    )
    lines: queue.Queue[str] = queue.Queue()
    logged: list[str] = []
    threading.Thread(target=lambda: [lines.put(line) for line in chat.stdout], daemon=True).start()  # type: ignore[union-attr]
    threading.Thread(
        target=lambda: [logged.append(line) for line in chat.stderr], daemon=True
    ).start()  # type: ignore[union-attr]

    def turn(text: str | None) -> list[str]:
        """Send a line (or nothing, for the opening) and read the turn's JSON lines."""
        if text is not None:
            chat.stdin.write(text + "\n")  # type: ignore[union-attr]
            chat.stdin.flush()  # type: ignore[union-attr]
        said: list[str] = []
        while True:
            obj = json.loads(lines.get(timeout=WAIT))
            said.extend([obj["text"], *(c["label"] for c in obj.get("choices", []))])
            if "await" in obj:
                return said

    try:
        assert "Diagnose a power situation" in turn(None)
        time.sleep(0.5)  # the watcher starts with the chat; give it a moment to begin
        retitle(folder, "title: Map a power situation")
        deadline = time.monotonic() + WAIT
        while "Map a power situation" not in turn("menu"):
            assert time.monotonic() < deadline, "the running chat never showed the edit"
            time.sleep(0.1)
        (folder / "own_power.yaml").write_text(BROKEN, encoding="utf-8")
        where = f"{folder / 'own_power.yaml'}:3:1:"  # file:line:col, logged by the chat
        poll(lambda: any(where in line for line in logged), "the refusal to be logged")
        assert any("power you hold" in said for said in turn("start own_power"))
    finally:
        chat.stdin.close()  # type: ignore[union-attr]
        assert chat.wait(WAIT) == 0
    assert not any("Traceback" in line or "FATAL" in line for line in logged)


@pytest.mark.slow
def test_in_a_terminal_a_refused_edit_waits_for_the_reply_instead_of_cutting_into_typing(
    folder: Path, tmp_path: Path
) -> None:
    """On a real terminal (a pseudo-terminal here) stderr is the screen the person types on.
    The watcher's refusal used to appear there at once, as `coach ERROR coach.engine: …`
    in the middle of their line; it is held and shown after the next reply, said plainly."""
    import os
    import pty
    import select

    leader, follower = pty.openpty()
    chat = subprocess.Popen(
        [
            *(sys.executable, "-m", "bot.cli", "chat", "--user", "ana"),
            *("--db", str(tmp_path / "coach.db"), "--dialogues", str(folder)),
        ],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "TERM": "dumb"},
    )
    os.close(follower)
    screen = bytearray()

    def read_until(wanted: bytes) -> None:
        deadline = time.monotonic() + WAIT
        while wanted not in screen:
            assert time.monotonic() < deadline, f"never saw {wanted!r} in {bytes(screen)!r}"
            if select.select([leader], [], [], 0.2)[0]:
                screen.extend(os.read(leader, 4096))

    try:
        read_until(b"> ")
        time.sleep(0.5)  # the watcher starts with the chat; give it a moment to begin
        (folder / "own_power.yaml").write_text(BROKEN, encoding="utf-8")
        time.sleep(1.5)  # the refusal is logged now, while the person is at the prompt
        typed_at = len(screen)
        os.write(leader, b"menu\r")
        read_until(b"(For whoever edits the dialogues:)")
        read_until(b"> ")
        os.write(leader, b"quit\r")
        assert chat.wait(WAIT) == 0
    finally:
        if chat.poll() is None:
            chat.kill()
        os.close(leader)
    shown = screen.decode("utf-8", "replace")
    assert "coach ERROR" not in shown
    after = shown[typed_at:]
    assert after.index("Diagnose a power situation") < after.index("For whoever edits")
    assert f"{folder / 'own_power.yaml'}:3:1:" in after.replace("\r\n", "\n").replace("\n", "")
