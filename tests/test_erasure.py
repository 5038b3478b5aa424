"""Erasure that erases: after `forget` or `prune`, the erased words are not in the database
file, its write-ahead log or its shared memory, read as bytes, even with another
connection open. Each test first finds the words there, so it can fail."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_support import ALICE, BOB, NOW, Seeded, seed

from bot.cli import main
from storage.store import MessageRow, Store

#: A word nothing else contains, nor shares a prefix with in the search index.
MARK = "qzqmarkerzqz"
KEPT = "zzkeptwordzz"
OLD = "2025-01-10T10:00:00+00:00"


def file_bytes(db: Path) -> bytes:
    """The database, its -wal and its -shm, as they are on disk."""
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def plant(store: Store, seeded: Seeded) -> None:
    """MARK in everything of alice's shared conversation that can hold words (a message in
    the search index, her corrected summary, a coach's note on it and on one message);
    KEPT in bob's."""
    with store.transaction():
        store.add_messages(ALICE, [MessageRow("user", f"the {MARK} said", "s", seeded.shared)], NOW)
        store.set_shared_summary(ALICE, seeded.shared, f"summary {MARK}", NOW)
        store.add_note(seeded.chris, seeded.shared, f"note {MARK}", NOW)
        assert store.set_flag(seeded.chris, seeded.shared, 1, True, NOW)
        store.add_messages(BOB, [MessageRow("user", f"bob {KEPT}", "s", seeded.bob_shared)], NOW)
    found = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?"
    assert store.db.execute(found, (MARK,)).fetchone()[0] == 1


def seed_with_an_old_conversation(store: Store) -> Seeded:
    """The review seed, with alice's shared conversation last active in January 2025."""
    seeded = seed(store)
    with store.transaction():
        store.db.execute(
            "UPDATE conversations SET started_at = ?, updated_at = ? WHERE id = ?",
            (OLD, OLD, seeded.shared),
        )
    return seeded


@pytest.fixture
def planted(store: Store) -> Seeded:
    seeded = seed(store)
    plant(store, seeded)
    return seeded


@pytest.fixture
def other_connection(db_path: Path) -> Iterator[sqlite3.Connection]:
    """Another program with the store open (idle), as `coach review` or `coach slack` is."""
    conn = sqlite3.connect(db_path)
    conn.execute("SELECT count(*) FROM messages").fetchone()
    yield conn
    conn.close()


def test_forget_leaves_no_trace_of_their_words_in_any_file(
    store: Store, planted: Seeded, db_path: Path, other_connection: sqlite3.Connection
) -> None:
    assert MARK.encode() in file_bytes(db_path)

    assert store.erase_user(ALICE) is True

    assert MARK.encode() not in file_bytes(db_path)
    assert MARK[-6:].encode() not in file_bytes(db_path)  # nor a tail of it in the index
    assert Path(f"{db_path}-wal").stat().st_size == 0
    assert KEPT in store.db.execute("SELECT group_concat(text) FROM messages").fetchone()[0]
    assert other_connection.execute("SELECT count(*) FROM messages WHERE text LIKE ?",
                                    (f"%{MARK}%",)).fetchone()[0] == 0  # fmt: skip


def test_prune_takes_old_conversations_and_all_that_hangs_on_them_from_the_files(
    store: Store, db_path: Path, other_connection: sqlite3.Connection
) -> None:
    seeded = seed_with_an_old_conversation(store)
    with store.transaction():
        store.set_reviewed(seeded.chris, seeded.shared, True, NOW)
    plant(store, seeded)
    assert store.prunable("2025-06-01") == (1, 10)
    assert MARK.encode() in file_bytes(db_path)

    pruned = store.prune_before("2025-06-01")

    assert (pruned.conversations, pruned.messages, pruned.scrubbed) == (1, 10, True)
    assert MARK.encode() not in file_bytes(db_path)
    assert store.get_conversation(seeded.shared) is None
    assert store.get_conversation(seeded.private) is not None  # newer: kept
    for table in ("coach_notes", "coach_reviews", "coach_flags", "shares", "shared_summaries",
                  "next_steps", "safety_events"):  # fmt: skip
        left = store.db.execute(
            f"SELECT count(*) FROM {table} WHERE conversation_id = ?", (seeded.shared,)
        ).fetchone()[0]
        assert left == 0, table
    assert [c.conversation_id for c in store.shared_conversations_for(seeded.dana)] == [
        seeded.bob_shared
    ]
    assert KEPT.encode() in file_bytes(db_path)


def test_an_open_read_elsewhere_is_reported_and_the_next_scrub_finishes(
    db_path: Path,
) -> None:
    store = Store(db_path, busy_timeout_ms=200)
    try:
        seeded = seed(store)
        plant(store, seeded)
        reader = sqlite3.connect(db_path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM messages").fetchone()

        assert store.erase_user(ALICE) is False  # the old pages are still someone's to read

        reader.execute("COMMIT")
        reader.close()
        assert store.scrub() is True
        assert MARK.encode() not in file_bytes(db_path)
    finally:
        store.close()


def test_coach_db_prune_asks_first_then_deletes_what_is_past_the_retention_period(
    store: Store, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = seed_with_an_old_conversation(store)
    argv = ["db", "prune", "--older-than", "365d", "--db", str(db_path)]

    assert main(argv) == 1
    asked = capsys.readouterr()
    assert "This deletes 1 conversation and 9 messages last active before" in asked.err
    assert "--yes" in asked.err and store.get_conversation(seeded.shared) is not None

    assert main([*argv, "--yes"]) == 0
    assert capsys.readouterr().out.startswith("Deleted 1 conversation and 9 messages")
    assert store.get_conversation(seeded.shared) is None
    assert store.get_conversation(seeded.private) is not None


@pytest.mark.parametrize("given", ["365", "d", "3.5d", "12m", "0d", "1e3d"])
def test_an_unreadable_retention_period_gets_one_line(
    store: Store, db_path: Path, given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "prune", "--older-than", given, "--db", str(db_path), "--yes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "like 365d, 8w or 2y" in err[0]
