"""Short names from long answers, and names as they read mid-sentence: pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.naming import accepts_suggestion, mid, name_given, suggest_name, word_count


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        (
            "Honestly I don't even know who made the decision. The trust, I suppose - "
            "they're closing the clinic",
            "the trust",
        ),
        (
            "The council's commissioning team, mainly Sam Patel who runs it",
            "the council's commissioning team",
        ),
        ("Westshire Council's commissioning team", "Westshire Council's commissioning team"),
        ("Sam Patel, who leads commissioning at the council", "Sam Patel"),
        ("Families on my caseload, for decisions about respite care", "Families on my caseload"),
        (
            "I think it is probably the director of adult social care services in the county",
            "the director",
        ),
        (
            "Our local Health and Wellbeing Board, which meets in public every two months",
            "Health and Wellbeing Board",
        ),
        ("the two churches, the mosque and a councillor", "the two churches"),
        ("NHS Fife", "NHS Fife"),
    ],
)
def test_the_most_name_like_short_phrase_is_suggested(answer: str, name: str) -> None:
    assert suggest_name(answer, 5) == name


def test_a_suggestion_never_runs_past_the_word_limit() -> None:
    answer = "The integrated care board's children and young people's mental health programme"
    for most in range(1, 7):
        assert 1 <= word_count(suggest_name(answer, most)) <= most


@given(st.text(min_size=1, max_size=200), st.integers(1, 8))
def test_any_answer_gets_a_short_suggestion_and_never_an_error(answer: str, most: int) -> None:
    assert word_count(suggest_name(answer, most)) <= most


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("The council's commissioning team", "the council's commissioning team"),
        ("A local charity", "a local charity"),
        ("Our board", "our board"),
        ("My manager", "my manager"),
        ("Their chair", "their chair"),
        ("This panel", "this panel"),
        ("NHS Fife", "NHS Fife"),
        ("Sam Patel", "Sam Patel"),
        ("Children's Services", "Children's Services"),
        ("THE TRUST", "THE TRUST"),
        ("Theatre Royal", "Theatre Royal"),
        ("the trust", "the trust"),
    ],
)
def test_mid_lowers_only_a_leading_article_or_possessive(name: str, shown: str) -> None:
    assert mid(name) == shown


@pytest.mark.parametrize("said", ["yes", "Yes.", "that's fine", "Yes, that's fine thanks", "ok"])
def test_yes_takes_the_suggestion(said: str) -> None:
    assert accepts_suggestion(said)


@pytest.mark.parametrize("said", ["the trust board", "no", "Sam", "yes and no"])
def test_a_name_typed_instead_is_not_a_yes(said: str) -> None:
    assert not accepts_suggestion(said)


def test_an_answer_of_only_punctuation_still_gets_a_name() -> None:
    assert suggest_name('" " " " " " "', 5) == '" " " " "'


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("Jade, a mum on my caseload", "Jade"),
        ("Sam Patel, who runs the commissioning team at the council", "Sam Patel"),
        (
            "The director of children's services and her senior team",
            "the director of children's services",
        ),
    ],
)
def test_a_name_said_on_its_own_first_is_the_one_suggested(answer: str, name: str) -> None:
    assert suggest_name(answer, 6) == name


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        # What users typed: the name they gave, not the words around it.
        ("the housing association's head of repairs, a man called Derek", "Derek"),
        ("the cabinet member for adult social care, Cllr Patel", "Cllr Patel"),
        # Said to be a name: "called", "named", "by name", "her name is".
        ("the head of repairs, a man named Derek Smith", "Derek Smith"),
        ("a woman called Sandra who runs the lettings team", "Sandra"),
        ("the lettings manager, Sandra by name", "Sandra"),
        ("the man from the housing association, I think his name is Derek", "Derek"),
        ("the safeguarding lead. She is called Priya Shah.", "Priya Shah"),
        ("a guy called derek at the housing office", "derek"),
        ("a charity called Mind", "Mind"),
        # With a title, before or after the role, with or without a full stop.
        ("Dr Okafor, the GP partner at our surgery", "Dr Okafor"),
        ("the GP partner at our surgery, Dr. Okafor", "Dr Okafor"),
        ("I need to persuade Superintendent Hughes at the local police", "Superintendent Hughes"),
        ("the local police commander, Chief Inspector Ben Ward", "Chief Inspector Ben Ward"),
        ("the director of children's services, Professor Amy Lee", "Professor Amy Lee"),
        ("the trust's chief executive, Dame Sarah Brown", "Dame Sarah Brown"),
        ("the head teacher at the primary school, Mrs Khan", "Mrs Khan"),
        ("the ward councillor, cllr patel", "cllr patel"),
        ("Inspector Hughes from the neighbourhood team", "Inspector Hughes"),
        ("Dr May at the surgery", "Dr May"),
        ("Mayor Andy Burnham and his office", "Mayor Andy Burnham"),
        # Without a title, where only a name stands: on its own, before "who", after a role.
        ("our MP, Jane Smith", "Jane Smith"),
        ("my manager Sarah, who never listens", "Sarah"),
        ("the head of repairs Derek Smith", "Derek Smith"),
        ("The trust, specifically Dr Okafor", "Dr Okafor"),
    ],
)
def test_a_persons_name_is_suggested_over_their_role(answer: str, name: str) -> None:
    assert suggest_name(answer, 5) == name


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("The Council, mainly the planning committee that meets on Monday", "the Council"),
        ("NHS Fife's mental health team, they decide on Monday", "NHS Fife's mental health team"),
        ("Healthwatch and the ICB, mostly the ICB", "the ICB"),
        ("The trust board, which meets every Monday in public", "the trust board"),
        ("the housing officer, she called the police on us", "the housing officer"),
        ("the officer who called the meeting on Monday", "the officer"),
        ("the council in Tower Hamlets", "the council in Tower Hamlets"),
        ("Parents, and the council's commissioning team", "the council's commissioning team"),
        ("we met Tower Hamlets council about it", "Tower Hamlets council"),
        ("Thames Valley Police, mainly the neighbourhood team", "the neighbourhood team"),
    ],
)
def test_ordinary_capitalised_words_are_no_persons_name(answer: str, name: str) -> None:
    assert suggest_name(answer, 5) == name


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("the head teacher at the primary school in the village", "the head teacher"),
        ("the new lettings officer at the housing association office", "the new lettings officer"),
        ("a social worker from the children's team", "a social worker"),
        ("the officers on the licensing panel at the town hall", "the officers"),
    ],
)
def test_a_long_phrase_is_cut_before_where_they_are(answer: str, name: str) -> None:
    assert suggest_name(answer, 5) == name  # not "the the housing association office"


def test_a_long_titled_name_loses_its_title_first() -> None:
    answer = "the local police commander, Chief Superintendent Anna Hughes"
    assert suggest_name(answer, 5) == "Chief Superintendent Anna Hughes"
    assert suggest_name(answer, 2) == "Anna Hughes"
    assert suggest_name(answer, 1) == "Hughes"


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("just Mark", "Mark"),
        ("call them the HA", "the HA"),
        ("'the board' is fine", "the board"),
        ("no, just the income team please", "the income team"),
        ("yes, Derek", "Derek"),  # yes to being asked, and the shorter name given
        ("Yesenia", "Yesenia"),
        ("Justin", "Justin"),  # a name that starts like a filler stays whole
        ("Sayers Housing", "Sayers Housing"),
    ],
)
def test_a_name_typed_at_the_name_question_loses_the_words_around_it(said: str, name: str) -> None:
    assert name_given(said) == name
