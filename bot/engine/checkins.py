"""Check-ins: the next steps a user committed to that are now due, the check-in dialogue that
asks how each went (one after another when several are due, each told of the user's other
open steps and how their latest check-ins went), and outcomes recorded outside a dialogue
(a home-tab button).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot import messages, understanding
from bot.engine.menu import show_menu
from bot.engine.progress import (
    REPORT_PENDING,
    answer,
    lobby_prompt,
    report_of,
    report_yes_no,
    start,
)
from bot.engine.turn import Clock, Context, Turn, local_date
from bot.turns import Choice
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


def record_outcome(
    ctx: Context,
    user_id: str,
    step_id: int,
    outcome: str,
    clock: Clock,
    zone: dt.tzinfo | None = None,
) -> bool:
    """Mark one of the user's own next steps; False if it is not theirs or not open.

    `not_yet` and `partly` keep the step open and move its due date a week on from the
    user's own today (their time zone: late evening in Auckland is already tomorrow).
    """
    step = ctx.store.get_next_step(step_id)
    if step is None or step.user_id != user_id or step.status != "open":
        return False
    now = clock()
    new_due = None
    if outcome in ("not_yet", "partly"):
        new_due = (local_date(now, zone) + dt.timedelta(days=7)).isoformat()
    with ctx.store.transaction():
        ctx.store.record_outcome(step_id, outcome, None, new_due, now.isoformat())
    return True


# == news of a step, told at the menu =========================================================

#: How many steps to offer when a sentence could be news of any of them.
_MOST_OFFERED = 4


def offer_report(ctx: Context, turn: Turn, text: str) -> bool:
    """A sentence at the menu that tells of something done or tried ("I emailed Shelter but
    only one got back to me"), when the user has open steps: offer to check in on the step
    it is about now, with the sentence as how it went. False when it is no such sentence.

    The step is the one sharing most words with the sentence (its title and text, and the
    names the user gave in the conversation it came from); with no clear one, the user is
    asked which, soonest first."""
    if not understanding.is_sentence(text) or not understanding.reports_progress(text):
        return False
    steps = ctx.store.open_next_steps(turn.user_id)
    if not steps:
        return False
    said_in = _names_said(ctx, {step.conversation_id for step in steps})
    scores = [
        (_likeness(step, said_in.get(step.conversation_id, ""), text), step) for step in steps
    ]
    best = max(score for score, _ in scores)
    likely = [step for score, step in scores if score == best] if best > 0 else steps
    offered = likely[:_MOST_OFFERED]
    data = {
        "text": text,
        "steps": [step.id for step in offered],
        "titles": [step.title or step.text for step in offered],
    }
    turn.lobby_pending = REPORT_PENDING + json.dumps(data)
    ctx.store.set_user_pending(turn.user_id, turn.lobby_pending)
    prompt = lobby_prompt(ctx, turn.lobby_pending)
    if prompt is not None:
        turn.out.append(prompt)
    return True


def _names_said(ctx: Context, conversation_ids: set[int]) -> dict[int, str]:
    """The words the user gave in each of these conversations (its text slots), read once
    per conversation however many of its steps are open."""
    said: dict[int, str] = {}
    for conversation_id in conversation_ids:
        row = ctx.store.get_conversation(conversation_id)
        if row is not None:
            words = (v for k, v in row.slots.items() if isinstance(v, str) and k[:1] != "_")
            said[conversation_id] = " ".join(words)
    return said


def _likeness(step: NextStep, said_in_its_conversation: str, text: str) -> int:
    """How many words a sentence shares with a step and the names its conversation holds."""
    about = " ".join([step.title or "", step.text, said_in_its_conversation])
    return understanding.shared_words(text, about)


def answer_report(ctx: Context, turn: Turn, text: str) -> bool:
    """The answer to "that sounds like news of your step…": the step's check-in starts, with
    the sentence they first wrote as how it went; no, and the menu. False when no such offer
    waits, or the message is not an answer to it (it is then read as new words)."""
    reported = report_of(turn.lobby_pending)
    if reported is None:
        return False
    ids = [int(i) for i in reported["steps"]]
    choices: tuple[Choice, ...]
    if len(ids) == 1:
        choices = report_yes_no()
    else:
        choices = tuple(Choice(str(i), t) for i, t in zip(ids, reported["titles"], strict=True))
    offered = (*choices, Choice("no", messages.REPORT_NONE))
    table = understanding.ChoiceTable([understanding.Option(c.value, c.label) for c in offered])
    reading = understanding.read_choices(text, table)
    picked: str | None = None
    if reading.outcome == "picked" and len(reading.values) == 1:
        picked = reading.values[0]
    else:
        said = understanding.read_yes_no(text).value
        picked = "yes" if said is True and len(ids) == 1 else "no" if said is False else None
    turn.lobby_pending = None
    ctx.store.set_user_pending(turn.user_id, None)
    if picked is None:
        return False
    if picked == "no":
        turn.say(messages.MENU_SUGGEST_DECLINED)
        show_menu(ctx, turn)
        return True
    step_id = ids[0] if picked == "yes" else int(picked)
    step = next((s for s in ctx.store.open_next_steps(turn.user_id) if s.id == step_id), None)
    loaded = ctx.catalog.dialogues.get(CHECKIN_DIALOGUE)
    if step is None or loaded is None:
        show_menu(ctx, turn)
        return True
    start(ctx, turn, loaded, follow_up=step, context=context(ctx, turn, step))
    live = turn.live
    if live is not None and live.session.compiled.waits_at(live.session.state):
        turn.out.pop()  # "How did it go?": what they wrote answers it
        answer(ctx, turn, live, reported["text"])
    return True
