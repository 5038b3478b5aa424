"""The `coach` console commands around the chat: export, forget, dialogues list and schema.

`export` and `forget` run as real subprocesses, the way a person types them, after real
conversations; the database is then read straight from the SQLite file. The `dialogues`
commands are mostly called through `bot.cli.main`, like tests/test_dialogue_files.py does.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from test_terminal import PROFILE, planned_diagnose, run_coach

from bot.cli import main
from bot.engine import Engine
from bot.turns import UserInput
from storage.records import COACH_TABLES
from tests.conftest import copy_safety

REPO = Path(__file__).resolve().parent.parent
DIALOGUES = REPO / "dialogues"

# What the second user (bob) says: none of it may ever show up in alice's export.
BOB_SITUATION = "Bob-only: the depot behind Marsh Lane is being sold off"
BOB_OTHER_PARTY = "The Marsh Lane transport trust"
# Said at the menu, this sets off the safety check (see dialogues/safety.yaml).
SAFETY_LINE = "I'm being bullied at work"


# == running the command ====================================================================


coach = run_coach


def piped_chat(db: Path, user: str, lines: list[str]) -> None:
    done = coach("chat", "--db", str(db), "--user", user, stdin="".join(f"{x}\n" for x in lines))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def assert_one_line_error(done: subprocess.CompletedProcess[str], *named: str) -> str:
    """A failure a person can act on: non-zero, one `coach: …` line naming what is wrong."""
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("coach: "), lines[0]
    for name in named:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    assert done.stdout == ""
    return lines[0]


# == reading the database ===================================================================


def user_tables(db: Path) -> dict[str, str]:
    """Every table holding user data, with the column naming the user (found, not listed)."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {"users": "id"}
        for name in names:
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info({name})")}
            if "user_id" in columns:
                found[name] = "user_id"
    finally:
        conn.close()
    # The tables storage/migrations.py creates; a new one with user_id is checked as well.
    assert {"conversations", "messages", "next_steps", "safety_events", "deliveries"} <= set(found)
    return found


def rows_of(db: Path, user: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row about `user`, table by table, in a stable order."""
    tables = user_tables(db)
    conn = sqlite3.connect(db)
    try:
        return {
            table: sorted(
                conn.execute(f"SELECT * FROM {table} WHERE {column} = ?", (user,)).fetchall(),
                key=repr,
            )
            for table, column in tables.items()
        }
    finally:
        conn.close()


# == users with data in every table =========================================================

#: Answers any question of each kind accepts.
QUICK = {"choice": "1", "scale": "3", "yesno": "yes", "text": "some words", "date": "in 2 weeks"}


def seed(engine: Engine, name: str, situation: str) -> None:
    """One terminal user, through the real engine: a finished diagnosis (so next steps), a
    safety interruption, and delivery ids on every message (so deliveries rows too)."""
    user = f"terminal:{name}"
    count = 0

    def say(text: str) -> Any:
        nonlocal count
        count += 1
        return engine.handle(user, UserInput(text, delivery_id=f"{name}-{count}"))

    engine.open(user, display_name=name)
    say("diagnose")
    reply = say("1")
    assert reply.awaits.kind == "text"
    reply = say(situation)
    for _ in range(80):
        if engine.store.current_conversation(user) is None:
            break
        reply = say(QUICK[reply.awaits.kind])
    else:
        raise AssertionError(f"the diagnosis of {user} never finished")
    say(SAFETY_LINE)
    # A message a channel acknowledged and had not yet turned into a turn (the inbox).
    now = engine.clock().isoformat()
    payload = {"text": f"{name} is still waiting for an answer", "channel": "D1"}
    assert engine.store.receive(f"{name}-waiting", user, "message", payload, now)
    # A reply Slack could not take yet, kept to send later (the outbox).
    engine.store.hold_messages(user, [{"text": f"a reply owed to {name}"}], now, now)
    # Shared with a coach, with the summary corrected (shares, shared_summaries).
    with engine.store.transaction():
        found = engine.store.coach_named("Chris")
        coach = found.id if found else engine.store.add_coach("Chris", "scrypt$00$00", now)
        (past,) = engine.store.past_conversations(user, limit=1)
        engine.store.share(user, coach, past.id, now)
        engine.store.set_shared_summary(user, past.id, f"{name}'s own summary", now)
        # What the coach keeps about it (coach_notes, coach_reviews, coach_flags): erased
        # with the coachee, never in their export.
        engine.store.add_note(coach, past.id, f"Chris's note on {name}", now)
        engine.store.set_reviewed(coach, past.id, True, now)
        seq = engine.store.transcript(past.id, offset=0, limit=1)[0].seq
        assert engine.store.set_flag(coach, past.id, seq, True, now)


@pytest.fixture
def two_users(engine: Engine, db_path: Path) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """alice and bob in one database, each with rows in every table that holds user data."""
    seed(engine, "alice", "Alice's allotment society is losing its lease")
    seed(engine, "bob", BOB_SITUATION)
    before = {name: rows_of(db_path, f"terminal:{name}") for name in ("alice", "bob")}
    for name, tables in before.items():
        assert all(tables.values()), f"{name} has an empty table: {tables}"
    return before


# == export =================================================================================


@pytest.mark.slow
def test_export_prints_what_the_user_said_and_nothing_of_anyone_else(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    today = dt.datetime.now(dt.UTC).date()
    alice_lines = ["diagnose", *(line for line, _, _ in planned_diagnose(today)), SAFETY_LINE]
    piped_chat(db, "alice", alice_lines)
    piped_chat(db, "bob", ["diagnose", "community", BOB_SITUATION, BOB_OTHER_PARTY])

    done = coach("export", "--db", str(db), "--user", "alice")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    data = json.loads(done.stdout)
    # Every line alice typed, in order, and the coach's side of the conversation too.
    said = [m["text"] for m in data["messages"] if m["sender"] == "user"]
    assert said == alice_lines
    assert any(m["sender"] == "bot" for m in data["messages"])
    (conv,) = data["conversations"]
    assert conv["dialogue"] == "diagnose"
    assert conv["slots"]["situation"] == PROFILE["situation"]
    assert conv["slots"]["other_party"] == PROFILE["other_party"]
    # The next steps she dated, and the safety interruption, as stored.
    stored = rows_of(db, "terminal:alice")
    assert len(data["next_steps"]) == len(stored["next_steps"]) >= 2
    with sqlite3.connect(db) as conn:
        due = conn.execute("SELECT due_date FROM next_steps WHERE user_id = 'terminal:alice'")
        assert sorted(s["due_date"] for s in data["next_steps"]) == sorted(r[0] for r in due)
    assert all(s["idea"] and s["source"] for s in data["next_steps"])
    assert len(data["safety_events"]) == len(stored["safety_events"]) == 1
    assert len(data["messages"]) == len(stored["messages"])
    # Nothing of bob's: not his words, not even his name.
    for words in (BOB_SITUATION, BOB_OTHER_PARTY, "terminal:bob"):
        assert words not in done.stdout


@pytest.mark.slow
def test_export_holds_every_row_that_forget_would_erase(
    two_users: dict[str, Any], db_path: Path
) -> None:
    """ "Everything stored about you": the export has a part for every table with their rows."""
    done = coach("export", "--db", str(db_path), "--user", "alice")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    stored = two_users["alice"]
    assert data["user"]["id"] == "terminal:alice"
    assert data["user"]["display_name"] == "alice"
    assert data["user"]["created_at"] and data["user"]["last_seen_at"]
    for table, rows in stored.items():
        if table == "users":
            continue
        if table in COACH_TABLES:
            assert table not in data, f"{table} is the coach's, not in the coachee's export"
            continue
        assert len(data[table]) == len(rows), table
    assert "Chris's note" not in done.stdout
    assert {d["delivery_id"] for d in data["deliveries"]} == {r[0] for r in stored["deliveries"]}
    assert [e["payload"]["text"] for e in data["inbox"]] == ["alice is still waiting for an answer"]


# == forget =================================================================================


@pytest.mark.slow
def test_forget_without_yes_refuses_explains_and_erases_nothing(
    two_users: dict[str, Any], db_path: Path
) -> None:
    done = coach("forget", "--db", str(db_path), "--user", "alice")

    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "--yes" in done.stderr, "it says how to confirm"
    assert "terminal:alice" in done.stderr, "it says whose data would go"
    assert "Erased" not in done.stdout + done.stderr
    for name, rows in two_users.items():
        assert rows_of(db_path, f"terminal:{name}") == rows, f"{name}'s data changed"


@pytest.mark.slow
def test_forget_with_yes_erases_every_row_of_that_user_and_no_one_else(
    two_users: dict[str, Any], db_path: Path
) -> None:
    done = coach("forget", "--db", str(db_path), "--user", "alice", "--yes")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "terminal:alice" in done.stdout
    after = rows_of(db_path, "terminal:alice")
    assert after == {table: [] for table in after}, "a row of alice's survived"
    assert rows_of(db_path, "terminal:bob") == two_users["bob"]


# == users with nothing stored, and databases that cannot be opened ==========================


@pytest.mark.slow
def test_exporting_a_user_with_nothing_stored_says_so(
    two_users: dict[str, Any], db_path: Path
) -> None:
    done = coach("export", "--db", str(db_path), "--user", "alcie")

    assert_one_line_error(done, "terminal:alcie")
    assert rows_of(db_path, "terminal:alice") == two_users["alice"]


@pytest.mark.slow
def test_forgetting_a_user_with_nothing_stored_says_so(
    two_users: dict[str, Any], db_path: Path
) -> None:
    done = coach("forget", "--db", str(db_path), "--user", "alcie", "--yes")

    line = assert_one_line_error(done, "terminal:alcie")
    assert "erased" not in line.lower().replace("nothing", ""), line
    for name, rows in two_users.items():
        assert rows_of(db_path, f"terminal:{name}") == rows


def _folder(tmp: Path) -> Path:
    path = tmp / "a-folder"
    path.mkdir()
    return path


def _not_a_database(tmp: Path) -> Path:
    path = tmp / "notes.db"
    path.write_text("shopping list: milk, eggs\n" * 200, encoding="utf-8")
    return path


UNOPENABLE = [
    pytest.param(_folder, id="path-is-a-folder"),
    pytest.param(lambda tmp: tmp / "missing" / "coach.db", id="folder-missing"),
    pytest.param(_not_a_database, id="not-a-database"),
]
COMMANDS = [pytest.param(["export"], id="export"), pytest.param(["forget", "--yes"], id="forget")]


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("make_path", UNOPENABLE)
def test_a_database_that_cannot_be_opened_gives_one_line_and_a_non_zero_exit(
    tmp_path: Path, make_path: Any, command: list[str]
) -> None:
    db = make_path(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    done = coach(*command, "--db", str(db), "--user", "alice")

    assert_one_line_error(done, str(db))
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_given_as_the_database_is_called_a_folder(
    tmp_path: Path, command: list[str]
) -> None:
    db = _folder(tmp_path)

    done = coach(*command, "--db", str(db), "--user", "alice")

    line = assert_one_line_error(done, str(db))
    assert "is a folder" in line or "is a directory" in line, line
    assert "check that the folder exists" not in line, line


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_export_and_forget_on_a_database_that_does_not_exist_create_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    db = tmp_path / "typo.db"

    done = coach(*command, "--db", str(db), "--user", "alice")

    assert_one_line_error(done, str(db))
    assert list(tmp_path.iterdir()) == [], "a database was created"


# == dialogues list =========================================================================


def _dialogue_headers(folder: Path) -> list[dict[str, Any]]:
    """id, version, title and listed of each dialogue file, read as plain YAML."""
    yaml = YAML(typ="safe")
    headers = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "safety.yaml":
            continue
        data = yaml.load(path.read_text(encoding="utf-8"))
        headers.append({k: data.get(k) for k in ("id", "version", "title", "listed")})
    return sorted(headers, key=lambda h: h["id"])


def test_dialogues_list_shows_ids_versions_titles_and_marks_unlisted_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["dialogues", "list", "--dialogues", str(DIALOGUES)])

    out = capsys.readouterr()
    assert code == 0
    assert out.err == ""
    lines = out.out.splitlines()
    headers = _dialogue_headers(DIALOGUES)
    assert len(lines) == len(headers), out.out
    for line, header in zip(lines, headers, strict=True):
        assert line.split()[:2] == [header["id"], f"v{header['version']}"], line
        assert header["title"] in line
        assert line.endswith("(not in menu)") == (header["listed"] is False), line
    by_id = {line.split()[0]: line for line in lines}
    assert by_id["checkin"].endswith("(not in menu)")
    assert "(not in menu)" not in by_id["diagnose"]


TINY = """\
id: tiny
title: Tiny check
version: 3
description: A tiny dialogue for the list command.
listed: false
steps:
  name_it:
    kind: text
    prompt: What is it called?
    slot: name
    next: done
  done:
    kind: end
    text: "Carrying on with {{ name }}."
"""


@pytest.mark.slow
def test_dialogues_list_with_a_broken_file_lists_the_rest_exits_1_and_names_it(
    tmp_path: Path,
) -> None:
    # A subprocess, not main() with capsys: bot.cli writes problems to the sys.stderr it saw
    # when it was imported (a default argument), which no capture fixture replaces.
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "good.yaml").write_text(TINY, encoding="utf-8")
    bad = folder / "broken.yaml"
    bad.write_text(
        TINY.replace("id: tiny", "id: tiny_broken").replace("next: done", "next: nowhere"),
        encoding="utf-8",
    )
    copy_safety(folder)

    done = coach("dialogues", "list", "--dialogues", str(folder))

    assert done.returncode == 1
    (line,) = done.stdout.splitlines()  # only the good dialogue is listed
    assert line.split()[:2] == ["tiny", "v3"]
    assert "Tiny check" in line and line.endswith("(not in menu)")
    assert done.stderr.startswith(f"coach: dialogue not loaded: {bad}:"), done.stderr
    assert "no step is called 'nowhere'" in done.stderr, "it says what is wrong in the file"
    assert "good.yaml" not in done.stderr


# == dialogues schema =======================================================================


def test_dialogues_schema_writes_the_schema_editors_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "schema.json"

    assert main(["dialogues", "schema", "--output", str(target)]) == 0

    assert capsys.readouterr().out.strip() == f"wrote {target}"
    written = target.read_text(encoding="utf-8")
    schema = json.loads(written)
    assert {"id", "title", "version", "steps"} <= set(schema["properties"])
    assert written == (DIALOGUES / "schema.json").read_text(encoding="utf-8"), (
        "what the command writes is what the repo ships"
    )


def test_dialogues_schema_check_says_up_to_date_or_out_of_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = DIALOGUES / "schema.json"
    assert main(["dialogues", "schema", "--check", "--output", str(shipped)]) == 0
    assert capsys.readouterr().out.strip() == f"{shipped} is up to date"

    target = tmp_path / "schema.json"
    stale = json.loads(shipped.read_text(encoding="utf-8"))
    stale["properties"].pop("title")
    target.write_text(json.dumps(stale, indent=2) + "\n", encoding="utf-8")
    stale_text = target.read_text(encoding="utf-8")

    assert main(["dialogues", "schema", "--check", "--output", str(target)]) == 1
    out = capsys.readouterr()
    assert f"{target} is out of date" in out.err
    assert "coach dialogues schema" in out.err, "it says how to fix it"
    assert out.out == ""
    assert target.read_text(encoding="utf-8") == stale_text, "--check only checks"

    missing = tmp_path / "nowhere.json"
    assert main(["dialogues", "schema", "--check", "--output", str(missing)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert not missing.exists()

    assert main(["dialogues", "schema", "--output", str(target)]) == 0
    capsys.readouterr()
    assert main(["dialogues", "schema", "--check", "--output", str(target)]) == 0
    assert "is up to date" in capsys.readouterr().out


# == stats ==================================================================================


def test_stats_counts_safety_signals_by_category_and_level_without_any_words(
    tmp_path: Path,
) -> None:
    db = tmp_path / "coach.db"
    piped_chat(db, "alice", ["diagnose", "voluntary", "he cornered me in the car park"])
    piped_chat(db, "bob", ["I just can't cope with any of this anymore"])

    done = coach("stats", "--db", str(db))

    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert sorted(rows) == [["distress", "concern", "1"], ["violence", "danger", "1"]]
    for private in ("cornered", "cope", "alice", "bob"):
        assert private not in done.stdout


def test_stats_on_a_store_that_does_not_exist_says_so(tmp_path: Path) -> None:
    done = coach("stats", "--db", str(tmp_path / "nope.db"))

    assert done.returncode == 2
    assert "There is no conversation store" in done.stderr
