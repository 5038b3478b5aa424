"""The words a user may type at any point (help, back, restart, pause, summary, quit, menu):
one small handler each, registered by name and words, so adding one edits no dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable

from statemachine.exceptions import TransitionNotAllowed

from bot import messages
from bot.engine.menu import open_menu, show_menu
from bot.engine.progress import ask_again, restart
from bot.engine.turn import Context, Live, Turn
from bot.templates import day

Handler = Callable[[Context, Turn], None]

#: What the user types (lowercased, spaces collapsed, trailing ".!" dropped) → command name.
COMMANDS: dict[str, str] = {}
#: Command name → its handler.
HANDLERS: dict[str, Handler] = {}


def command(name: str, *aliases: str) -> Callable[[Handler], Handler]:
    """Register a handler as the command `name`, typed as its name or any of `aliases`."""

    def register(handler: Handler) -> Handler:
        if name in HANDLERS:
            raise ValueError(f"command {name!r} is registered twice")
        HANDLERS[name] = handler
        for word in (name, *aliases):
            COMMANDS[word] = name
        return handler

    return register


def in_dialogue(ctx: Context, turn: Turn) -> Live | None:
    """The live conversation a command acts on; with none, say so and show the menu."""
    if turn.live is None:
        turn.say(messages.NOT_IN_DIALOGUE)
        show_menu(ctx, turn)
    return turn.live


@command("help", "?")
def help_(ctx: Context, turn: Turn) -> None:
    turn.say(messages.COMMANDS_HELP)
    live = turn.live
    if live is not None and live.session.row.pending is None and live.session.state:
        hint = live.runner.hint(live.session.state, live.session.slots)
        if hint:
            turn.say(messages.HINT.format(hint=hint))
    ask_again(ctx, turn)


@command("steps", "my steps", "next steps", "my next steps", "my plan")
def steps(ctx: Context, turn: Turn) -> None:
    """The user's open next steps, soonest first, each with its date and the idea behind it."""
    found = sorted(ctx.store.open_next_steps(turn.user_id), key=lambda s: s.due_date)
    if not found:
        turn.say(messages.STEPS_NONE)
    else:
        lines = [messages.STEPS_HEAD]
        today = turn.today.isoformat()
        for step in found:
            due = messages.STEPS_DUE if step.due_date <= today else ""
            lines.append(f"• {step.title or step.text} — by {day(step.due_date)}{due}")
            if step.idea:
                lines.append(f"  Why: {step.idea}")
        turn.say("\n".join(lines))
    ask_again(ctx, turn)


@command("back", "undo")
def back(ctx: Context, turn: Turn) -> None:
    live = in_dialogue(ctx, turn)
    if live is None:
        return
    session = live.session
    session.row.pending = None
    session.row.status = "active"
    turn.touch(live)
    if not session.row.history:
        turn.say(messages.NO_BACK)
        ask_again(ctx, turn)
        return
    entry = session.row.history.pop()
    before = dict(session.slots)
    live.runner.undo(session, entry)
    session.back_target = entry["state"]
    try:
        live.session.compiled.send(live.machine, "back")
    except TransitionNotAllowed:
        session.slots.clear()
        session.slots.update(before)
        session.row.history.append(entry)
        turn.say(messages.NO_BACK)
        ask_again(ctx, turn)
        return
    finally:
        session.back_target = None
    turn.say(messages.WENT_BACK)
    turn.out.extend(session.take_outbox())


@command("restart", "start again", "start over")
def restart_(ctx: Context, turn: Turn) -> None:
    live = in_dialogue(ctx, turn)
    if live is None:
        return
    restart(ctx, turn, live)


@command("pause")
def pause(ctx: Context, turn: Turn) -> None:
    live = in_dialogue(ctx, turn)
    if live is None:
        return
    live.session.row.status = "paused"
    live.session.row.pending = None
    turn.touch(live)
    turn.paused = True
    turn.say(messages.PAUSED)


@command("summary")
def summary(ctx: Context, turn: Turn) -> None:
    live = in_dialogue(ctx, turn)
    if live is None:
        return
    session = live.session
    title = session.compiled.dialogue.title
    rows = live.runner.answered(session.slots)
    if not rows:
        turn.say(messages.SUMMARY_EMPTY.format(title=title))
    else:
        lines = [messages.SUMMARY_HEAD.format(title=title)]
        lines.extend(f"• {name}: {value}" for name, value in rows)
        commitments = session.slots.get("commitments") or []
        if commitments:
            lines.append(messages.SUMMARY_STEPS)
            lines.extend(f"• {c.get('title')} (by {c.get('due_date')})" for c in commitments)
        turn.say("\n".join(lines))
    ask_again(ctx, turn)


@command("quit", "exit", "bye")
def quit_(ctx: Context, turn: Turn) -> None:
    live = turn.live
    if live is not None:
        live.session.row.status = "paused"
        if live.session.row.pending == "menu":
            live.session.row.pending = None
        turn.touch(live)
    turn.ended = True
    turn.say(messages.GOODBYE)


@command("menu")
def menu(ctx: Context, turn: Turn) -> None:
    open_menu(ctx, turn)
