"""Coming back to `coach chat` in a new process, as a person would: the greeting names them
and lists what they planned; `steps`, `history` and `show 1` show what was stored; a step is
marked from `steps`; a diagnosis left before any answer is not offered back.

Each chat is its own subprocess on the same SQLite file, so nothing can come from memory.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot import messages
from tests.test_terminal import PROFILE, planned_diagnose, run_piped, utc_today

pytestmark = pytest.mark.slow

USER = "terminal:dana"


def stored_steps(db: Path) -> list[tuple[str, str, str, str | None, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT title, due_date, status, outcome, learned FROM next_steps "
            "WHERE user_id = ? ORDER BY due_date, id",
            (USER,),
        ).fetchall()


def test_a_second_chat_greets_by_name_and_shows_the_plan_history_and_diagnosis(
    tmp_path: Path,
) -> None:
    db = tmp_path / "coach.db"
    plan = [line for line, _, _ in planned_diagnose(utc_today())]

    first = run_piped(db, "dana", ["Dana", "diagnose", *plan, "quit"])

    assert first.returncode == 0, first.stderr
    assert messages.NAME_ASK in first.stdout
    assert "Nice to meet you, Dana." in first.stdout
    (one, two) = stored_steps(db)
    assert one[2] == two[2] == "open"

    second = run_piped(db, "dana", ["steps", "history", "show 1", "done 1", "skip", "quit"])

    assert second.returncode == 0, second.stderr
    out = second.stdout
    greeting = out.split("\n\n")[0]
    assert greeting.startswith("Welcome back, Dana.")
    assert greeting.index(one[0]) < greeting.index(two[0])  # soonest first
    assert "the county council — 2 steps, none done yet." in greeting
    assert messages.NAME_ASK not in out  # asked once
    # steps: numbered soonest first, with the idea behind each
    assert f"1. {one[0]} — by" in out and f"2. {two[0]} — by" in out
    assert "Why: " in out
    # history: the date, the dialogue, the other party, the steps and how they stand
    assert "Diagnose a power situation · the county council" in out
    assert f"{one[0]} (open, by " in out
    # show 1: the reading it ended with, in their own words
    assert "Here's your diagnosis, in your words." in out
    assert f"The situation: {PROFILE['situation']}" in out
    assert "What I notice:" in out
    # done 1, from there
    assert f"Marked as done: {one[0]}." in out
    assert [(s[0], s[2], s[3]) for s in stored_steps(db)] == [
        (one[0], "closed", "done"),
        (two[0], "open", None),
    ]

    third = run_piped(db, "dana", ["history", "quit"])

    assert f"{one[0]} (done)" in third.stdout
    assert "the county council — 2 steps, 1 done." in third.stdout


def test_a_diagnosis_left_before_any_answer_is_not_offered_in_the_next_chat(
    tmp_path: Path,
) -> None:
    db = tmp_path / "coach.db"
    left = run_piped(db, "eve", ["Eve", "diagnose", "quit"])
    assert left.returncode == 0, left.stderr

    back = run_piped(db, "eve", ["history"], "--json")

    assert back.returncode == 0, back.stderr
    assert "partway" not in back.stdout
    assert "Carry on" not in back.stdout
    assert "Welcome back, Eve." in back.stdout
    assert messages.HISTORY_NONE in back.stdout
    with sqlite3.connect(db) as conn:
        statuses = conn.execute("SELECT status FROM conversations").fetchall()
    assert statuses == [("discarded",)]
