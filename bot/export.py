"""A user's own data as a Markdown document they can keep (Slack's /coach export, the CLI)."""

from __future__ import annotations

from typing import Any

from bot.text import visible
from storage.store import Store


def export_markdown(store: Store, user_id: str, *, name: str | None = None) -> str:
    """Every conversation with its transcript, then the next steps and how they went.

    A document to read, so control characters in what was said are made visible
    (`bot.text.visible`); the JSON export (`Store.export_user`) keeps every word as typed.
    """
    data: dict[str, Any] = store.export_user(user_id)
    lines = [f"# Influence Coach: conversations of {name or user_id}", ""]
    by_conversation: dict[int | None, list[dict[str, Any]]] = {}
    for message in data["messages"]:
        by_conversation.setdefault(message["conversation_id"], []).append(message)
    titles = {c["id"]: c for c in data["conversations"]}
    for conversation_id, rows in by_conversation.items():
        conversation = titles.get(conversation_id) if conversation_id else None
        if conversation is None:
            lines.append("## Outside a dialogue")
        else:
            title = conversation["slots"].get("dialogue_title") or conversation["dialogue"]
            lines.append(
                f"## {title} ({conversation['started_at'][:10]}, {conversation['status']})"
            )
        lines.append("")
        for row in rows:
            who = "**You**" if row["sender"] == "user" else "**Coach**"
            text = row["text"].replace("\n", "\n> ")
            if row.get("deleted_at"):
                text = "_(you deleted this message)_"
            lines.append(f"{who} · {row['created_at'][:16].replace('T', ' ')}")
            lines.append(f"> {text}")
            lines.append("")
    if data["next_steps"]:
        lines.append("## Next steps")
        lines.append("")
        for step in data["next_steps"]:
            outcome = f", {step['outcome'].replace('_', ' ')}" if step["outcome"] else ""
            lines.append(f"- **{step['title'] or step['text']}**, by {step['due_date']}{outcome}")
            if step["idea"]:
                lines.append(f"  - Why: {step['idea']} ({step['source']})")
            if step["learned"]:
                lines.append(f"  - What you learned: {step['learned']}")
        lines.append("")
    return visible("\n".join(lines))
