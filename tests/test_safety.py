"""The safety detector on its own: levels, negation, idiom, typos, and a quick screen that
never misses what the rules find. What the user sees is in test_safety_flow.py; the words of
every rule are in dialogues/safety.yaml, the corpus runs in test_safety_corpus*.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import SafetyUnavailable
from bot.loader import load_catalog
from bot.safety import NOTHING, SafetyDetector, Screening
from bot.schema import rule_pattern
from tests.conftest import DIALOGUES

# -- screening every message cheaply must never miss a rule --------------------------------


def _rule_words() -> list[str]:
    config = load_catalog(DIALOGUES).safety
    assert config is not None
    patterns = [rule_pattern(r) for c in config.categories for r in c.rules]
    patterns += [p for c in config.categories for p in c.exceptions]
    words = {w for p in patterns for w in re.findall(r"[^\W_]+(?:'[^\W_]+)*", p)}
    words |= {w for ws in config.words.values() for w in ws} | set(config.negation.words)
    return sorted(words)


_RULE_WORDS = _rule_words()
_FILLER = ["the", "council", "board", "funding", "i", "my", "me", "to", "at", "work", "ment"]
_GLUE = [" ", "  ", "\n", ", ", "-", "'", "’", ".", "", "! ", "dont ", "im ", "*"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_RULE_WORDS + _FILLER + ["HARASSED", "Suicidel", "THREATENED"]),
            st.sampled_from(_GLUE),
        ),
        max_size=16,
    )
)
def test_the_quick_screen_finds_exactly_what_every_rule_finds(
    detector: SafetyDetector, pieces: list[tuple[str, str]]
) -> None:
    """Messages stitched from the rules' own words, with odd spacing, punctuation, case,
    contractions and curly apostrophes: the key-word screen and every rule run unfiltered
    always agree."""
    text = "".join(word + glue for word, glue in pieces)
    assert _ids(detector.screen(text)) == _ids(detector.screen_unfiltered(text)), text


def _ids(screening: Screening) -> tuple[str | None, tuple[str, ...]]:
    alert = screening.alert.category.id if screening.alert else None
    return alert, tuple(n.category.id for n in screening.notes)


def test_a_signal_at_the_end_of_a_long_ordinary_message_is_found(
    detector: SafetyDetector,
) -> None:
    text = "The partnership board decides our funding next month; no seat at the table. " * 50
    assert detector.screen(text) == NOTHING
    assert detector.detect(text + " Honestly I feel suicidal.").category.id == "self_harm"


def test_a_sentence_is_heard_the_same_in_the_middle_of_a_long_message() -> None:
    """Each corpus sentence raises the same alert alone and between two long paragraphs of
    ordinary talk (a rule is tried only where its match can begin: none may be missed).
    The rules alone: the model reads the sentence run into the filler as one sentence."""
    from pathlib import Path

    from bot.safety_eval import load_corpus

    detector = SafetyDetector(load_catalog(DIALOGUES).require_safety(), model=None)
    corpus = Path(__file__).resolve().parent / "safety" / "corpus.yaml"
    filler = "We run the lunch club and the council decides our funding every March. " * 15
    for example in load_corpus(corpus):
        alone = _ids(detector.screen(example.text))[0]
        assert _ids(detector.screen(f"{filler}{example.text} {filler}"))[0] == alone, example


# -- the detector: levels, words as people write them, negation, idiom -------------------


@pytest.fixture(scope="module")
def detector() -> SafetyDetector:
    return SafetyDetector(load_catalog(DIALOGUES).require_safety())


def alert_of(detector: SafetyDetector, text: str) -> str | None:
    alert = detector.screen(text).alert
    return alert.category.id if alert else None


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        # the sentences issue 9 names
        (
            "the manager at the trust shouted at me on the phone today "
            "and I felt really threatened",
            "hostility",
        ),
        ("I've been stockpiling my tablets", "self_harm"),
        ("nobody would even notice if I was gone", "self_harm"),
        ("he cornered me in the car park after the meeting", "violence"),
        ("they do my accent back at me every time I speak", "discrimination"),
        ("I don't feel safe", "violence"),
        # word forms, contractions and slips
        ("he threatens me every time we disagree", "violence"),
        ("Hes been THREATENING me", "violence"),
        ("feeling suicidel again", "self_harm"),
        ("i cant cope anymore", "distress"),
        ("I can’t cope any more", "distress"),
        ("I'm being bullied at work", "bullying"),
        ("my colleague told me she wants to kill herself", "self_harm"),
        # apostrophes left out, as phones type them
        ("he said hell kill me if i go to the police", "violence"),
        ("honestly id rather be dead", "self_harm"),
        ("someone wrote p*** on my car", "discrimination"),
    ],
)
def test_distress_is_heard_as_people_write_it(
    detector: SafetyDetector, text: str, expect: str
) -> None:
    assert alert_of(detector, text) == expect


@pytest.mark.parametrize(
    "text",
    [
        "their decision is a real threat to our funding",
        "the cuts will kill the service",
        "I'd kill for a seat at that table",
        "it's a battle every year",
        "they bulldozed the plan through",
        "I'm angry, we've written twice",
        "I'm not in danger, just fed up",
        "nobody threatened me, I just want to get the tone right",
        "I have never felt unsafe at the centre",
        "closing the children's centres is political suicide for the administration",
        "the suicide prevention strategy is out for consultation",
        "they're holding a gun to our heads over the contract",
        "she's off ill this week so I'm chairing",
        "what the hell is the council playing at",
    ],
)
def test_ordinary_power_talk_raises_nothing(detector: SafetyDetector, text: str) -> None:
    assert detector.screen(text).alert is None, detector.screen(text).alert


def test_a_legal_word_is_a_note_and_not_an_alert(detector: SafetyDetector) -> None:
    screening = detector.screen("We're thinking about a judicial review of the closure")
    assert screening.alert is None
    assert [n.category.id for n in screening.notes] == ["legal"]
    assert screening.notes[0].category.level == "note"
    assert "\n" not in screening.notes[0].category.message.strip()


def test_a_legal_threat_with_fear_is_a_concern_and_keeps_its_note(
    detector: SafetyDetector,
) -> None:
    screening = detector.screen("they've threatened to sue me personally and I'm terrified")
    assert screening.alert is not None
    assert (screening.alert.category.id, screening.alert.level) == ("legal_threat", "concern")
    assert [n.category.id for n in screening.notes] == ["legal"]


def test_the_most_serious_signal_wins(detector: SafetyDetector) -> None:
    text = "he shouted at me in the meeting and now I want to kill myself"
    screening = detector.screen(text)
    assert screening.alert is not None
    assert (screening.alert.category.id, screening.alert.level) == ("self_harm", "danger")
    assert detector.detect(text) == screening.alert


def test_each_signal_names_the_rule_that_found_it(detector: SafetyDetector) -> None:
    alert = detector.screen("I feel suicidal").alert
    assert alert is not None
    assert "suicid" in alert.rule


def test_every_concern_category_says_where_to_turn_if_unsafe(catalog: Any) -> None:
    levels = {c.id: c.level for c in catalog.safety.categories}
    for c in catalog.safety.categories:
        if c.level == "concern":
            assert c.ack and levels[c.unsafe] == "danger"
        assert c.every_time is (c.level == "danger")


def test_without_a_configuration_there_is_no_detector() -> None:
    with pytest.raises(SafetyUnavailable) as caught:
        SafetyDetector(None)
    assert "will not start" in str(caught.value)


def _dialogue_texts(catalog: Any, *, answers_only: bool) -> list[str]:
    texts: list[str] = []
    for loaded in catalog.dialogues.values():
        for step in loaded.dialogue.steps.values():
            if step.kind == "choice":
                texts += [t for c in step.choices for t in (c.value.replace("_", " "), c.label)]
            if not answers_only:
                texts += [
                    getattr(step, f) for f in ("prompt", "text", "hint") if getattr(step, f, None)
                ]
        if not answers_only:
            texts += [t for r in loaded.dialogue.recommendations for t in (r.title, r.text, r.idea)]
    return texts


def test_no_option_a_user_can_pick_raises_anything(catalog: Any, detector: SafetyDetector) -> None:
    """The coach's own words for power ("statute", "gender, sexuality") are not signals."""
    raised = {t: detector.screen(t) for t in _dialogue_texts(catalog, answers_only=True)}
    assert {t: s for t, s in raised.items() if s != NOTHING} == {}


def test_no_text_of_a_dialogue_raises_an_alert(catalog: Any, detector: SafetyDetector) -> None:
    """The coach's words, as a user sees them and might quote them back (template code
    such as `{% macro said(note) %}` is not words anyone types)."""
    import re

    texts = [
        re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " ", t, flags=re.S)
        for t in _dialogue_texts(catalog, answers_only=False)
    ]
    assert [t for t in texts if detector.screen(t).alert is not None] == []
