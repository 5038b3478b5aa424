"""Dates given the way people give them: on their own, inside a sentence, as a holiday, or as
the end of a week or month; read day-first (UK) and never in the past."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import answers

TODAY = dt.date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("next friday", "2026-12-04"),
        ("in 2 weeks", "2026-12-15"),
        ("1 december", "2026-12-01"),  # today, not the same day next year
        ("2026-12-20", "2026-12-20"),
        ("before the committee on the 14th", "2026-12-14"),
        ("I'll do it after the board meets on 9 Dec", "2026-12-09"),
        ("before Christmas", "2026-12-24"),
        ("by christmas", "2026-12-25"),
        ("after Easter", "2027-03-30"),
        ("by the end of the month", "2026-12-31"),
        ("end of next month", "2027-01-29"),  # the 31st is a Sunday: the Friday before
        ("end of the week", "2026-12-04"),
        ("end of next week", "2026-12-11"),
        ("the week after next", "2026-12-15"),
        ("by the end of January", "2027-01-29"),  # its last working day, not the 2nd
        ("end of december", "2026-12-31"),
        # Parts of a month land on a working day: not a weekend, not a bank holiday.
        ("early January, before their board", "2027-01-07"),
        ("mid January", "2027-01-15"),
        ("mid-February", "2027-02-15"),
        ("late December", "2026-12-24"),
        ("by the start of January", "2027-01-04"),  # the 1st is New Year's Day, then a weekend
        ("the middle of march", "2027-03-15"),
        # A day written out wins over a holiday or a month named elsewhere (a tester's).
        ("well before Christmas really, say the 18th of December", "2026-12-18"),
        ("before the January scrutiny, say the 8th of January", "2027-01-08"),
    ],
)
def test_a_date_in_peoples_words_is_read(said: str, meant: str) -> None:
    assert answers.read_date(said, TODAY) == meant


@pytest.mark.parametrize(
    ("today", "said", "meant"),
    [
        (dt.date(2026, 11, 20), "before the forum on the 15th", "2026-12-15"),  # not 15 Nov
        (dt.date(2026, 11, 20), "the 3rd", "2026-12-03"),
        (dt.date(2027, 1, 31), "by the 31st", "2027-01-31"),
        (dt.date(2027, 2, 1), "by the 30th", "2027-03-30"),  # February has none
        (dt.date(2026, 11, 20), "the 15th of January", "2027-01-15"),
        # A trial's: the month is named elsewhere in the sentence, not beside the day.
        (dt.date(2026, 12, 2), "before the panel in February, say the 5th", "2027-02-05"),
        (dt.date(2026, 12, 2), "I may do it by the 15th", "2026-12-15"),
    ],
)
def test_a_day_of_the_month_alone_is_the_next_one_to_come(
    today: dt.date, said: str, meant: str
) -> None:
    assert answers.read_date(said, today) == meant


@pytest.mark.parametrize("said", ["whenever", "soon-ish", "when the chair gets back to me"])
def test_words_with_no_date_in_them_are_refused_with_examples(said: str) -> None:
    with pytest.raises(answers.InvalidAnswer) as refused:
        answers.read_date(said, TODAY)
    assert "next friday" in str(refused.value)


def test_a_date_in_the_past_is_refused_naming_it() -> None:
    with pytest.raises(answers.InvalidAnswer) as refused:
        answers.read_date("2026-11-20", TODAY)
    assert "20 November 2026 has already passed" in str(refused.value)
