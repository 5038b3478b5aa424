"""A sentence typed at the menu is answered, never met with the menu alone: a question about
one's plan shows it, "what can you do?" the commands, a situation is offered a dialogue (with
what was written kept for it), and anything else says what the coach can do."""

from __future__ import annotations

import pytest

from bot import messages
from bot.engine import Engine, EngineSettings
from bot.loader import Catalog
from storage.store import Store
from tests.conftest import Chat, FakeClock

SITUATION = (
    "the regional partnership is about to decide our funding and I have no seat at the table"
)
MENU_LABELS = ["Diagnose a power situation", "Reflect on your own power", "Revisit a situation"]


def labels(chat: Chat) -> list[str]:
    assert chat.last is not None
    return [c.label for c in chat.last.messages[-1].choices]


def plant_step(chat: Chat, title: str, due: str, idea: str) -> None:
    store = chat.engine.store
    with store.transaction():
        store.ensure_user(chat.user, "terminal", None, "2026-11-20T09:00:00+00:00")
        from storage.store import ConversationRow

        row = ConversationRow(
            0, chat.user, "diagnose", 2, "d", "done", "completed", None, {}, [], 9, None,
            "2026-11-20T09:00:00+00:00", "2026-11-20T09:00:00+00:00",
        )  # fmt: skip
        store.create_conversation(row)
        store.add_next_steps(
            row.id,
            chat.user,
            [{"title": title, "text": title, "idea": idea, "due_date": due}],
            "2026-11-20T09:00:00+00:00",
        )


@pytest.mark.parametrize(
    "asked",
    [
        "What were my next steps from last time?",
        "what did I commit to?",
        "steps",
        "my plan",
        "what did I say I'd do?",
    ],
)
def test_asking_for_ones_plan_at_the_menu_shows_it(chat: Chat, asked: str) -> None:
    plant_step(chat, "Ask the chair for a seat", "2026-11-27", "Position is a source of power.")
    chat.open()

    reply = chat.say(asked)

    assert "Your open next steps:" in reply.text
    assert "Ask the chair for a seat — by Friday 27 November 2026" in reply.text
    assert "Why: Position is a source of power." in reply.text
    assert labels(chat) == MENU_LABELS


def test_asking_for_a_plan_with_none_says_so_and_how_one_is_made(chat: Chat) -> None:
    chat.open()

    reply = chat.say("What were my next steps from last time?")

    assert messages.STEPS_NONE in reply.text
    assert labels(chat) == MENU_LABELS


def test_what_can_you_do_lists_the_commands(chat: Chat) -> None:
    chat.open()

    reply = chat.say("what can you do?")

    assert messages.COMMANDS_HELP in reply.text


def test_a_word_that_means_nothing_here_is_answered_not_ignored(chat: Chat) -> None:
    chat.open()
    chat.say("Sam")  # at first contact, a word on its own is what to call them

    reply = chat.say("banana")

    assert 'not sure what you\'d like me to do with "banana"' in reply.text
    assert labels(chat) == MENU_LABELS


def test_a_situation_typed_at_the_menu_is_offered_a_diagnosis_and_kept(chat: Chat) -> None:
    chat.open()

    reply = chat.say(SITUATION)

    assert "I've kept what you wrote" in reply.text
    assert "Diagnose a power situation" in reply.messages[-1].text
    assert labels(chat) == [messages.MENU_SUGGEST_YES, messages.MENU_SUGGEST_NO]
    assert reply.awaits.kind == "choice"

    chat.say("yes please")

    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    assert (row.dialogue, row.slots.get("opening")) == ("diagnose", SITUATION)


@pytest.mark.parametrize(
    "said",
    [
        "I want to think about the power I hold over the families I work with",
        # A social worker's, from a trial: "the plans" is not asking for their own plan.
        "I'm a social worker in a children's disability team and I want to think about how "
        "much say families really get in the plans we write",
    ],
)
def test_a_reflection_typed_at_the_menu_is_offered_the_reflection(chat: Chat, said: str) -> None:
    chat.open()

    reply = chat.say(said)

    assert "Reflect on your own power" in reply.messages[-1].text


def test_saying_no_to_the_offer_shows_the_menu(chat: Chat) -> None:
    chat.open()
    chat.say(SITUATION)

    reply = chat.say("no thanks")

    assert "Of course." in reply.text
    assert labels(chat) == MENU_LABELS
    assert chat.engine.store.conversations_of(chat.user) == []


def test_the_offer_survives_a_restart_of_the_coach(
    chat: Chat, store: Store, catalog: Catalog, clock: FakeClock
) -> None:
    chat.open()
    chat.say(SITUATION)

    later = Chat(Engine(store, catalog, settings=EngineSettings(), clock=clock), chat.user)
    later.say("1")

    row = store.current_conversation(chat.user)
    assert row is not None and row.slots.get("opening") == SITUATION


def test_a_menu_pick_still_starts_at_once(chat: Chat) -> None:
    chat.open()

    chat.say("2")

    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None and row.dialogue == "own_power"


def test_an_offer_made_while_a_conversation_waits_at_the_menu_is_what_a_new_coach_shows(
    chat: Chat, store: Store, catalog: Catalog, clock: FakeClock
) -> None:
    chat.open()
    chat.say("start diagnose")
    chat.say("menu")
    reply = chat.say(SITUATION)

    fresh = Engine(store, catalog, settings=EngineSettings(), clock=clock)

    assert fresh.current_awaits(chat.user) == reply.awaits
    assert [c.value for c in reply.awaits.choices] == ["yes", "no"]


@pytest.mark.parametrize(("said", "answer"), [("hi", "Hello again"), ("thanks!", "welcome")])
def test_hello_and_thanks_at_the_menu_are_answered_in_kind(
    chat: Chat, said: str, answer: str
) -> None:
    chat.open()

    reply = chat.say(said)

    assert answer in reply.text
    assert "not sure what you'd like" not in reply.text
    assert labels(chat) == MENU_LABELS


def test_the_situation_written_at_the_menu_is_offered_back_and_a_yes_keeps_it(
    chat: Chat,
) -> None:
    chat.open()
    chat.say(SITUATION)
    chat.say("yes")
    asked = chat.say("I run a small charity")  # the role question comes first

    assert f'You told me: "{SITUATION}"' in asked.text
    chat.say("yes, that's it")

    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None and row.slots["situation"] == SITUATION
    assert chat.state is not None and chat.state.startswith("other_party")


def test_a_yes_with_more_keeps_the_situation_and_adds_to_it(chat: Chat) -> None:
    chat.open()
    chat.say(SITUATION)
    chat.say("yes")
    chat.say("I run a small charity")

    chat.say("yes that's it, and they won't come to our multi-agency meeting either")

    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    situation = row.slots["situation"]
    assert situation.startswith(SITUATION.rstrip("."))  # what they first said is not lost
    assert situation.endswith("They won't come to our multi-agency meeting either")


def test_a_situation_put_another_way_replaces_the_one_from_the_menu(chat: Chat) -> None:
    chat.open()
    chat.say(SITUATION)
    chat.say("yes")
    chat.say("I run a small charity")

    chat.say("The board meets on the 14th and decides all the youth contracts")

    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    assert (
        row.slots["situation"] == "The board meets on the 14th and decides all the youth contracts"
    )


def test_asking_to_share_at_the_menu_starts_sharing(chat: Chat) -> None:
    chat.open()

    reply = chat.say("can I share this with my coach?")

    assert "Thank you for telling me" not in reply.text  # not taken for a situation
    assert "coach" in reply.text.lower()
