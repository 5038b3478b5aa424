"""Answers in the user's own words, through the engine: what people typed in issue 10 is
understood, suggested, checked or kept as their note, and read back, never refused outright.

Each test reads like the conversation it checks: walk to a question, say something the way a
person would, and look at the reply, the slots saved and what the summary says.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot import messages
from bot.engine import Engine
from bot.expressions import Condition


def at(chat: Any, state: str, dialogue: str = "diagnose") -> None:
    chat.open()
    chat.say(dialogue)
    chat.answer_until(state)


def slots(chat: Any) -> dict[str, Any]:
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    return row.slots


def summary_of(chat: Any) -> str:
    """Answer everything quickly up to the summary and return what it says."""
    chat.answer_until("commit")
    text = chat.text
    return text.split("From what you've told me")[0].split("Here are some ideas")[0]


def no_question_reprinted(chat: Any) -> bool:
    """A short check: one line, no options listed under it."""
    return len(chat.last.messages) == 1 and not chat.last.messages[0].choices


# == options named in words =====================================================================


@pytest.mark.parametrize(
    ("state", "said", "slot", "stored"),
    [
        ("role", "the councillor one", "role", "councillor"),
        ("mandate_source", "whoever funds them", "mandate_source", "commissioning"),
        ("allies", "faith groups", "allies", ["citizens_alliance"]),
        ("allies", "1 and 2", "allies", ["voluntary_groups", "citizens_alliance"]),
        ("power_kind", "money and position", "power_kinds", ["resources", "position"]),
        (
            "allies",
            "the two churches, the mosque and a councillor",
            "allies",
            ["citizens_alliance", "elected_reps"],
        ),
    ],
)
def test_words_that_name_options_are_understood(
    chat: Any, state: str, said: str, slot: str, stored: Any
) -> None:
    at(chat, state)

    chat.say(said)

    assert chat.state != state, chat.text
    assert slots(chat)[slot] == stored
    assert messages.PICK_ONE not in chat.text
    assert "I'll take that as:" in chat.text  # said back, so a misreading can be undone


def test_several_answers_are_joined_in_the_label_and_read_back(chat: Any) -> None:
    at(chat, "power_kind")
    chat.say("It's the money first, but it's also that they sit at the table and write the specs")
    assert slots(chat)["power_kinds"] == ["resources", "position"]
    chat.answer_until("allies")
    chat.say("the two churches, the mosque and a councillor")

    summary = summary_of(chat)

    assert (
        "Their main power: Resources others need (money, staff, buildings) and their position "
        "in the structure (they chair, commission or write up): \"It's the money first"
    ) in summary
    assert "Who shares the concern: A citizens' alliance or faith groups and elected " in summary
    # Every word of that answer named an option: nothing more to keep as a note.
    assert "the mosque" not in summary


def test_conditions_test_membership_and_an_unanswered_list_is_simply_false() -> None:
    condition = Condition("'position' in power_kinds")
    assert condition({"power_kinds": ["resources", "position"]})
    assert not condition({"power_kinds": ["resources"]})
    assert not condition({})  # not answered yet: false, not an error
    assert Condition("any_of(allies, ['elected_reps', 'intermediary'])")(
        {"allies": ["citizens_alliance", "elected_reps"]}
    )


def test_two_options_at_a_one_answer_question_get_a_short_check(chat: Any) -> None:
    at(chat, "role")

    chat.say("charity and councillor")

    assert chat.text == "Charity or councillor — which matters most here?"
    assert chat.state == "role" and "role" not in slots(chat)
    assert chat.last.awaits.kind == "choice"  # the buttons stay on offer
    chat.say("the first")
    assert slots(chat)["role"] == "voluntary"


def test_a_check_between_two_options_names_them_not_a_verb_out_of_a_label(chat: Any) -> None:
    at(chat, "who_decides", "own_power")

    chat.say("if I'm honest it's the panel criteria, so our policies. families aren't really asked")

    assert chat.text == (
        "You named two of these: *2. Our policies, targets or funders* and "
        "*5. Nobody has really asked*. Which matters most here?"
    )


def test_too_many_for_the_steps_max_asks_which_matter_most(chat: Any) -> None:
    at(chat, "habit", "own_power")

    chat.say("listening, the details and reflection")

    assert "Which 2 matter most here?" in chat.text
    assert no_question_reprinted(chat)
    chat.say("listening and reflection")
    assert slots(chat)["habits"] == ["listening", "reflection"]
    assert slots(chat)["habits_label"] == (
        "Truly listening and making reflection part of the job, not an extra"
    )


# == suggestions =================================================================================


def test_a_close_answer_is_suggested_and_yes_takes_it_even_after_a_restart(chat: Any) -> None:
    at(chat, "mandate_check")

    chat.say("people")

    assert chat.text == "That sounds like *4. The people who use the service*. Is that right?"
    assert no_question_reprinted(chat)
    assert slots(chat)["_suggested"] == {"at": "mandate_check", "values": ["service_users"]}

    restarted = Engine(chat.engine.store, chat.engine.catalog, clock=chat.engine.clock)
    chat.engine = restarted  # the process restarted between the suggestion and the yes
    chat.say("yes")

    assert slots(chat)["mandate_check"] == ["service_users"]  # several may be named here
    assert chat.state == "their_resources"
    assert not slots(chat)["_suggested"]


def test_no_to_a_suggestion_shows_the_options_again(chat: Any) -> None:
    at(chat, "mandate_check")
    chat.say("people")

    chat.say("no")

    assert messages.SUGGESTION_DECLINED in chat.text
    assert chat.last.messages[-1].choices  # the options, this time
    assert chat.state == "mandate_check"
    chat.say("2")
    assert slots(chat)["mandate_check"] == ["inspection"]


def test_back_leaves_no_stale_suggestion_behind(chat: Any) -> None:
    at(chat, "mandate_check")
    chat.say("people")

    chat.say("back")
    chat.say("2")  # the previous question again
    assert chat.state == "mandate_check"
    chat.say("yes")  # not a reply to anything shown now

    assert chat.state == "mandate_check"
    assert "mandate_check" not in slots(chat)


# == yes and no in sentences =====================================================================


def test_a_no_in_a_sentence_is_taken_and_the_sentence_kept(chat: Any) -> None:
    at(chat, "in_room")

    chat.say("Not that I know of. They don't invite us")

    assert slots(chat)["in_room"] is False
    assert slots(chat)["in_room_note"] == "Not that I know of. They don't invite us"
    assert "I'll take that as a no" in chat.text
    assert chat.state == "power_kind"
    summary = summary_of(chat)
    assert (
        "In the room where it's decided: no "
        '(in your words: "Not that I know of. They don\'t invite us")'
    ) in summary


def test_a_conditional_yes_is_a_yes(chat: Any) -> None:
    at(chat, "share_leadership")

    chat.say("yes, if it keeps the clinic open")

    assert slots(chat)["share_leadership"] is True
    assert slots(chat)["share_leadership_note"] == "yes, if it keeps the clinic open"


@pytest.mark.parametrize("said", ["maybe", "it depends", "sort of"])
def test_a_hedge_gets_a_short_check_not_a_refusal(chat: Any, said: str) -> None:
    at(chat, "in_room")

    chat.say(said)

    assert chat.text == messages.YES_NO_UNSURE
    assert chat.state == "in_room"
    chat.say("more yes")
    assert slots(chat)["in_room"] is True


# == ratings in words ============================================================================


@pytest.mark.parametrize(
    ("said", "value"), [("four", 4), ("about 4", 4), ("four out of five", 4), ("a great deal", 5)]
)
def test_a_rating_in_words_is_a_number(chat: Any, said: str, value: int) -> None:
    at(chat, "their_resources")

    chat.say(said)

    assert slots(chat)["their_resources"] == value
    assert chat.state == "my_resources"


def test_a_sentence_without_a_number_is_kept_and_the_number_asked_for_in_one_line(
    chat: Any,
) -> None:
    said = "I know this estate better than anyone at the trust"
    at(chat, "my_expertise")

    chat.say(said)

    assert no_question_reprinted(chat)
    assert chat.text.endswith("And as a number from 1 (very little) to 5 (a great deal)?")
    assert any(chat.text.startswith(noted) for noted in messages.NOTED)
    assert slots(chat)["my_expertise_note"] == said
    chat.say("A 5, they don't even know where the clinic is")
    assert slots(chat)["my_expertise"] == 5
    both = f"{said} / A 5, they don't even know where the clinic is"
    assert slots(chat)["my_expertise_note"] == both  # the second sentence adds to the first
    summary = summary_of(chat)
    assert f'Your expertise, in your words: "{both}"' in summary


# == every note read back ========================================================================


def test_the_summary_command_reads_back_notes_of_every_kind(chat: Any) -> None:
    at(chat, "in_room")
    chat.say("Not that I know of. They don't invite us")
    chat.answer_until("my_expertise")
    chat.say("I know this estate better than anyone at the trust")
    chat.say("5")
    chat.answer_until("allies")
    chat.say("faith groups, and the food bank")

    chat.say("summary")

    assert "Your expertise: 5 of 5 (in your words: I know this estate better" in chat.text
    assert "In the room: no (in your words: Not that I know of." in chat.text
    assert "Who shares the concern: A citizens' alliance or faith groups and other" in chat.text


def test_a_note_before_an_answer_is_in_the_summary_command_too(chat: Any) -> None:
    at(chat, "mandate_source")
    chat.say("It was set up years ago and nobody remembers why")

    chat.say("summary")

    assert "Their mandate: in your words: It was set up years ago" in chat.text


def test_lines_after_a_quoted_note_are_not_glued_together(chat: Any) -> None:
    at(chat, "power_kind")
    chat.say("Honestly it's whatever they decide to do with the money")
    chat.say("1")

    summary = summary_of(chat)

    assert '"Honestly it\'s whatever they decide to do with the money"\n' in summary
    assert '"Their mandate' not in summary and '"Who could' not in summary


def test_own_power_reads_back_a_sentence_kept_at_an_options_question(chat: Any) -> None:
    said = "Honestly it changes from one family to the next"
    at(chat, "who_decides", "own_power")
    chat.say(said)
    assert chat.state == "who_decides"
    chat.say("2")

    summary = summary_of(chat)

    assert (
        "Who decides what empowering means: Our policies, targets or funders "
        f'(in your words: "{said}")'
    ) in summary


def test_the_summary_command_says_a_slot_filled_by_a_role_s_own_question_once(chat: Any) -> None:
    chat.open()
    chat.say("diagnose")
    chat.say("councillor")
    chat.answer_until("allies_councillor")
    chat.say("the scrutiny chair and the children in care council")

    chat.say("summary")

    assert chat.text.count("Your sources of power:") == 1
    assert "Who could back you: The scrutiny chair or committee and people who use" in chat.text
    assert "Who shares the concern:" not in chat.text
    assert "Who is on their side:" not in chat.text


# == next steps picked in words ==================================================================


def test_a_next_step_is_picked_by_its_words_and_no_thanks_ends_the_plan(chat: Any) -> None:
    at(chat, "commit", "own_power")
    offered = [c.label for c in chat.last.awaits.choices]
    assert "Listen fully in your next conversation with them" in offered[1:]
    first = offered[0]
    chat.say(first)
    chat.say("in 2 weeks")
    chat.say("the one about listening")
    assert chat.state == "commit__due", chat.text
    assert "Listen fully in your next conversation with them" in chat.text
    chat.say("next friday")

    chat.say("no thanks")

    assert chat.state is None, chat.text
    assert "What you've committed to:" in chat.text


def test_no_before_enough_steps_are_picked_is_not_taken_as_done(chat: Any) -> None:
    at(chat, "commit", "own_power")

    chat.say("no thanks")

    assert chat.state == "commit"
    assert messages.COMMIT_ONE_MORE.format(least=2) in chat.text


def test_several_next_steps_picked_at_once_each_get_a_date(chat: Any) -> None:
    at(chat, "commit", "diagnose")
    offered = [c.label for c in chat.last.awaits.choices]

    chat.say("1 and 3")

    assert chat.state == "commit__due", chat.text
    assert f"Good: {offered[0]} and {offered[2][0].lower()}{offered[2][1:]}" in chat.text
    assert offered[0] in chat.last.messages[-1].text  # its date is asked first
    chat.say("next friday")
    assert chat.state == "commit__due", chat.text  # straight on to the second one's date
    assert offered[2] in chat.last.messages[-1].text
    chat.say("in 3 weeks")

    assert chat.state == "commit", chat.text  # room for a third, or enough
    assert [c["title"] for c in slots(chat)["commitments"]] == [offered[0], offered[2]]
    chat.say("that's enough")
    assert chat.state is None, chat.text


def test_several_next_steps_named_in_words_are_all_taken(chat: Any) -> None:
    at(chat, "commit", "diagnose")
    offered = [c.label for c in chat.last.awaits.choices]

    chat.say(f"the first one and also {offered[1].lower()}")

    assert chat.state == "commit__due", chat.text
    chat.say("next friday")
    chat.say("next friday")
    assert [c["title"] for c in slots(chat)["commitments"]] == offered[:2]


def test_more_next_steps_than_a_plan_holds_asks_which_matter_most(chat: Any) -> None:
    at(chat, "commit", "diagnose")

    chat.say("1, 2, 3 and 4")

    assert chat.state == "commit", chat.text
    assert "Which matter most?" in chat.text
    assert not slots(chat).get("commitments")


def test_back_from_the_second_date_of_steps_picked_together_asks_the_first_again(
    chat: Any,
) -> None:
    at(chat, "commit", "diagnose")
    offered = [c.label for c in chat.last.awaits.choices]
    chat.say("1 and 3")
    chat.say("next friday")
    assert offered[2] in chat.last.messages[-1].text

    reply = chat.say("back")

    assert chat.state == "commit__due", reply.text
    assert offered[0] in reply.messages[-1].text  # the first one's date, to give again
    chat.say("in 3 weeks")
    assert offered[2] in chat.last.messages[-1].text  # and on to the second one's
    chat.say("in 4 weeks")
    titles = [c["title"] for c in slots(chat)["commitments"]]
    assert titles == [offered[0], offered[2]]


@pytest.mark.parametrize("enough", ["that'll do for now", "I'm good, thanks"])
def test_saying_that_will_do_once_enough_steps_are_picked_ends_the_plan(
    chat: Any, enough: str
) -> None:
    at(chat, "commit", "diagnose")
    chat.say("1 and 2")
    chat.say("next friday")
    chat.say("in 3 weeks")

    chat.say(enough)

    assert chat.state is None, chat.text
    assert "That's your plan" in chat.text


def test_the_plan_lists_the_steps_soonest_first(chat: Any) -> None:
    """Tried as a charity manager: dated "a fortnight before cabinet", "before Christmas" and
    "next week", the plan read back in the order picked, the latest first."""
    at(chat, "commit", "diagnose")
    offered = [c.label for c in chat.last.awaits.choices]
    chat.say("1, 2 and 3")
    chat.say("in 5 weeks")
    chat.say("in 3 weeks")
    chat.say("next friday")

    plan = chat.text.split("That's your plan:")[1]
    assert plan.index(offered[2]) < plan.index(offered[1]) < plan.index(offered[0])


# == asking the coach about its question ========================================================


@pytest.mark.parametrize(
    ("state", "dialogue", "asked"),
    [
        ("situation", "diagnose", "why do you need to know that?"),
        ("mandate_source", "diagnose", "Why are you asking me this?"),
        ("their_position", "diagnose", "why does it matter"),
        ("power_felt", "own_power", "why do you ask?"),
    ],
)
def test_asked_why_the_coach_says_why_and_asks_again_keeping_nothing_as_the_answer(
    chat: Any, state: str, dialogue: str, asked: str
) -> None:
    at(chat, state, dialogue)
    step = chat.engine.catalog.dialogues[dialogue].dialogue.steps[state]

    chat.say(asked)

    assert chat.text.startswith(f"Good question. {step.why}")
    assert chat.state == state  # the question again
    assert step.slot not in slots(chat)  # the question to the coach is not the answer


@pytest.mark.parametrize(
    "asked", ["what do you mean?", "such as?", "I don't understand the question"]
)
def test_asked_what_a_question_means_the_coach_says_its_hint(chat: Any, asked: str) -> None:
    at(chat, "power_kind")
    step = chat.engine.catalog.dialogues["diagnose"].dialogue.steps["power_kind"]

    chat.say(asked)

    assert step.hint.split(".")[0] in chat.text
    assert chat.state == "power_kind" and "power_kinds" not in slots(chat)


def test_an_answer_that_mentions_not_understanding_them_is_still_an_answer(chat: Any) -> None:
    at(chat, "situation")

    chat.say("I don't understand why they closed the clinic without asking anyone")

    assert chat.state != "situation"
    assert slots(chat)["situation"].startswith("I don't understand why they closed")


def test_every_question_in_the_shipped_dialogues_can_say_why_it_is_asked(catalog: Any) -> None:
    for name in ("diagnose", "own_power"):
        steps = catalog.dialogues[name].dialogue.steps
        without = [
            step_id
            for step_id, step in steps.items()
            if step.kind in ("text", "choice", "scale", "yesno") and not step.why
        ]
        assert without == [], f"{name}: no `why` at {without}"


def test_a_councillor_asked_to_sign_off_a_closure_is_not_told_they_watch_from_outside(
    chat: Any,
) -> None:
    chat.open()
    chat.say("diagnose")
    chat.say("I'm the cabinet member for adult social care")

    chat.say(
        "officers want to close two of our four day centres to save 1.2m. I've been given a "
        "report with one option in it and I'm supposed to sign it off at cabinet on the 20th"
    )

    assert "from outside" not in chat.text
    assert "A paper with one option in it is a decision already half made." in chat.text


def test_me_and_a_manager_deciding_is_heard_as_mostly_me(chat: Any) -> None:
    """Tried as a youth worker: "me and the council's youth service manager mostly" was
    offered policies and "nobody has asked", never "Mostly me or my team"."""
    at(chat, "who_decides", "own_power")
    chat.say("me and the council's youth service manager mostly. the lads never get asked")
    assert "Mostly me or my team" in chat.text


def test_asking_them_what_they_want_is_heard_as_truly_listening(chat: Any) -> None:
    """Tried as a youth worker: "asking the lads what they want the sessions to be" was kept
    but matched to no habit."""
    at(chat, "habit", "own_power")
    chat.say("asking the lads what they want the sessions to be, properly, not just ticking boxes")
    assert "Truly listening" in chat.text and "Which of these comes closest?" not in chat.text


def test_a_situation_told_with_the_role_is_offered_back_not_asked_again(chat: Any) -> None:
    """Noticed in several trials: the situation written inside the role answer was asked for
    again ("What's going on?"), as if unheard."""
    chat.open()
    chat.say("start diagnose")

    reply = chat.say("I'm a councillor and the director won't share the SEND figures with scrutiny")

    assert 'You said: "The director won\'t share the SEND figures with scrutiny"' in reply.text
    assert "What's going on?" not in reply.text
    chat.say("yes, and the cabinet member backs her")
    situation = slots(chat)["situation"]
    assert situation.startswith("The director won't share the SEND figures with scrutiny.")
    assert situation.lower().endswith("the cabinet member backs her")


def test_a_role_answer_that_only_says_who_they_are_asks_for_the_situation(chat: Any) -> None:
    chat.open()
    chat.say("start diagnose")

    reply = chat.say("I'm the manager, it's a small charity, six staff and a lot of volunteers")

    assert "What's going on?" in reply.text and "You said:" not in reply.text
