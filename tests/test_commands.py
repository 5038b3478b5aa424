"""Commands a user can type at any prompt, and how each kind of question reads an answer.

Every test looks at what the user would notice: the words of the reply, the question asked
next, and what the store holds for the conversation afterwards.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot import messages
from bot.templates import render
from bot.turns import BotMessage


def answer_until(chat: Any, state: str, limit: int = 60) -> None:
    chat.answer_until(state, limit)


def start_diagnose(chat: Any) -> None:
    chat.open()
    chat.say("start diagnose")
    assert chat.state == "role"


def slots(chat: Any) -> dict[str, Any]:
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    return row.slots


def question(chat: Any) -> BotMessage:
    """The question the bot asked last: the final message of its last reply."""
    return chat.last.messages[-1]


# == help ====================================================================================


def test_help_lists_the_commands_and_asks_the_same_question_again(chat: Any) -> None:
    start_diagnose(chat)
    asked = question(chat)

    chat.say("help")

    for command in ("help", "back", "restart", "summary", "pause", "menu", "quit"):
        assert f"  {command}" in chat.text
    assert question(chat) == asked
    assert "Hint for this question" not in chat.text  # the role question has no hint
    assert chat.state == "role"


def test_help_shows_the_hint_of_a_question_that_has_one(chat: Any, catalog: Any) -> None:
    start_diagnose(chat)
    chat.say("1")
    asked = question(chat)
    template = catalog.dialogues["diagnose"].dialogue.steps["situation"].hint
    hint = render(template, {"role": "voluntary"})  # hints may be written for each role

    chat.say("?")

    assert f"Hint for this question: {hint}" in chat.text
    assert question(chat) == asked
    assert chat.state == "situation"


# == back ====================================================================================


def test_back_undoes_the_last_answer_and_asks_that_question_again(chat: Any) -> None:
    start_diagnose(chat)
    chat.say("1")
    situation_question = question(chat)
    chat.say("The partnership board is cutting our grant")
    assert slots(chat)["situation"] == "The partnership board is cutting our grant"

    chat.say("back")

    assert chat.state == "situation"
    assert "situation" not in slots(chat)
    assert slots(chat)["role"] == "voluntary"  # only the last answer is undone
    assert chat.last.messages[0].text.startswith("Undone")
    assert question(chat) == situation_question
    assert chat.last.awaits.kind == "text"


def test_a_message_taking_back_the_last_answer_undoes_it_instead_of_answering(
    chat: Any,
) -> None:
    """Tried as a charity manager: their position got "on the edge, 2" (meant for her own),
    and "sorry, that 2 was meant for us. they are a 5" was then taken as her own position,
    5 ("That's high for someone outside the room"). A correction is understood as one."""
    start_diagnose(chat)
    answer_until(chat, "their_position")
    asked = question(chat)
    chat.say("on the edge, 2, nobody asks us until it's decided")
    assert chat.state == "my_position" and slots(chat)["their_position"] == 2

    chat.say("sorry, that 2 was meant for us. they are a 5")

    assert "taken back your last answer" in chat.text
    assert chat.state == "their_position" and "their_position" not in slots(chat)
    assert "my_position" not in slots(chat)
    assert question(chat) == asked
    chat.say("5")
    chat.say("2")
    assert slots(chat)["their_position"] == 5 and slots(chat)["my_position"] == 2


@pytest.mark.parametrize(
    "said",
    ["the money was meant for us but the council kept it", "they asked the wrong question"],
)
def test_an_answer_that_only_sounds_like_a_correction_is_an_answer(chat: Any, said: str) -> None:
    start_diagnose(chat)
    chat.say("1")
    chat.say(said)
    assert "taken back" not in chat.text
    assert slots(chat)["situation"] == said


def test_back_at_the_first_question_says_there_is_nothing_to_undo(chat: Any) -> None:
    start_diagnose(chat)
    asked = question(chat)

    chat.say("back")

    assert "nothing to undo" in chat.text
    assert chat.state == "role"
    assert question(chat) == asked


def test_back_twice_walks_back_two_answers(chat: Any) -> None:
    start_diagnose(chat)
    role_question = question(chat)
    chat.say("2")
    chat.say("We have no seat at the table")

    chat.say("undo")
    chat.say("back")

    assert chat.state == "role"
    assert "role" not in slots(chat) and "situation" not in slots(chat)
    assert question(chat) == role_question


def test_back_through_a_message_step_lands_on_the_last_question(chat: Any) -> None:
    start_diagnose(chat)
    answer_until(chat, "mandate_check")
    mandate_question = question(chat)
    chat.say("2")  # passes the asymmetry_intro message on the way to their_resources
    assert chat.state == "their_resources"
    assert "Next, the imbalance" in chat.text

    chat.say("back")

    assert chat.state == "mandate_check"
    assert "mandate_check" not in slots(chat)
    assert question(chat) == mandate_question
    assert "Next, the imbalance" not in chat.text  # the message step is not replayed


def test_back_inside_the_commit_step_undoes_a_picked_next_step(chat: Any) -> None:
    start_diagnose(chat)
    answer_until(chat, "commit")
    offered = chat.last.awaits.choices
    chat.say("1")
    assert chat.state == "commit__due"
    assert slots(chat)["pick"]["title"] == offered[0].label

    chat.say("back")

    assert chat.state == "commit"
    assert not slots(chat).get("pick")
    assert chat.last.awaits.choices == offered  # the first option is on offer again


def test_back_after_dating_a_next_step_takes_it_off_the_list(chat: Any) -> None:
    start_diagnose(chat)
    answer_until(chat, "commit")
    chat.say("1")
    due_question = question(chat)
    chat.say("in 2 weeks")
    assert len(slots(chat)["commitments"]) == 1

    chat.say("back")

    assert chat.state == "commit__due"
    assert not slots(chat).get("commitments")
    assert question(chat) == due_question


# == restart, pause, summary, quit, menu, start ===============================================


def test_restart_goes_back_to_the_first_question_with_answers_cleared(chat: Any) -> None:
    start_diagnose(chat)
    role_question = question(chat)
    answer_until(chat, "other_kind")

    chat.say("restart")

    assert chat.state == "role"
    assert "again from the beginning" in chat.text
    assert question(chat) == role_question
    kept = slots(chat)
    for slot in ("role", "situation", "other_party"):
        assert slot not in kept
    row = chat.engine.store.current_conversation(chat.user)
    assert row.history == []
    chat.say("back")  # nothing of the earlier run is left to undo
    assert "nothing to undo" in chat.text


def test_pause_then_a_new_message_welcomes_back_to_the_same_question(chat: Any) -> None:
    start_diagnose(chat)
    chat.say("1")
    chat.say("The board decides our funding")
    asked = question(chat)

    chat.say("pause")

    assert "Paused" in chat.text
    assert chat.last.awaits.kind == "none"
    assert chat.engine.store.current_conversation(chat.user).status == "paused"

    chat.say("hi")

    assert "Welcome back" in chat.text
    assert "Diagnose a power situation" in chat.text
    assert question(chat) == asked
    assert chat.state == "other_party"
    assert slots(chat)["role"] == "voluntary"
    assert slots(chat)["situation"] == "The board decides our funding"
    assert "other_party" not in slots(chat)  # "hi" was not taken as the answer
    assert chat.engine.store.current_conversation(chat.user).status == "active"


def test_summary_lists_the_answers_in_the_users_words_then_asks_again(chat: Any) -> None:
    start_diagnose(chat)
    role_label = chat.last.awaits.choices[1].label
    chat.say("2")
    chat.say("The council closed our drop-in without asking anyone")
    chat.say("The housing team")
    asked = question(chat)
    before = dict(slots(chat))

    chat.say("summary")

    assert "What you've told me so far" in chat.text
    assert role_label in chat.text
    assert "The council closed our drop-in without asking anyone" in chat.text
    assert "The housing team" in chat.text
    assert question(chat) == asked
    assert slots(chat) == before
    assert chat.state == "other_kind"


def test_summary_before_any_answer_says_so(chat: Any) -> None:
    start_diagnose(chat)
    asked = question(chat)

    chat.say("summary")

    assert "haven't answered any questions" in chat.text
    assert question(chat) == asked


def test_quit_ends_the_chat_and_keeps_the_conversation_to_resume(chat: Any) -> None:
    start_diagnose(chat)
    chat.say("3")
    asked = question(chat)

    reply = chat.say("quit")

    assert reply.ended
    assert reply.awaits.kind == "none"
    assert "Goodbye" in reply.text
    assert chat.engine.store.current_conversation(chat.user).status == "paused"

    reopened = chat.open()

    assert "Welcome back" in reopened.text
    assert question(chat) == asked
    assert chat.state == "situation"
    assert slots(chat)["role"] == "councillor"


@pytest.mark.parametrize("pick", ["1", "carry on: diagnose a power situation"])
def test_menu_then_carry_on_resumes_where_they_were(chat: Any, pick: str) -> None:
    start_diagnose(chat)
    chat.say("1")
    asked = question(chat)

    chat.say("menu")

    labels = [c.label for c in chat.last.awaits.choices]
    assert labels[0] == "Carry on: Diagnose a power situation"
    assert "Reflect on your own power" in labels

    chat.say(pick)

    assert "Welcome back" in chat.text
    assert question(chat) == asked
    assert chat.state == "situation"
    assert slots(chat)["role"] == "voluntary"


def test_starting_another_dialogue_sets_the_current_one_aside(chat: Any) -> None:
    start_diagnose(chat)
    chat.say("1")

    chat.say("start own_power")

    assert "set Diagnose a power situation aside" in chat.text
    by_dialogue = {c.dialogue: c for c in chat.engine.store.conversations_of(chat.user)}
    assert by_dialogue["diagnose"].status == "abandoned"
    assert by_dialogue["diagnose"].slots["role"] == "voluntary"  # kept in the history
    assert by_dialogue["own_power"].status == "active"
    assert chat.engine.store.current_conversation(chat.user).dialogue == "own_power"
    assert chat.state == "who_relies"


def test_starting_an_unknown_dialogue_names_the_ones_available(chat: Any) -> None:
    start_diagnose(chat)
    asked = question(chat)

    chat.say("start juggling")

    assert "don't know a dialogue called 'juggling'" in chat.text
    assert "diagnose" in chat.text and "own_power" in chat.text
    assert question(chat) == asked
    assert len(chat.engine.store.conversations_of(chat.user)) == 1


def test_a_text_answer_that_begins_with_start_is_taken_as_the_answer(chat: Any) -> None:
    start_diagnose(chat)
    chat.say("1")

    chat.say("Start of term the school cut our hours")

    assert "don't know a dialogue" not in chat.text
    assert slots(chat).get("situation") == "Start of term the school cut our hours"
    assert chat.state == "other_party"


# == reading answers ===========================================================================


@pytest.mark.parametrize("how", ["number", "label", "shouted label", "value"])
def test_a_choice_can_be_answered_by_number_label_or_value(chat: Any, how: str) -> None:
    start_diagnose(chat)
    third = chat.last.awaits.choices[2]
    answer = {
        "number": "3",
        "label": third.label,
        "shouted label": third.label.upper(),
        "value": third.value,
    }[how]

    chat.say(answer)

    assert slots(chat)["role"] == third.value
    assert slots(chat)["role_label"] == third.label
    assert chat.state == "situation"


@pytest.mark.parametrize("answer", ["everything", "7", "0", "banana"])
def test_anything_else_at_a_choice_asks_again_with_the_options(chat: Any, answer: str) -> None:
    start_diagnose(chat)
    asked = question(chat)
    ref = chat.last.awaits.ref

    chat.say(answer)

    assert "Please pick one of the options" in chat.text
    assert question(chat) == asked
    assert question(chat).choices  # the options are shown again
    assert chat.state == "role"
    assert "role" not in slots(chat)
    assert chat.last.awaits.ref == ref  # nothing moved on


@pytest.mark.parametrize("answer", ["9", "0", "-1", "6/5", "banana"])
def test_a_scale_answer_out_of_range_asks_again(chat: Any, answer: str) -> None:
    start_diagnose(chat)
    answer_until(chat, "their_resources")
    asked = question(chat)

    chat.say(answer)

    assert "Please give a number from 1 to 5" in chat.text
    assert chat.state == "their_resources"
    assert "their_resources" not in slots(chat)
    assert question(chat) == asked
    assert chat.last.awaits.kind == "scale"


@pytest.mark.parametrize("answer", ["4", "4/5", "5 – a great deal"])
def test_a_scale_accepts_a_number_in_range_or_an_option(chat: Any, answer: str) -> None:
    start_diagnose(chat)
    answer_until(chat, "their_resources")

    chat.say(answer)

    assert slots(chat)["their_resources"] == int(answer[0])
    assert chat.state == "my_resources"


@pytest.mark.parametrize(
    ("answer", "stored", "next_state"),
    [("y", True, "power_kind"), ("n", False, "power_kind"), ("YES", True, "power_kind")],
)
def test_a_yes_no_question_accepts_y_and_n(
    chat: Any, answer: str, stored: bool, next_state: str
) -> None:
    start_diagnose(chat)
    answer_until(chat, "in_room")

    chat.say(answer)

    assert slots(chat)["in_room"] is stored
    assert chat.state == next_state


def test_a_yes_no_question_refuses_a_word_that_is_neither(chat: Any) -> None:
    start_diagnose(chat)
    answer_until(chat, "in_room")
    asked = question(chat)

    chat.say("banana")

    assert "Please answer yes or no" in chat.text
    assert question(chat) == asked
    assert "in_room" not in slots(chat)
    assert chat.state == "in_room"


def _due_dates(chat: Any) -> list[str]:
    return [c["due_date"] for c in slots(chat).get("commitments") or []]


@pytest.mark.parametrize("answer", ["2026-12-01", "in 2 weeks", "next friday"])
def test_a_date_is_read_from_common_forms(chat: Any, clock: Any, answer: str) -> None:
    start_diagnose(chat)
    answer_until(chat, "commit")
    chat.say("1")
    assert chat.state == "commit__due"
    today = clock.now.date()

    chat.say(answer)

    assert chat.state == "commit"
    (due,) = _due_dates(chat)
    when = dt.date.fromisoformat(due)
    if answer == "2026-12-01":
        assert when == dt.date(2026, 12, 1)
    elif answer == "in 2 weeks":
        assert when == today + dt.timedelta(weeks=2)
    else:
        assert when.weekday() == 4  # a Friday
        assert today < when <= today + dt.timedelta(days=14)


def test_the_understood_date_is_read_back_and_back_lets_the_user_change_it(chat: Any) -> None:
    start_diagnose(chat)
    answer_until(chat, "commit")
    chat.say("1")

    chat.say("next friday")  # the clock says Monday 23 November 2026

    assert "Noted: Friday 27 November 2026" in chat.text
    chat.say("back")
    assert chat.state == "commit__due"
    assert _due_dates(chat) == []
    chat.say("4 december")
    assert "Noted: Friday 4 December 2026" in chat.text
    assert _due_dates(chat) == ["2026-12-04"]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("banana", "couldn't read that as a date"),
        ("2026-11-01", "1 November 2026 has already passed"),
        ("2020-01-01", "has already passed"),
    ],
)
def test_a_date_that_cannot_be_read_or_has_passed_is_refused(
    chat: Any, answer: str, words: str
) -> None:
    start_diagnose(chat)
    answer_until(chat, "commit")
    chat.say("1")
    asked = question(chat)

    chat.say(answer)

    assert words in chat.text
    assert question(chat) == asked
    assert chat.state == "commit__due"
    assert _due_dates(chat) == []


def test_a_sentence_at_a_choice_is_kept_in_the_users_words_and_the_options_asked_again(
    chat: Any,
) -> None:
    """People explain before they pick. What they wrote is kept with the question, shown
    back in the summary, and the options are offered again."""
    start_diagnose(chat)
    chat.answer_until("mandate_source")
    asked = question(chat)
    account = "It was set up years ago and nobody remembers why"

    chat.say(account)

    assert any(noted in chat.text for noted in messages.NOTED)
    assert question(chat) == asked
    assert chat.state == "mandate_source"
    assert slots(chat)["mandate_source_note"] == account
    chat.say("1")
    assert slots(chat)["mandate_source"] == asked.choices[0].value
    chat.say("summary")
    assert f"{asked.choices[0].label} (in your words: {account})" in chat.text


def test_stopping_after_one_next_step_asks_kindly_for_a_second(chat: Any) -> None:
    start_diagnose(chat)
    answer_until(chat, "commit")
    chat.say("1")
    chat.say("next friday")

    reply = chat.say("no that's enough")

    assert "Let's choose at least 2" in reply.text
    assert chat.state == "commit"
    assert len(slots(chat).get("commitments") or []) == 1
