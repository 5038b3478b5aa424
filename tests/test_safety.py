"""Safety signals interrupt any dialogue with human help, are recorded, and are never taken
as an answer; ordinary talk about power and funding does not set them off."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.loader import load_catalog
from bot.safety import SafetyDetector
from tests.conftest import DIALOGUES

BULLYING = "my manager has been bullying me"
SUICIDAL = "I feel suicidal"


def start_diagnose(chat: Any) -> None:
    """Open a chat and answer the first question, so the bot is asking about the situation."""
    chat.open()
    chat.say("start diagnose")
    chat.say("1")
    assert chat.state == "situation"


def conversation(chat: Any) -> Any:
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    return row


def events(chat: Any) -> list[dict[str, Any]]:
    return chat.engine.store.safety_events_of(chat.user)


def category(catalog: Any, category_id: str) -> Any:
    return next(c for c in catalog.safety.categories if c.id == category_id)


@pytest.mark.parametrize(
    ("said", "category_id", "help_words"),
    [
        (BULLYING, "harassment", ["Acas", "0300 123 1100", "trade union"]),
        (SUICIDAL, "self_harm", ["Samaritans", "116 123", "999"]),
        ("He threatened me after the meeting", "threats", ["999", "101"]),
        ("They said they will take us to court", "legal", ["Citizens Advice", "solicitor"]),
    ],
)
def test_a_safety_phrase_mid_dialogue_interrupts_with_the_right_help(
    chat: Any, catalog: Any, said: str, category_id: str, help_words: list[str]
) -> None:
    start_diagnose(chat)
    before = conversation(chat)

    reply = chat.say(said)

    assert reply.messages[0].text == category(catalog, category_id).message.strip()
    for words in help_words:
        assert words in reply.text
    ask = reply.messages[-1]
    assert "carry on" in ask.text and "stop" in ask.text
    assert [c.label for c in ask.choices] == [
        catalog.safety.continue_label,
        catalog.safety.stop_label,
    ]
    assert [(e["category"], e["conversation_id"]) for e in events(chat)] == [
        (category_id, before.id)
    ]
    after = conversation(chat)
    assert after.state == "situation"
    assert "situation" not in after.slots
    assert after.history == before.history


@pytest.mark.parametrize("carry_on", ["carry on", "1", "Carry on with the coaching", "continue"])
def test_carrying_on_after_a_safety_message_asks_the_same_question(
    chat: Any, carry_on: str
) -> None:
    start_diagnose(chat)
    asked = chat.last.messages[-1]
    chat.say(SUICIDAL)

    reply = chat.say(carry_on)

    assert reply.messages[-1] == asked
    assert reply.awaits.kind == "text"
    assert chat.state == "situation"

    chat.say("The board decides our funding")  # the next message is an answer again
    assert conversation(chat).slots["situation"] == "The board decides our funding"
    assert chat.state == "other_party"


@pytest.mark.parametrize("stop", ["stop", "2"])
def test_stopping_after_a_safety_message_pauses_the_conversation(chat: Any, stop: str) -> None:
    start_diagnose(chat)
    asked = chat.last.messages[-1]
    chat.say(BULLYING)

    reply = chat.say(stop)

    assert "whenever you want" in reply.text
    assert reply.awaits.kind == "none"
    row = conversation(chat)
    assert row.status == "paused"
    assert row.state == "situation"

    back = chat.open()

    assert "Welcome back" in back.text
    assert back.messages[-1] == asked


def test_an_unclear_reply_to_the_safety_question_asks_it_again(chat: Any) -> None:
    start_diagnose(chat)
    chat.say(SUICIDAL)
    safety_question = chat.last.messages[-1]

    reply = chat.say("I don't know")

    assert reply.messages[-1] == safety_question
    assert conversation(chat).pending == "safety"
    assert "situation" not in conversation(chat).slots


def test_a_once_per_conversation_category_interrupts_only_the_first_time(
    chat: Any, catalog: Any
) -> None:
    assert category(catalog, "harassment").every_time is False
    start_diagnose(chat)
    chat.say(BULLYING)
    chat.say("carry on")

    reply = chat.say(BULLYING)

    assert "Acas" not in reply.text
    assert chat.state == "other_party"
    assert conversation(chat).slots["situation"] == BULLYING
    assert [e["category"] for e in events(chat)] == ["harassment"]


def test_a_once_per_conversation_category_interrupts_again_in_a_new_conversation(
    chat: Any,
) -> None:
    start_diagnose(chat)
    chat.say(BULLYING)
    chat.say("carry on")

    chat.say("start own_power")
    reply = chat.say(BULLYING)

    assert "Acas" in reply.text
    assert [e["category"] for e in events(chat)] == ["harassment", "harassment"]
    assert len({e["conversation_id"] for e in events(chat)}) == 2


def test_an_every_time_category_interrupts_on_every_mention(chat: Any, catalog: Any) -> None:
    assert category(catalog, "self_harm").every_time is True
    start_diagnose(chat)
    chat.say(SUICIDAL)
    chat.say("carry on")

    reply = chat.say(SUICIDAL)

    assert "Samaritans" in reply.text
    assert chat.state == "situation"
    assert "situation" not in conversation(chat).slots
    assert [e["category"] for e in events(chat)] == ["self_harm", "self_harm"]


@pytest.mark.parametrize(
    "said",
    [
        "they see us as a threat to their budget",
        "the issue is the funding",
        "Nobody on the board has asked what residents think",
    ],
)
def test_ordinary_coaching_talk_does_not_interrupt(chat: Any, said: str) -> None:
    start_diagnose(chat)

    chat.say(said)

    assert chat.state == "other_party"
    assert conversation(chat).slots["situation"] == said
    assert events(chat) == []


def test_a_safety_phrase_in_the_menu_answers_with_help_and_records_it(
    chat: Any, catalog: Any
) -> None:
    chat.open()
    assert chat.state is None  # no dialogue running

    reply = chat.say(SUICIDAL)

    assert category(catalog, "self_harm").message.strip() in reply.text
    assert "Samaritans" in reply.text
    labels = [c.label for c in reply.messages[-1].choices]
    assert "Diagnose a power situation" in labels
    assert [(e["category"], e["conversation_id"]) for e in events(chat)] == [("self_harm", None)]
    assert chat.engine.store.conversations_of(chat.user) == []  # no dialogue was started


# -- screening every message cheaply must never miss a phrase ----------------------------

_PHRASE_WORDS = sorted(
    {
        word
        for config in [load_catalog(DIALOGUES).safety]
        if config is not None
        for c in config.categories
        for p in c.phrases
        for word in p.replace("*", "").split()
    }
)
_FILLER = ["the", "council", "board", "funding", "i", "my", "me", "to", "at", "work", "ment"]
_GLUE = [" ", "  ", "\n", ", ", "-", "'", "’", ".", ""]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_PHRASE_WORDS + _FILLER + ["HARASSED", "Suicidal", "sexualised"]),
            st.sampled_from(_GLUE),
        ),
        max_size=14,
    )
)
def test_the_word_screen_finds_exactly_what_the_phrases_find(
    catalog: Any, pieces: list[tuple[str, str]]
) -> None:
    """Messages stitched from the phrases' own words, with odd spacing, punctuation, case and
    curly apostrophes: the quick screen and the full patterns always agree."""
    detector = SafetyDetector(catalog.safety)
    text = "".join(word + glue for word, glue in pieces)
    fast, full = detector.detect(text), detector.detect_unscreened(text)
    assert (fast and fast.category.id) == (full and full.category.id), text


def test_a_phrase_at_the_end_of_a_long_ordinary_message_is_found(catalog: Any) -> None:
    detector = SafetyDetector(catalog.safety)
    text = "The partnership board decides our funding next month; no seat at the table. " * 50
    assert detector.detect(text) is None
    assert detector.detect(text + " Honestly I feel suicidal.").category.id == "self_harm"
