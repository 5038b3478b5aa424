"""The greeting and the lobby: the menu, starting a dialogue by name or pick, resuming one,
and what free text at the menu does.
"""

from __future__ import annotations

import json

from bot import answers, messages, understanding
from bot.engine.progress import (
    NAME_PENDING,
    SUGGEST_PENDING,
    ask_again,
    awaits,
    discard,
    is_empty,
    lobby_prompt,
    menu_message,
    resume_choices,
    safety_prompt,
    start,
    suggest_choices,
    suggestion_of,
)
from bot.engine.turn import Context, Live, Turn, remember, restore
from bot.loader import LoadedDialogue
from bot.recap import LEFT, answer_lines, since
from bot.turns import Choice


def greet(ctx: Context, turn: Turn) -> None:
    """First contact: hello, what the coach does, and the menu; unless a channel said what to
    call them (Slack's display name), what would they like to be called (asked once)."""
    name = ctx.store.name_of(turn.user_id)
    turn.say(messages.GREETING.format(name=f", {name}" if name else ""))
    if name:
        turn.say(messages.NAME_KNOWN.format(name=name))
    elif turn.ask_name and ctx.catalog.dialogues:
        turn.lobby_pending = NAME_PENDING
        ctx.store.set_user_pending(turn.user_id, NAME_PENDING)
        turn.out.append(menu_message(ctx, None, messages.NAME_ASK))
        return
    show_menu(ctx, turn)


def show_menu(ctx: Context, turn: Turn, text: str = messages.MENU) -> None:
    if ctx.catalog.problems and not ctx.catalog.dialogues:
        turn.say(messages.NOTHING_LOADED)
        return
    live = turn.live
    if live is not None and live.session.row.status == "paused" and is_empty(live.session.row):
        discard(ctx, turn, live)  # nothing in it to carry on
    paused = turn.live if turn.live and turn.live.session.row.status == "paused" else None
    turn.out.append(menu_message(ctx, paused, text))


def open_menu(ctx: Context, turn: Turn) -> None:
    """Set the live conversation aside (it can be carried on from the menu) and show the menu;
    one with no answer yet is discarded instead."""
    live = turn.live
    if live is not None:
        if is_empty(live.session.row):
            discard(ctx, turn, live)
            _behind(ctx, turn)  # what a check-in set aside is offered again
        else:
            live.session.row.status = "paused"
            live.session.row.pending = "menu"
            live.session.slots[LEFT] = "menu"
            turn.touch(live)
    show_menu(ctx, turn)


def _behind(ctx: Context, turn: Turn) -> None:
    """The conversation set aside behind one just discarded (a check-in started over a
    diagnosis), made live again so the menu offers to carry it on."""
    paused = ctx.store.paused_conversation(turn.user_id)
    restored = restore(ctx, paused) if paused is not None else None
    if paused is None or restored is None:
        return
    paused.pending = "menu"
    turn.live = restored
    remember(ctx, turn.user_id, restored)
    turn.touch(restored)


def welcome_back(ctx: Context, turn: Turn, live: Live) -> None:
    """Carry on a conversation: when they left it (paused, if they paused it), their last two
    answers, then the question it is at."""
    row = live.session.row
    if row.pending in (None, "menu"):
        row.pending = None
        turn.say(recap(ctx, turn, live))
    row.slots.pop(LEFT, None)
    row.status = "active"
    turn.touch(live)
    ask_again(ctx, turn)


def recap(ctx: Context, turn: Turn, live: Live) -> str:
    """Where a conversation was left: "Welcome back, Sam. You paused … on Tuesday.", then
    the last two answers given in it."""
    row = live.session.row
    title = live.session.compiled.dialogue.title
    name = ctx.store.name_of(turn.user_id)
    when = since(row.updated_at, turn.now)
    if row.slots.get(LEFT) == "paused":
        said = messages.RECAP_PAUSED.format(title=title, when=f" {when}" if when else "")
    elif when:
        said = messages.RECAP_LEFT.format(title=title, when=when)
    else:
        said = messages.RECAP_PARTWAY.format(title=title)
    hello = messages.WELCOME_BACK.format(name=f", {name}" if name else "")
    lines = [f"{hello} {said}", *answer_lines(live.runner, row.slots, row.history)]
    lines.append(messages.RECAP_WHERE)
    return "\n".join(lines)


def lobby(ctx: Context, turn: Turn, text: str) -> str | None:
    """Free text at the menu, answered, never just shown the menu again: a pick starts or
    resumes a dialogue; a sentence is matched to what the coach can do (a dialogue is offered
    with the sentence kept for it; "what were my steps?" is a command, returned for the
    caller to run); anything else says what the coach can do."""
    live = turn.live
    paused = live if live is not None and live.session.row.status == "paused" else None
    suggested = suggestion_of(ctx, turn.lobby_pending)
    if turn.lobby_pending is not None:
        _settle_lobby(ctx, turn)
    if suggested is not None:
        said = understanding.read_yes_no(text)
        if said.value is True or _picked(ctx, text, suggest_choices()) == "yes":
            start(ctx, turn, suggested[0], opening=suggested[1])
            return None
        if said.value is False or _picked(ctx, text, suggest_choices()) == "no":
            turn.say(messages.MENU_SUGGEST_DECLINED)
            show_menu(ctx, turn)
            return None
    menu = menu_message(ctx, paused)
    picked = _picked(ctx, text, menu.choices) if menu.choices else None
    if picked == "resume" and paused is not None:
        paused.session.row.pending = None
        welcome_back(ctx, turn, paused)
        return None
    if picked is not None:
        start(ctx, turn, ctx.catalog.dialogues[picked])
        return None
    social = _SOCIAL.get(understanding.normal(text).strip(" ?"))
    if social is not None and not turn.first_contact:
        turn.say(social)
        show_menu(ctx, turn)
        return None
    wanted = _wanted(ctx, text)
    if wanted in MENU_COMMANDS:
        return wanted
    if wanted is None and understanding.is_sentence(text) and ctx.catalog.listed():
        wanted = ctx.catalog.listed()[0].id  # a situation on their mind: start there
    if wanted is not None:
        title = ctx.catalog.dialogues[wanted].dialogue.title
        opening = text.strip() if understanding.is_sentence(text) else None
        _suggest(ctx, turn, wanted, opening, title)
        return None
    if turn.first_contact:
        greet(ctx, turn)
        return None
    turn.say(messages.MENU_NOT_UNDERSTOOD.format(text=text.strip()[:60]))
    show_menu(ctx, turn)
    return None


#: What people say in passing at the menu, and the coach's word back before the menu.
_SOCIAL: dict[str, str] = {
    **dict.fromkeys(
        ("hi", "hello", "hey", "hiya", "hi there", "hello there", "morning", "good morning",
         "afternoon", "good afternoon", "evening", "good evening", "hello again", "hi again"),
        messages.MENU_HELLO,
    ),
    **dict.fromkeys(
        ("thanks", "thank you", "thank you so much", "thanks a lot", "cheers", "ta",
         "that was helpful", "that helped", "great thanks"),
        messages.MENU_THANKS,
    ),
}  # fmt: skip

#: Commands a sentence at the menu may ask for, and the words people use for each.
MENU_COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "steps": (
        "My next steps",
        (
            "my steps",
            "next steps",
            "my next steps",
            "my plan",
            "my action plan",
            "my actions",
            "what did i commit to",
            "what i committed to",
            "what did i say i would do",
            "what did i say i'd do",
            "what i said i'd do",
            "what i said i would do",
            "what was i going to do",
            "what am i meant to be doing",
            "what were my steps",
            "steps from last time",
            "what i planned",
            "my to do",
        ),
    ),
    "history": (
        "Our past conversations",
        (
            "history",
            "my history",
            "past conversations",
            "our conversations",
            "previous conversations",
            "my past diagnoses",
            "past diagnoses",
            "my diagnoses",
            "what did we talk about",
            "what did we talk about last time",
            "what we talked about",
            "our last conversation",
            "what did i say last time",
        ),
    ),
    "share": (
        "Share with a coach",
        (
            "share",
            "share this",
            "share this with my coach",
            "share with my coach",
            "share it with my coach",
            "share with a coach",
            "show my coach",
            "show this to my coach",
            "send this to my coach",
            "let my coach see",
        ),
    ),
    "help": (
        "What you can do",
        (
            "help",
            "what can you do",
            "how does this work",
            "what is this",
            "commands",
            "how do i use this",
            "what do i do",
            "i'm lost",
            "options",
        ),
    ),
}


def wanted(ctx: Context, text: str, choices: tuple[Choice, ...]) -> str | None:
    """What a message asks of the menu rather than answering the coach's own question there:
    one of `choices` picked, a dialogue, or a menu command ("what were my steps?")."""
    picked = _picked(ctx, text, choices) if choices else None
    return picked if picked is not None else _wanted(ctx, text)


def _wanted(ctx: Context, text: str) -> str | None:
    """Which dialogue or menu command a sentence asks for, if one clearly does."""
    reading = understanding.read_choices(text, _intents(ctx))
    if reading.outcome != "picked" or len(reading.values) != 1:
        return None
    wanted = reading.values[0]
    if wanted in MENU_COMMANDS and not any(
        understanding.normal(w) in MENU_COMMANDS[wanted][1] or " " in w for w in reading.words
    ):
        return None  # a lone word of a command's label ("next wednesday") asks for nothing
    return wanted


_INTENTS: dict[tuple[int, int], understanding.ChoiceTable] = {}


def _intents(ctx: Context) -> understanding.ChoiceTable:
    """What can be asked for at the menu, built once per catalog."""
    key = (id(ctx.catalog), len(ctx.catalog.dialogues))
    table = _INTENTS.get(key)
    if table is None:
        options = [understanding.Option(d.id, d.title, tuple(d.also)) for d in ctx.catalog.listed()]
        options += [
            understanding.Option(name, label, also) for name, (label, also) in MENU_COMMANDS.items()
        ]
        table = _INTENTS[key] = understanding.ChoiceTable(options)
    return table


def _picked(ctx: Context, text: str, choices: tuple[Choice, ...]) -> str | None:
    try:
        return answers.pick_choice(text, choices).value
    except answers.InvalidAnswer:
        return None


def _suggest(ctx: Context, turn: Turn, dialogue_id: str, opening: str | None, title: str) -> None:
    pending = SUGGEST_PENDING + json.dumps({"id": dialogue_id, "opening": opening})
    turn.lobby_pending = pending
    ctx.store.set_user_pending(turn.user_id, pending)
    turn.say(messages.MENU_SUGGEST.format(title=title) if opening else "")
    prompt = lobby_prompt(ctx, pending)
    if prompt is not None:
        turn.out.append(prompt)


def _settle_lobby(ctx: Context, turn: Turn) -> None:
    turn.lobby_pending = None
    ctx.store.set_user_pending(turn.user_id, None)


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
    if is_empty(paused):
        discard(ctx, turn, restored)
        return False
    turn.live = restored
    remember(ctx, turn.user_id, restored)
    paused.pending = "resume"
    paused.status = "active"
    turn.touch(restored)
    title = restored.session.compiled.dialogue.title
    when = since(paused.updated_at, turn.now)
    if paused.slots.get(LEFT) == "paused":
        said = messages.PAUSED_OTHER.format(title=title)
    else:
        left = messages.LEFT_WHEN.format(when=when) if when else ""
        said = messages.LEFT_OTHER.format(title=title, when=left)
    turn.say(said, resume_choices())
    return True
