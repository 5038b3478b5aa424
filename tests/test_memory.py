"""A coach that remembers, as a person coming back notices it: asked their name once and
greeted by it with their plan, their own record (`steps`, `history`, `show N`) and a step
marked from there, nothing asked twice that the coach knows, and a conversation left before
any answer not offered back. The fake clock stands in for the days between chats.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import messages
from bot.engine import Engine, EngineSettings
from bot.loader import Catalog, load_catalog
from storage.store import Store
from tests.conftest import DIALOGUES, Chat, FakeClock

SITUATION = "The partnership board decides our funding next month and we have no seat."
OTHER = "The county council"
MENU_LABELS = ["Diagnose a power situation", "Reflect on your own power", "Revisit a situation"]


def labels(chat: Chat) -> list[str]:
    assert chat.last is not None
    return [c.label for c in chat.last.messages[-1].choices]


def finish_diagnose(
    chat: Chat, *, answers: tuple[str, ...] = ("1", SITUATION, OTHER, "organisation")
) -> None:
    """A whole diagnosis from the menu: `answers` first, then quick ones; two dated steps."""
    chat.say("start diagnose")
    for answer in answers:
        chat.say(answer)
    chat.answer_until("commit")
    for due in ("in 2 days", "in 3 weeks"):
        chat.say("1")
        chat.say(due)
    chat.say("enough")
    assert chat.engine.store.conversations_of(chat.user)[-1].status == "completed", chat.text


def steps_of(chat: Chat) -> list[tuple[str | None, str, str | None]]:
    return [(s.title, s.status, s.outcome) for s in chat.engine.store.next_steps_of(chat.user)]


# == a name, asked once ========================================================================


def test_the_name_is_asked_once_and_the_greeting_uses_it_from_then_on(chat: Chat) -> None:
    first = chat.open()

    assert first.messages[-1].text == messages.NAME_ASK
    assert labels(chat) == MENU_LABELS  # they may also start straight away

    reply = chat.say("sam")

    assert "Nice to meet you, Sam." in reply.text
    assert labels(chat) == MENU_LABELS
    assert chat.engine.store.name_of(chat.user) == "Sam"

    again = chat.open()

    assert again.messages[0].text.startswith("Welcome back, Sam.")
    assert messages.NAME_ASK not in again.text


def test_picking_from_the_menu_instead_of_a_name_starts_at_once_and_never_asks_again(
    chat: Chat,
) -> None:
    chat.open()

    reply = chat.say("1")

    assert "First, which of these is closest to your role" in reply.text
    chat.say("quit")
    assert messages.NAME_ASK not in chat.open().text
    assert chat.engine.store.name_of(chat.user) is None


@pytest.mark.parametrize("said", ["call me Jo", "Please call me Dr Okafor."])
def test_call_me_changes_the_name_mid_dialogue_and_asks_the_same_question_again(
    chat: Chat, said: str
) -> None:
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")
    asked = chat.last.messages[-1] if chat.last else None

    reply = chat.say(said)

    name = said.removeprefix("Please ").removeprefix("call me ").strip(".")
    assert f"I'll call you {name} from now on." in reply.text
    assert reply.messages[-1] == asked
    assert chat.engine.store.name_of(chat.user) == name


# == the greeting of someone returning =========================================================


def test_a_returning_person_is_greeted_by_name_with_their_steps_and_last_diagnosis(
    chat: Chat, clock: FakeClock
) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    chat.say("quit")
    clock.advance(days=1)

    reply = chat.open()

    greeting = reply.messages[0].text
    first, second = chat.engine.store.open_next_steps(chat.user)
    assert greeting.startswith("Welcome back, Sam.")
    assert greeting.index(first.title or "") < greeting.index(second.title or "")  # soonest first
    assert "Last time, 23 November: the county council — 2 steps, none done yet." in greeting
    assert labels(chat) == MENU_LABELS


def test_a_due_step_comes_first_in_the_greeting_then_its_check_in(
    chat: Chat, clock: FakeClock
) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    clock.advance(days=3)

    reply = chat.open()

    due, later = chat.engine.store.open_next_steps(chat.user)
    greeting = reply.messages[0].text
    assert greeting.startswith("Welcome back, Sam.\nDue now: " + (due.title or ""))
    assert later.title in greeting
    assert any(m.text.startswith("Before anything else") for m in reply.messages[1:])


# == their own record ==========================================================================


def test_steps_are_numbered_and_done_2_marks_the_second_and_asks_what_was_learned(
    chat: Chat,
) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    first, second = chat.engine.store.open_next_steps(chat.user)

    listing = chat.say("steps")

    assert f"1. {first.title} — by" in listing.text
    assert f"2. {second.title} — by" in listing.text
    assert messages.STEPS_MARK in listing.text

    marked = chat.say("done 2")

    assert f"Marked as done: {second.title}." in marked.text
    assert marked.messages[-1].text == messages.LEARNED_ASK
    chat.say("They wanted the figures in writing before the meeting")
    assert [
        (s.id, s.status, s.outcome, s.learned) for s in chat.engine.store.next_steps_of(chat.user)
    ] == [
        (first.id, "open", None, None),
        (second.id, "closed", "done", "They wanted the figures in writing before the meeting"),
    ]
    assert labels(chat) == MENU_LABELS


def test_partly_keeps_a_step_open_a_week_on_and_a_number_too_high_says_which(
    chat: Chat, clock: FakeClock
) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    first, _ = chat.engine.store.open_next_steps(chat.user)

    chat.say("partly 1")
    chat.say("skip")

    step = chat.engine.store.get_next_step(first.id)
    assert step is not None
    assert (step.status, step.outcome) == ("open", "partly")
    assert step.due_date == "2026-11-30"  # a week from today (23 November)
    refused = chat.say("dropped 7")
    assert messages.STEPS_WHICH.format(count=2) in refused.text


def test_history_lists_past_conversations_with_their_steps_and_show_1_the_whole_reading(
    chat: Chat,
) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    chat.say("done 1")
    chat.say("They listened once we came together")
    first, second = (s.title for s in chat.engine.store.next_steps_of(chat.user))

    listing = chat.say("what did we talk about last time?")

    assert "1. 23 November · Diagnose a power situation · the county council" in listing.text
    assert f"{first} (done)" in listing.text
    assert f"{second} (open, by " in listing.text
    assert "show 1" in listing.text

    shown = chat.say("show 1")

    assert "Here's your diagnosis, in your words." in shown.text
    assert f"The situation: {SITUATION}" in shown.text
    assert "What I notice:" in shown.text
    assert f'{first} (done) You learned: "They listened once we came together"' in shown.text
    assert messages.SHOW_WHICH in chat.say("show 5").text


def test_show_reads_back_the_reading_as_it_was_said_after_the_dialogue_is_reworded(
    chat: Chat, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    path = folder / "diagnose.yaml"
    said = "Here's your diagnosis, in your words."
    path.write_text(path.read_text().replace(said, "Your diagnosis, reworded since."))
    reworded = load_catalog(folder)
    assert not reworded.problems, [str(p) for p in reworded.problems]
    later = Chat(Engine(store, reworded, settings=EngineSettings(), clock=clock), chat.user)

    shown = later.say("show 1")

    assert said in shown.text and "reworded since" not in shown.text
    assert f"The situation: {SITUATION}" in shown.text
    assert "What I notice:" in shown.text


def test_a_record_from_before_about_and_readings_were_stored_is_listed_and_shown_in_full(
    chat: Chat, db_path: Path, catalog: Catalog, clock: FakeClock
) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    store = chat.engine.store
    # The store as it was before m013: no `about` or `reading` columns (m013, m014).
    for column, migration in (("reading", "m014_reading"), ("about", "m013_about")):
        store.db.execute(f"ALTER TABLE conversations DROP COLUMN {column}")
        store.db.execute("DELETE FROM _sqlite_migrations WHERE name = ?", (migration,))
    store.close()
    upgraded = Store(db_path)
    later = Chat(Engine(upgraded, catalog, settings=EngineSettings(), clock=clock), chat.user)

    listing = later.say("history")
    shown = later.say("show 1")

    assert "1. 23 November · Diagnose a power situation · the county council" in listing.text
    assert "Here's your diagnosis, in your words." in shown.text
    assert f"The situation: {SITUATION}" in shown.text
    upgraded.close()


def test_history_with_none_says_so(chat: Chat) -> None:
    chat.open()
    chat.say("Sam")

    assert messages.HISTORY_NONE in chat.say("history").text


# == pause, quit and a conversation left empty =================================================


def test_a_diagnosis_left_before_any_answer_is_not_offered_back(
    chat: Chat, clock: FakeClock
) -> None:
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")
    chat.say("quit")
    clock.advance(days=1)

    reply = chat.open()

    assert "partway" not in reply.text
    assert reply.messages[0].text.startswith("Welcome back, Sam.")
    assert labels(chat) == MENU_LABELS  # no "Carry on: Diagnose…" beside "Diagnose…"
    statuses = [c.status for c in chat.engine.store.conversations_of(chat.user)]
    assert statuses == ["discarded"]
    chat.say("start diagnose")
    assert labels(chat)[0].startswith("I work in")  # a fresh start, not a resume


def test_menu_from_a_conversation_with_no_answer_offers_no_carry_on(chat: Chat) -> None:
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")

    chat.say("menu")

    assert labels(chat) == MENU_LABELS


def test_a_paused_conversation_is_called_paused_with_when_and_its_last_two_answers(
    chat: Chat, clock: FakeClock
) -> None:
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")
    chat.say("1")
    chat.say(SITUATION)
    asked = chat.last.messages[-1] if chat.last else None
    chat.say("pause")
    clock.advance(days=1)  # 23 November is a Monday

    reply = chat.open()

    assert "You paused Diagnose a power situation yesterday." in reply.text
    assert "• Your role: I work in or run a voluntary or community organisation" in reply.text
    assert f"• The situation: {SITUATION}" in reply.text
    assert reply.messages[-1] == asked


def test_a_conversation_quit_is_not_called_paused(chat: Chat, clock: FakeClock) -> None:
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")
    chat.say("1")
    chat.say("quit")
    clock.advance(days=2)

    reply = chat.open()

    assert "paused" not in reply.text
    assert "when you left on Monday" in reply.text  # 23 November; today is the 25th


# == nothing asked twice =======================================================================


def start_again(chat: Chat, clock: FakeClock) -> None:
    """A whole diagnosis, and a day later another one started."""
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    clock.advance(days=1)
    chat.say("start diagnose")


def test_the_role_is_offered_back_and_yes_moves_on_without_asking_it(
    chat: Chat, clock: FakeClock
) -> None:
    start_again(chat, clock)

    assert chat.last is not None and chat.last.messages[-1].text == (
        "Still working in or running a voluntary or community organisation?"
    )
    assert labels(chat) == ["Yes, still", "It's changed"]

    reply = chat.say("yes")

    assert "Small organisations often carry" not in reply.text  # no second acknowledgement
    assert 'you told me: "' + SITUATION in reply.text  # the situation offered back next
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None and row.slots["role"] == "voluntary"


def test_a_changed_role_is_asked_afresh_and_remembered_for_next_time(
    chat: Chat, clock: FakeClock
) -> None:
    start_again(chat, clock)

    reply = chat.say("It's changed")

    assert "First, which of these is closest to your role" in reply.text
    chat.say("I'm an elected councillor")
    assert chat.engine.store.known_of(chat.user)["role"]["role"] == "councillor"


def test_an_answer_to_the_question_itself_is_taken_as_the_change(
    chat: Chat, clock: FakeClock
) -> None:
    start_again(chat, clock)

    chat.say("councillor")

    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None and row.slots["role"] == "councillor"
    assert row.state == "situation"


def test_the_same_situation_carries_its_other_party_and_what_kind_they_are(
    chat: Chat, clock: FakeClock
) -> None:
    start_again(chat, clock)
    chat.say("yes")

    reply = chat.say("Yes, the same situation")

    assert reply.messages[-1].text == "Is it still the county council you most need to move?"
    assert labels(chat) == ["Yes, still them", "Someone else now"]

    reply = chat.say("yes")

    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    assert (row.slots["other_party"], row.slots["other_kind"]) == (OTHER, "organisation")
    assert row.state == "in_room"  # what kind of party they are was not asked again
    back = chat.say("back")
    assert back.messages[-1].text == "Is it still the county council you most need to move?"


def test_a_new_situation_asks_the_situation_and_the_other_party_afresh(
    chat: Chat, clock: FakeClock
) -> None:
    start_again(chat, clock)
    chat.say("yes")

    chat.say("A new situation")
    chat.say("The trust is closing the clinic on our estate and nobody asked us.")

    assert chat.state == "other_party"
    assert "Who do you most need to influence here?" in chat.text
    chat.say("The NHS trust")
    assert chat.state == "other_kind"


def test_a_situation_written_at_the_menu_is_a_new_one(chat: Chat, clock: FakeClock) -> None:
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    clock.advance(days=1)
    chat.say("The police won't tell us why the youth club patrols stopped")
    chat.say("yes")
    chat.say("yes")  # still their role

    assert 'You told me: "The police' in chat.text
    assert "same situation" not in chat.text
