"""Check-ins: the next steps a user committed to that are now due, the check-in dialogue that
asks how each went (one after another when several are due, each told of the user's other
open steps and how their latest check-ins went), and outcomes recorded outside a dialogue
(a home-tab button).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import messages
from bot.engine.progress import start
from bot.engine.turn import Clock, Context, Turn
from storage.store import NextStep

CHECKIN_DIALOGUE = "checkin"


def start_due(ctx: Context, turn: Turn, *, following: bool = False) -> bool:
    """Start the check-in of the user's first due next step; False if none is due.

    `following`: a check-in has just finished, so this is the next one of several.
    """
    loaded = ctx.catalog.dialogues.get(CHECKIN_DIALOGUE)
    if loaded is None:
        return False
    due = ctx.store.due_next_steps(turn.user_id, turn.today.isoformat())
    if not due:
        return False
    _introduce(turn, len(due), following)
    start(ctx, turn, loaded, follow_up=due[0], context=context(ctx, turn, due[0]))
    return True


def _introduce(turn: Turn, due: int, following: bool) -> None:
    if following:
        turn.say(messages.CHECKIN_NEXT)
    elif due > 1:
        turn.say(messages.CHECKIN_INTRO_SEVERAL.format(count=due))
    else:
        turn.say(messages.CHECKIN_INTRO)


def context(ctx: Context, turn: Turn, step: NextStep) -> dict[str, Any]:
    """What a check-in is told besides its step: the user's other open steps, soonest first
    (`open_steps`, each with `due` when it has come due), and how their latest check-ins of
    other steps went (`recent_outcomes`, most recent first). Read once, as it starts."""
    today = turn.today.isoformat()
    others = [
        {
            "id": s.id,
            "title": s.title or s.text,
            "text": s.text,
            "idea": s.idea,
            "due_date": s.due_date,
            "due": s.due_date <= today,
        }
        for s in ctx.store.open_next_steps(turn.user_id)
        if s.id != step.id
    ]
    recent = ctx.store.recent_outcomes(turn.user_id, besides=step.id)
    return {"open_steps": others, "recent_outcomes": recent}


def push(ctx: Context, turn: Turn, due: list[NextStep]) -> bool:
    """Mark the due steps as pushed, and start the first one's check-in unless the user is in
    a check-in already (the others follow when it ends); False when nothing was started."""
    for step in due:
        ctx.store.mark_reminded(step.id, turn.now_iso)
    loaded = ctx.catalog.dialogues.get(CHECKIN_DIALOGUE)
    if loaded is None:
        return False
    if turn.live is not None and turn.live.session.row.follow_up_of is not None:
        return False
    _introduce(turn, len(due), following=False)
    start(ctx, turn, loaded, follow_up=due[0], context=context(ctx, turn, due[0]))
    return True


def record_outcome(ctx: Context, user_id: str, step_id: int, outcome: str, clock: Clock) -> bool:
    """Mark one of the user's own next steps; False if it is not theirs or not open.

    `not_yet` and `partly` keep the step open and move its due date a week on.
    """
    step = ctx.store.get_next_step(step_id)
    if step is None or step.user_id != user_id or step.status != "open":
        return False
    now = clock()
    new_due = None
    if outcome in ("not_yet", "partly"):
        new_due = (now.date() + dt.timedelta(days=7)).isoformat()
    with ctx.store.transaction():
        ctx.store.record_outcome(step_id, outcome, None, new_due, now.isoformat())
    return True
