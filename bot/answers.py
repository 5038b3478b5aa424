"""Reads a user's typed or clicked answer as the value a step expects, or says what's wrong."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from bot import messages
from bot.turns import Choice

YES = frozenset({"yes", "y", "yeah", "yep", "yup", "true", "sure", "ok", "okay", "1"})
NO = frozenset({"no", "n", "nope", "nah", "false", "not really", "2"})
MAX_DAYS_AHEAD = 3 * 366


class InvalidAnswer(ValueError):
    """The answer does not fit the question (yet); the message says what would.

    `keep` holds slots to store all the same: the user's own words (`<slot>_note`) and a
    pending suggestion (`_suggested`), so neither is lost. `reask` is False when the
    message is itself a short question ("That sounds like … Is that right?") and the whole
    question should not be printed again.
    """

    def __init__(
        self, message: str, *, keep: dict[str, Any] | None = None, reask: bool = True
    ) -> None:
        super().__init__(message)
        self.keep: dict[str, Any] = keep or {}
        self.reask = reask


class KeptAsNote(InvalidAnswer):
    """Not one of the options, but the user's own account of it: kept in `slot`, and the
    question asked again. People explain before they pick; the coach should not lose it."""

    def __init__(
        self,
        slot: str,
        text: str,
        message: str = messages.KEPT_AS_NOTE.format(noted=messages.NOTED[0]),
        *,
        keep: dict[str, Any] | None = None,
        reask: bool = True,
    ) -> None:
        super().__init__(message, keep={**(keep or {}), slot: text}, reask=reask)
        self.slot = slot
        self.text = text


def is_an_account(text: str) -> bool:
    """A sentence rather than a mistyped option: four words or more."""
    return len(text.split()) >= 4


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower().replace("’", "'")).strip(" .!")


def pick_choice(text: str, choices: Sequence[Choice]) -> Choice:
    """A choice by its number, its value or its label (case-insensitive), or a clear refusal.

    A unique start of a label also counts ("prof" for "A professional service").
    """
    said = _normal(text)
    if said.isascii() and said.isdigit() and 1 <= int(said) <= len(choices):
        return choices[int(said) - 1]
    for choice in choices:
        if said in (choice.value.lower(), _normal(choice.label)):
            return choice
    starts = [c for c in choices if len(said) >= 3 and _normal(c.label).startswith(said)]
    if len(starts) == 1:
        return starts[0]
    raise InvalidAnswer(messages.PICK_ONE)


def read_scale(text: str, low: int, high: int) -> int:
    said = _normal(text)
    match = re.fullmatch(r"(-?\d+)(?:\s*/\s*\d+)?", said)
    if match:
        value = int(match.group(1))
        if low <= value <= high:
            return value
    raise InvalidAnswer(messages.SCALE.format(low=low, high=high))


def read_yes_no(text: str) -> bool:
    said = _normal(text)
    if said in YES:
        return True
    if said in NO:
        return False
    raise InvalidAnswer(messages.YES_NO)


def read_date(text: str, today: dt.date) -> str:
    """An ISO date from `2026-12-01`, `1 december`, `next friday`, `in 2 weeks`, `tomorrow`…

    Dates are read day-first (UK) and must not be in the past.
    """
    said = _normal(text)
    parsed: dt.date | None
    try:
        parsed = dt.date.fromisoformat(said)
    except ValueError:
        parsed = _natural_date(said, today)
    if parsed is None:
        raise InvalidAnswer(messages.DATE_UNREADABLE)
    if parsed < today:
        raise InvalidAnswer(messages.DATE_PAST.format(date=parsed.strftime("%-d %B %Y")))
    if (parsed - today).days > MAX_DAYS_AHEAD:
        raise InvalidAnswer(messages.DATE_TOO_FAR)
    return parsed.isoformat()


def _natural_date(said: str, today: dt.date) -> dt.date | None:
    import dateparser  # imported late: it is slow to load and only date steps need it

    base = dt.datetime.combine(today, dt.time(12, 0))
    found = dateparser.parse(
        said,
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return found.date() if found else None
