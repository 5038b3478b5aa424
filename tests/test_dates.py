"""Dates given the way people give them: on their own, inside a sentence, as a holiday, or as
the end of a week or month; read day-first (UK) and never in the past."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import answers
from tests.conftest import Chat

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


# -- counting back from what is coming up -------------------------------------------------

SCRUTINY = "budget scrutiny on the 14th of January, that's where it'll be decided"


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("well before the scrutiny meeting, say a fortnight before", "2026-12-31"),
        ("the day before", "2027-01-13"),
        ("a week or so before it", "2027-01-07"),
        ("3 days ahead of the meeting", "2027-01-11"),
        ("two weeks before the 28th", "2026-12-14"),  # the answer's own date comes first
    ],
)
def test_a_date_before_what_is_coming_up_counts_back_from_it(said: str, meant: str) -> None:
    """ "A fortnight before" is a fortnight before the meeting they named earlier, not a
    fortnight ago (which the date parser read it as)."""
    assert answers.read_date(said, TODAY, [SCRUTINY]) == meant


def test_before_with_nothing_to_count_back_from_asks_before_what() -> None:
    for events in ([], ["a meeting with the director at some point"]):
        with pytest.raises(answers.InvalidAnswer) as caught:
            answers.read_date("a fortnight before", TODAY, events)
        assert "Before what?" in str(caught.value)


def test_a_next_step_dated_before_the_meeting_they_named_is_due_then(chat: Chat) -> None:
    """Asked for a date after naming "budget scrutiny on the 14th of January" as what is
    coming up, "a fortnight before" is 31 December and "the day before" 13 January."""
    chat.open()
    answers_given = [
        "start diagnose",
        "1",
        "Our funding is being cut by the council",
        "the council's commissioning team",
        "1",
        "yes",
        "1",
        "1",
        "1",
        "3",
        "3",
        "3",
        "3",
        "3",
        "3",
        "3",
        "3",
        "1",
        f"1, {SCRUTINY}",
        "a paper to the scrutiny committee",
        "1",
        "yes",
        "some words",
        "1",
    ]
    for said in answers_given:
        chat.say(said)
    assert chat.state == "commit__due"
    chat.say("well before the scrutiny meeting, say a fortnight before")
    chat.say("1")
    chat.say("the day before")
    row = chat.engine.store.current_conversation(chat.user)
    slots = row.slots if row is not None else {}
    dues = [c["due_date"] for c in slots.get("commitments", [])]
    assert dues[:2] == ["2026-12-31", "2027-01-13"], dues
