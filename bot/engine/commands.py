"""The words a user may type at any point (help, back, restart, pause, summary, steps,
history, quit, menu, …): one small handler each, registered by name and words, so adding one
edits no dispatcher. Some take words after them (`show 2`, `done 1`, `call me Sam`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from statemachine.exceptions import TransitionNotAllowed

from bot import messages
from bot.engine import memory, sharing
from bot.engine.menu import open_menu, show_menu
from bot.engine.progress import ask_again, restart
from bot.engine.turn import Context, Live, Turn
from bot.recap import LEFT
from bot.templates import day

Handler = Callable[[Context, Turn], None]
WordsHandler = Callable[[Context, Turn, re.Match[str]], None]

#: What the user types (lowercased, spaces collapsed, trailing ".!" dropped) → command name.
COMMANDS: dict[str, str] = {}
#: Command name → its handler.
HANDLERS: dict[str, Handler] = {}
#: Commands with words after them, by their first word: (the whole pattern, its handler).
WITH_WORDS: dict[str, list[tuple[re.Pattern[str], WordsHandler]]] = {}
#: Commands that wait for the answer to a safety question (they say so and ask it again)
#: rather than leave it behind as other commands at the menu do.
AFTER_SAFETY: frozenset[str] = frozenset({"share"})


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


def command_with_words(pattern: str, *first_words: str) -> Callable[[WordsHandler], WordsHandler]:
    """Register a handler for what the user types when it matches `pattern` whole (a regular
    expression over the lowered text, e.g. `show (\\d+)`), looked up by its first word
    (`first_words`, else the pattern's own)."""

    def register(handler: WordsHandler) -> WordsHandler:
        compiled = re.compile(pattern)
        for first in first_words or (pattern.split(" ", 1)[0],):
            WITH_WORDS.setdefault(first, []).append((compiled, handler))
        return handler

    return register


def with_words(typed: str) -> Handler | None:
    """The command `typed` (lowered, spaces collapsed) calls with its words, if it is one."""
    for pattern, handler in WITH_WORDS.get(typed.partition(" ")[0], ()):
        found = pattern.fullmatch(typed)
        if found is not None:
            return lambda ctx, turn: handler(ctx, turn, found)
    return None


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
    """The user's open next steps, numbered soonest first, with dates and the idea behind each."""
    memory.list_steps(ctx, turn)
    ask_again(ctx, turn)


@command_with_words(r"(done|partly|not yet|dropped) (\d{1,3})", "done", "partly", "not", "dropped")
def mark(ctx: Context, turn: Turn, found: re.Match[str]) -> None:
    """`done 2`: how the second open step went (partly, not yet, dropped likewise)."""
    memory.mark_step(ctx, turn, int(found[2]), found[1].replace(" ", "_"))
    ask_again(ctx, turn)


@command("history", "my history", "past conversations")
def history(ctx: Context, turn: Turn) -> None:
    """Past conversations newest first, with the steps each ended with and how they went."""
    memory.history(ctx, turn)
    ask_again(ctx, turn)


@command_with_words(r"history (\d{1,3})")
def history_page(ctx: Context, turn: Turn, found: re.Match[str]) -> None:
    memory.history(ctx, turn, int(found[1]))
    ask_again(ctx, turn)


@command_with_words(r"show (?:me )?(\d{1,3})")
def show(ctx: Context, turn: Turn, found: re.Match[str]) -> None:
    """One past conversation in full: its reading and its steps' outcomes so far."""
    memory.show(ctx, turn, int(found[1]))
    ask_again(ctx, turn)


@command_with_words(r"(?:please )?call me (\S.{0,40})", "call", "please")
def call_me(ctx: Context, turn: Turn, found: re.Match[str]) -> None:
    """ "call me Sam": what the coach calls them from now on."""
    words = found[1]
    typed = " ".join(turn.rows[-1].text.split()).strip(" .!") if turn.rows else ""
    if typed.lower().endswith(words):  # the name as they wrote it: McKenzie, not mckenzie
        words = typed[len(typed) - len(words) :]
    memory.call_me(ctx, turn, words)


@command("share", "share with my coach", "share with a coach")
def share(ctx: Context, turn: Turn) -> None:
    """Share a conversation, or all future ones, with a coach: asked a question at a time."""
    sharing.start(ctx, turn)


@command("shared", "what is shared", "what have i shared", "what i share")
def shared(ctx: Context, turn: Turn) -> None:
    """What is shared with which coach, numbered for `unshare N`."""
    sharing.shared(ctx, turn)
    ask_again(ctx, turn)


@command("unshare", "stop sharing")
def unshare(ctx: Context, turn: Turn) -> None:
    sharing.unshare(ctx, turn, None)
    ask_again(ctx, turn)


@command_with_words(r"unshare (\d{1,3}|all)")
def unshare_one(ctx: Context, turn: Turn, found: re.Match[str]) -> None:
    """`unshare 2`, `unshare all`: at once; the coach's next look no longer sees it."""
    sharing.unshare(ctx, turn, found[1])
    ask_again(ctx, turn)


@command("back", "undo")
def back(ctx: Context, turn: Turn) -> None:
    live = in_dialogue(ctx, turn)
    if live is None:
        return
    go_back(ctx, turn, live, messages.WENT_BACK)


def go_back(ctx: Context, turn: Turn, live: Live, said: str) -> None:
    """Undo the last answer and ask its question again, saying `said` first (`back`, or a
    message that takes the last answer back: "sorry, that 2 was meant for us")."""
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
    turn.say(said)
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
    live.session.slots[LEFT] = "paused"
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
            lines.extend(f"• {c.get('title')} (by {day(c.get('due_date'))})" for c in commitments)
        turn.say("\n".join(lines))
    ask_again(ctx, turn)


@command("quit", "exit", "bye")
def quit_(ctx: Context, turn: Turn) -> None:
    live = turn.live
    if live is not None:
        live.session.row.status = "paused"
        if live.session.row.pending == "menu":
            live.session.row.pending = None
        if live.session.slots.get(LEFT) != "paused":  # a pause stays a pause
            live.session.slots[LEFT] = "quit"
        turn.touch(live)
    turn.ended = True
    turn.say(messages.GOODBYE)


@command("menu")
def menu(ctx: Context, turn: Turn) -> None:
    open_menu(ctx, turn)
