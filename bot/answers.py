"""Reads a user's typed or clicked answer as the value a step expects, or says what's wrong."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from bot import messages
from bot.templates import day as written_day
from bot.turns import Choice
from bot.understanding import NUMBER_WORDS

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


def read_date(text: str, today: dt.date, events: Sequence[str] = ()) -> str:
    """An ISO date from `2026-12-01`, `1 december`, `next friday`, `in 2 weeks`, `tomorrow`…

    Dates are read day-first (UK) and must not be in the past. "A fortnight before" (the
    day, a week, three days…) counts back from a date in the same answer ("two weeks before
    the 14th") or else from the first of `events`, words said earlier about what is coming
    up ("budget scrutiny on the 14th of January"); with neither, it asks before what.
    """
    said = _normal(text)
    parsed: dt.date | None
    try:
        parsed = dt.date.fromisoformat(said)
    except ValueError:
        parsed = _before_an_event(said, today, events)
        if parsed is None:
            parsed = _natural_date(said, today)
    if parsed is None:
        raise InvalidAnswer(messages.DATE_UNREADABLE)
    if parsed < today:
        raise InvalidAnswer(messages.DATE_PAST.format(date=written_day(parsed)))
    if (parsed - today).days > MAX_DAYS_AHEAD:
        raise InvalidAnswer(messages.DATE_TOO_FAR)
    return parsed.isoformat()


#: How many: "a fortnight", "two weeks", "a couple of days", "a few days".
_NUMBER_WORDS = {
    **NUMBER_WORDS,
    "a": 1,
    "an": 1,
    "a couple of": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
}
_BEFORE = re.compile(
    r"\b(?:(the)\s+(day|week|month)|(\d+|a couple of|couple of|a few|few|an?|one|two|three|"
    r"four|five|six)\s+(days?|weeks?|fortnights?|months?))\s+(?:or so\s+)?(?:before|ahead of|"
    r"prior to)\b"
)
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14}


def _before_an_event(said: str, today: dt.date, events: Sequence[str]) -> dt.date | None:
    """ "a fortnight before" the date this answer names, or the event said earlier."""
    found = _BEFORE.search(said)
    if found is None:
        return None
    if found.group(1):
        count, unit = 1, found.group(2)
    else:
        number, unit = found.group(3), found.group(4).rstrip("s")
        count = int(number) if number.isdigit() else _NUMBER_WORDS.get(number, 1)
    rest = (said[: found.start()] + " " + said[found.end() :]).strip()
    event = _natural_date(rest, today) if rest and _mentions_a_date(rest) else None
    if event is None:
        for words in events:
            event = _natural_date(_normal(words), today) if _mentions_a_date(words) else None
            if event is not None and event >= today:
                break
            event = None
    if event is None:
        raise InvalidAnswer(messages.DATE_BEFORE_WHAT)
    if unit == "month":
        month = event.month - count
        year = event.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        return event.replace(year=year, month=month, day=min(event.day, 28))
    return event - dt.timedelta(days=count * _UNIT_DAYS[unit])


def _mentions_a_date(text: str) -> bool:
    """Whether words could name a day: a number, a month, a weekday or a holiday word."""
    lowered = text.lower()
    return bool(
        re.search(r"\d", lowered)
        or _MONTH_WORD.search(lowered)
        or re.search(
            r"\b(mon|tues|wednes|thurs|fri|satur|sun)day\b|christmas|easter|"
            r"half term|new year|tomorrow|next week",
            lowered,
        )
    )


def _natural_date(said: str, today: dt.date) -> dt.date | None:
    """A date written the way people write one: on its own ("next friday"), inside a
    sentence ("before the committee on the 14th"), or as a holiday ("before Christmas")."""
    import dateparser  # imported late: it is slow to load and only date steps need it
    from dateparser.search import search_dates

    spoken = _spoken_span(said, today)
    if spoken is not None:
        return spoken
    day_alone = _day_of_month(said, today)
    if day_alone is not None:
        return day_alone
    # Midnight, so that a date written as today's ("1 december" on 1 December) is today,
    # not the same day next year.
    base = dt.datetime.combine(today, dt.time(0, 0))
    settings: Any = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    found = dateparser.parse(said, languages=["en"], settings=settings)
    if found:
        day = found.date()
        # "1 december" on 1 December: the parser prefers the future, a year on; mean today.
        if day.year == today.year + 1 and (day.month, day.day) == (today.month, today.day):
            return today
        return day
    within = search_dates(said, languages=["en"], settings=settings) or []
    # Words like "now" or "today" inside a sentence are not the date meant; a real date is.
    found_in = [
        (phrase, when.date()) for phrase, when in within if phrase.strip() not in _NOT_A_DATE
    ]
    # A day written out ("say the 18th of December") is the date meant, before a holiday or
    # a month named on its own elsewhere in the sentence ("before Christmas", "January").
    explicit = [d for phrase, d in found_in if any(c.isdigit() for c in phrase) and d >= today]
    if explicit:
        return explicit[0]
    holiday = _holiday(said, today)
    if holiday is not None:
        return holiday
    dates = [d for _, d in found_in]
    future = [d for d in dates if d >= today]
    return future[0] if future else (dates[0] if dates else None)


_ORDINAL_DAY = re.compile(r"\b(?:the\s+)?([1-9]|[12]\d|3[01])(?:st|nd|rd|th)\b")
#: A year or a numeric date: the parsers read those better than a day alone.
_NUMERIC_DATE = re.compile(r"\d{4}|\d+[/.-]\d+")
_MONTH_WORD = re.compile(
    r"\b(jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\bmay\b(?=\s+\d|\s*$)"
)


def _day_of_month(said: str, today: dt.date) -> dt.date | None:
    """ "the 15th": the next 15th to come, this month or the next (parsers take this
    month's even when it has passed); "the panel in February, say the 5th": the 5th of the
    one month named in the sentence."""
    found = _ORDINAL_DAY.search(said)
    if found is None or _NUMERIC_DATE.search(said):
        return None
    months = {m.group(0)[:3] for m in _MONTH_WORD.finditer(said)}
    if len(months) > 1:
        return None
    day, year, month = int(found.group(1)), today.year, today.month
    if months:
        month = [name[:3] for name in _MONTHS].index(months.pop()) + 1
        year += month < today.month
    for _ in range(3):  # the 31st: the next month that has one
        try:
            meant = dt.date(year, month, day)
        except ValueError:
            meant = None
        if meant is not None and meant >= today:
            return meant
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


#: Words search_dates reads as a date that, inside a sentence, are not the date meant.
_NOT_A_DATE = frozenset({"now", "today", "on", "at", "in", "by", "may", "second", "sec", "a"})
#: How people name holidays, and the name the holidays library gives each (England's list).
_HOLIDAYS = {
    "christmas eve": "Christmas Day",
    "christmas": "Christmas Day",
    "xmas": "Christmas Day",
    "boxing day": "Boxing Day",
    "new year": "New Year's Day",
    "easter": "Good Friday",
    "good friday": "Good Friday",
    "easter monday": "Easter Monday",
    "may bank holiday": "May Day",
    "spring bank holiday": "Spring Bank Holiday",
    "summer bank holiday": "Late Summer Bank Holiday",
    "august bank holiday": "Late Summer Bank Holiday",
}


def _spoken_span(said: str, today: dt.date) -> dt.date | None:
    """Spans people name that date parsers don't: the end of the week or month, the week
    after next."""
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7)
    if re.search(r"\bweek after next\b", said):
        return today + dt.timedelta(days=14)
    if re.search(r"\bend of next week\b", said):
        return friday + dt.timedelta(days=7)
    if re.search(r"\bend of (?:the |this )?week\b", said):
        return friday
    month = re.search(r"\bend of (?:the |this )?(next )?month\b", said)
    if month:
        year, number = today.year, today.month + (1 if month.group(1) else 0)
        if number > 12:
            year, number = year + 1, number - 12
        first_of_next = dt.date(year + (number == 12), number % 12 + 1, 1)
        return _working_day(first_of_next - dt.timedelta(days=1), step=-1)
    named = re.search(_PART_OF_MONTH, said)
    if named:  # "early January", "by the end of March": a working day in that part of it
        number = _MONTHS.index(named.group(2)) + 1
        year = today.year + (number < today.month)
        part = named.group(1)
        if part in _MONTH_END:
            last = dt.date(year + (number == 12), number % 12 + 1, 1) - dt.timedelta(days=1)
            return _working_day(last, step=-1)
        return _working_day(dt.date(year, number, _MONTH_PART_DAY[part]), step=1)
    return None


#: The day of the month a part of it names, as a deadline: "early January" is done by the 7th.
_MONTH_PART_DAY = {
    "the start of": 1,
    "start of": 1,
    "the beginning of": 1,
    "beginning of": 1,
    "early": 7,
    "mid": 15,
    "mid-": 15,
    "the middle of": 15,
    "middle of": 15,
    "late": 24,
}
_MONTH_END = frozenset({"end of", "the end of", "last day of", "the last day of"})


@lru_cache(maxsize=8)
def _bank_holidays(year: int) -> Any:
    """England's bank holidays from `year` to the year after, built once per year: every
    date step that names a holiday or a part of a month looks them up."""
    import holidays  # imported late, like dateparser

    return holidays.country_holidays("GB", subdiv="ENG", years=range(year, year + 2))


def _working_day(day: dt.date, step: int) -> dt.date:
    """`day`, or the nearest working day from it in the direction of `step` (+1 later, -1
    earlier): a step due "early January" is not due on a Saturday or a bank holiday."""
    closed = _bank_holidays(day.year - 1)
    while day.weekday() >= 5 or day in closed:
        day += dt.timedelta(days=step)
    return day


_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_PART_OF_MONTH = re.compile(
    r"\b(the start of|start of|the beginning of|beginning of|early|mid-|mid|the middle of|"
    r"middle of|late|the end of|end of|the last day of|last day of)\s*("
    + "|".join(_MONTHS)
    + r")\b"
)


def _holiday(said: str, today: dt.date) -> dt.date | None:
    """The next date of a holiday named in `said` ("before Christmas": the day before)."""
    for words, name in sorted(_HOLIDAYS.items(), key=lambda item: -len(item[0])):
        at = re.search(rf"\b{re.escape(words)}\b", said)
        if at is None:
            continue
        calendar = _bank_holidays(today.year)
        days = sorted(d for d, n in calendar.items() if n == name and d >= today)
        if not days:
            return None
        day = days[0]
        lead = said[: at.start()]
        if words == "christmas eve" or re.search(r"\bbefore\s+(?:the\s+)?$", lead):
            day -= dt.timedelta(days=1)
        elif re.search(r"\bafter\s+(?:the\s+)?$", lead):
            day += dt.timedelta(days=4 if name == "Good Friday" else 1)  # Easter: the Tuesday
        return day
    return None
