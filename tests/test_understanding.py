"""Reading answers in the user's own words: options by meaning, several at once, a yes or a no
inside a sentence, a rating in words. Pure functions, tested without the engine; the
shipped dialogues' own options are the examples."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.loader import load_catalog
from bot.schema import ChoiceStep
from bot.understanding import (
    ChoiceReading,
    ChoiceTable,
    Option,
    ScaleTable,
    join_labels,
    normal,
    read_choices,
    read_scale,
    read_yes_no,
    shared_words,
    takes_back_the_last_answer,
)

DIALOGUES = Path(__file__).resolve().parent.parent / "dialogues"


@cache
def choice_steps() -> dict[str, ChoiceStep]:
    """Every choice step of every shipped dialogue, as `dialogue.step`."""
    catalog = load_catalog(DIALOGUES)
    found: dict[str, ChoiceStep] = {}
    for dialogue_id, loaded in catalog.dialogues.items():
        for step_id, step in loaded.dialogue.steps.items():
            if isinstance(step, ChoiceStep):
                found[f"{dialogue_id}.{step_id}"] = step
    return found


@cache
def table(name: str) -> ChoiceTable:
    step = choice_steps()[name]
    options = [Option(c.value, c.label, tuple(c.also), c.alone) for c in step.choices]
    return ChoiceTable(options, multiple=step.multiple, most=step.max)


def read(name: str, text: str, suggested: tuple[str, ...] = ()) -> ChoiceReading:
    return read_choices(text, table(name), suggested)


# == choices: what the users typed ====================================================


@pytest.mark.parametrize(
    ("step", "said", "values"),
    [
        ("diagnose.allies", "faith groups", ("citizens_alliance",)),
        ("diagnose.mandate_source", "whoever funds them", ("commissioning",)),
        ("diagnose.mandate_source", "the police and crime commissioner", ("elected",)),
        (
            "diagnose.coming_up",
            "there's a community engagement meeting with the PCC on 14 january",
            ("meeting",),
        ),
        (
            "diagnose.power_kind",
            "he decides which repairs get done and when, and he has the whole repairs budget",
            ("position", "resources"),
        ),
        (
            "diagnose.coming_up",
            "cabinet on the 20th, and scrutiny call-in after that",
            ("meeting", "decision"),  # a call-in is not a call for views
        ),
        ("diagnose.role", "the councillor one", ("councillor",)),
        ("diagnose.allies", "1 and 2", ("voluntary_groups", "citizens_alliance")),
        ("diagnose.allies", "2, 5", ("citizens_alliance", "elected_reps")),
        ("diagnose.power_kind", "money and position", ("resources", "position")),
        (
            "diagnose.power_kind",
            "It's the money first, but it's also that they sit at the table and write the specs",
            ("resources", "position"),
        ),
        (
            "diagnose.allies",
            "the two churches, the mosque and a councillor",
            ("citizens_alliance", "elected_reps"),
        ),
        ("diagnose.allies", "3 and the councillor", ("schools_community", "elected_reps")),
        ("diagnose.role", "the second", ("community",)),
        ("diagnose.role", "the last one", ("professional",)),
        ("diagnose.role", "councilor", ("councillor",)),  # a typo
        ("diagnose.power_kind", "expertize", ("expertise",)),
        ("diagnose.power_kind", "specialist", ("expertise",)),  # part of a label
        ("diagnose.other_kind", "the council", ("organisation",)),
        ("diagnose.role", "I run a small charity on the estate", ("voluntary",)),
        ("own_power.difference", "race and class", ("race_ethnicity", "class_education")),
        # A general word of a label, pointed at: "the organisation one".
        ("diagnose.other_kind", "the organisation one", ("organisation",)),
        (
            "diagnose.other_kind",
            "she works for the council so the organisation one I guess",
            ("organisation",),
        ),
        # An ordinal pointing at an option counts inside a sentence too.
        (
            "diagnose.allies",
            "the first one and the councillor one",
            ("voluntary_groups", "elected_reps"),
        ),
        ("diagnose.allies", "the parents forum and the football club", ("schools_community",)),
        # "works" in a sentence is the verb, not the start of "social workers".
        ("diagnose.other_kind", "she works for the county council", ("organisation",)),
        # A youth project facing a housing association (a trial conversation).
        (
            "diagnose.power_kind",
            "they hold the tenancies, they can evict. and the council relies on them",
            ("resources", "professional", "importance"),  # in the order said
        ),
        (
            "diagnose.power_kind",
            "they can stop anyone they like, and they've got the officers and the law",
            ("professional", "resources"),
        ),
        (
            "diagnose.my_source",
            "people trust me, I grew up here, and I can get 300 people to a meeting",
            ("community_relationships", "local_knowledge", "voice"),
        ),
        (
            "diagnose.my_source",
            "we know the young people and their stories, and the council rely on us",
            ("local_knowledge", "delivery"),
        ),
    ],
)
def test_an_option_is_understood_by_its_meaning(
    step: str, said: str, values: tuple[str, ...]
) -> None:
    reading = read(step, said)
    assert reading.outcome == "picked", reading
    assert reading.values == values


@pytest.mark.parametrize(
    "said",
    [
        "the young carers project",
        "a befriending project",
        "the carers network",
        "the local mental health forum",
        "the MS Society",
        "a community trust",
        "the hospice and its volunteers",
        "a support group for dads",
        "a social enterprise on the estate",
    ],
)
def test_a_voluntary_project_network_or_forum_is_another_voluntary_group(said: str) -> None:
    reading = read("diagnose.allies", said)
    assert reading.outcome == "picked", reading
    assert reading.values == ("voluntary_groups",)


@pytest.mark.parametrize(
    ("said", "values"),
    [
        (
            "budget scrutiny on the 14th of January, that's where it'll be decided",
            ("meeting", "decision"),
        ),
        ("cabinet in March, where it gets decided", ("meeting", "decision")),
        ("the board is deciding in June", ("meeting", "decision")),
        ("it goes to cabinet for approval on the 3rd", ("meeting", "decision")),
        ("the board meets on the 5th, it'll be voted on then", ("meeting", "decision")),
        # Decided already is not a decision to come.
        ("they decided it last month at cabinet", ("meeting",)),
    ],
)
def test_a_meeting_where_it_will_be_decided_is_also_a_decision_date(
    said: str, values: tuple[str, ...]
) -> None:
    reading = read("diagnose.coming_up", said)
    assert reading.outcome == "picked", reading
    assert reading.values == values


def test_a_quantity_is_not_an_option_number() -> None:
    reading = read("diagnose.allies", "we've got 2 councillors on side")
    assert reading.values == ("elected_reps",)


def test_an_exact_answer_is_not_by_meaning_and_keeps_no_note() -> None:
    for said in ("3", "expertise", "Expertise and specialist knowledge", "EXPERTISE."):
        reading = read("diagnose.power_kind", said)
        assert reading == ChoiceReading("picked", ("expertise",), (normal(said),))


def test_a_synonym_is_understood_but_said_back() -> None:
    reading = read("diagnose.power_kind", "money")
    assert reading.values == ("resources",) and reading.by_meaning


def test_a_sentence_that_names_an_option_is_kept_as_the_note() -> None:
    said = "Mostly the people who rely on it, the families on our estate"
    reading = read("diagnose.mandate_check", said)
    assert reading.values == ("service_users",)
    assert reading.note == said


@pytest.mark.parametrize("said", ["the", "it's the one", "of", "the one of the"])
def test_stop_words_name_no_option(said: str) -> None:
    assert read("diagnose.mandate_check", said).outcome == "nothing"


def test_one_common_word_shared_by_several_options_is_not_a_match() -> None:
    # "groups" is in three of the allies' labels.
    assert read("diagnose.allies", "groups").outcome == "nothing"


def test_a_word_shared_by_two_options_is_suggested_not_picked() -> None:
    reading = read("own_power.who_decides", "the people")
    assert reading.outcome != "picked"


def test_nothing_close_in_a_sentence_is_kept_as_the_note() -> None:
    said = "It was set up years ago and nobody remembers why"
    assert read("diagnose.mandate_source", said) == ChoiceReading("nothing", note=said)


def test_two_options_at_a_one_answer_question_ask_which() -> None:
    reading = read("diagnose.mandate_source", "the cabinet and the budget")
    assert reading.outcome == "which"
    assert reading.values == ("elected", "commissioning")


def test_several_where_one_is_wanted_ask_which_in_the_users_words() -> None:
    reading = read("diagnose.role", "1 and 2")
    assert (reading.outcome, reading.values) == ("which", ("voluntary", "community"))


def test_numbers_out_of_range_and_everything_at_a_one_answer_question_are_refused() -> None:
    for said in ("7", "0", "everything", "9 and 10", "²", "①"):
        assert read("diagnose.role", said).outcome == "nothing", said


def test_all_of_them_leaves_out_the_options_that_stand_alone() -> None:
    reading = read("diagnose.allies", "all of them")
    assert "nobody" not in reading.values
    assert len(reading.values) == 5


def test_an_option_that_stands_alone_gives_way_to_the_others() -> None:
    assert read("diagnose.allies", "nobody yet, maybe a councillor").values == ("elected_reps",)
    assert read("diagnose.allies", "nobody yet").values == ("nobody",)


def test_more_than_max_asks_which_matter_most() -> None:
    reading = read("own_power.habit", "1, 2 and 3")
    assert reading.outcome == "too_many"
    assert read("own_power.habit", "1 and 3").values == ("listening", "details")


def test_a_close_word_is_suggested() -> None:
    reading = read("diagnose.other_kind", "a body")  # "body" is too general to pick
    assert reading.outcome in ("suggest", "nothing")
    reading = read("diagnose.mandate_check", "people")  # too general to pick on its own
    assert (reading.outcome, reading.values) == ("suggest", ("service_users",))


# -- replies to a suggestion -----------------------------------------------------------------


@pytest.mark.parametrize("said", ["yes", "Yes, that's it", "yep", "that's it", "correct"])
def test_yes_takes_the_suggestion(said: str) -> None:
    reading = read("diagnose.power_kind", said, ("expertise",))
    assert (reading.outcome, reading.values) == ("picked", ("expertise",))


@pytest.mark.parametrize("said", ["no", "nope", "neither", "not really"])
def test_no_declines_the_suggestion(said: str) -> None:
    assert read("diagnose.power_kind", said, ("expertise",)).outcome == "declined"


def test_another_option_after_a_suggestion_is_taken_instead() -> None:
    assert read("diagnose.power_kind", "no, position", ("expertise",)).values == ("position",)
    assert read("diagnose.power_kind", "4", ("expertise",)).values == ("position",)


def test_the_first_and_both_refer_to_the_two_suggested() -> None:
    pending = ("expertise", "position")
    assert read("diagnose.power_kind", "the first", pending).values == ("expertise",)
    assert read("diagnose.power_kind", "the latter", pending).values == ("position",)
    assert read("diagnose.power_kind", "both", pending).values == pending
    assert read("diagnose.power_kind", "yes", pending).outcome == "suggest"


def test_an_answer_whose_every_word_names_an_option_keeps_no_note() -> None:
    assert read("own_power.habit", "listening and the details").note is None
    said = "listening, because I plan my reply while they talk"
    assert read("own_power.habit", said).note == said


def test_labels_join_readably() -> None:
    assert join_labels(["Resources", "Position"]) == "Resources and position"
    assert join_labels(["A", "Elected representatives", "NHS trusts"]) == (
        "A, elected representatives and NHS trusts"
    )
    assert join_labels(["I'm here", "I'm there"]) == "I'm here and I'm there"
    assert join_labels(["Race, ethnicity", "Class, education", "Age"]) == (
        "Race, ethnicity; class, education; and age"
    )


# == choices: every shipped option answers to its label, its also: phrases and its start ========


def _unambiguous_prefixes(step: ChoiceStep) -> list[tuple[str, str]]:
    """(prefix of a label, its option) for every prefix only that option's label starts with,
    at least three characters long, that no other option answers to exactly."""
    labels = [(normal(c.label), c.value) for c in step.choices]
    exact: dict[str, str] = {}
    for n, c in enumerate(step.choices, 1):
        for key in (str(n), c.value, c.value.replace("_", " "), c.label, *c.also):
            exact.setdefault(normal(key), c.value)
    found: list[tuple[str, str]] = []
    for c in step.choices:
        for end in range(3, len(c.label) + 1):
            prefix = c.label[:end]
            said = normal(prefix)
            if len(said) < 3:
                continue
            starts = [value for label, value in labels if label.startswith(said)]
            if starts == [c.value] and exact.get(said, c.value) == c.value:
                found.append((prefix, c.value))
    return found


def _what_picks(step: ChoiceStep) -> list[tuple[str, str]]:
    picks = [(c.label, c.value) for c in step.choices]
    picks += [(phrase, c.value) for c in step.choices for phrase in c.also]
    return picks + _unambiguous_prefixes(step)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_label_also_phrase_or_unambiguous_prefix_picks_its_option(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(choice_steps())), label="step")
    step = choice_steps()[name]
    said, value = data.draw(st.sampled_from(_what_picks(step)), label="answer")
    reading = read(name, said)
    assert reading.outcome == "picked", (name, said, reading)
    assert reading.values == (value,), (name, said, reading)


@pytest.mark.parametrize("name", sorted(choice_steps()))
def test_every_label_and_also_phrase_of_a_step_picks_its_option(name: str) -> None:
    step = choice_steps()[name]
    for said, value in _what_picks(step):
        assert read(name, said).values == (value,), (name, said)


# == yes / no ===================================================================================


@pytest.mark.parametrize(
    ("said", "value", "noted"),
    [
        ("yes", True, False),
        ("Nope.", False, False),
        ("definitely not", False, False),
        ("Not that I know of. They don't invite us", False, True),
        ("yes, if it keeps the clinic open", True, True),
        ("probably yes, but only if the chair agrees", True, True),
        ("they never invite us", False, True),
        ("There's the partnership board on the 14th", True, True),
        ("I'd rather not", False, False),
        ("there isn't one", False, False),
        ("Yes, but they never listen to us", True, True),
    ],
)
def test_a_yes_or_a_no_is_read_from_a_sentence(said: str, value: bool, noted: bool) -> None:
    reading = read_yes_no(said)
    assert reading.value is value
    assert (reading.note == said) is noted


@pytest.mark.parametrize("said", ["maybe", "it depends", "sort of", "I don't know", "yes and no"])
def test_a_hedge_is_neither_yes_nor_no(said: str) -> None:
    reading = read_yes_no(said)
    assert reading.value is None and reading.hedged


def test_a_sentence_with_no_yes_or_no_keeps_the_note() -> None:
    said = "The board meets again in March"
    assert read_yes_no(said).value is None
    assert read_yes_no(said).note == said


# == ratings ====================================================================================

SCALE = ScaleTable.build(1, 5, "very little", "a great deal")


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("4", 4),
        ("four", 4),
        ("about 4", 4),
        ("4/5", 4),
        ("four out of five", 4),
        ("8 out of 10", 4),
        ("a great deal", 5),
        ("5 – a great deal", 5),
        ("not at all", 1),
        ("very little", 1),
        ("quite a lot", 4),
        ("I'd give them a 4, they hold the budget", 4),
        ("they have far more, the whole budget", 5),
        ("much less than them, we're tiny", 1),
        # A tester's: a strong word opening a long answer rates it.
        ("Oh loads, they're the NHS", 5),
        ("we know the young people far better than they do", 5),
        ("Hardly anything, we've got about three hundred quid", 1),
        ("huge, they own thousands of homes", 5),
        ("tiny, we've got two staff and a grant that ends in March", 1),
        # A charity manager's: "4 too" is a rating, twenty years a length of time.
        ("we know the estate inside out, twenty years of it, I'd say 4 too", 4),
        ("3 as well, honestly", 3),
    ],
)
def test_a_rating_is_read_from_numbers_and_words(said: str, value: int) -> None:
    reading = read_scale(said, SCALE)
    assert (reading.outcome, reading.value) == ("number", value)


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("very central, they write the cabinet report", 5),
        ("central", 4),
        ("peripheral really, nobody asks us until it's decided", 1),
        ("on the margins, we hear by letter", 1),
    ],
)
def test_where_someone_sits_is_read_on_a_position_scale(said: str, value: int) -> None:
    position = ScaleTable.build(1, 5, "on the edge", "at the centre")
    reading = read_scale(said, position)
    assert (reading.outcome, reading.value) == ("number", value)


def test_a_rating_inside_a_sentence_keeps_the_sentence() -> None:
    said = "They have a great deal of money and we have none of it"
    reading = read_scale(said, SCALE)
    assert reading.note == said
    assert read_scale("four out of five", SCALE).note is None


@pytest.mark.parametrize(
    "said", ["the two churches, the mosque and a councillor", "we have 3 staff", "the 3rd"]
)
def test_a_number_that_counts_things_or_dates_them_is_not_a_rating(said: str) -> None:
    assert read_scale(said, SCALE).value is None


@pytest.mark.parametrize(("said", "between"), [("3 or 4", (3, 4)), ("3.5", (3, 4))])
def test_between_two_ratings_asks_which(said: str, between: tuple[int, int]) -> None:
    assert read_scale(said, SCALE).candidates == between


@pytest.mark.parametrize(
    "said",
    [
        "I know this estate better than anyone at the trust",
        "some of the staff know it",  # a mild word opening a sentence is not a rating
        "low, honestly, we have nothing",  # two readings: the number is asked for
    ],
)
def test_a_sentence_without_a_number_is_the_note_and_the_number_is_asked_for(said: str) -> None:
    assert read_scale(said, SCALE).outcome == "no_number"
    assert read_scale(said, SCALE).note == said


@pytest.mark.parametrize("said", ["9", "0", "-1", "6/5", "banana", "7.5", "about 99"])
def test_out_of_range_or_unreadable_is_refused(said: str) -> None:
    assert read_scale(said, SCALE).outcome == "refused"


@pytest.mark.parametrize("said", ["maybe", "hard to say", "it depends"])
def test_a_hedged_rating_is_unsure(said: str) -> None:
    assert read_scale(said, SCALE).outcome == "unsure"


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("Five. They chair it", 5),
        ("1. We're not on the board", 1),
        ("One. We're not on the board.", 1),
        ("One, we are nowhere near it", 1),
        ("Honestly? Two. They run it day to day", 2),
        ("I'd say one, honestly", 1),
    ],
)
def test_a_rating_that_ends_its_own_sentence_is_read(said: str, value: int) -> None:
    reading = read_scale(said, SCALE)
    assert (reading.outcome, reading.value) == ("number", value)


@pytest.mark.parametrize(
    "said", ["No one. Nobody listens to us", "one of them chairs it, the other writes it up"]
)
def test_one_as_a_pronoun_is_still_no_rating(said: str) -> None:
    assert read_scale(said, SCALE).value is None


@pytest.mark.parametrize(
    ("said", "role"),
    [
        ("I manage a small youth charity", "voluntary"),
        ("I'm the manager of a small charity", "voluntary"),
        ("I'm a team manager in adult social care", "professional"),
        ("I manage a housing team at the council", "professional"),
    ],
)
def test_managing_something_says_nothing_of_the_role_the_rest_does(said: str, role: str) -> None:
    reading = read("diagnose.role", said)
    assert (reading.outcome, reading.values) == ("picked", (role,))


@pytest.mark.parametrize(
    ("said", "takes_back"),
    [
        ("sorry, that 2 was meant for us. they are a 5", True),
        ("oops, wrong one", True),
        ("Can I change my last answer?", True),
        ("wait, that was meant for us", True),
        ("I answered the wrong question", True),
        ("sorry I got that wrong", True),
        ("go back", True),
        # answers that only sound like it
        ("the money was meant for us but the council kept it", False),
        ("they asked the wrong question", False),
        ("I made a mistake in the bid last year", False),
        ("go back to the council with a better offer", False),
        ("that one is for the cabinet to decide", False),
    ],
)
def test_a_correction_of_the_last_answer_is_told_from_an_answer(
    said: str, takes_back: bool
) -> None:
    assert takes_back_the_last_answer(said) is takes_back


@pytest.mark.parametrize(
    "said",
    ["I rang Cllr Ahmed this morning, she wasn't hopeful", "emailed our MP, no reply yet"],
)
def test_news_in_short_forms_shares_words_with_the_step_it_is_about(said: str) -> None:
    """Tried as a charity manager: "I rang Cllr Ahmed" was asked "which step is it about?"
    with "Take the issue to your councillor or MP" first among three."""
    step = "Take the issue to your councillor or MP"
    other = "Reach the paper before the decision is made"
    assert shared_words(said, step) > shared_words(said, other)
