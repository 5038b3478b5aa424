"""A user's own data as a Markdown document they can keep (Slack's /coach export, the CLI).

It covers every table `Store.export_user` (the JSON export) reads: `SECTIONS` names where
each one's rows go, and `tests/test_your_data.py` fails for a table added without one.
"""

from __future__ import annotations

import json
from typing import Any

from bot.text import visible
from storage.store import Store

#: Where each table of `Store.export_user` appears in the document (messages and the
#: conversations they belong to make its body, one heading per conversation).
SECTIONS = {
    "user": "## About you",
    "conversations": "## Your answers, by conversation",
    "messages": "## Your answers, by conversation",
    "next_steps": "## Next steps",
    "safety_events": "## When the coach stepped in for your safety",
    "shares": "## What you shared with a coach",
    "shared_summaries": "## What you shared with a coach",
    "inbox": "## Messages received, not yet answered",
    "outbox": "## Replies Slack has not taken yet",
    "deliveries": "## Deliveries recorded",
}


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
    lines += _more(data, {c.id: c.name for c in store.accounts()})
    return visible("\n".join(lines))


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _more(data: dict[str, Any], coach_names: dict[int, str]) -> list[str]:
    """What the document adds to the transcripts and steps, so it holds all the JSON does:
    who the coach knows you as, your answers, safety interruptions, your shares and
    corrected summaries, what waits to be answered or sent, and the deliveries recorded."""
    lines: list[str] = []
    user = data["user"] or {}
    known = user.get("known") or {}
    if user.get("name") or known:
        lines += [SECTIONS["user"], ""]
        if user.get("name"):
            lines.append(f"- The coach calls you: {user['name']}")
        for slot, kept in known.items():
            label = kept.get(f"{slot}_label") if isinstance(kept, dict) else None
            lines.append(f"- Remembered, {slot}: {label or _value(kept)}")
        lines.append("")
    answered = [c for c in data["conversations"] if c["slots"]]
    if answered:
        lines += [SECTIONS["conversations"], ""]
        for conversation in answered:
            lines.append(f"- {conversation['dialogue']}, {conversation['started_at'][:10]}:")
            for slot, value in conversation["slots"].items():
                if not slot.startswith("_"):
                    lines.append(f"  - {slot}: {_value(value)}")
        lines.append("")
    if data["safety_events"]:
        lines += [SECTIONS["safety_events"], ""]
        for event in data["safety_events"]:
            lines.append(f"- {event['created_at'][:10]}: {event['category']} ({event['level']})")
        lines.append("")
    summaries = {s["conversation_id"]: s["text"] for s in data["shared_summaries"]}
    if data["shares"] or summaries:
        lines += [SECTIONS["shares"], ""]
        for share in data["shares"]:
            what = (
                "every conversation started after it"
                if share["scope"] == "future"
                else f"conversation {share['conversation_id']}"
            )
            ended = f", taken back {share['revoked_at'][:10]}" if share["revoked_at"] else ""
            coach = coach_names.get(share["coach_id"], "A coach since removed")
            lines.append(f"- {coach}: {what}, from {share['created_at'][:10]}{ended}")
        for conversation_id, text in summaries.items():
            lines.append(f"- Your summary of conversation {conversation_id}: {text}")
        lines.append("")
    if data["inbox"]:
        lines += [SECTIONS["inbox"], ""]
        for entry in data["inbox"]:
            lines.append(
                f"- {entry['received_at'][:16].replace('T', ' ')}: {_value(entry['payload'])}"
            )
        lines.append("")
    if data["outbox"]:
        lines += [SECTIONS["outbox"], ""]
        for held in data["outbox"]:
            said = held["message"].get("text") or "a note saying where your conversation is"
            lines.append(f"- {held['created_at'][:16].replace('T', ' ')}: {_value(said)}")
        lines.append("")
    if data["deliveries"]:
        lines += [SECTIONS["deliveries"], ""]
        lines.append(
            f"- {len(data['deliveries'])} message ids from Slack, kept so none is answered "
            "twice (no words)"
        )
        lines.append("")
    return lines
