"""What may stop a dialogue mid-way: a safety signal in what the user wrote, and the prompt
to resume after a long gap (or after another dialogue ended), with the answers to each.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot import answers, messages
from bot.engine.menu import open_menu, show_menu
from bot.engine.progress import ask_again, restart, resume_choices, safety_choices
from bot.engine.turn import Context, Live, Turn, conv_id

log = logging.getLogger("coach.engine")


def safety(ctx: Context, turn: Turn, text: str) -> bool:
    """Interrupt any dialogue when a safety signal appears; record that it did."""
    signal = ctx.safety.detect(text)
    if signal is None:
        return False
    category = signal.category
    live = turn.live
    seen: list[str] = live.session.slots.setdefault("_safety_seen", []) if live else []
    if not category.every_time and category.id in seen:
        return False
    ctx.store.record_safety_event(turn.user_id, conv_id(turn), category.id, turn.now_iso)
    log.info("safety interruption: %s", category.id)
    turn.say(category.message.strip())
    if live is None:
        show_menu(ctx, turn, messages.MENU_AGAIN)
        return True
    seen.append(category.id)
    live.session.row.pending = "safety"
    live.session.row.status = "active"
    turn.touch(live)
    turn.say(messages.SAFETY_ASK, safety_choices(ctx))
    return True


def after_safety(ctx: Context, turn: Turn, live: Live, text: str) -> None:
    """The answer to "carry on or stop here?" after a safety interruption."""
    lowered = text.lower().strip()
    try:
        picked = answers.pick_choice(text, safety_choices(ctx)).value
    except answers.InvalidAnswer:
        if lowered in ("continue", "carry on", "yes", "go on", "ok", "okay"):
            picked = "carry_on"
        elif lowered in ("stop", "no", "not now"):
            picked = "stop"
        else:
            turn.say(messages.SAFETY_ASK, safety_choices(ctx))
            return
    live.session.row.pending = None
    turn.touch(live)
    if picked == "carry_on":
        turn.say(messages.SAFETY_CONTINUE)
        ask_again(ctx, turn)
    else:
        live.session.row.status = "paused"
        turn.paused = True
        turn.say(messages.SAFETY_STOPPED)


def idle(ctx: Context, turn: Turn, live: Live) -> bool:
    """After a long gap, recap and ask before carrying on (never silently continue)."""
    row = live.session.row
    try:
        last = dt.datetime.fromisoformat(row.updated_at)
    except ValueError:
        return False
    gap = turn.now - last
    if row.pending is not None or gap < ctx.settings.idle_after:
        return False
    state = live.session.state or ""
    where = live.machine.states_map[state].name if state in live.machine.states_map else state
    row.pending = "resume"
    row.status = "active"
    turn.touch(live)
    turn.say(
        messages.IDLE_RECAP.format(
            days=gap.days, title=live.session.compiled.dialogue.title, where=where
        ),
        resume_choices(),
    )
    return True


def after_resume_prompt(ctx: Context, turn: Turn, live: Live, text: str) -> None:
    """The answer to "carry on, start again, or the menu?"."""
    try:
        picked = answers.pick_choice(text, resume_choices()).value
    except answers.InvalidAnswer as exc:
        turn.say(str(exc))
        ask_again(ctx, turn)
        return
    live.session.row.pending = None
    turn.touch(live)
    if picked == "resume":
        turn.say(messages.WELCOME_BACK.format(title=live.session.compiled.dialogue.title))
        ask_again(ctx, turn)
    elif picked == "restart":
        restart(ctx, turn, live)
    else:
        open_menu(ctx, turn)
