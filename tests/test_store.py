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
