"""The store writes back exactly what the engine holds: however the undo history changed,
and never over a conversation another process has moved on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.engine import Engine
from storage.store import ConversationRow, Store
from tests.conftest import Chat

NOW = "2026-11-23T09:00:00+00:00"


def stored_history(store: Store, conversation_id: int) -> list[object]:
    (text,) = store.db.execute(
        "SELECT history FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    return json.loads(text)


def test_history_saved_by_append_pop_or_rewrite_matches_memory(store: Store) -> None:
    with store.transaction():
        store.ensure_user("u", "terminal", None, NOW)
        row = ConversationRow(
            0, "u", "diagnose", 1, "d", "a", "active", None, {}, [], 0, None, NOW, NOW
        )
        store.create_conversation(row)
    steps = [
        lambda h: h.append({"state": "a", "undo": {"x": "__absent__"}}),  # an answer
        lambda h: h.append({"state": "b", "undo": {"y": [1, "two"]}}),  # another
        lambda h: h.pop(),  # back
        lambda h: None,  # a turn that left it alone (help, summary)
        lambda h: h.append({"state": "b", "undo": {"y": "é & <b>"}}),
        lambda h: h.clear(),  # restart from three entries deep
        lambda h: h.extend([{"state": "a"}, {"state": "b"}]),  # more than one at once
    ]
    for change in steps:
        change(row.history)
        with store.transaction():
            store.save_conversation(row)
        assert stored_history(store, row.id) == row.history
        reread = store.get_conversation(row.id)
        assert reread is not None and reread.history == row.history


def stored_status(store: Store, conversation_id: int) -> str:
    (status,) = store.db.execute(
        "SELECT status FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    return str(status)


def test_status_saved_whenever_it_changed_and_only_read_rows_know_what_is_stored(
    store: Store,
) -> None:
    """A save names `status` only when it changed since the row was read or written: every
    change still reaches the file, from a row kept in memory or one read afresh."""
    with store.transaction():
        store.ensure_user("u", "terminal", None, NOW)
        row = ConversationRow(
            0, "u", "diagnose", 1, "d", "a", "active", None, {}, [], 0, None, NOW, NOW
        )
        store.create_conversation(row)
    for status in ("paused", "paused", "active", "active", "abandoned"):
        row.status = status
        row.turn += 1
        with store.transaction():
            assert store.save_conversation(row, expect_turn=row.turn - 1)
        assert stored_status(store, row.id) == status
    fresh = store.get_conversation(row.id)
    assert fresh is not None and fresh.status == "abandoned"
    fresh.status = "completed"
    with store.transaction():
        store.save_conversation(fresh)
    assert stored_status(store, row.id) == "completed"
    # A row built by hand knows nothing of what is stored: it writes its status.
    by_hand = ConversationRow(
        row.id, "u", "diagnose", 1, "d", "a", "paused", None, {}, [], 9, None, NOW, NOW
    )
    with store.transaction():
        store.save_conversation(by_hand)
    assert stored_status(store, row.id) == "paused"


def test_a_record_pages_past_discarded_ones_and_leaves_out_one_just_begun(store: Store) -> None:
    """Page one and later pages list the same conversations, newest first: not the ones
    discarded (left before any answer), not the newest while it has no answer yet."""
    with store.transaction():
        store.ensure_user("u", "terminal", None, NOW)
        made = []
        for status in ("completed", "discarded", "completed", "discarded", "completed", "active"):
            row = ConversationRow(
                0, "u", "diagnose", 1, "d", "a", status, None, {}, [], 0, None, NOW, NOW
            )
            store.create_conversation(row)
            made.append(row)
    finished = [made[4].id, made[2].id, made[0].id]
    assert [p.id for p in store.past_conversations("u", limit=10)] == finished
    assert [p.id for p in store.past_conversations("u", limit=1)] == finished[:1]
    assert [p.id for p in store.past_conversations("u", limit=1, offset=1)] == finished[1:2]
    assert [p.id for p in store.past_conversations("u", limit=5, offset=2)] == finished[2:]
    begun = made[5]
    begun.history.append({"state": "a"})
    with store.transaction():
        store.save_conversation(begun)
    assert [p.id for p in store.past_conversations("u", limit=2)] == [begun.id, finished[0]]
    assert [p.id for p in store.past_conversations("u", limit=1, offset=1)] == finished[:1]


# -- two processes on one store -----------------------------------------------------------


def test_a_conversation_moved_on_by_another_process_is_answered_from_the_store(
    db_path: Path, catalog: Any, clock: Any
) -> None:
    """Two processes on one file (the Slack app and a terminal, say): each keeps the user's
    machine in memory. When one moves the conversation on, the other's next turn is run
    from what is stored, never over it."""
    first = Chat(Engine(Store(db_path), catalog, clock=clock), "terminal:sam")
    second = Chat(Engine(Store(db_path), catalog, clock=clock), "terminal:sam")
    first.open()
    first.say("diagnose")
    first.say("1")
    second.say("help")  # the second process now holds the conversation, at the situation
    assert second.state == "situation"

    first.say("Our funding is decided without us")  # moved on, in the first process

    reply = second.say("Northshire Council")  # answers what is stored: the other party
    row = second.engine.store.current_conversation("terminal:sam")
    assert row is not None
    assert row.slots["situation"] == "Our funding is decided without us"
    assert row.slots["other_party"] == "Northshire Council"
    assert "Which of these best describes Northshire Council?" in reply.text
    said = [m["text"] for m in second.engine.store.messages_of("terminal:sam")]
    assert said.count("Northshire Council") == 1  # the rolled-back try left nothing


def test_safety_events_keep_their_level_and_add_up_without_words(store: Store) -> None:
    with store.transaction():
        store.ensure_user("u", "terminal", None, NOW)
        store.ensure_user("v", "terminal", None, NOW)
        store.record_safety_event("u", None, "hostility", NOW, "concern")
        store.record_safety_event("v", None, "hostility", NOW, "concern")
        store.record_safety_event("v", None, "self_harm", NOW, "danger")

    assert [(e["category"], e["level"]) for e in store.safety_events_of("v")] == [
        ("hostility", "concern"),
        ("self_harm", "danger"),
    ]
    assert store.safety_counts() == [("hostility", "concern", 2), ("self_harm", "danger", 1)]


def test_a_store_from_before_levels_reads_old_interruptions_as_danger(tmp_path: Path) -> None:
    import sqlite3

    from storage.migrations import migrations

    path = tmp_path / "old.db"
    old = Store(path)
    with old.transaction():
        old.ensure_user("u", "terminal", None, NOW)
    old.close()
    # Take the store back to before the level column, with one interruption in it.
    raw = sqlite3.connect(path)
    raw.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_safety_levels'")
    raw.execute("DROP INDEX IF EXISTS idx_safety_events_category_level")
    raw.execute("ALTER TABLE safety_events DROP COLUMN level")
    raw.execute("ALTER TABLE users DROP COLUMN pending")
    raw.execute(
        "INSERT INTO safety_events (user_id, category, created_at) VALUES ('u', 'threats', ?)",
        (NOW,),
    )
    raw.commit()
    raw.close()
    assert migrations.name == "influence_coach"

    reopened = Store(path)
    try:
        assert [(e["category"], e["level"]) for e in reopened.safety_events_of("u")] == [
            ("threats", "danger")
        ]
        assert reopened.user_pending("u") is None
    finally:
        reopened.close()
