"""The building blocks of a coach's reading: word stems, ranking, and the helpers conditions
and templates use to compare numbers without arithmetic everywhere. Pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from bot.expressions import Condition, ExpressionError, check_expression
from bot.recommending import WORD_BONUS, Recommender
from bot.schema import Dialogue
from bot.stems import Written, stems
from bot.templates import join_and, largest, render, smallest

# == stems =======================================================================================


def test_words_match_by_stem_and_phrases_as_a_sequence() -> None:
    written = Written(["Our meetings with the partnership boards go nowhere."], longest=2)

    assert written.has(stems("meeting"))
    assert written.has(stems("partnership board"))
    assert not written.has(stems("board partnership"))  # in order
    assert not written.has(stems("met"))  # stems only: no dictionary of irregular forms


def test_a_phrase_is_not_found_across_two_answers() -> None:
    written = Written(["the partnership", "board members"], longest=2)

    assert not written.has(stems("partnership board"))


# == ranking =====================================================================================


def dialogue(recommendations: list[dict[str, Any]]) -> Dialogue:
    return Dialogue.model_validate(
        {
            "id": "d",
            "title": "D",
            "version": 1,
            "description": "d",
            "steps": {
                "say": {"kind": "text", "prompt": "?", "slot": "said", "next": "pick"},
                "pick": {"kind": "yesno", "prompt": "?", "slot": "room", "next": "end"},
                "end": {"kind": "end", "text": "bye"},
            },
            "recommendations": [
                {"title": r["id"], "text": "t", "idea": "i", "source": "src", **r}
                for r in recommendations
            ],
        }
    )


def chosen(
    recommender: Recommender, slots: dict[str, Any], least: int = 1, most: int = 7
) -> list[str]:
    return [r.id for r in recommender.choose(slots, least, most)]


def test_rank_is_weight_plus_a_bonus_per_phrase_found() -> None:
    recommender = Recommender(
        dialogue(
            [
                {"id": "heavy", "when": "True", "weight": 50},
                {"id": "worded", "when": "True", "weight": 50 - WORD_BONUS - 1, "words": ["GP"]},
                {"id": "twice", "when": "True", "weight": 31, "words": ["clinic", "closing"]},
            ]
        )
    )

    assert chosen(recommender, {"said": "nothing to say"}) == ["heavy", "worded", "twice"]
    assert chosen(recommender, {"said": "Our GP surgery is closing the clinic"}) == [
        "twice",  # 31 + 2 × 10
        "heavy",  # 50
        "worded",  # 39 + 10
    ]


def test_ties_keep_the_files_order_and_unless_rules_out() -> None:
    recommender = Recommender(
        dialogue(
            [
                {"id": "first", "when": "True", "weight": 5},
                {"id": "second", "when": "True", "weight": 5},
                {"id": "ruled_out", "when": "True", "unless": "room", "weight": 99},
            ]
        )
    )

    assert chosen(recommender, {"room": True}) == ["first", "second"]
    assert chosen(recommender, {"room": False}) == ["ruled_out", "first", "second"]


def test_general_advice_fills_up_to_the_minimum_never_one_ruled_out() -> None:
    recommender = Recommender(
        dialogue(
            [
                {"id": "fits", "when": "room", "weight": 80},
                {"id": "best_general", "unless": "room", "weight": 60},
                {"id": "general", "weight": 50},
                {"id": "general_too", "weight": 40},
                {"id": "lowest", "weight": 30},
            ]
        )
    )

    assert chosen(recommender, {"room": True}, least=3) == ["fits", "general", "general_too"]
    assert chosen(recommender, {"room": True}, least=1) == ["fits"]


def test_general_advice_fits_when_its_words_were_said() -> None:
    recommender = Recommender(
        dialogue(
            [{"id": "fits", "when": "room", "weight": 50}, {"id": "watch", "words": ["meeting"]}]
        )
    )

    assert chosen(recommender, {"room": True, "said": "a meeting"}, least=1) == ["fits", "watch"]
    assert chosen(recommender, {"room": True, "said": "nothing"}, least=1) == ["fits"]
    # A note kept at any question counts as the user's words too.
    noted = {"room": True, "said": "-", "room_note": "Only at the meetings"}
    assert chosen(recommender, noted, least=1) == ["fits", "watch"]


def test_at_most_max_are_shown() -> None:
    recommender = Recommender(dialogue([{"id": f"r{n}", "when": "True"} for n in range(10)]))

    assert len(chosen(recommender, {}, least=3, most=7)) == 7


# == numbers in conditions and templates =======================================================


def test_conditions_may_compare_the_largest_and_smallest_of_several_numbers() -> None:
    slots = {"a": 4, "b": 1, "c": 3, "d": 3}
    assert Condition("max(a - b, c - d) >= 3")(slots)
    assert Condition("min(a - b, c - d) <= 0")(slots)
    assert Condition("abs(b - a) == 3")(slots)
    assert not Condition("max(a - b, c - x) >= 3")(slots)  # unanswered: false, not an error
    check_expression("max(a, b) > min(c, d)", {"a", "b", "c", "d"})
    with pytest.raises(ExpressionError, match="calls something other than"):
        check_expression("sum(a, b)", {"a", "b"})


def test_largest_and_smallest_name_the_keys_tied_for_it() -> None:
    gaps = {"resources": 3, "expertise": -1, "position": 3, "voice": None}

    assert largest(gaps) == ["resources", "position"]
    assert smallest(gaps) == ["expertise"]
    assert largest({}) == [] and largest("not a dict") == []


def test_join_and_writes_a_list_as_a_sentence_says_it() -> None:
    assert join_and([]) == ""
    assert join_and(["resources"]) == "resources"
    assert join_and(["resources", "position"]) == "resources and position"
    assert join_and(["a", "b", "c"]) == "a, b and c"


def test_a_template_can_name_the_largest_gap() -> None:
    source = (
        "{% set gaps = {'resources': tr - mr, 'position': tp - mp} %}\n"
        "Largest: {{ gaps | largest | join_and }}; {{ max(tr, mr) }} {{ min(tp, mp) }} "
        "{{ abs(mr - tr) }} {{ max(unanswered) }}"
    )

    assert render(source, {"tr": 4, "mr": 1, "tp": 3, "mp": 2}) == "Largest: resources; 4 2 3 —"


# == a past conversation's answers, a list's first item, and words said back =====================


def test_a_record_slot_is_read_by_field_and_a_list_by_position() -> None:
    check_expression(
        "my_position > then.my_position and recent_outcomes[0] == 'dropped'",
        {"my_position", "then", "recent_outcomes"},
    )
    rule = Condition("my_position > then.my_position and recent_outcomes[0] == 'dropped'")

    assert rule({"my_position": 3, "then": {"my_position": 1}, "recent_outcomes": ["dropped"]})
    assert not rule({"my_position": 3, "then": {}, "recent_outcomes": ["dropped"]})
    assert not rule({"my_position": 3, "then": {"my_position": 1}, "recent_outcomes": []})
    # A field is an item of the data, never a Python attribute: a dict's methods are out of reach.
    assert not Condition("then.items")({"then": {}})
    assert Condition("then['items'] == 2")({"then": {"items": 2}})


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("then[position]", "a number or a quoted name"),
        ("then[0:2]", "a number or a quoted name"),
        ("then._last_ack", "starting with _"),
        ("(1).real", "only the fields of step and then"),
        ("position.x", "only the fields of step and then"),
        ("thne.my_position", "'thne'"),
    ],
)
def test_reading_a_field_is_checked_when_the_file_loads(condition: str, problem: str) -> None:
    with pytest.raises(ExpressionError, match=problem):
        check_expression(condition, {"then", "position"})


@pytest.mark.parametrize(
    ("written", "said_back"),
    [
        (
            "I learned I need to ask for the numbers in writing before the meeting.",
            "you need to ask for the numbers in writing before the meeting",
        ),
        ("We found that our letter was read out", "your letter was read out"),
        ("I was asked to speak, and I am glad", "you were asked to speak, and you are glad"),
        ("The chair was off sick, so it moved", "the chair was off sick, so it moved"),
        ("NHS Fife listen when we bring residents", "NHS Fife listen when you bring residents"),
        ("Jade told me what matters to her", "Jade told you what matters to her"),
        ("What I learned is that I'm better prepared", "you're better prepared"),
    ],
)
def test_reflect_says_the_users_words_back_to_them(written: str, said_back: str) -> None:
    assert render("{{ learned | reflect }}", {"learned": written}) == said_back


def test_reflect_keeps_the_first_sentence_of_a_long_answer() -> None:
    long = "I learned to ask first. " + "Then a lot happened that took the whole month " * 3

    assert render("{{ learned | reflect }}", {"learned": long}) == "to ask first"
