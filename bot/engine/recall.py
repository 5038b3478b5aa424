"""Looking back: the past conversation a dialogue with `about:` is about, put into its `then`
slot as it starts (or when a `recall` step picks another), with the next steps taken since.
"""

from __future__ import annotations

from typing import Any

from bot.engine.turn import Context, Live
from bot.recalling import PAST, RECALLED
from bot.schema import THEN, About
from bot.templates import render
from bot.turns import BotMessage
from storage.store import ConversationRow, NextStep

#: Slots of a past conversation that are not its answers: hidden ones, the reading worked out
#: from them (said again would be stale) and what it looked back on itself.
_LEFT_OUT = frozenset({"insights", THEN, "open_steps", "recent_outcomes"})


def step_record(step: NextStep) -> dict[str, Any]:
    """A next step as templates and conditions see it (`then.steps`, `step`)."""
    return {
        "id": step.id,
        "conversation_id": step.conversation_id,
        "recommendation_id": step.recommendation_id,
        "title": step.title,
        "text": step.text,
        "idea": step.idea,
        "source": step.source,
        "due_date": step.due_date,
        "status": step.status,
        "outcome": step.outcome,
        "learned": step.learned,
    }


def record(ctx: Context, row: ConversationRow) -> dict[str, Any]:
    """A past conversation as `then`: its answers, when it finished, and the next steps it
    and every finished look-back at it ended with, each with how it went."""
    answers = {k: v for k, v in row.slots.items() if not k.startswith("_") and k not in _LEFT_OUT}
    return {
        **answers,
        "id": row.id,
        "dialogue": row.dialogue,
        "date": (row.completed_at or row.started_at)[:10],
        "steps": [step_record(s) for s in ctx.store.steps_about(row.id)],
    }


def looking_back(
    ctx: Context, user_id: str, about: About, prefer: int | None = None
) -> dict[str, Any] | None:
    """The slots a dialogue `about:` past conversations starts with: `then` (the one
    preferred, else the latest) and the short list a `recall` step offers, that one first.
    None when the user has finished none yet.

    `prefer` is a conversation it should be about (a check-in's step came from it): a
    look-back at one counts as the one it looked back on.
    """
    rows = ctx.store.finished_of(user_id, about.dialogue, about.most)
    chosen = _preferred(ctx, user_id, about, prefer)
    if chosen is not None:
        rows = [chosen, *(r for r in rows if r.id != chosen.id)][: about.most]
    if not rows:
        return None
    offered = [
        {"id": r.id, "label": render(about.label, {**r.slots, "date": _date(r)})} for r in rows
    ]
    return {THEN: record(ctx, rows[0]), PAST: offered}


def _preferred(
    ctx: Context, user_id: str, about: About, prefer: int | None
) -> ConversationRow | None:
    row = ctx.store.get_conversation(prefer) if prefer is not None else None
    if row is not None and row.dialogue != about.dialogue and row.revisit_of is not None:
        row = ctx.store.get_conversation(row.revisit_of)
    if row is None or row.user_id != user_id or row.dialogue != about.dialogue:
        return None
    return row if row.status == "completed" else None


def _date(row: ConversationRow) -> str:
    return (row.completed_at or row.started_at)[:10]


def nothing_to_look_back_on(about: About) -> BotMessage:
    """What is said instead of starting a dialogue about past conversations there are none of."""
    return BotMessage(render(about.none, {}))


def after_answer(ctx: Context, live: Live, entry: dict[str, Any]) -> None:
    """After a `recall` step's answer: bring the past conversation picked into `then` (the
    undo record keeps the one before, so `back` returns to it). Any other answer: nothing."""
    undo = entry.get("undo") or {}
    if RECALLED not in undo:
        return
    slots = live.session.slots
    picked = slots.get(RECALLED)
    then = slots.get(THEN)
    if not isinstance(picked, int) or (isinstance(then, dict) and then.get("id") == picked):
        return
    row = ctx.store.get_conversation(picked)
    if row is None or row.user_id != live.session.row.user_id or row.status != "completed":
        return
    undo[THEN] = then
    slots[THEN] = record(ctx, row)


def subject_of(slots: dict[str, Any]) -> int | None:
    """The past conversation a finished one was about, for the dialogue its end step leads
    to: what it looked back on, else the conversation its followed-up step came from."""
    for key, field in ((THEN, "id"), ("step", "conversation_id")):
        value = slots.get(key)
        if isinstance(value, dict) and isinstance(value.get(field), int):
            return int(value[field])
    return None


def revisit_of(slots: dict[str, Any]) -> int | None:
    """The past conversation a conversation looks back on, as stored beside it."""
    then = slots.get(THEN)
    found = then.get("id") if isinstance(then, dict) else None
    return found if isinstance(found, int) else None
