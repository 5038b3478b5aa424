"""Check-ins that respond: the lesson said back in the user's words, one reading chosen by
the rules in checkin.yaml (a suggestion, or the idea behind the step), "partly" closed as done
enough, the other open steps listed with their dates, several due steps one after another
with "later" to skip one, and an offer to revisit the diagnosis after two steps in a row
were not done or dropped.

The fake clock stands in for the days until the steps fall due.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.templates import day
from tests.conftest import Chat
from tests.test_followups import finish_diagnose, labels, next_steps

STANDING_REQUEST = "is worth making a standing request"


def due_in(chat: Chat, clock: Any, days: int, *, steps: int = 2) -> list[Any]:
    """A finished diagnosis whose `steps` steps are all due `days` from now; then the clock
    moves past it. The steps, in order."""
    chat.open()
    finish_diagnose(chat, steps=steps, due=f"in {days} days")
    clock.advance(days=days + 1)
    return next_steps(chat)


def test_the_lesson_is_said_back_and_a_rule_chosen_suggestion_follows(
    chat: Chat, clock: Any
) -> None:
    first, second = due_in(chat, clock, 7)
    with chat.engine.store.transaction():  # only the first is due now
        chat.engine.store.redate_next_step(second.id, chat.user, "2026-12-14", "now")
    chat.open()
    chat.say("Done")

    reply = chat.say("I learned I need to ask for the figures in writing before the meeting")

    said = [m.text for m in reply.messages]
    assert said[0] == (
        "What I hear: you need to ask for the figures in writing before the meeting."
    )
    assert STANDING_REQUEST in said[1] and "(Huxham and Beech (2008); Batsleer (2008))" in said[1]
    assert "Thank you, that's recorded as done." in said[2]
    assert f"Your other open steps:\n• {second.title}, by Monday 14 December 2026" in said[2]
    assert "(due now)" not in said[2]
    stored = chat.engine.store.get_next_step(first.id)
    assert (stored.outcome, stored.status) == ("done", "closed")


def test_without_a_word_rule_the_idea_behind_the_step_comes_back(chat: Chat, clock: Any) -> None:
    step = due_in(chat, clock, 7)[0]
    chat.open()
    chat.say("Done")

    reply = chat.say("It went fine")

    assert "What I hear" not in reply.text  # too short to say back
    assert f"That's the idea behind the step at work: {step.idea} ({step.source})" in reply.text


def test_what_got_in_the_way_is_said_back_and_a_smaller_step_suggested(
    chat: Chat, clock: Any
) -> None:
    due_in(chat, clock, 7)
    chat.open()
    chat.say("Not yet")

    reply = chat.say("We were so busy with the winter appeal that I had no time")

    assert "So what got in the way: you were so busy with the winter appeal that you had no" in (
        reply.text
    )
    assert "make the next try smaller" in reply.text
    assert chat.state == "new_due"


def test_partly_can_be_closed_as_done_enough(chat: Chat, clock: Any) -> None:
    first, _ = due_in(chat, clock, 7)
    chat.open()
    chat.say("Partly")
    reply = chat.say("She said independence means choosing when the carers come")

    assert "in their words, not the service's" in reply.text  # their own meaning, kept
    assert "Is it done enough to close" in reply.text
    assert labels(reply) == ["Done enough, close it", "Keep it open, with a new date"]
    reply = chat.say("done enough")

    stored = chat.engine.store.get_next_step(first.id)
    assert (stored.outcome, stored.status) == ("done", "closed")
    assert stored.learned == "She said independence means choosing when the carers come"
    assert "recorded as done" in reply.text


def test_partly_kept_open_gets_a_new_date(chat: Chat, clock: Any) -> None:
    first, _ = due_in(chat, clock, 7)
    chat.open()
    chat.say("Partly")
    chat.say("Some of it")
    chat.say("keep it open")

    assert chat.state == "new_due"
    reply = chat.say("in 2 weeks")

    stored = chat.engine.store.get_next_step(first.id)
    new_due = (clock.now.date() + dt.timedelta(weeks=2)).isoformat()
    assert (stored.outcome, stored.status, stored.due_date) == ("partly", "open", new_due)
    assert f"I'll check in again by {day(new_due)}." in reply.text


def test_two_due_steps_are_checked_in_one_after_another_and_later_skips_one(
    chat: Chat, clock: Any
) -> None:
    first, second = due_in(chat, clock, 7)

    opened = chat.open()
    greeting, intro = opened.messages[0].text, opened.messages[1].text
    assert greeting.startswith("Welcome back") and "Your other open steps" not in greeting
    assert f"• {first.title}" in greeting and f"• {second.title}" in greeting  # both due
    assert intro.startswith(
        "Before anything else, a quick check-in on the 2 steps you planned that have come due"
    )
    checkin = "\n".join(m.text for m in opened.messages[1:])
    assert first.title in checkin and second.title not in checkin  # one at a time
    reply = chat.say("later")

    assert "I'll ask about this one again tomorrow." in reply.text
    assert "Now the next step that's due." in reply.text
    assert second.title in reply.text and labels(reply)[-1] == "Remind me later"
    skipped = chat.engine.store.get_next_step(first.id)
    assert (skipped.outcome, skipped.status, skipped.due_date) == (None, "open", first.due_date)

    chat.say("Done")
    reply = chat.say("They agreed to meet")
    assert f"Your other open steps:\n• {first.title}, by {day(first.due_date)} (due now)" in (
        reply.text
    )
    assert reply.awaits.ref == "menu"  # the skipped one waits until tomorrow
    today = clock.now.date().isoformat()
    assert chat.engine.store.users_due_for_reminder(today, "terminal") == []
    assert "check-in" not in chat.open().text

    clock.advance(days=1)
    assert chat.engine.store.users_due_for_reminder(clock.now.date().isoformat(), "terminal") == [
        chat.user
    ]
    opened = chat.open()
    assert opened.messages[0].text.startswith("Welcome back")
    assert (
        opened.messages[1].text == "Before anything else, a quick check-in on a step you planned."
    )
    assert first.title in opened.text


def test_two_steps_in_a_row_not_done_offer_a_revisit_of_the_diagnosis(
    chat: Chat, clock: Any
) -> None:
    first, second = due_in(chat, clock, 7)
    diagnosis = chat.engine.store.conversations_of(chat.user)[-1].id
    chat.open()
    chat.say("Dropped it")
    reply = chat.say("It was not the right moment")
    assert "Shall we look at your diagnosis again" not in reply.text  # one is not a pattern
    assert "Now the next step that's due." in reply.text

    chat.say("Not yet")
    chat.say("The meeting was cancelled")
    reply = chat.say("in 2 weeks")

    assert "That's two steps in a row that haven't happened" in reply.text
    assert reply.awaits.kind == "yesno"
    stored = chat.engine.store.get_next_step(second.id)
    assert (stored.outcome, stored.status) == ("not_yet", "open")  # recorded before asking

    reply = chat.say("yes")

    assert "Good. Let's look at it again." in reply.text
    assert "Let's look again at a situation you diagnosed" in reply.text
    row = chat.engine.store.current_conversation(chat.user)
    assert (row.dialogue, row.state, row.revisit_of) == ("revisit", "which", diagnosis)
    assert first.title in chat.say("1").text  # then: the diagnosis, and how its steps went


def test_a_revisit_declined_is_left_for_later(chat: Chat, clock: Any) -> None:
    due_in(chat, clock, 7)
    chat.open()
    chat.say("Not yet")
    chat.say("No time")
    chat.say("in 1 week")
    chat.say("Dropped it")
    chat.say("It no longer matters")

    reply = chat.say("no")

    assert "say `start revisit` whenever you'd like to look at it again" in reply.text
    assert reply.awaits.ref == "menu"


def test_the_menu_during_the_next_check_in_offers_back_the_diagnosis_it_set_aside(
    chat: Chat, clock: Any
) -> None:
    chat.open()
    finish_diagnose(chat, steps=2, due="in 7 days")
    chat.say("start diagnose")
    chat.say("1")  # a new diagnosis, one answer in
    clock.advance(days=8)
    chat.open()  # both steps are due: the check-ins come first, the diagnosis waits
    chat.say("Done")
    reply = chat.say("They agreed to meet")
    assert "Now the next step that's due." in reply.text

    reply = chat.say("menu")  # before answering the second check-in

    offered = [c.label for c in reply.messages[-1].choices]
    assert offered[0] == "Carry on: Diagnose a power situation"
    fresh = type(chat.engine)(chat.engine.store, chat.engine.catalog, clock=chat.engine.clock)
    assert fresh.current_awaits(chat.user) == reply.awaits  # the same after a restart


# == news of a step, told at the menu before it is due ==========================================

NEWS = "sort of, I emailed two of the groups but only one got back to me"


def with_open_steps(chat: Chat, steps: int) -> list[Any]:
    """A finished diagnosis with `steps` open steps due in three weeks (a diagnosis plans two
    at least: for one, the other is dropped); the menu shown."""
    chat.open()
    finish_diagnose(chat, steps=2, due="in 3 weeks")
    planned = next_steps(chat)
    with chat.engine.store.transaction():
        for dropped in planned[steps:]:
            chat.engine.store.record_outcome(dropped.id, "dropped", None, None, "now")
    return planned[:steps]


def test_news_of_the_only_open_step_is_offered_a_check_in_that_starts_from_it(
    chat: Chat,
) -> None:
    (step,) = with_open_steps(chat, 1)

    offer = chat.say(NEWS)

    assert f"That sounds like news of your step “{step.title}”." in offer.text
    assert labels(offer) == ["Yes, let's look at it", "No, something else"]
    reply = chat.say("yes")
    assert "How did it go?" not in reply.text  # what they wrote already said how
    assert "I'll take that as: Partly." in reply.text
    assert f'You said: "{NEWS}"' in reply.text
    assert chat.state == "learned"


def test_news_that_could_be_of_several_steps_asks_which_and_takes_it_in_words(
    chat: Chat,
) -> None:
    first, second = with_open_steps(chat, 2)

    offer = chat.say("we finally met the director last week and it went well")

    assert "Which one is it about?" in offer.text
    assert labels(offer) == [first.title, second.title, "None of these"]
    reply = chat.say("the second one")
    assert "I'll take that as: Done." in reply.text
    assert second.title in reply.text


def test_saying_no_to_the_offer_changes_no_step(chat: Chat) -> None:
    (step,) = with_open_steps(chat, 1)
    chat.say(NEWS)

    reply = chat.say("no")

    assert "Diagnose a power situation" in labels(reply)
    stored = chat.engine.store.get_next_step(step.id)
    assert (stored.status, stored.outcome) == ("open", None)


def test_a_new_situation_at_the_menu_is_still_offered_a_diagnosis(chat: Chat) -> None:
    with_open_steps(chat, 1)

    reply = chat.say("the housing association keeps changing the rules on us without warning")

    assert "I'd suggest: Diagnose a power situation" in reply.text


def test_a_lone_word_of_a_command_asks_for_nothing(chat: Chat) -> None:
    with_open_steps(chat, 1)

    reply = chat.say("next wednesday")

    assert "Your open next steps" not in reply.text


def test_news_of_asking_someone_is_not_taken_as_ask_me_later(chat: Chat, clock: Any) -> None:
    """Tried as a charity manager: "I rang Cllr Ahmed, she's going to ask the cabinet member"
    was taken as the option "Ask me later" (its label's word "ask"), and the step put off."""
    (first, _second) = due_in(chat, clock, 7)
    chat.open()

    reply = chat.say("I asked the director about it and she's going to ask the cabinet member")

    assert "I'll ask about this one again tomorrow." not in reply.text
    stored = chat.engine.store.get_next_step(first.id)
    assert stored.snoozed_until is None
