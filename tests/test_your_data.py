"""`coach export` and `coach forget` cover everything stored about a person: every table and
every column, read from the database itself. A table or column added later that the export
or the erasure misses fails here, with what to change.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.export import SECTIONS, export_markdown
from storage.records import COACH_TABLES, USER_TABLES
from storage.store import ConversationRow, MessageRow, Store

ALICE, BOB = "terminal:alice", "terminal:bob"
NOW = "2026-11-23T09:00:00+00:00"
#: Tables that hold nothing about anyone, and why.
BOOKKEEPING = {
    "_sqlite_migrations": "which schema migrations have run",
    # A coach's own row (name, token hash), kept by admins (`coach users`); what a coachee
    # shared with them is in `shares`, which is the coachee's and goes with them.
    "coaches": "the coaches admins added: a name and a token hash, nothing of a coachee",
    "dialogue_versions": "the admins' dialogue files conversations ran on, nobody's words",
    # A coach's saved inbox filters: their own settings, erased with them (`users remove`).
    "coach_filters": "a coach's saved inbox filters, by name: the coach's, not a coachee's",
    # A Slack workspace that removed the coach: its team's id prefix and two times.
    "removed_workspaces": "workspaces that removed the coach: a team id and when, no person",
}
#: The full-text index of shared messages (FTS5 and its shadow tables): rows keyed by the
#: message's id, removed by trigger with the message (tested below on the words themselves).
SEARCH_INDEX = {
    f"messages_fts{part}" for part in ("", "_data", "_idx", "_content", "_docsize", "_config")
}


def columns_by_table(path: Path) -> dict[str, list[str]]:
    """Every table of the store and its columns, as SQLite itself lists them."""
    with sqlite3.connect(path) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: [c[1] for c in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def rows_of(path: Path, table: str, user: str) -> int:
    column = "id" if table == "users" else "user_id"
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute(
            f"SELECT count(*) FROM {table} WHERE {column} = ?", (user,)
        ).fetchone()
    return int(count)


def seed(store: Store, user: str) -> None:
    """A row in every table for `user`, with every column that can hold something filled."""
    with store.transaction():
        store.ensure_user(user, "terminal", user.split(":")[1], NOW)
        store.set_name(user, user.split(":")[1].title())
        store.remember(user, {"role": {"role": "voluntary", "role_label": "A charity"}})
        store.set_user_pending(user, "name")
        row = ConversationRow(
            0, user, "diagnose", 4, "digest", "hope", "completed", "menu",
            {"situation": f"{user}'s situation"}, [{"state": "role", "undo": {}}], 3, None,
            NOW, NOW, NOW,
        )  # fmt: skip
        store.create_conversation(row)
        store.save_conversation(row)
        checkin = ConversationRow(
            0, user, "checkin", 2, "digest", "status", "active", None, {}, [], 0, None, NOW, NOW
        )
        store.create_conversation(checkin)
        store.add_messages(user, [MessageRow("user", f"{user} says hello", "role", row.id)], NOW)
        store.add_next_steps(
            row.id,
            user,
            [{"id": "rec", "title": "Ask", "text": "Ask the chair", "idea": "An idea",
              "source": "A source", "due_date": "2026-11-30"}],
            NOW,
        )  # fmt: skip
        (step,) = store.next_steps_of(user)
        store.record_outcome(step.id, "partly", "They listened", "2026-12-07", NOW)
        store.mark_reminded(step.id, NOW)
        store.record_safety_event(user, row.id, "distress", NOW, "concern")
        store.mark_delivery(f"{user}-1", user, NOW)
        coach = store.coach_named("Chris")
        coach_id = coach.id if coach else store.add_coach("Chris", "scrypt$00$00", NOW)
        store.share(user, coach_id, row.id, NOW)
        store.share(user, coach_id, None, NOW)
        store.revoke_shares(user, None, NOW)  # every column filled: `revoked_at` too
        store.set_shared_summary(user, row.id, f"{user}'s own summary", NOW)
        store.add_note(coach_id, row.id, f"Chris's note about {user}", NOW)
        store.set_reviewed(coach_id, row.id, True, NOW)
        store.set_tags(coach_id, row.id, ["named the asymmetry"], NOW)
        store.set_later(coach_id, row.id, True, NOW)
        assert store.set_flag(coach_id, row.id, store.messages_of(user)[0]["seq"], True, NOW)
    store.receive(f"{user}-2", user, "message", {"text": f"{user} waits"}, NOW)
    store.hold_messages(user, [{"channel": "D1", "text": f"{user}'s reply is owed"}], NOW, NOW)
    store.count_attempt(store.pending(user)[0].id)
    with store.transaction():
        store.mark_delivery(f"{user}-2", user, NOW)  # its turn ran: `turned_at` is set


@pytest.fixture
def two_people(store: Store) -> Store:
    seed(store, ALICE)
    seed(store, BOB)
    return store


def test_every_table_that_holds_people_is_one_export_and_forget_go_by(db_path: Path) -> None:
    Store(db_path).close()
    for table, columns in columns_by_table(db_path).items():
        if table in BOOKKEEPING or table in SEARCH_INDEX or table == "users":
            continue
        assert "user_id" in columns, f"{table} holds rows of nobody in particular: say why in "
        "BOOKKEEPING, or give it a user_id"
        assert table in USER_TABLES or table in COACH_TABLES, (
            f"{table} is neither exported nor erased: add it to storage.records.USER_TABLES "
            "(or COACH_TABLES: a coach's, erased with the person, never exported to them)"
        )


def test_the_export_has_every_column_of_every_row_of_theirs_and_nobody_elses(
    two_people: Store, db_path: Path
) -> None:
    data = two_people.export_user(ALICE)

    for table, columns in columns_by_table(db_path).items():
        if table in BOOKKEEPING or table in SEARCH_INDEX or table in COACH_TABLES:
            assert table not in data, f"{table} is not the person's to export"
            continue
        rows = [data["user"]] if table == "users" else data[table]
        assert len(rows) == rows_of(db_path, table, ALICE) > 0, table
        for row in rows:
            missing = set(columns) - set(row)
            assert not missing, f"the export leaves out {table}.{sorted(missing)}"
            assert row.get("user_id", row.get("id")) == ALICE, table
    assert data["user"]["known"] == {"role": {"role": "voluntary", "role_label": "A charity"}}
    assert data["user"]["name"] == "Alice"
    assert data["conversations"][0]["slots"] == {"situation": f"{ALICE}'s situation"}
    assert data["inbox"][0]["payload"] == {"text": f"{ALICE} waits"}
    assert "bob" not in str(data)


def test_forget_erases_every_row_of_theirs_in_every_table_and_nobody_elses(
    two_people: Store, db_path: Path
) -> None:
    before = {
        t: rows_of(db_path, t, BOB)
        for t in columns_by_table(db_path)
        if t not in BOOKKEEPING and t not in SEARCH_INDEX
    }

    two_people.erase_user(ALICE)

    for table in before:
        assert rows_of(db_path, table, ALICE) == 0, f"forget leaves {table} rows behind"
        assert rows_of(db_path, table, BOB) == before[table] > 0, table


def test_a_coachs_notes_are_never_in_the_coachees_export(two_people: Store) -> None:
    assert "Chris's note" not in str(two_people.export_user(ALICE))


def test_forget_takes_their_words_out_of_the_search_index(two_people: Store) -> None:
    with two_people.transaction():
        two_people.share(ALICE, two_people.coach_named("Chris").id, None, NOW)  # type: ignore[union-attr]
        (row,) = [c for c in two_people.conversations_of(ALICE) if c.dialogue == "diagnose"]
        two_people.add_messages(ALICE, [MessageRow("user", "zebracrossing", "role", row.id)], NOW)
    found = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zebracrossing'"
    assert two_people.db.execute(found).fetchone()[0] == 1

    two_people.erase_user(ALICE)

    assert two_people.db.execute(found).fetchone()[0] == 0


def test_the_markdown_export_has_every_table_the_json_export_has(two_people: Store) -> None:
    data = two_people.export_user(ALICE)
    document = export_markdown(two_people, ALICE)

    for table, rows in data.items():
        if table == "user_id" or not rows:
            continue
        assert table in SECTIONS, f"{table} is in the JSON export but not in bot.export.SECTIONS"
        assert SECTIONS[table] in document, table
    for said in (f"{ALICE}'s situation", f"{ALICE} says hello", "distress (concern)",
                 f"{ALICE}'s own summary", "Chris: conversation", f"{ALICE} waits",
                 f"{ALICE}'s reply is owed",
                 "Remembered, role: A charity", "The coach calls you: Alice"):  # fmt: skip
        assert said in document, said
    assert "bob" not in document and "Chris's note" not in document
