"""The real `coach chat` in a subprocess: piped lines, JSON lines, kills, and bad databases.

Everything here goes through the console entry point exactly as a user (or a program driving
the coach) would, and checks what they would see: the words on stdout, the exit code, the
stderr line, and what the SQLite file holds afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.expressions import Condition
from bot.loader import load_catalog

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent

KINDS = {"choice", "text", "scale", "yesno", "date", "none"}
TIMEOUT = 60

# One user's answers to the diagnose dialogue, by slot: the lines piped in are derived from
# these and the dialogue file, so a reworded question does not break the test.
PROFILE: dict[str, Any] = {
    "role": "voluntary",
    "situation": "The partnership board – at the café – decides our funding; we've no seat.",
    "other_party": "The county council",
    "other_kind": "organisation",
    "in_room": False,
    "power_kinds": "resources",
    "mandate_source": "elected",
    "mandate_check": "elected_reps",
    "their_resources": 5,
    "my_resources": 2,
    "their_expertise": 4,
    "my_expertise": 3,
    "their_importance": 4,
    "my_importance": 3,
    "their_position": 5,
    "my_position": 2,
    "my_sources": "local_knowledge",
    "coming_up": "meeting",
    "point_of_power": "Partnership board on the 14th, and the draft minutes after it",
    "allies": "voluntary_groups",
    "share_leadership": True,
    "hope": "Small groups would have a seat at the table when funding is decided.",
}


# == running the command ====================================================================


def coach_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("COACH_DB", "COACH_USER", "COACH_DIALOGUES", "COACH_LOG_LEVEL"):
        env.pop(name, None)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def chat_cmd(db: Path | str, user: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "chat", "--db", str(db), "--user", user, *extra]


def run_coach(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`coach ARGS…` in a subprocess, as a person would run it from the repo."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env=coach_env(),
        timeout=TIMEOUT,
    )


def run_piped(
    db: Path | str, user: str, lines: list[str], *extra: str
) -> subprocess.CompletedProcess[str]:
    return run_coach(*chat_cmd(db, user, *extra)[3:], stdin="".join(line + "\n" for line in lines))


def check_object(obj: Any) -> dict[str, Any]:
    """One JSON line: an object with `text`, and if it has `await`, a well-formed one."""
    assert isinstance(obj, dict), obj
    assert isinstance(obj.get("text"), str), obj
    awaits = obj.get("await")
    if awaits is None:
        return obj
    assert awaits["kind"] in KINDS, awaits
    if awaits["kind"] in ("choice", "yesno", "scale"):
        choices = awaits["choices"]
        assert choices, awaits
        for choice in choices:
            assert isinstance(choice["value"], str) and choice["value"], awaits
            assert isinstance(choice["label"], str) and choice["label"], awaits
    if awaits["kind"] == "yesno":
        assert {c["value"] for c in awaits["choices"]} == {"yes", "no"}
    if awaits["kind"] == "scale":
        low, high = awaits["min"], awaits["max"]
        assert isinstance(low, int) and isinstance(high, int) and low < high, awaits
        assert [c["value"] for c in awaits["choices"]] == [str(n) for n in range(low, high + 1)]
    return obj


def split_turns(stdout: str) -> list[list[dict[str, Any]]]:
    """JSON-lines output cut into turns: each turn ends with the object carrying `await`."""
    turns: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        current.append(check_object(json.loads(line)))
        if "await" in current[-1]:
            turns.append(current)
            current = []
    assert current == [], f"output ended without an `await`: {current}"
    return turns


class JsonChat:
    """`coach chat --json` on pipes, driven one turn at a time like a program would."""

    def __init__(self, db: Path, user: str, stderr_path: Path) -> None:
        self.stderr_file = stderr_path.open("w", encoding="utf-8")
        self.stderr_path = stderr_path
        self.proc = subprocess.Popen(
            chat_cmd(db, user, "--json"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            text=True,
            encoding="utf-8",
            bufsize=1,
            cwd=REPO,
            env=coach_env(),
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def read_turn(self) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = []
        while True:
            try:
                line = self._lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no `await` within {TIMEOUT}s; got {objects}") from None
            if line is None:
                raise AssertionError(f"coach exited mid-turn after {objects}: {self.stderr()}")
            objects.append(check_object(json.loads(line)))
            if "await" in objects[-1]:
                return objects

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def say(self, text: str) -> list[dict[str, Any]]:
        self.send(text)
        return self.read_turn()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)
        assert self.proc.returncode == -signal.SIGKILL

    def finish(self) -> int:
        """Close stdin (end of input) and wait for the exit code."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=TIMEOUT)

    def rest(self) -> list[str]:
        """Every line printed after the last turn read, once the process has exited."""
        lines: list[str] = []
        while (line := self._lines.get(timeout=TIMEOUT)) is not None:
            lines.append(line)
        return lines

    def stderr(self) -> str:
        self.stderr_file.flush()
        return self.stderr_path.read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        self.stderr_file.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    """Start `coach chat --json` processes; any still running are stopped afterwards."""
    started: list[JsonChat] = []

    def start(db: Path, user: str) -> JsonChat:
        chat = JsonChat(db, user, tmp_path / f"stderr-{len(started)}.txt")
        started.append(chat)
        return chat

    yield start
    for chat in started:
        chat.stop()


# == reading the database ===================================================================


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def conversation(db: Path, user: str) -> dict[str, Any]:
    """The user's one live conversation, as stored."""
    rows = query(
        db,
        "SELECT id, dialogue, state, status, pending, slots, history, turn FROM conversations "
        "WHERE user_id = ? AND status IN ('active', 'paused')",
        (user,),
    )
    assert len(rows) == 1, rows
    keys = ("id", "dialogue", "state", "status", "pending", "slots", "history", "turn")
    row = dict(zip(keys, rows[0], strict=True))
    row["slots"] = json.loads(row["slots"])
    row["history"] = json.loads(row["history"])
    return row


def transcript(db: Path, user: str) -> list[tuple[int, str, str]]:
    return query(
        db, "SELECT seq, sender, text FROM messages WHERE user_id = ? ORDER BY seq", (user,)
    )


def user_lines(db: Path, user: str) -> list[str]:
    return [text for _, sender, text in transcript(db, user) if sender == "user"]


# == the diagnose dialogue, answered from PROFILE ============================================


def planned_diagnose(today: dt.date) -> list[tuple[str, str, list[str] | None]]:
    """(line to send, await kind expected before it, choice values expected) for diagnose.

    Walks the dialogue file from its start with PROFILE's answers; the commit step takes
    the first option twice (one ISO date, one relative), then says that's enough.
    """
    catalog = load_catalog(REPO / "dialogues")
    dialogue = catalog.get("diagnose").dialogue
    slots: dict[str, Any] = {}
    plan: list[tuple[str, str, list[str] | None]] = []
    step_id: str | None = dialogue.start_step
    while step_id is not None:
        step = dialogue.steps[step_id]
        chosen_next = None
        if step.kind == "choice":
            value = PROFILE[step.slot]
            option = next(c for c in step.choices if c.value == value)
            chosen_next = option.next
            plan.append((value, "choice", [c.value for c in step.choices]))
            slots[step.slot] = [value] if step.multiple else value
        elif step.kind == "scale":
            value = PROFILE[step.slot]
            values = [str(n) for n in range(step.min, step.max + 1)]
            plan.append((str(value), "scale", values))
            slots[step.slot] = value
        elif step.kind == "yesno":
            plan.append(("yes" if PROFILE[step.slot] else "no", "yesno", ["yes", "no"]))
            slots[step.slot] = PROFILE[step.slot]
        elif step.kind == "text":
            plan.append((PROFILE[step.slot], "text", None))
            slots[step.slot] = PROFILE[step.slot]
        elif step.kind == "commit":
            plan += [
                ("1", "choice", None),
                ((today + dt.timedelta(days=10)).isoformat(), "date", None),
                ("1", "choice", None),
                ("in 3 weeks", "date", None),
                ("enough", "choice", None),
            ]
        if step.kind == "end":
            break
        nxt = step.next
        if chosen_next:
            step_id = chosen_next
        elif isinstance(nxt, str):
            step_id = nxt
        else:
            step_id = next(b.to for b in nxt if b.when is None or Condition(b.when)(slots))
    return plan


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# == tests ==================================================================================


def test_a_whole_diagnosis_piped_in_is_stored_with_its_next_steps(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    today = utc_today()
    plan = planned_diagnose(today)
    lines = ["diagnose"] + [line for line, _, _ in plan]

    done = run_piped(db, "dana", lines, "--json")
    after = utc_today()

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    turns = split_turns(done.stdout)
    assert len(turns) == len(lines) + 1, "one reply per line, plus the greeting"
    # The greeting offers the menu; every later question is the kind of question planned.
    assert "diagnose" in [c["value"] for c in turns[0][-1]["await"]["choices"]]
    for (line, kind, values), turn in zip(plan, turns[1:-1], strict=True):
        awaits = turn[-1]["await"]
        assert awaits["kind"] == kind, (line, turn)
        if values is not None:
            assert [c["value"] for c in awaits["choices"]] == values
    # The last answer finishes the dialogue and returns to the menu.
    assert turns[-1][-1]["await"]["kind"] == "choice"
    assert turns[-1][-1]["await"].get("ref") == "menu"
    # Lines -5 and -3 picked option 1 of the commit question each time.
    first_pick = turns[len(lines) - 5][-1]["await"]["choices"][0]
    second_pick = turns[len(lines) - 3][-1]["await"]["choices"][0]

    users = query(db, "SELECT id, channel, display_name FROM users")
    assert users == [("terminal:dana", "terminal", "dana")]
    convs = query(db, "SELECT id, dialogue, status, completed_at FROM conversations")
    assert len(convs) == 1
    conv_id, dialogue, status, completed_at = convs[0]
    assert (dialogue, status) == ("diagnose", "completed")
    assert completed_at

    rows = transcript(db, "terminal:dana")
    seqs = [seq for seq, _, _ in rows]
    assert seqs == sorted(set(seqs)), "messages are numbered in order without repeats"
    assert user_lines(db, "terminal:dana") == lines
    senders = "".join("u" if sender == "user" else "b" for _, sender, _ in rows)
    assert senders.startswith("b") and senders.endswith("b")
    assert "uu" not in senders, "every line the user sent got a bot reply before the next"
    answered_in = query(
        db, "SELECT conversation_id FROM messages WHERE sender = 'user' ORDER BY seq"
    )
    assert answered_in[1:] == [(conv_id,)] * len(plan), "every answer belongs to the diagnosis"

    steps = query(
        db,
        "SELECT conversation_id, recommendation_id, title, due_date, idea, source, status "
        "FROM next_steps ORDER BY id",
    )
    assert 2 <= len(steps) <= 3
    for conversation_id, _, _, due_date, idea, source, step_status in steps:
        assert conversation_id == conv_id
        assert dt.date.fromisoformat(due_date) > today
        assert idea and source
        assert step_status == "open"
    assert [s[1] for s in steps] == [first_pick["value"], second_pick["value"]]
    assert [s[2] for s in steps] == [first_pick["label"], second_pick["label"]]
    assert steps[0][3] == (today + dt.timedelta(days=10)).isoformat()
    assert steps[1][3] in {(day + dt.timedelta(weeks=3)).isoformat() for day in (today, after)}


def answer_from(awaits: dict[str, Any], rng: random.Random) -> str:
    """A valid answer chosen from the `await` object alone: no reading of the prose."""
    kind = awaits["kind"]
    if kind in ("choice", "yesno"):
        options = awaits["choices"]
        index = rng.randrange(len(options))
        option = options[index]
        return rng.choice([option["value"], option["label"], str(index + 1)])
    if kind == "scale":
        return str(rng.randint(awaits["min"], awaits["max"]))
    if kind == "date":
        return (utc_today() + dt.timedelta(days=rng.randint(1, 90))).isoformat()
    if kind == "text":
        return rng.choice(
            [
                "The housing team",
                "We want the clinic bus route kept open.",
                "People felt listened to for once.",
                "It went better than I expected, and I learned to ask earlier.",
            ]
        )
    raise AssertionError(f"a question in the middle of a dialogue awaits nothing: {awaits}")


def test_a_program_holds_whole_conversations_from_the_await_objects_alone(
    tmp_path: Path, spawn: Any
) -> None:
    db = tmp_path / "coach.db"
    rng = random.Random(20261123)
    chat = spawn(db, "robot")
    menu = chat.read_turn()[-1]["await"]
    assert menu["kind"] == "choice"
    dialogues = [c["value"] for c in menu["choices"]]
    assert dialogues

    for dialogue in dialogues * 2:
        awaits = chat.say(dialogue)[-1]["await"]
        assert awaits.get("ref") != "menu", f"{dialogue} did not start"
        for _ in range(200):
            turn = chat.say(answer_from(awaits, rng))
            assert all("await" not in obj for obj in turn[:-1]), "one `await` per turn"
            awaits = turn[-1]["await"]
            if awaits.get("ref") == "menu":
                break
        else:
            raise AssertionError(f"{dialogue} never came back to the menu")

    bye = chat.say("quit")
    assert bye[-1]["await"] == {"kind": "none"}
    assert chat.proc.wait(timeout=TIMEOUT) == 0
    assert chat.stderr() == ""

    done = query(
        db, "SELECT dialogue, count(*) FROM conversations WHERE status = 'completed' GROUP BY 1"
    )
    # Each dialogue ran to its end twice; a revisit may lead on into a new diagnosis.
    assert {d: min(n, 2) for d, n in done} == dict.fromkeys(dialogues, 2)
    (steps,) = query(db, "SELECT count(*) FROM next_steps WHERE status = 'open'")[0]
    assert 2 * 2 * len(dialogues) <= steps <= 3 * 2 * len(dialogues)


def test_a_killed_chat_resumes_at_the_same_question_with_nothing_lost(
    tmp_path: Path, spawn: Any
) -> None:
    db = tmp_path / "coach.db"
    user = "terminal:carol"
    chat = spawn(db, "carol")
    chat.read_turn()
    sent = ["diagnose", "community", "The bus to the clinic is being cut.", "The transport board"]
    for line in sent:
        last = chat.say(line)
    asked = last[-1]
    assert asked["await"]["kind"] == "choice"
    before = conversation(db, user)
    assert before["state"] == "other_kind"

    chat.kill()

    assert conversation(db, user) == before
    assert user_lines(db, user) == sent

    again = spawn(db, "carol")
    opening = again.read_turn()
    assert "welcome back" in opening[0]["text"].lower()
    assert opening[-1]["text"] == asked["text"]
    assert opening[-1]["await"]["kind"] == asked["await"]["kind"]
    assert opening[-1]["await"]["choices"] == asked["await"]["choices"]
    reopened = conversation(db, user)
    assert (reopened["state"], reopened["slots"]) == (before["state"], before["slots"])

    carried_on = again.say("organisation")
    assert carried_on[-1]["await"]["kind"] == "yesno"  # are they in the room where it's decided?
    assert conversation(db, user)["slots"]["other_kind"] == "organisation"
    assert again.finish() == 0
    assert user_lines(db, user) == [*sent, "organisation"]


@pytest.mark.parametrize("delay", [0.0, 0.001, 0.005, 0.02, 0.1])
def test_a_kill_during_a_turn_keeps_the_whole_turn_or_none_of_it(
    tmp_path: Path, spawn: Any, delay: float
) -> None:
    db = tmp_path / "coach.db"
    user = "terminal:erin"
    chat = spawn(db, "erin")
    chat.read_turn()
    chat.say("diagnose")
    at_situation = chat.say("voluntary")[-1]
    before, said_before = conversation(db, user), transcript(db, user)
    assert before["state"] == "situation"
    line = "Our funding is at risk and nobody asked us."

    chat.send(line)
    if delay:
        time.sleep(delay)
    chat.kill()

    after, said_after = conversation(db, user), transcript(db, user)
    (message_seq,) = query(db, "SELECT message_seq FROM users WHERE id = ?", (user,))[0]
    assert said_after[: len(said_before)] == said_before
    assert message_seq == said_after[-1][0], "the user's counter matches the last message"
    new = said_after[len(said_before) :]
    if not new:
        assert after == before
        expected = at_situation
    else:
        assert new[0][1:] == ("user", line)
        assert len(new) >= 2 and all(sender == "bot" for _, sender, _ in new[1:])
        assert after["state"] == "other_party"
        assert after["slots"]["situation"] == line
        assert after["turn"] == before["turn"] + 1
        expected = None

    again = spawn(db, "erin")
    opening = again.read_turn()
    assert "welcome back" in opening[0]["text"].lower()
    assert opening[-1]["await"]["kind"] == "text"
    if expected is not None:
        assert opening[-1]["text"] == expected["text"]
    resumed_at = conversation(db, user)["state"]
    again.say("The county council" if resumed_at == "other_party" else line)
    assert conversation(db, user)["state"] == ("other_kind" if new else "other_party")
    assert again.finish() == 0
    assert "Traceback" not in again.stderr()


def _unwritable_cases() -> list[Any]:
    cases = [
        pytest.param(lambda tmp: tmp / "missing" / "coach.db", id="folder-missing"),
        pytest.param(lambda tmp: _file(tmp / "a-file") / "coach.db", id="parent-is-a-file"),
        pytest.param(lambda tmp: _folder(tmp / "a-folder"), id="path-is-a-folder"),
        pytest.param(lambda tmp: _file(tmp / "junk.db", os.urandom(4096)), id="not-a-database"),
        pytest.param(
            lambda tmp: Path("/proc/coach-test.db"),
            id="proc",
            marks=pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc"),
        ),
        pytest.param(
            lambda tmp: _read_only_folder(tmp / "locked") / "coach.db",
            id="read-only-folder",
            marks=pytest.mark.skipif(
                hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions"
            ),
        ),
    ]
    return cases


def _file(path: Path, data: bytes = b"hello") -> Path:
    path.write_bytes(data)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _read_only_folder(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o555)
    return path


@pytest.mark.parametrize("make_path", _unwritable_cases())
def test_an_unusable_database_gives_one_line_on_stderr_and_exit_code_2(
    tmp_path: Path, make_path: Any
) -> None:
    db = make_path(tmp_path)

    done = run_piped(db, "frank", ["diagnose"])

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("coach: ")
    assert str(db) in lines[0], "the message names the file so the user can fix it"
    assert done.stdout == ""


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_input_ending_mid_dialogue_exits_cleanly_and_keeps_the_place(
    tmp_path: Path, json_mode: bool
) -> None:
    db = tmp_path / "coach.db"
    extra = ["--json"] if json_mode else []

    done = run_piped(db, "gina", ["diagnose", "councillor"], *extra)

    assert done.returncode == 0
    assert done.stderr == ""
    if json_mode:
        assert split_turns(done.stdout)[-1][-1]["await"]["kind"] == "text"
    else:
        assert "What's going on?" in done.stdout
    assert conversation(db, "terminal:gina")["state"] == "situation"

    back = run_piped(db, "gina", [], *extra)
    assert back.returncode == 0
    assert "Welcome back" in back.stdout
    assert "What's going on?" in back.stdout


def test_a_database_inside_a_file_is_not_reported_as_a_missing_folder(tmp_path: Path) -> None:
    parent = _file(tmp_path / "notes.txt")

    done = run_piped(parent / "coach.db", "kim", ["diagnose"])

    assert done.returncode == 2
    assert "does not exist" not in done.stderr, done.stderr
    assert str(parent) in done.stderr


def test_a_line_that_is_not_utf8_neither_crashes_nor_stalls_the_chat(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    typed = b"diagnose\nvoluntary\nThe caf\xe9 is closing\nThe county council\n"

    done = subprocess.run(
        chat_cmd(db, "lou"),
        input=typed,
        capture_output=True,
        cwd=REPO,
        env=coach_env(),
        timeout=TIMEOUT,
    )

    assert b"Traceback" not in done.stderr
    assert done.returncode == 0
    row = conversation(db, "terminal:lou")
    assert row["slots"]["situation"].startswith("The caf")
    assert row["state"] == "other_kind"


def test_quit_says_goodbye_exits_0_and_reads_no_further(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"

    done = run_piped(db, "hana", ["diagnose", "community", "quit", "This is never read"])

    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.rstrip().endswith(messages.GOODBYE)
    assert user_lines(db, "terminal:hana") == ["diagnose", "community", "quit"]
    assert conversation(db, "terminal:hana")["status"] == "paused"


def test_quit_at_the_menu_exits_0(tmp_path: Path) -> None:
    done = run_piped(tmp_path / "coach.db", "ivan", ["quit"], "--json")

    assert done.returncode == 0
    assert done.stderr == ""
    turns = split_turns(done.stdout)
    assert len(turns) == 2
    assert turns[-1][-1]["await"] == {"kind": "none"}


def test_ctrl_c_in_json_mode_still_speaks_json(tmp_path: Path, spawn: Any) -> None:
    chat = spawn(tmp_path / "coach.db", "jo")
    chat.read_turn()
    chat.say("diagnose")

    chat.proc.send_signal(signal.SIGINT)
    assert chat.proc.wait(timeout=TIMEOUT) == 0

    assert "Traceback" not in chat.stderr()
    for line in chat.rest():
        check_object(json.loads(line))
