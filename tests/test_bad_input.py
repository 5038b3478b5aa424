"""Input the bot must refuse or survive without losing anything: empty or oversized messages,
stale buttons, repeated deliveries, a locked or unwritable database."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.engine import Engine, EngineSettings
from bot.errors import StorageError
from bot.turns import UserInput
from storage.store import Store

running_as_root = pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root can write to a file whatever its mode",
)


def start_diagnose(chat: Any) -> None:
    chat.open()
    chat.say("start diagnose")
    chat.say("1")
    assert chat.state == "situation"


def transcript_length(chat: Any) -> int:
    return len(chat.engine.store.messages_of(chat.user))


def snapshot(chat: Any) -> tuple[str | None, dict[str, Any], int]:
    """Where the conversation is, what it holds, and its turn counter."""
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    return row.state, row.slots, row.turn


# == empty and oversized messages ============================================================


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_an_empty_message_asks_again_and_stores_nothing(chat: Any, text: str) -> None:
    start_diagnose(chat)
    asked = chat.last.messages[-1]
    before, stored = snapshot(chat), transcript_length(chat)

    reply = chat.say(text)

    assert reply.messages[0].text.startswith("I didn't catch anything")
    assert reply.messages[-1] == asked
    assert reply.awaits.kind == "text"
    assert snapshot(chat) == before
    assert transcript_length(chat) == stored


def test_a_message_over_the_limit_is_refused_and_nothing_changes(chat: Any) -> None:
    start_diagnose(chat)
    asked = chat.last.messages[-1]
    ref = chat.last.awaits.ref
    before, stored = snapshot(chat), transcript_length(chat)

    reply = chat.say("x" * 4001)

    assert "4,001 characters" in reply.text
    assert "the limit is 4,000" in reply.text
    assert reply.messages[-1] == asked
    assert reply.awaits.ref == ref
    assert snapshot(chat) == before
    assert transcript_length(chat) == stored

    chat.say("The board decides our funding next month")

    assert chat.state == "other_party"
    assert snapshot(chat)[1]["situation"] == "The board decides our funding next month"


def test_a_message_exactly_at_the_limit_is_accepted(chat: Any) -> None:
    start_diagnose(chat)
    long_answer = ("We have no seat at the table. " * 200)[:4000]
    assert len(long_answer) == 4000

    chat.say(long_answer)

    assert chat.state == "other_party"
    assert snapshot(chat)[1]["situation"] == long_answer.strip()


def test_the_limit_follows_the_settings(store: Store, catalog: Any, clock: Any) -> None:
    engine = Engine(store, catalog, settings=EngineSettings(max_chars=20), clock=clock)
    engine.open("u")
    engine.handle("u", UserInput("start diagnose"))
    engine.handle("u", UserInput("1"))

    reply = engine.handle("u", UserInput("The board decides our funding"))

    assert "the limit is 20" in reply.text
    assert store.current_conversation("u").state == "situation"


# == stale buttons and repeated deliveries ===================================================


def test_an_answer_to_an_earlier_question_is_stale_and_changes_nothing(chat: Any) -> None:
    start_diagnose(chat)
    old_ref = chat.last.awaits.ref
    chat.say("The board decides our funding", ref=old_ref)
    assert chat.state == "other_party"
    current_question = chat.last.messages[-1]
    before = snapshot(chat)

    reply = chat.say("Something else entirely", ref=old_ref)

    assert reply.stale
    assert "earlier question" in reply.text
    assert reply.messages[-1] == current_question
    assert snapshot(chat) == before
    assert snapshot(chat)[1]["situation"] == "The board decides our funding"


def test_a_button_from_the_current_question_is_accepted(chat: Any) -> None:
    start_diagnose(chat)

    reply = chat.say("The board", ref=chat.last.awaits.ref)

    assert not reply.stale
    assert chat.state == "other_party"


def test_a_repeated_delivery_is_a_duplicate_and_makes_no_second_turn(chat: Any) -> None:
    start_diagnose(chat)
    chat.say("The board decides our funding", delivery_id="Ev-1")
    after_first, stored = snapshot(chat), transcript_length(chat)

    reply = chat.say("The board decides our funding", delivery_id="Ev-1")

    assert reply.duplicate
    assert reply.messages == ()
    assert transcript_length(chat) == stored
    assert snapshot(chat) == after_first
    assert chat.state == "other_party"

    chat.say("The council", delivery_id="Ev-2")  # a new delivery is a new turn
    assert chat.state == "other_kind"


# == a locked database =======================================================================


def test_a_locked_database_says_so_and_the_same_message_works_afterwards(
    db_path: Path, catalog: Any, clock: Any
) -> None:
    store = Store(db_path, busy_timeout_ms=200)
    engine = Engine(store, catalog, clock=clock)
    user = "slack:bob"
    engine.open(user)
    engine.handle(user, UserInput("start diagnose"))
    engine.handle(user, UserInput("1"))
    before = store.current_conversation(user)
    stored = len(store.messages_of(user))

    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        reply = engine.handle(user, UserInput("The board decides", delivery_id="Ev-9"))
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert "locked" in reply.text
    assert "Traceback" not in reply.text
    assert not reply.duplicate
    after = store.current_conversation(user)
    assert (after.state, after.slots, after.turn) == (before.state, before.slots, before.turn)
    assert len(store.messages_of(user)) == stored

    again = engine.handle(user, UserInput("The board decides", delivery_id="Ev-9"))

    assert not again.duplicate  # the failed turn did not count as delivered
    assert "locked" not in again.text
    row = store.current_conversation(user)
    assert row.state == "other_party"
    assert row.slots["situation"] == "The board decides"
    assert row.slots["role"] == "voluntary"
    engine.handle(user, UserInput("The council"))
    assert store.current_conversation(user).state == "other_kind"
    store.close()


# == an unwritable database ==================================================================


def test_a_database_in_a_missing_folder_names_the_way_to_choose_another(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "coach.db"

    with pytest.raises(StorageError) as raised:
        Store(missing)

    message = str(raised.value)
    assert "--db" in message and "COACH_DB" in message
    assert str(missing.parent) in message
    assert not missing.parent.exists()


@running_as_root
def test_a_read_only_new_database_file_names_the_way_to_choose_another(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    path.touch()
    path.chmod(0o444)

    with pytest.raises(StorageError) as raised:
        Store(path)

    assert "--db" in str(raised.value) and "COACH_DB" in str(raised.value)


@running_as_root
def test_a_read_only_existing_store_names_the_way_to_choose_another(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    Store(path).close()
    path.chmod(0o444)

    with pytest.raises(StorageError) as raised:
        Store(path)

    assert "--db" in str(raised.value) and "COACH_DB" in str(raised.value)


@running_as_root
def test_a_turn_on_a_read_only_store_says_it_cannot_be_written(
    tmp_path: Path, catalog: Any, clock: Any
) -> None:
    path = tmp_path / "coach.db"
    Store(path).close()
    path.chmod(0o444)
    store = Store(path)
    engine = Engine(store, catalog, clock=clock)

    reply = engine.open("u")

    assert "cannot be written" in reply.text
    assert "COACH_DB" in reply.text
    store.close()


def test_the_cli_reports_an_unusable_database_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["chat", "--db", "/nonexistent/dir/x.db"])

    assert code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("coach: ")
    assert "/nonexistent/dir" in lines[0]
    assert "--db" in lines[0]
    assert "Traceback" not in err
