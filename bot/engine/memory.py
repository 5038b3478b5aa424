"""What the coach knows of a user at a glance: the current dialogue and step, the next steps
still open, and past diagnoses (for status commands and home tabs).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.turn import Context, Live
from storage.store import NextStep


@dataclass(frozen=True)
class PastDiagnosis:
    date: str
    other_party: str
    top_recommendation: str | None


@dataclass(frozen=True)
class Overview:
    """A user's situation at a glance: the current dialogue and step, plans, past diagnoses."""

    dialogue_title: str | None
    step_title: str | None
    status: str | None
    open_steps: list[NextStep]
    past_diagnoses: list[PastDiagnosis]


def overview(ctx: Context, user_id: str, live: Live | None) -> Overview:
    """The user's overview, given their live conversation (None when there is none)."""
    title = step = None
    if live is not None:
        title = live.session.compiled.dialogue.title
        state = live.session.state or ""
        states = live.machine.states_map
        step = states[state].name if state in states else state
    past = past_diagnoses(ctx, user_id)
    return Overview(
        dialogue_title=title,
        step_title=step,
        status=live.session.row.status if live else None,
        open_steps=ctx.store.open_next_steps(user_id),
        past_diagnoses=past,
    )


def past_diagnoses(ctx: Context, user_id: str) -> list[PastDiagnosis]:
    """The user's finished diagnoses, each with its top recommendation by title."""
    past = []
    for row in ctx.store.completed_conversations(user_id, "diagnose"):
        recs = row.slots.get("recommendations") or []
        loaded = ctx.catalog.dialogues.get(row.dialogue)
        top = None
        if recs and loaded is not None:
            by_id = {r.id: r.title for r in loaded.dialogue.recommendations}
            top = by_id.get(recs[0])
        past.append(
            PastDiagnosis(
                date=(row.completed_at or row.started_at)[:10],
                other_party=str(row.slots.get("other_party") or "—"),
                top_recommendation=top,
            )
        )
    return past
