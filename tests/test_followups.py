"""Coming back: a recap after a long gap, and check-ins on next steps when they fall due.

The fake clock stands in for the days between chats, so nothing waits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.engine import Engine, EngineSettings
from bot.turns import UserInput

RESUME_LABELS = ["Carry on where I was", "Start this again", "Something else"]
CHECKIN_LABELS = ["Done", "Partly", "Not yet", "Dropped it", "Remind me later"]


def answer_until(chat: Any, state: str, limit: int = 60) -> None:
    chat.answer_until(state, limit)


def finish_diagnose(chat: Any, steps: int = 2, due: str = "in 2 weeks") -> None:
    """Run "Diagnose a power situation" to the end, committing to `steps` next steps."""
    chat.say("start diagnose")
    answer_until(chat, "commit")
    for _ in range(steps):
        chat.say("1")
        assert chat.state == "commit__due", chat.text
        chat.say(due)
    chat.say("enough")
    statuses = [c.status for c in chat.engine.store.conversations_of(chat.user)]
    assert statuses[-1] == "completed", chat.text


def begin_diagnose(chat: Any) -> None:
    """Answer the first two questions, so the bot is asking who to influence."""
    chat.open()
    chat.say("start diagnose")
    chat.say("1")
    chat.say("The partnership board decides our funding")
    assert chat.state == "other_party"


def labels(reply: Any) -> list[str]:
    return [c.label for c in reply.messages[-1].choices]


def next_steps(chat: Any) -> list[Any]:
    return sorted(chat.engine.store.next_steps_of(chat.user), key=lambda s: s.id)


# == a recap after a long gap =================================================================


@pytest.mark.parametrize("comes_back", ["open", "say hello"])
def test_after_a_week_away_the_bot_recaps_and_asks_before_carrying_on(
    chat: Any, clock: Any, comes_back: str
) -> None:
    begin_diagnose(chat)
    clock.advance(days=8)

    reply = chat.open() if comes_back == "open" else chat.say("hello")

    assert "8 days" in reply.text
    assert "Diagnose a power situation" in reply.text
    assert "The other party" in reply.text  # the title of the step they were at
    assert labels(reply) == RESUME_LABELS
    assert reply.awaits.kind == "choice"
    row = chat.engine.store.current_conversation(chat.user)
    assert "other_party" not in row.slots  # "hello" was not taken as the answer


@pytest.mark.parametrize("pick", ["resume", "1", "carry on where i was"])
def test_resuming_after_the_recap_asks_the_same_question(chat: Any, clock: Any, pick: str) -> None:
    begin_diagnose(chat)
    asked = chat.last.messages[-1]
    clock.advance(days=8)
    chat.open()

    reply = chat.say(pick)

    assert reply.messages[-1] == asked
    assert chat.state == "other_party"
    row = chat.engine.store.current_conversation(chat.user)
    assert row.slots["situation"] == "The partnership board decides our funding"

    chat.say("The board")  # and the next message is the answer
    assert chat.engine.store.current_conversation(chat.user).slots["other_party"] == "The board"


def test_starting_again_after_the_recap_goes_to_the_first_question(chat: Any, clock: Any) -> None:
    begin_diagnose(chat)
    clock.advance(days=8)
    chat.open()

    chat.say("2")

    assert chat.state == "role"
    row = chat.engine.store.current_conversation(chat.user)
    assert "situation" not in row.slots and "role" not in row.slots


def test_the_start_again_option_can_be_picked_by_its_words(chat: Any, clock: Any) -> None:
    begin_diagnose(chat)
    clock.advance(days=8)
    chat.open()

    chat.say("Start this again")

    assert "don't know a dialogue" not in chat.text
    assert chat.state == "role"


def test_something_else_after_the_recap_shows_the_menu_with_carry_on(chat: Any, clock: Any) -> None:
    begin_diagnose(chat)
    clock.advance(days=8)
    chat.open()

    reply = chat.say("Something else")

    assert labels(reply)[0] == "Carry on: Diagnose a power situation"
    assert chat.engine.store.current_conversation(chat.user).status == "paused"


def test_the_idle_time_follows_the_settings(store: Any, catalog: Any, clock: Any) -> None:
    engine = Engine(
        store, catalog, settings=EngineSettings(idle_after=dt.timedelta(days=1)), clock=clock
    )
    user = "slack:carol"
    engine.open(user)
    engine.handle(user, UserInput("start diagnose"))
    engine.handle(user, UserInput("1"))
    clock.advance(days=2)

    reply = engine.open(user)

    assert "2 days" in reply.text
    assert labels(reply) == RESUME_LABELS


def test_two_days_away_is_not_idle_under_the_default_week(chat: Any, clock: Any) -> None:
    begin_diagnose(chat)
    asked = chat.last.messages[-1]
    clock.advance(days=2)

    reply = chat.open()

    assert "days since we last talked" not in reply.text
    assert "Welcome back" in reply.text
    assert reply.messages[-1] == asked


# == check-ins on next steps ==================================================================


def test_due_next_steps_are_checked_in_before_anything_else(chat: Any, clock: Any) -> None:
    chat.open()
    finish_diagnose(chat, steps=2, due="in 2 weeks")
    first, second = next_steps(chat)
    two_weeks = (clock.now.date() + dt.timedelta(weeks=2)).isoformat()
    assert first.due_date == second.due_date == two_weeks
    assert first.status == second.status == "open"
    clock.advance(days=15)

    opened = chat.open()

    # The greeting names what is due and what else is open; then the check-in, of one step.
    greeting, *checkin = opened.messages
    assert greeting.text.startswith("Welcome back")
    assert f"Due now:\n• {first.title}" in greeting.text and f"• {second.title}" in greeting.text
    assert checkin[0].text.startswith("Before anything else")
    assert first.title in "\n".join(m.text for m in checkin)
    assert second.title not in "\n".join(m.text for m in checkin)
    assert labels(opened) == CHECKIN_LABELS
    assert "Diagnose a power situation" not in labels(opened)  # no menu before the check-in

    chat.say("Not yet")
    chat.say("The chair was off sick, so the meeting moved")
    new_due = (clock.now.date() + dt.timedelta(weeks=2)).isoformat()
    reply = chat.say("in 2 weeks")

    updated = chat.engine.store.get_next_step(first.id)
    assert updated.outcome == "not_yet"
    assert updated.learned == "The chair was off sick, so the meeting moved"
    assert updated.due_date == new_due
    assert updated.status == "open"
    day = dt.date.fromisoformat(new_due)
    assert f"I'll check in again by {day:%A} {day.day} {day:%B %Y}." in reply.text

    assert second.title in reply.text  # the second due step is checked in straight away
    assert labels(reply) == CHECKIN_LABELS
    chat.say("Done")
    reply = chat.say("They agreed to a joint letter")

    done = chat.engine.store.get_next_step(second.id)
    assert (done.outcome, done.status) == ("done", "closed")
    assert done.learned == "They agreed to a joint letter"
    assert chat.engine.store.get_next_step(first.id).status == "open"
    assert "Diagnose a power situation" in labels(reply)  # the menu returns
    assert reply.awaits.ref == "menu"
    assert chat.engine.store.due_next_steps(chat.user, clock.now.date().isoformat()) == []


def test_a_step_not_yet_due_is_not_checked_in(chat: Any, clock: Any) -> None:
    chat.open()
    finish_diagnose(chat, steps=2, due="in 2 weeks")
    clock.advance(days=13)

    opened = chat.open()

    assert "check-in" not in opened.text
    assert "Diagnose a power situation" in labels(opened)


def test_a_paused_conversation_waits_until_the_check_ins_are_done(chat: Any, clock: Any) -> None:
    chat.open()
    finish_diagnose(chat, steps=2, due="in 2 weeks")
    chat.say("start own_power")
    chat.say("Families on my caseload, for respite care")
    own_power_question = chat.last.messages[-1]
    chat.say("pause")
    clock.advance(days=15)

    opened = chat.open()

    assert opened.messages[0].text.startswith("Welcome back")
    assert opened.messages[1].text.startswith("Before anything else")
    assert labels(opened) == CHECKIN_LABELS
    chat.say("Done")
    chat.say("It went well")
    chat.say("Dropped it")
    reply = chat.say("It was not the right moment")

    assert [(s.outcome, s.status) for s in next_steps(chat)] == [
        ("done", "closed"),
        ("dropped", "closed"),
    ]
    assert "Reflect on your own power" in reply.text
    assert labels(reply) == RESUME_LABELS

    resumed = chat.say("Carry on where I was")

    assert "Welcome back" in resumed.text
    assert resumed.messages[-1] == own_power_question
    row = chat.engine.store.current_conversation(chat.user)
    assert row.dialogue == "own_power"
    assert row.slots["who_relies"] == "Families on my caseload, for respite care"


def test_a_step_planned_for_today_is_asked_about_tomorrow_not_at_once(
    chat: Any, clock: Any
) -> None:
    chat.open()
    finish_diagnose(chat, steps=2, due="today")

    assert "check-in" not in chat.text  # not "how did it go?" seconds after planning it
    assert "check-in" not in chat.open().text

    clock.advance(days=1)
    assert "check-in" in chat.open().text
