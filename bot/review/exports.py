"""A shared conversation as Markdown or JSON (with the coach's notes, marked private) and the
inbox as CSV, one row per conversation. All for the coach only; all go through the same
access check as the pages."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any

from bot.loader import Catalog
from bot.review.chart import ratings, then_slots
from bot.review.reading import ConversationView, Turn, by_turn, conversation_view
from bot.text import json_escaped, visible
from storage.review import InboxRow
from storage.sharing import SharedConversation
from storage.store import Store

#: The formats a conversation is exported in, by file extension.
FORMATS = ("md", "json")

CSV_COLUMNS = (
    "conversation_id",
    "coachee",
    "dialogue",
    "dialogue_version",
    "status",
    "started_at",
    "last_activity",
    "other_party",
    "turns",
    "reviewed",
    "saved_for_later",
    "tags",
    "due_steps",
)
#: A spreadsheet runs a cell starting with these as a formula: such cells get a leading '.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def inbox_csv(rows: list[InboxRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            _cell(v)
            for v in (
                r.conversation_id,
                r.coachee,
                r.dialogue,
                r.dialogue_version,
                r.status,
                r.started_at,
                r.last_activity,
                r.other_party or "",
                r.turns,
                "yes" if r.reviewed else "no",
                "yes" if r.later else "no",
                "; ".join(r.tags),
                r.due_steps,
            )
        )
    return out.getvalue()


def _quoted(text: str) -> list[str]:
    return ["> " + line if line else ">" for line in text.splitlines() or [""]]


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ")


def conversation_markdown(view: ConversationView, turns: list[Turn]) -> str:
    """The conversation for the coach's own records: summary, diagnosis, steps, the whole
    transcript (`turns`, safety marked by category only), and their private notes."""
    out = [
        f"# {view.title} with {view.coachee} (conversation {view.id})",
        "",
        f"- Dialogue: {view.dialogue} v{view.version}, {view.status}",
        f"- Started: {_when(view.started_at)}",
        f"- Last activity: {_when(view.last_activity)}",
    ]
    if view.other_party:
        out.append(f"- The other party: {view.other_party}")
    if view.tags:
        out.append(f"- Tags: {', '.join(view.tags)}")
    out.append(f"- Reviewed: {'yes' if view.reviewed else 'no'}")
    if view.later:
        out.append("- Saved for later")
    out.append("")
    if view.summary:
        out += ["## The coachee's summary", "", *_quoted(view.summary), ""]
    if view.diagnosis:
        out += ["## The diagnosis, as read back", "", *_quoted(view.diagnosis), ""]
    elif view.answered:
        out += ["## Answers so far", ""]
        out += [f"- {question}: {answer}" for question, answer in view.answered]
        out.append("")
    out += _asymmetry_table(view.slots)
    if view.steps:
        out += ["## Next steps", ""]
        for step in view.steps:
            outcome = f", {step.outcome.replace('_', ' ')}" if step.outcome else ""
            out.append(f"- **{step.title or step.text}**, by {step.due_date}{outcome}")
            if step.learned:
                out.append(f"  - Learned: {step.learned}")
        out.append("")
    if view.safety:
        out += ["## Safety interruptions", ""]
        out += [f"- {m.category} ({m.level}), {_when(m.created_at)}" for m in view.safety]
        out.append("")
    out += ["## Transcript", ""]
    for turn in turns:
        for line in turn.lines:
            who = "**Coachee**" if line.sender == "user" else "**Coach bot**"
            flag = " · ⚑ flagged by you" if line.seq in view.flagged else ""
            out.append(f"{who} · {_when(line.created_at)}{flag}")
            out += _quoted(line.text)
            out.append("")
        for mark in turn.safety:
            out += [f"*Safety interruption: {mark.category} ({mark.level})*", ""]
    if view.notes:
        out += ["## Your private notes (never shown to the coachee)", ""]
        for note in view.notes:
            out.append(f"- {_when(note.created_at)}: {note.text}")
        out.append("")
    return visible("\n".join(out))


def _asymmetry_table(slots: dict[str, Any]) -> list[str]:
    """The chart's numbers as a table; for a revisit, with then beside now."""
    now = ratings(slots)
    if not now:
        return []
    then = {name: (theirs, mine) for name, theirs, mine in ratings(then_slots(slots) or {})}
    head = "| Dimension | Theirs | The coachee's |"
    rule = "|---|---|---|"
    if then:
        head, rule = head + " Theirs then | The coachee's then |", rule + "---|---|"
    out = ["## The asymmetry, 1 to 5", "", head, rule]
    for name, theirs, mine in now:
        row = f"| {name} | {theirs} | {mine} |"
        if then:
            was = then.get(name)
            row += f" {was[0]} | {was[1]} |" if was else " | |"
        out.append(row)
    return [*out, ""]


def _ratings(slots: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"dimension": name, "theirs": theirs, "coachee": mine}
        for name, theirs, mine in ratings(slots)
    ]


def conversation_json(view: ConversationView, turns: list[Turn]) -> str:
    """The same conversation as data: what the Markdown holds, with the ratings as numbers,
    each message's `seq` (what a note on a message points at), and the coach's notes under
    `private_notes`, marked never shown to the coachee."""
    data: dict[str, Any] = {
        "conversation_id": view.id,
        "coachee": view.coachee,
        "dialogue": view.dialogue,
        "dialogue_version": view.version,
        "title": view.title,
        "status": view.status,
        "started_at": view.started_at,
        "last_activity": view.last_activity,
        "other_party": view.other_party,
        "summary": view.summary,
        "diagnosis": view.diagnosis,
        "answers": [{"question": q, "answer": a} for q, a in view.answered],
        "asymmetry": _ratings(view.slots),
        "asymmetry_then": _ratings(then_slots(view.slots) or {}),
        "next_steps": [
            {
                "title": step.title or step.text,
                "due_date": step.due_date,
                "status": step.status,
                "outcome": step.outcome,
                "learned": step.learned,
            }
            for step in view.steps
        ],
        "safety_interruptions": [dataclasses.asdict(m) for m in view.safety],
        "transcript": [dataclasses.asdict(line) for turn in turns for line in turn.lines],
        "reviewed": view.reviewed,
        "saved_for_later": view.later,
        "flagged_messages": list(view.flagged),
        "tags": list(view.tags),
        "private_notes": {
            "never_shown_to_the_coachee": True,
            "notes": [dataclasses.asdict(n) for n in view.notes],
        },
    }
    return json_escaped(json.dumps(data, indent=2, ensure_ascii=False))


def export_conversation(
    store: Store, catalog: Catalog, shared: SharedConversation, coach_id: int, kind: str
) -> str | None:
    """One conversation the access check let through, whole, as `md` or `json` (None when
    it is gone): what the page's export links and `coach transcripts export` both give."""
    view = conversation_view(store, catalog, shared, coach_id)
    if view is None:
        return None
    lines = store.transcript(shared.conversation_id, offset=0, limit=-1)
    turns = by_turn(lines, view.safety)
    return conversation_json(view, turns) if kind == "json" else conversation_markdown(view, turns)
