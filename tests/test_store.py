"""The store writes back exactly what the engine holds, however the undo history changed."""

from __future__ import annotations

import json

from storage.store import ConversationRow, Store

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
