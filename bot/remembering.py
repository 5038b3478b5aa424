"""Answers the coach remembers and offers back instead of asking twice (`remember:` on a
question): what is known when a conversation starts, and reading the reply to "still so?".

A conversation of a dialogue that remembers starts with what is known in the hidden slot
`_known`: `{"slots": {slot: {slot: …, slot_label: …, slot_note: …}}, "date": …}`. A question
whose answer is known asks `remember.prompt` instead (the hidden slot `_known_at` names it),
or with `ask: false` takes the answer and moves on. "Yes" keeps it; a change, or an answer to
the question itself, asks afresh, and for a situation forgets the rest of the situation too.
"""

from __future__ import annotations

import re
from typing import Any

from bot import answers, understanding
from bot.schema import NOTED_KINDS, ChoiceStep, Dialogue, Remember, ScaleStep, Step, TextStep
from bot.templates import render
from bot.turns import BotMessage, Choice
from storage.rows import PastConversation

KNOWN = "_known"
KNOWN_AT = "_known_at"
YES = "yes"
CHANGED = "changed"

#: Replies that keep a remembered answer; looked for before the ones that change it, since
#: "nothing has changed" holds "changed".
_SAME = re.compile(
    r"\b(?:(?:the )?same|still|unchanged|no change|not changed|(?:has|have)(?:n't| not) "
    r"changed|nothing(?:'s| has)? changed|that's (?:right|it|correct)|correct|as before)\b"
)
_CHANGED = re.compile(
    r"\b(?:changed?|new|different|someone else|somebody else|something else|another|"
    r"no longer|not any ?more|moved on)\b"
)

_LEADING_YES_NO = frozenset(
    {"yes", "yeah", "yep", "yup", "aye", "no", "nope", "nah", "not", "sure", "ok", "okay"}
)


def slot_of(step: Step) -> str:
    """The slot of a question that remembers (validation made sure it has one)."""
    return str(getattr(step, "slot"))  # noqa: B009 - every slot kind has it


def kept_slots(step: Step) -> tuple[str, ...]:
    """The slots an answer to `step` fills, all of which are remembered with it."""
    slot = slot_of(step)
    kept = [slot]
    if step.kind == "choice":
        kept.append(f"{slot}_label")
    if step.kind in NOTED_KINDS or (isinstance(step, TextStep) and step.name is not None):
        kept.append(f"{slot}_note")
    return tuple(kept)


def remembering_steps(dialogue: Dialogue) -> dict[str, Step]:
    """The dialogue's questions that remember their answer, by step id."""
    return {sid: s for sid, s in dialogue.steps.items() if s.remember is not None}


def values_of(step: Step, slots: dict[str, Any]) -> dict[str, Any]:
    """What an answer to `step` put in the slots, to remember it."""
    return {k: slots[k] for k in kept_slots(step) if slots.get(k) is not None}


def known_answers(
    dialogue: Dialogue, person: dict[str, Any], past: PastConversation | None
) -> dict[str, Any] | None:
    """What a new conversation of `dialogue` starts knowing: answers about the person, and
    the situation of `past` (their last finished conversation of it); None when nothing."""
    known: dict[str, dict[str, Any]] = {}
    for step in remembering_steps(dialogue).values():
        rule: Remember = step.remember  # type: ignore[assignment]
        slot = slot_of(step)
        source = person.get(slot) if rule.scope == "person" else (past and past.slots)
        if not isinstance(source, dict):
            continue
        values = values_of(step, source)
        if slot in values and _still_offered(step, values[slot]):
            known[slot] = values
    if not known:
        return None
    return {"slots": known, "date": past.date if past else None}


def _still_offered(step: Step, value: Any) -> bool:
    """Whether a remembered answer still fits the question (the file may have changed)."""
    if isinstance(step, ChoiceStep):
        offered = {c.value for c in step.choices}
        values = value if isinstance(value, list) else [value]
        return bool(values) and all(v in offered for v in values)
    if isinstance(step, ScaleStep):
        return isinstance(value, int) and step.min <= value <= step.max
    if step.kind == "yesno":
        return isinstance(value, bool)
    return isinstance(value, str) and bool(value.strip())


def offered(step: Step, slots: dict[str, Any]) -> dict[str, Any] | None:
    """The remembered answer to offer at `step` now, if there is one."""
    known = slots.get(KNOWN)
    if not isinstance(known, dict):
        return None
    found = known.get("slots", {}).get(slot_of(step))
    return found if isinstance(found, dict) else None


def overridden(step: Step, slots: dict[str, Any]) -> bool:
    """Whether words the user just gave (the `prefill` slot: what they wrote at the menu)
    answer this question instead: then it is a new situation."""
    return offered_words(step, slots) is not None


def offered_words(step: Step, slots: dict[str, Any]) -> str | None:
    """The words a question offers back (its first `prefill` slot holding any), or None."""
    names = step.prefill_slots() if isinstance(step, TextStep) else []
    for name in names:
        words = slots.get(name)
        if isinstance(words, str) and words.strip():
            return words.strip()
    return None


def forget(dialogue: Dialogue, step: Step, known: Any, *, changed: bool) -> dict[str, Any]:
    """What is still known once `step` is settled: without its answer, and after a change
    to a situation, without the rest of the situation."""
    if not isinstance(known, dict):
        return {"slots": {}}
    dropped = {slot_of(step)}
    rule = step.remember
    if changed and rule is not None and rule.scope == "situation":
        dropped |= {
            slot_of(s)
            for s in remembering_steps(dialogue).values()
            if s.remember is not None and s.remember.scope == "situation"
        }
    kept = {k: v for k, v in known.get("slots", {}).items() if k not in dropped}
    return {**known, "slots": kept}


def choices(rule: Remember) -> tuple[Choice, ...]:
    return (Choice(YES, rule.yes), Choice(CHANGED, rule.change))


def prompt(step: Step, slots: dict[str, Any], values: dict[str, Any]) -> BotMessage:
    """The question offering the remembered answer back, with its two answers."""
    rule: Remember = step.remember  # type: ignore[assignment]
    known = slots.get(KNOWN) or {}
    context = {**slots, **values, "known": {"date": known.get("date")}}
    return BotMessage(render(rule.prompt or "", context), choices(rule))


def read_reply(rule: Remember, text: str) -> str | None:
    """YES, CHANGED, or None when the reply says neither (it may answer the question)."""
    try:
        return answers.pick_choice(text, choices(rule)).value
    except answers.InvalidAnswer:
        pass
    said = understanding.normal(text)
    if said in (understanding.normal(rule.yes), "yes"):
        return YES
    # In a sentence of their own, only its opening words say whether it still holds.
    opening = " ".join(said.split()[:4]) if understanding.is_sentence(text) else said
    same = bool(_SAME.search(opening))
    changed = bool(_CHANGED.search(_SAME.sub(" ", opening)))
    if same != changed:
        return YES if same else CHANGED
    if same:
        return None  # "the same board, a new chair": neither, said in their own words
    first = (understanding.tokens(said) or [""])[0]
    if understanding.is_sentence(text) and first not in _LEADING_YES_NO:
        return None  # a sentence of their own: perhaps the answer itself
    reading = understanding.read_yes_no(text)
    if reading.value is None:
        return None
    return YES if reading.value else CHANGED
