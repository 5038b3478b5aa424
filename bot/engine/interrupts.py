"""What may stop a dialogue mid-way: a safety signal in what the user wrote, and the prompt
to resume after a long gap (or after another dialogue ended), with the answers to each.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from functools import lru_cache
from typing import Any

from bot import answers, messages
from bot.engine.menu import lobby, open_menu, show_menu
from bot.engine.progress import (
    CONCERN_PENDING,
    HELD_MARK,
    SAFETY_PENDING,
    SAFETY_SEEN,
    answer,
    ask_again,
    concern_choices,
    restart,
    resume_choices,
    safety_choices,
    safety_prompt,
)
from bot.engine.turn import Context, Live, Turn, conv_id
from bot.recap import LEFT, answer_lines
from bot.schema import SafetyCategory
from bot.turns import BotMessage, Choice
from bot.understanding import ChoiceTable, Option, read_choices

log = logging.getLogger("coach.engine")


def safety(ctx: Context, turn: Turn, text: str) -> bool:
    """Screen what the user wrote before anything else acts on it; True if it stopped there.

    Danger stops at once: where to get help now, then carry on or stop (on every mention).
    A softer signal is acknowledged and the user asked whether they are safe and want the
    places to get support (once a conversation; after that a line, never silence). A note
    (legal) is one line, then the message is handled as usual. Each is recorded, by category
    and level, never by its words.
    """
    screening = ctx.safety.screen(text)
    if screening.alert is None and not screening.notes:
        return False
    live = turn.live
    seen: list[str] = live.session.slots.setdefault(SAFETY_SEEN, []) if live else []
    alert = screening.alert
    if alert is not None:
        category = alert.category
        if category.every_time or category.id not in seen:
            _record(ctx, turn, category.id, category.level)
            if category.id not in seen:
                seen.append(category.id)
            if category.level == "danger":
                turn.say(category.message.strip())
                _ask(ctx, turn, SAFETY_PENDING)
            else:
                if live is not None:  # what they wrote may still answer the question
                    live.session.slots[HELD] = text
                settings = ctx.safety.config.model
                told = ctx.safety.config.told_as_past
                if alert.told_as_past and told is not None:
                    ack = told.ack.strip()  # a danger they say is over: asked, not stopped
                elif alert.by_model and settings is not None:
                    ack = settings.ack.strip()  # not sure what it heard: no claim about it
                else:
                    ack = (_ack_for(category, text) or "").strip()
                turn.say(f"{ack}\n\n{ctx.safety.config.concern_ask}".strip())
                _ask(ctx, turn, f"{CONCERN_PENDING}{category.id}", said=True, held=text)
            return True
        turn.say(messages.CONCERN_AGAIN)
    for note in screening.notes:
        if note.category.id in seen:
            continue
        _record(ctx, turn, note.category.id, note.category.level)
        seen.append(note.category.id)
        turn.say(note.category.message.strip())
    if live is not None:
        turn.touch(live)
    return False


#: Where a message that raised a softer signal waits: if the user carries on, it is their
#: answer to the question it was written at (it was about their situation, after all).
HELD = "_held"


def _record(ctx: Context, turn: Turn, category: str, level: str) -> None:
    ctx.store.record_safety_event(turn.user_id, conv_id(turn), category, turn.now_iso, level)
    log.info("safety interruption: %s (%s)", category, level)


def _ask(
    ctx: Context, turn: Turn, pending: str, *, said: bool = False, held: str | None = None
) -> None:
    """Leave `pending` awaiting the user's answer, on the conversation or (with none) on the
    user, with what they wrote (`held`) at the menu; say the question unless it was said
    already with what led to it."""
    live = turn.live
    if live is None:
        if held:
            pending += HELD_MARK + json.dumps(held)
        turn.lobby_pending = pending
        ctx.store.set_user_pending(turn.user_id, pending)
    else:
        live.session.row.pending = pending
        live.session.row.status = "active"
        turn.touch(live)
    prompt = safety_prompt(ctx, pending)
    if prompt is not None:
        if said:
            turn.out[-1] = BotMessage(turn.out[-1].text, prompt.choices)
        else:
            turn.out.append(prompt)


def awaiting_safety_answer(ctx: Context, turn: Turn) -> str | None:
    """What a safety interruption asked that this message may answer, else None."""
    live = turn.live
    pending = live.session.row.pending if live is not None else turn.lobby_pending
    return pending if safety_prompt(ctx, pending) is not None else None


def after_safety(ctx: Context, turn: Turn, pending: str, text: str) -> bool:
    """The answer to a safety interruption's question; False if the message is not one (the
    caller screens it, and asks again if it is nothing else either)."""
    pending, _, carried = pending.partition(HELD_MARK)
    lobby_held = _unpack(carried)
    if pending == SAFETY_PENDING:
        picked = _read(ctx, text, SAFETY_WORDS, safety_choices(ctx))
    else:
        picked = _read(ctx, text, CONCERN_WORDS, concern_choices(ctx))
    if picked is None:
        return False
    category = _category(ctx, pending.removeprefix(CONCERN_PENDING))
    _settle(ctx, turn)
    if picked == "support" and category is not None:
        turn.say(category.message.strip())
        _ask(ctx, turn, SAFETY_PENDING, held=lobby_held)
    elif picked == "unsafe":
        danger = _category(ctx, category.unsafe) if category and category.unsafe else None
        if danger is not None:
            _record(ctx, turn, danger.id, danger.level)
            turn.say(danger.message.strip())
        else:
            turn.say(messages.UNSAFE_FALLBACK)
        _ask(ctx, turn, SAFETY_PENDING, held=lobby_held)
    elif picked == "carry_on":
        live = turn.live
        held = live.session.slots.pop(HELD, None) if live is not None else None
        if live is None and lobby_held and (category is None or category.offer_to_work_on_it):
            turn.say(messages.SAFETY_CONTINUE_HELD)
            lobby(ctx, turn, lobby_held)  # offer to work on what they told me
        elif live is None:
            turn.say(messages.SAFETY_CONTINUE_MENU)
            show_menu(ctx, turn)
        elif held and live.session.row.pending is None:
            turn.say(messages.SAFETY_CONTINUE_HELD)
            answer(ctx, turn, live, held)
        else:
            turn.say(messages.SAFETY_CONTINUE)
            ask_again(ctx, turn)
    else:
        live = turn.live
        if live is not None:
            live.session.slots.pop(HELD, None)
            live.session.row.status = "paused"
            live.session.slots[LEFT] = "paused"
            turn.paused = True
            turn.say(messages.SAFETY_STOPPED)
        else:
            turn.ended = True
            turn.say(messages.SAFETY_STOPPED_MENU)
    return True


def ask_safety_again(ctx: Context, turn: Turn) -> None:
    """A message that neither answers the safety question nor raises anything new: the
    question again, gently (the coaching never just carries on past it)."""
    turn.say(messages.SAFETY_AGAIN)
    ask_again(ctx, turn)


_OF_ONESELF = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|i'll|me|myself)\b")
_OF_ANOTHER = re.compile(r"\b(?:he|she|his|her|him|hers|he's|she's|himself|herself)\b")


def _ack_for(category: SafetyCategory, text: str) -> str | None:
    """The acknowledgement that fits who it happened to: "I'm exhausted" is met as said of
    the person writing; where another person is named (a colleague, a client), the general
    one that holds either way."""
    said = text.lower().replace("’", "'")
    if category.ack_self and _OF_ONESELF.search(said) and not _OF_ANOTHER.search(said):
        return category.ack_self
    return category.ack


def _unpack(carried: str) -> str | None:
    try:
        held = json.loads(carried) if carried else None
    except ValueError:
        return None
    return held if isinstance(held, str) else None


def _settle(ctx: Context, turn: Turn) -> None:
    """The safety question is answered: nothing is pending any more."""
    live = turn.live
    if live is None:
        turn.lobby_pending = None
        ctx.store.set_user_pending(turn.user_id, None)
    else:
        live.session.row.pending = None
        turn.touch(live)


def _category(ctx: Context, category_id: str) -> SafetyCategory | None:
    return next((c for c in ctx.safety.config.categories if c.id == category_id), None)


#: Words people answer the safety questions with, beyond the labels and numbers.
SAFETY_WORDS: dict[str, tuple[str, ...]] = {
    "carry_on": ("carry on", "continue", "go on", "keep going", "yes", "ok", "okay", "fine"),
    "stop": ("stop", "no", "not now", "later", "leave it", "stop for now", "enough"),
}
CONCERN_WORDS: dict[str, tuple[str, ...]] = {
    "support": (
        "support",
        "show me",
        "yes please",
        "yes",
        "please",
        "where",
        "the places",
        "numbers",
        "get help",
        "some help",
        "i'd like that",
        "i would like that",
        "show me where",
    ),
    "carry_on": (
        "carry on",
        "continue",
        "go on",
        "i'm fine",
        "i am fine",
        "i'm ok",
        "i am ok",
        "i'm okay",
        "fine",
        "ok",
        "okay",
        "i'm safe",
        "i am safe",
        "safe",
        "no thanks",
        "let's carry on",
        "keep going",
    ),
    "unsafe": (
        "no",
        "not safe",
        "i'm not safe",
        "i am not safe",
        "unsafe",
        "not really",
        "i don't know",
        "not sure",
        "scared",
        "in danger",
    ),
    "stop": ("stop", "not now", "later", "leave it", "stop for now", "stop here"),
}


@lru_cache(maxsize=8)
def _table(choices: tuple[Choice, ...], words: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    also = dict(words)
    options = [Option(c.value, c.label, tuple(also.get(c.value, ()))) for c in choices]
    return ChoiceTable(options)


def _read(
    ctx: Context, text: str, words: dict[str, tuple[str, ...]], choices: tuple[Choice, ...]
) -> str | None:
    """Which answer to a safety question `text` gives, read only when it is sure."""
    reading = read_choices(text, _table(choices, tuple(words.items())))
    if reading.outcome == "picked" and len(reading.values) == 1:
        return reading.values[0]
    said = set(reading.values) if reading.outcome in ("picked", "which") else set()
    if "unsafe" in said:
        return "unsafe"  # "not really safe, no": never read past a sign they are not safe
    if said == {"support", "carry_on"}:
        return "support"  # "I'm safe, but show me where to get support": both, support first
    return None


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
    title = live.session.compiled.dialogue.title
    lines = [messages.IDLE_RECAP.format(days=gap.days, title=title, where=where)]
    lines += answer_lines(live.runner, row.slots, row.history)
    lines.append(messages.IDLE_ASK)
    turn.say("\n".join(lines), resume_choices())
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
    live.session.slots.pop(LEFT, None)
    if picked == "resume":
        turn.say(messages.WELCOME_BACK_TO.format(title=live.session.compiled.dialogue.title))
        ask_again(ctx, turn)
    elif picked == "restart":
        restart(ctx, turn, live)
    else:
        open_menu(ctx, turn)
