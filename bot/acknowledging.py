"""Short acknowledgements between questions (`ack:` on a step), said only when they add
something, and never the same sentence twice in a row.

The rule: after an answer is accepted, a step's acks are tried in order, and the first that
qualifies is said before the next question. An ack qualifies when its `when` holds and
either that `when` names the step's own answer (its slot, `_label` or `_note`: it responds
to what was picked), or the user wrote at least MIN_WORDS words (there is something to
acknowledge). If its sentence is the last ack said in the conversation, the next that
qualifies is taken instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.expressions import Condition, names_in
from bot.schema import Ack
from bot.templates import render

log = logging.getLogger("coach.acks")

#: An answer this long is worth acknowledging even when no ack's `when` is about it.
MIN_WORDS = 6
#: The hidden slot holding the last ack said, so the next one differs.
LAST_ACK = "_last_ack"


@dataclass(frozen=True)
class _Rule:
    when: Condition | None
    text: str
    about_answer: bool


class Acks:
    """One step's acknowledgements, checked once per dialogue version."""

    def __init__(self, acks: list[Ack], slot: str) -> None:
        own = {slot, f"{slot}_label", f"{slot}_note"}
        self._rules = [
            _Rule(
                Condition(ack.when) if ack.when else None,
                ack.text,
                bool(ack.when) and bool(names_in(ack.when or "") & own),
            )
            for ack in acks
        ]

    def choose(self, slots: dict[str, Any], typed: str) -> str | None:
        """The ack to say after `typed` was accepted (slots already hold it), or None."""
        substantial = len(typed.split()) >= MIN_WORDS
        last = slots.get(LAST_ACK)
        for rule in self._rules:
            if not (rule.about_answer or substantial):
                continue
            if rule.when is not None and not rule.when(slots):
                continue
            try:
                text = render(rule.text, slots)
            except Exception as exc:  # an ack must never break the conversation
                log.warning("ack left out: %s", type(exc).__name__)
                continue
            if text and text != last:
                return text
        return None
