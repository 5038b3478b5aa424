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
        ("end of next month", "2027-01-31"),
        ("end of the week", "2026-12-04"),
        ("end of next week", "2026-12-11"),
        ("the week after next", "2026-12-15"),
        ("by the end of January", "2027-01-31"),  # not the 2nd of January
        ("end of december", "2026-12-31"),
        # A day written out wins over a holiday or a month named elsewhere (a tester's).
        ("well before Christmas really, say the 18th of December", "2026-12-18"),
        ("before the January scrutiny, say the 8th of January", "2027-01-08"),
    ],
)
def test_a_date_in_peoples_words_is_read(said: str, meant: str) -> None:
    assert answers.read_date(said, TODAY) == meant


@pytest.mark.parametrize("said", ["whenever", "soon-ish", "when the chair gets back to me"])
def test_words_with_no_date_in_them_are_refused_with_examples(said: str) -> None:
    with pytest.raises(answers.InvalidAnswer) as refused:
        answers.read_date(said, TODAY)
    assert "next friday" in str(refused.value)


def test_a_date_in_the_past_is_refused_naming_it() -> None:
    with pytest.raises(answers.InvalidAnswer) as refused:
        answers.read_date("2026-11-20", TODAY)
    assert "20 November 2026 has already passed" in str(refused.value)
