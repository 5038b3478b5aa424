"""The greeting and the lobby: the menu, starting a dialogue by name or pick, resuming one,
and what free text at the menu does.
"""

from __future__ import annotations

from bot import answers, messages
from bot.engine.progress import (
    ask_again,
    awaits,
    menu_message,
    resume_choices,
    safety_prompt,
    start,
)
from bot.engine.turn import Context, Live, Turn, remember, restore
from bot.loader import LoadedDialogue


def greet(ctx: Context, turn: Turn, display_name: str | None) -> None:
    """A user with no conversation opens a chat: hello, and the menu."""
    name = f", {display_name}" if display_name else ""
    turn.say(messages.GREETING.format(name=name))
    show_menu(ctx, turn)


def show_menu(ctx: Context, turn: Turn, text: str = messages.MENU) -> None:
    if ctx.catalog.problems and not ctx.catalog.dialogues:
        turn.say(messages.NOTHING_LOADED)
        return
    paused = turn.live if turn.live and turn.live.session.row.status == "paused" else None
    turn.out.append(menu_message(ctx, paused, text))


def open_menu(ctx: Context, turn: Turn) -> None:
    """Set the live conversation aside (it can be carried on from the menu) and show the menu."""
    live = turn.live
    if live is not None:
        live.session.row.status = "paused"
        live.session.row.pending = "menu"
        turn.touch(live)
    show_menu(ctx, turn)


def welcome_back(ctx: Context, turn: Turn, live: Live) -> None:
    row = live.session.row
    if row.pending in (None, "menu"):
        row.pending = None
        turn.say(messages.WELCOME_BACK.format(title=live.session.compiled.dialogue.title))
    row.status = "active"
    turn.touch(live)
    ask_again(ctx, turn)


def lobby(ctx: Context, turn: Turn, text: str) -> None:
    """Free text at the menu: a pick starts or resumes a dialogue; anything else shows it."""
    live = turn.live
    paused = live if live is not None and live.session.row.status == "paused" else None
    menu = menu_message(ctx, paused)
    try:
        picked = answers.pick_choice(text, menu.choices).value if menu.choices else None
    except answers.InvalidAnswer:
        picked = None
    if picked == "resume" and paused is not None:
        paused.session.row.pending = None
        welcome_back(ctx, turn, paused)
    elif picked is not None:
        start(ctx, turn, ctx.catalog.dialogues[picked])
    else:
        if turn.first_contact:
            turn.say(messages.GREETING.format(name=""))
        show_menu(ctx, turn)


def named_dialogue(ctx: Context, name: str) -> LoadedDialogue | None:
    """A listed dialogue by id (own-power, own_power) or title, or None."""
    key = name.replace("-", "_").replace(" ", "_")
    loaded = ctx.catalog.dialogues.get(key)
    if loaded is None:
        by_title = {d.title.lower(): d.id for d in ctx.catalog.listed()}
        if name in by_title:
            loaded = ctx.catalog.dialogues[by_title[name]]
    if loaded is None or not loaded.dialogue.listed:
        return None
    return loaded


def expects_words(ctx: Context, live: Live | None) -> bool:
    """True where "start …" may be an answer: free text, or a prompt offering "Start…"."""
    if live is None or live.session.row.status == "paused":
        return False
    pending = live.session.row.pending
    if pending == "resume" or safety_prompt(ctx, pending) is not None:
        return True
    return awaits(ctx, live).kind == "text"


def start_named(ctx: Context, turn: Turn, name: str) -> None:
    loaded = named_dialogue(ctx, name)
    if loaded is None:
        known = ", ".join(d.id for d in ctx.catalog.listed()) or "none"
        turn.say(messages.UNKNOWN_DIALOGUE.format(name=name, known=known))
        ask_again(ctx, turn)
        return
    start(ctx, turn, loaded)


def offer_paused(ctx: Context, turn: Turn) -> bool:
    """After a dialogue ends, ask whether to carry on the one it interrupted; False if none."""
    paused = ctx.store.paused_conversation(turn.user_id)
    if paused is None:
        return False
    restored = restore(ctx, paused)
    if restored is None:
        return False
    turn.live = restored
    remember(ctx, turn.user_id, restored)
    paused.pending = "resume"
    paused.status = "active"
    turn.touch(restored)
    title = restored.session.compiled.dialogue.title
    turn.say(messages.PAUSED_OTHER.format(title=title), resume_choices())
    return True
