"""What a user sees when what they write raises a safety signal, wherever they write it: danger
stops the coaching with where to get help now; a softer signal is acknowledged and answered
with "are you safe, would you like support?"; a legal word is one line and the coaching goes
on. Never the next coaching question past distress; each recorded by category and level."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Engine, EngineSettings
from bot.errors import SafetyUnavailable
from bot.loader import Catalog, load_catalog
from storage.store import Store
from tests.conftest import DIALOGUES, Chat, FakeClock

SUICIDAL = "nobody would even notice if I was gone"
SHOUTED = "the manager at the trust shouted at me on the phone today and I felt really threatened"
CORNERED = "he cornered me in the car park after the meeting"
ACCENT = "they do my accent back at me every time I speak"
JUDICIAL = "We're thinking about a judicial review of the closure decision"


def category(catalog: Catalog, category_id: str) -> Any:
    assert catalog.safety is not None
    return next(c for c in catalog.safety.categories if c.id == category_id)


def concern_ask(catalog: Catalog) -> str:
    assert catalog.safety is not None
    return catalog.safety.concern_ask


def events(chat: Chat) -> list[tuple[str, str]]:
    return [(e["category"], e["level"]) for e in chat.engine.store.safety_events_of(chat.user)]


def conversation(chat: Chat) -> Any:
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    return row


def at_situation(chat: Chat) -> None:
    chat.open()
    chat.say("start diagnose")
    chat.say("1")
    assert chat.state == "situation"


# -- danger ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "category_id", "help_words"),
    [
        (SUICIDAL, "self_harm", ["Samaritans", "116 123", "999"]),
        ("I've been stockpiling my tablets", "self_harm", ["Samaritans", "Shout"]),
        (CORNERED, "violence", ["999", "101"]),
        # Tried as a youth worker: a disclosure needs the safeguarding route, not only 999.
        (
            "one lad said his dad hits him but he made me promise not to tell anyone",
            "violence",
            ["safeguarding lead", "can't keep it secret", "NSPCC", "0808 800 5000"],
        ),
    ],
)
def test_danger_in_natural_wording_stops_the_coaching_with_help_now(
    chat: Chat, catalog: Catalog, said: str, category_id: str, help_words: list[str]
) -> None:
    at_situation(chat)
    before = conversation(chat)

    reply = chat.say(said)

    assert reply.messages[0].text == category(catalog, category_id).message.strip()
    for words in help_words:
        assert words in reply.text
    ask = reply.messages[-1]
    assert [c.value for c in ask.choices] == ["carry_on", "stop"]
    assert "What's going on" not in reply.text  # not the next coaching question
    assert events(chat) == [(category_id, "danger")]
    after = conversation(chat)
    assert after.state == "situation" and "situation" not in after.slots
    assert after.history == before.history


def test_carrying_on_after_danger_asks_the_same_question_again(chat: Chat) -> None:
    at_situation(chat)
    asked = chat.last.messages[-1] if chat.last else None
    chat.say(SUICIDAL)

    reply = chat.say("carry on")

    assert reply.messages[-1] == asked
    chat.say("The board decides our funding")
    assert conversation(chat).slots["situation"] == "The board decides our funding"


def test_stopping_after_danger_pauses_and_comes_back_to_the_same_place(chat: Chat) -> None:
    at_situation(chat)
    asked = chat.last.messages[-1] if chat.last else None
    chat.say(CORNERED)

    reply = chat.say("stop")

    assert reply.awaits.kind == "none"
    assert conversation(chat).status == "paused"
    back = chat.open()
    assert "Welcome back" in back.text and back.messages[-1] == asked


def test_danger_is_answered_on_every_mention(chat: Chat) -> None:
    at_situation(chat)
    chat.say(SUICIDAL)
    chat.say("carry on")

    reply = chat.say("honestly I just want to die")

    assert "Samaritans" in reply.text
    assert events(chat) == [("self_harm", "danger"), ("self_harm", "danger")]


def test_something_else_at_the_safety_question_asks_it_again_never_moves_on(chat: Chat) -> None:
    at_situation(chat)
    chat.say(SUICIDAL)
    question = chat.last.messages[-1] if chat.last else None

    reply = chat.say("the partnership meets on Thursday")

    assert reply.messages[-1] == question
    assert conversation(chat).pending == "safety"
    assert "situation" not in conversation(chat).slots


# -- a softer signal -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "category_id"),
    [(SHOUTED, "hostility"), (ACCENT, "discrimination"), ("I just can't cope anymore", "distress")],
)
def test_a_softer_signal_is_acknowledged_and_asks_whether_they_are_safe(
    chat: Chat, catalog: Catalog, said: str, category_id: str
) -> None:
    at_situation(chat)

    reply = chat.say(said)

    found = category(catalog, category_id)
    assert found.level == "concern"
    assert reply.text.startswith((found.ack_self or found.ack).strip())  # all said of oneself
    assert concern_ask(catalog) in reply.text
    assert [c.value for c in reply.messages[-1].choices] == [
        "support",
        "carry_on",
        "unsafe",
        "stop",
    ]
    assert "What's going on" not in reply.text
    assert events(chat) == [(category_id, "concern")]


def test_asking_for_support_shows_the_places_then_offers_carry_on_or_stop(
    chat: Chat, catalog: Catalog
) -> None:
    at_situation(chat)
    chat.say(SHOUTED)

    reply = chat.say("yes please, show me where to get support")

    assert category(catalog, "hostility").message.strip() in reply.text
    assert [c.value for c in reply.messages[-1].choices] == ["carry_on", "stop"]

    after = chat.say("carry on")

    # What they wrote was about their situation: it is kept as the answer, and we move on.
    assert conversation(chat).slots["situation"] == SHOUTED
    assert chat.state == "other_party"
    assert "Who do you most need to influence" in after.text
    assert after.text.count("Thank you") <= 1, after.text


def test_not_safe_escalates_to_the_help_for_danger(chat: Chat, catalog: Catalog) -> None:
    at_situation(chat)
    chat.say(SHOUTED)

    reply = chat.say("3")

    unsafe = category(catalog, category(catalog, "hostility").unsafe)
    assert unsafe.level == "danger"
    assert unsafe.message.strip() in reply.text
    assert "999" in reply.text
    assert events(chat) == [("hostility", "concern"), (unsafe.id, "danger")]
    assert [c.value for c in reply.messages[-1].choices] == ["carry_on", "stop"]


@pytest.mark.parametrize(
    "answer",
    [
        "yeah I'm safe, it's just been a rubbish day. Maybe show me where I could get some support",
        "I said I'm safe. Where can I get support?",
    ],
)
def test_safe_but_wanting_support_in_one_sentence_gets_the_support(
    chat: Chat, catalog: Catalog, answer: str
) -> None:
    at_situation(chat)
    chat.say(SHOUTED)

    reply = chat.say(answer)

    assert category(catalog, "hostility").message.strip() in reply.text
    assert [c.value for c in reply.messages[-1].choices] == ["carry_on", "stop"]


def test_a_sign_of_not_being_safe_wins_over_any_other_word(chat: Chat, catalog: Catalog) -> None:
    at_situation(chat)
    chat.say(SHOUTED)

    reply = chat.say("not really safe, no")

    assert "999" in reply.text


@pytest.mark.parametrize(
    "answer",
    [
        "I'm fine, let's carry on",
        "2",
        "I'm ok, just knackered. Let's keep going, it helps to feel like I'm doing something.",
    ],
)
def test_safe_and_carrying_on_builds_on_what_they_wrote(chat: Chat, answer: str) -> None:
    at_situation(chat)
    chat.say(SHOUTED)

    chat.say(answer)

    assert conversation(chat).slots["situation"] == SHOUTED
    assert chat.state == "other_party"


def test_an_unclear_answer_to_are_you_safe_asks_again(chat: Chat, catalog: Catalog) -> None:
    at_situation(chat)
    chat.say(SHOUTED)

    reply = chat.say("the budget meeting is in March")

    assert concern_ask(catalog) in reply.text
    assert conversation(chat).pending == "concern:hostility"
    assert "situation" not in conversation(chat).slots


def test_a_softer_signal_again_in_one_conversation_gets_a_line_not_silence(chat: Chat) -> None:
    at_situation(chat)
    chat.say(SHOUTED)
    chat.say("2")
    assert chat.state == "other_party"

    reply = chat.say("the same manager who shouts at me")

    assert "still with you" in reply.text
    # Once asked, the coaching goes on: the answer counts, and a long one gets a short name.
    assert chat.state == "other_party__name"
    assert events(chat) == [("hostility", "concern")]


# -- legal words -----------------------------------------------------------------------------


def test_legal_words_are_a_one_line_note_and_the_answer_still_counts(
    chat: Chat, catalog: Catalog
) -> None:
    at_situation(chat)

    reply = chat.say(JUDICIAL)

    note = category(catalog, "legal").message.strip()
    assert "\n" not in note
    assert reply.messages[0].text == note
    assert conversation(chat).slots["situation"] == JUDICIAL
    assert chat.state == "other_party"
    assert events(chat) == [("legal", "note")]

    again = chat.say("Our solicitor is looking at the consultation")

    assert note not in again.text  # once a conversation
    assert chat.state == "other_party__name"  # the answer counts (a long one: a short name)


def test_a_legal_note_said_at_the_menu_is_not_said_again_when_the_words_are_read_back(
    chat: Chat, catalog: Catalog
) -> None:
    chat.open()
    note = category(catalog, "legal").message.strip()

    said = chat.say("the housing association keeps evicting 18 year olds without telling us")
    assert note in said.text
    chat.say("yes")  # start from those words
    chat.say("1")
    later = chat.say("they hold the tenancies and they can evict")

    assert note not in later.text  # once, even across the menu and the dialogue


@pytest.mark.parametrize(
    "said",
    [
        "their decision is a real threat to our funding",
        "the cuts will kill the service",
        "I'd kill for a seat at that table",
        "it's a battle every year",
        "they bulldozed the plan through",
        "I'm angry, we've written twice",
    ],
)
def test_ordinary_power_talk_never_interrupts(chat: Chat, said: str) -> None:
    at_situation(chat)

    reply = chat.say(said)

    assert chat.state == "other_party"
    assert conversation(chat).slots["situation"] == said
    assert events(chat) == []
    assert "Who do you most need to influence" in reply.text


# -- everywhere the user can type ------------------------------------------------------------


def test_at_the_menu_danger_asks_carry_on_or_stop_not_the_menu(
    chat: Chat, catalog: Catalog
) -> None:
    chat.open()

    reply = chat.say(SUICIDAL)

    assert category(catalog, "self_harm").message.strip() in reply.text
    assert [c.value for c in reply.messages[-1].choices] == ["carry_on", "stop"]
    assert reply.awaits.kind == "choice"
    assert [c.value for c in reply.awaits.choices] == ["carry_on", "stop"]
    assert events(chat) == [("self_harm", "danger")]
    assert chat.engine.store.conversations_of(chat.user) == []

    again = chat.say("ok, carry on")

    assert "Diagnose a power situation" in [c.label for c in again.messages[-1].choices]


def test_at_the_menu_a_softer_signal_is_remembered_across_a_restart(
    chat: Chat, store: Store, catalog: Catalog, clock: FakeClock
) -> None:
    chat.open()
    chat.say(ACCENT)
    assert "discrimination" in [c for c, _ in events(chat)]

    # The process restarts: a new engine over the same store still awaits the answer.
    later = Chat(Engine(store, catalog, settings=EngineSettings(), clock=clock), chat.user)
    reply = later.say("I'm not safe")

    assert "999" in reply.text
    assert [c.value for c in reply.messages[-1].choices] == ["carry_on", "stop"]
    reply = later.say("stop")
    assert reply.ended


QUICK = {"choice": "1", "scale": "3", "yesno": "yes", "text": "some words", "date": "in 2 weeks"}


def walk(chat: Chat, done: Any, limit: int = 80) -> None:
    """Answer whatever is asked, by the kind of answer awaited, until `done()` holds."""
    for _ in range(limit):
        if done():
            return
        chat.say(QUICK[chat.awaits])
    raise AssertionError(f"stuck at {chat.state!r}: {chat.text}")


@pytest.mark.parametrize("kind", ["choice", "scale", "yesno", "date", "commit"])
def test_every_kind_of_question_is_screened(chat: Chat, kind: str) -> None:
    chat.open()
    chat.say("start diagnose")
    if kind == "commit":
        walk(chat, lambda: (chat.state or "").startswith("commit"))
    else:
        walk(chat, lambda: chat.awaits == kind)
    before = conversation(chat)

    reply = chat.say(CORNERED)

    assert "999" in reply.text
    after = conversation(chat)
    assert after.state == before.state and after.history == before.history
    kept = {k: v for k, v in after.slots.items() if k != "_safety_seen"}
    assert kept == {k: v for k, v in before.slots.items() if k != "_safety_seen"}


def test_a_check_in_is_screened(chat: Chat, catalog: Catalog, clock: FakeClock) -> None:
    chat.open()
    chat.say("start diagnose")
    walk(chat, lambda: bool(chat.engine.store.open_next_steps(chat.user)))
    clock.advance(days=30)
    opened = chat.open()
    assert "check-in" in opened.text

    reply = chat.say("I can't cope with any of this anymore")

    assert concern_ask(catalog) in reply.text
    assert events(chat)[-1] == ("distress", "concern")
    assert conversation(chat).dialogue == "checkin"


# -- failing closed --------------------------------------------------------------------------


def _dialogues_with_safety(tmp_path: Path, safety: str | None) -> Path:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    for path in DIALOGUES.glob("*.yaml"):
        if path.name != "safety.yaml":
            (folder / path.name).write_text(path.read_text())
    if safety is not None:
        (folder / "safety.yaml").write_text(safety)
        shutil.copy(DIALOGUES / "safety_model.json", folder / "safety_model.json")
    return folder


def test_an_engine_without_a_safety_screen_refuses_to_start(tmp_path: Path) -> None:
    broken = (DIALOGUES / "safety.yaml").read_text().replace("level: danger", "level: dangr", 1)
    catalog = load_catalog(_dialogues_with_safety(tmp_path, broken))
    store = Store(tmp_path / "coach.db")
    try:
        with pytest.raises(SafetyUnavailable) as refused:
            Engine(store, catalog)
    finally:
        store.close()
    assert "safety.yaml:" in str(refused.value)


@pytest.mark.parametrize("safety", [None, "version: 2\ncategories: [\n"])
def test_coach_chat_will_not_start_without_its_safety_file(
    tmp_path: Path, capsys: Any, safety: str | None
) -> None:
    from bot.cli import main

    folder = _dialogues_with_safety(tmp_path, safety)

    code = main(["chat", "--db", str(tmp_path / "c.db"), "--dialogues", str(folder)])

    err = capsys.readouterr().err
    assert code == 2
    assert "safety" in err and "will not start" in err
    if safety is not None:
        assert f"{folder / 'safety.yaml'}:" in err  # file:line:col


def test_a_start_of_nothing_at_the_safety_question_is_not_taken_as_an_answer(chat: Chat) -> None:
    at_situation(chat)
    chat.say(SUICIDAL)

    reply = chat.say("start nowhere")

    assert conversation(chat).pending == "safety"
    assert "situation" not in conversation(chat).slots
    assert [c.value for c in reply.messages[-1].choices] == ["carry_on", "stop"]


def test_starting_a_dialogue_by_name_still_works_from_the_safety_question(chat: Chat) -> None:
    at_situation(chat)
    chat.say(SUICIDAL)

    chat.say("start own_power")

    assert conversation(chat).dialogue == "own_power"


def test_coach_slack_will_not_serve_without_its_safety_file(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    folder = _dialogues_with_safety(tmp_path, "version: 2\ncategories: [\n")

    code = main(["slack", "--db", str(tmp_path / "c.db"), "--dialogues", str(folder)])

    err = capsys.readouterr().err
    assert code == 2
    assert "will not start" in err and f"{folder / 'safety.yaml'}:" in err
    assert "serving Slack" not in err


@pytest.mark.parametrize("route", [["2"], ["1", "carry on"]])
def test_at_the_menu_carrying_on_after_a_softer_signal_offers_to_work_on_it(
    chat: Chat, route: list[str]
) -> None:
    chat.open()
    chat.say(SHOUTED)

    for said in route:
        reply = chat.say(said)

    assert "with what you told me in mind" in reply.text
    assert "Diagnose a power situation" in reply.messages[-1].text
    chat.say("yes")
    row = conversation(chat)
    assert (row.dialogue, row.slots.get("opening")) == ("diagnose", SHOUTED)


def test_at_the_menu_carrying_on_after_a_softer_signal_thanks_them_once(chat: Chat) -> None:
    chat.open()
    chat.say(SHOUTED)

    reply = chat.say("I'm safe, let's carry on")

    assert reply.text.count("Thank you") == 1, reply.text


EXHAUSTED = "honestly I'm exhausted, I've been crying in the car before work every day this week"


def test_distress_written_of_oneself_is_met_as_said_of_them_and_not_turned_into_a_case(
    chat: Chat, catalog: Catalog
) -> None:
    chat.open()
    distress = category(catalog, "distress")

    reply = chat.say(EXHAUSTED)

    assert distress.ack_self in reply.text
    assert "someone you care about" not in reply.text
    carried = chat.say("I'm safe, let's carry on")
    assert "I'd suggest" not in carried.text  # how they are is not a situation to diagnose
    menu = [c.label for c in carried.messages[-1].choices]
    assert "Diagnose a power situation" in menu  # the menu, for when they're ready
    assert chat.engine.store.current_conversation(chat.user) is None


def test_distress_written_of_someone_else_gets_the_acknowledgement_that_fits_either(
    chat: Chat, catalog: Catalog
) -> None:
    chat.open()
    said = "one of my volunteers told me she can't cope any more and doesn't see the point"

    reply = chat.say(said)

    assert category(catalog, "distress").ack.strip() in reply.text
