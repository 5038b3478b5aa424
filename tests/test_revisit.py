"""Revisit a situation: a finished diagnosis looked at again, with what has happened since,
the four dimensions rated again, then and now side by side (what each step had to do with
the change), and new or re-dated steps; stored beside the diagnosis it revisits.

The fake clock stands in for the weeks between the diagnosis and the revisit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.templates import day
from storage.store import ConversationRow
from tests.conftest import Chat

#: Then: the board holds nearly everything. Now: a little has moved the user's way.
THEN = {
    "their_resources": "5",
    "my_resources": "1",
    "their_expertise": "4",
    "my_expertise": "3",
    "their_importance": "4",
    "my_importance": "2",
    "their_position": "5",
    "my_position": "1",
}
NOW = ["4", "2", "4", "3", "4", "3", "5", "3"]  # the same order as the questions
RATINGS = list(THEN)


def diagnose(chat: Chat, other_party: str, dues: tuple[str, ...] = ("in 1 week",) * 2) -> int:
    """Finish a diagnosis of `other_party` with the ratings THEN and a step picked for each
    of `dues`, dated so; the conversation's id."""
    chat.say("start diagnose")
    chat.say("1")
    chat.say(f"{other_party} decides our funding")
    chat.say(other_party)
    for _ in range(80):
        if chat.state == "commit":
            break
        if chat.state in THEN:
            chat.say(THEN[chat.state])
        else:
            chat.say(_quick(chat))
    for due in dues:
        chat.say("1")
        chat.say(due)
    if len(dues) < 3:
        chat.say("enough")
    finished = chat.engine.store.conversations_of(chat.user)[-1]
    assert (finished.dialogue, finished.status) == ("diagnose", "completed"), chat.text
    return finished.id


def _quick(chat: Chat) -> str:
    kind = chat.last.awaits.kind if chat.last else "none"
    return {"choice": "1", "scale": "3", "yesno": "yes", "text": "some words"}[kind]


def rerate(chat: Chat, ratings: list[str]) -> Any:
    for state, rating in zip(RATINGS, ratings, strict=True):
        assert chat.state == state, chat.text
        chat.say(rating)
    return chat.last


def labels(reply: Any) -> list[str]:
    return [c.label for c in reply.awaits.choices]


def steps_of(chat: Chat) -> list[Any]:
    return sorted(chat.engine.store.next_steps_of(chat.user), key=lambda s: s.id)


# == end to end ==================================================================================


def test_a_revisit_shows_then_and_now_and_what_the_steps_had_to_do_with_it(
    chat: Chat, clock: Any
) -> None:
    chat.open()
    diagnosis = diagnose(chat, "The partnership board", ("in 1 week", "in 6 weeks"))
    coalition, route = steps_of(chat)
    assert (coalition.recommendation_id, route.recommendation_id) == (
        "campaign_coalition",
        "route_via_elected",
    )
    clock.advance(days=8)
    chat.open()  # the first step's check-in
    chat.say("Done")
    chat.say("We wrote a joint letter with two other groups, and the chair replied")
    clock.advance(days=14)

    chat.open()
    chat.say("start revisit")
    assert chat.state == "which"
    assert "The partnership board, Monday 23 November 2026" in labels(chat.last)
    reply = chat.say("1")
    assert chat.state == "since"
    assert f"• {coalition.title}: done" in reply.text
    assert 'What you learned: "We wrote a joint letter with two other groups' in reply.text
    assert f"• {route.title}: no check-in yet (open, by {day(route.due_date)})" in reply.text

    chat.say("They agreed to share the figures with us, and I now draft the actions")
    assert "Resources: how much money" in chat.text and "(Then: 5)" in chat.text
    shown = rerate(chat, NOW).text

    assert "Up from 1. Let's see what moved it." in shown
    table = [
        "Resources   5     1     4     2     -1    +1",
        "Expertise   4     3     4     3     0     0",
        "Importance  4     2     4     3     0     +1",
        "Position    5     1     5     3     0     +2",
    ]
    for row in table:
        assert row in shown
    assert "Resources: +1 for you and -1 for them. The gap has narrowed from 4 to 2." in shown
    assert "Expertise: no change (4 for them, 3 for you)." in shown
    assert "Position: +2 for you. The gap has narrowed from 4 to 2." in shown
    assert (
        f"• {coalition.title} (done): it works on importance, where you are +1, and it may "
        "well be part of why."
    ) in shown
    assert f"• {route.title} (no check-in yet): it works on importance, where you are +1." in shown
    assert "Overall the balance has shifted your way" in shown  # a reading of the change
    assert "Use the position you've gained, at the next meeting" in shown

    assert f"Again: {route.title}" in labels(chat.last)
    chat.say("Use the position you've gained")
    chat.say("in 3 weeks")
    chat.say(f"Again: {route.title}")  # the open step, with a new date
    reply = chat.say("in 4 weeks")
    reply = chat.say("enough")

    redated = (clock.now.date() + dt.timedelta(weeks=4)).isoformat()
    assert f"• {route.title}, by {day(redated)} (again, with a new date)" in reply.text
    assert "beside your diagnosis of Monday 23 November 2026" in reply.text
    revisit = chat.engine.store.conversations_of(chat.user)[-1]
    assert (revisit.dialogue, revisit.status, revisit.revisit_of) == (
        "revisit",
        "completed",
        diagnosis,
    )
    after = steps_of(chat)
    assert len(after) == 3  # one new step; the old one re-dated, not added again
    assert (after[1].id, after[1].due_date) == (route.id, redated)
    assert (after[2].conversation_id, after[2].recommendation_id) == (revisit.id, "keep_the_seat")
    exported = chat.engine.store.export_user(chat.user)["conversations"]
    assert [c["revisit_of"] for c in exported][-1] == diagnosis


def test_with_no_diagnosis_yet_there_is_nothing_to_revisit(chat: Chat) -> None:
    chat.open()

    reply = chat.say("start revisit")

    assert reply.text.startswith("There's nothing to revisit yet")
    assert "Revisit a situation" in labels(reply)  # the menu
    assert chat.engine.store.conversations_of(chat.user) == []


def test_another_diagnosis_can_be_picked_and_back_returns_to_the_latest(
    chat: Chat, clock: Any
) -> None:
    chat.open()
    older = diagnose(chat, "The health trust")
    clock.advance(days=3)
    diagnose(chat, "Northshire Council")
    clock.advance(days=3)

    reply = chat.say("Revisit a situation")  # picked from the menu by its words

    assert labels(reply) == [
        "Northshire Council, Thursday 26 November 2026",
        "The health trust, Monday 23 November 2026",
        "A new situation, to diagnose from the start",
    ]
    reply = chat.say("2")
    assert "you needed to influence the health trust" in reply.text
    row = chat.engine.store.current_conversation(chat.user)
    assert (row.slots["then"]["id"], row.revisit_of) == (older, older)

    chat.say("back")
    row = chat.engine.store.current_conversation(chat.user)
    assert row.state == "which" and row.slots["then"]["other_party"] == "Northshire Council"


def test_a_new_situation_from_the_revisit_starts_a_diagnosis(chat: Chat) -> None:
    chat.open()
    diagnose(chat, "The health trust")
    chat.say("start revisit")

    reply = chat.say("a new situation")

    assert "Then let's start a new diagnosis." in reply.text
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None and (row.dialogue, row.state) == ("diagnose", "role")


def test_a_diagnosis_without_ratings_is_revisited_without_a_stumble(chat: Chat) -> None:
    """An older diagnosis may lack answers (a dialogue version that asked less): the chart
    shows dots and question marks, never an error."""
    store = chat.engine.store
    now = "2026-11-01T09:00:00+00:00"
    with store.transaction():
        store.ensure_user(chat.user, "terminal", None, now)
        store.create_conversation(
            ConversationRow(
                0, chat.user, "diagnose", 1, "old", "end", "completed", None,
                {"other_party": "The trust"}, [], 30, None, now, now, now,
            )
        )  # fmt: skip
    chat.open()
    chat.say("start revisit")
    chat.say("1")
    chat.say("Not much")
    shown = rerate(chat, NOW).text

    assert "Resources   ·     ·     4     2     ?     ?" in shown
    assert "you needed to influence the trust" not in shown
    assert chat.state == "commit"
