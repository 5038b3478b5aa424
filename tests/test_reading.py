"""A coach that reads what was said: short names for long answers, acknowledgements,
insights under the summary, and recommendations that fit the user's own words.

Driven through the engine like a user, over tests/dialogues_fixture/reading.yaml, which uses
every one of these features; broken versions of it must fail with file:line:col.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.compiler import compile_dialogue
from bot.diagram import mermaid
from bot.engine import Engine, EngineSettings
from bot.errors import DialogueError
from bot.loader import Catalog, load_catalog, load_dialogue_file
from storage.store import Store
from tests.conftest import DIALOGUES, Chat, FakeClock, copy_safety

FIXTURE = Path(__file__).resolve().parent / "dialogues_fixture"
READING = FIXTURE / "reading.yaml"
LONG = (
    "Honestly I don't even know who made the decision. The trust, I suppose - "
    "they're closing the clinic"
)
THANKS = "Thank you. It helps to have that in your own words."
CLOSURE = "A closure is hard to watch from outside."
OUTSIDE = "Then part of the work is being heard from outside the room."


def reading_catalog() -> Catalog:
    catalog = load_catalog(FIXTURE)
    assert [p for p in catalog.problems if "safety" not in str(p)] == []
    catalog.safety = load_catalog(DIALOGUES).safety
    return catalog


@pytest.fixture
def reader(store: Store, clock: FakeClock) -> Chat:
    chat = Chat(Engine(store, reading_catalog(), settings=EngineSettings(), clock=clock))
    chat.open()
    chat.say("start reading")
    assert chat.state == "other_party"
    return chat


def slots(chat: Chat) -> dict[str, Any]:
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    return row.slots


def said(chat: Chat) -> list[str]:
    assert chat.last is not None
    return [m.text for m in chat.last.messages]


def to_summary(chat: Chat, ratings: tuple[str, str, str, str], *, in_room: str = "no") -> str:
    """From the situation question, answer up to the summary; return everything said there."""
    assert chat.state == "situation", chat.text
    chat.say("They are closing the clinic on our estate next spring")
    chat.say(in_room)
    for rating in ratings:
        chat.say(rating)
    return chat.text


# == names, not paragraphs ======================================================================


def test_a_long_answer_gets_a_short_name_and_is_kept_whole(reader: Chat) -> None:
    reader.say(LONG)

    assert reader.state == "other_party__name"
    assert "What shall I call them — 'the trust'?" in reader.text
    assert reader.awaits == "text"

    reader.say("yes")

    assert reader.state == "situation"
    assert said(reader) == ["What is happening with the trust?"]
    assert slots(reader)["other_party"] == "the trust"
    assert slots(reader)["other_party_note"] == LONG
    shown = to_summary(reader, ("4", "1", "3", "2"))
    assert f'The other party: the trust ("{LONG}")' in shown
    assert "Are you in the room" not in shown
    assert "Good luck with the trust." in reader.text


def test_the_summary_command_reads_back_the_long_answer_behind_a_name(reader: Chat) -> None:
    reader.say(LONG)
    reader.say("yes")

    shown = reader.say("summary").text

    assert f"the trust (in your words: {LONG})" in shown


def test_a_short_answer_is_the_name_with_no_follow_up(reader: Chat) -> None:
    reader.say("NHS Fife")

    assert reader.state == "situation"
    assert said(reader) == ["What is happening with NHS Fife?"]
    assert slots(reader).get("other_party_note") is None


def test_a_name_typed_instead_is_used_and_reads_mid_sentence(reader: Chat) -> None:
    reader.say(LONG)
    reader.say("The Trust board.")

    assert slots(reader)["other_party"] == "The Trust board"
    assert said(reader) == ["What is happening with the Trust board?"]


def test_the_name_question_asks_again_for_a_paragraph_or_a_bare_no(reader: Chat) -> None:
    reader.say(LONG)

    reader.say("Well it is really the people at the trust who decide all of it")
    assert reader.state == "other_party__name"
    assert "A shorter name, please (5 words at most)" in reader.text
    assert "What shall I call them — 'the trust'?" in reader.text

    reader.say("no")
    assert reader.state == "other_party__name"
    assert "What short name would you like me to use instead?" in reader.text


def test_back_from_the_name_question_asks_who_again(reader: Chat) -> None:
    reader.say(LONG)
    reader.say("back")

    assert reader.state == "other_party"
    assert "Who do you most need to influence here?" in reader.text
    assert "other_party" not in slots(reader)
    assert "other_party_note" not in slots(reader)

    reader.say("the trust board")
    assert reader.state == "situation"


def test_back_after_the_name_returns_to_the_name_question(reader: Chat) -> None:
    reader.say(LONG)
    reader.say("NHS Fife")
    reader.say("back")

    assert reader.state == "other_party__name"
    assert "What shall I call them — 'the trust'?" in reader.text
    reader.say("yes")
    assert said(reader) == ["What is happening with the trust?"]


def test_a_coach_started_afresh_asks_the_same_name_question(
    reader: Chat, store: Store, clock: FakeClock
) -> None:
    reader.say(LONG)
    awaits = reader.last.awaits if reader.last else None

    fresh = Chat(Engine(store, reading_catalog(), clock=clock), reader.user)
    assert fresh.engine.current_awaits(fresh.user) == awaits
    fresh.say("yes")
    assert fresh.state == "situation"
    assert said(fresh) == ["What is happening with the trust?"]


def test_the_diagram_shows_the_name_question() -> None:
    compiled = compile_dialogue(load_dialogue_file(READING))
    drawn = mermaid(compiled.machine_class)

    assert 'state "The other party (short name)" as other_party__name' in drawn
    assert "other_party --> other_party__name : Answer [more than 5 words]" in drawn
    assert "other_party__name --> situation : Answer" in drawn
    assert "situation --> other_party__name : Back [back to other_party__name]" in drawn


# == acknowledgements ===========================================================================


def test_a_substantial_answer_is_acknowledged_before_the_next_question(reader: Chat) -> None:
    reader.say(LONG)

    assert said(reader)[0] == THANKS
    assert said(reader)[1].startswith("What shall I call them")


def test_a_short_answer_gets_no_acknowledgement(reader: Chat) -> None:
    reader.say("NHS Fife")

    assert THANKS not in reader.text


def test_the_same_acknowledgement_is_never_said_twice_in_a_row(reader: Chat) -> None:
    reader.say(LONG)
    reader.say("yes")
    reader.say("They keep changing the opening hours without asking anyone here")

    assert THANKS not in reader.text  # the same sentence as last time: nothing instead
    assert said(reader) == ["Are you in the room when the trust decide this?"]


def test_an_ack_about_the_answer_itself_needs_no_long_answer(reader: Chat) -> None:
    reader.say("the trust")
    reader.say("They are closing the clinic")  # five words, but the ack's `when` is about it
    assert said(reader)[0] == CLOSURE

    reader.say("no")
    assert said(reader)[0] == OUTSIDE


def test_an_ack_whose_condition_fails_is_not_said(reader: Chat) -> None:
    reader.say("the trust")
    reader.say("It's about opening hours")
    reader.say("yes")

    assert OUTSIDE not in reader.text
    assert said(reader) == ["How much money, staff or assets do they hold?"]


# == insights ===================================================================================


def test_the_summary_says_what_a_coach_notices_with_sources(reader: Chat) -> None:
    reader.say(LONG)
    reader.say("yes")
    shown = to_summary(reader, ("4", "1", "3", "2"))

    summary = next(text for text in said(reader) if "What I notice:" in text)
    reading = summary.split("What I notice:\n", 1)[1].splitlines()
    assert reading == [
        "• Your largest gap is in resources (4 to 1). (Huxham and Beech (2008))",
        "• You are outside the room where the trust decide, so your routes in matter most. "
        "(Course material on routes of influence)",
        "• You needed a paragraph to say who decides; that is worth noticing. "
        "(Smircich and Morgan (1982))",
    ]
    assert "The one thing I'd hold onto: Your largest gap is in resources (4 to 1)." in shown
    ids = [i["id"] for i in slots_after_end(reader)]
    assert ids == ["largest_gap", "outside_the_room", "said_at_length"]


def slots_after_end(chat: Chat) -> list[dict[str, str]]:
    rows = [r for r in chat.engine.store.conversations_of(chat.user) if r.dialogue == "reading"]
    return rows[-1].slots["insights"]


def test_where_the_user_is_level_the_coach_says_so_and_names_no_gap(reader: Chat) -> None:
    reader.say("NHS Fife")
    shown = to_summary(reader, ("3", "3", "2", "4"), in_room="yes")

    assert "You are level with NHS Fife or ahead in position: lead with it." in shown
    assert "largest gap" not in shown
    assert "outside the room" not in shown


def test_at_most_max_insights_are_shown_best_first(tmp_path: Path, clock: FakeClock) -> None:
    text = READING.read_text(encoding="utf-8").replace(
        "    insights: true\n", "    insights: true\n    max_insights: 1\n"
    )
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "reading.yaml").write_text(text, encoding="utf-8")
    copy_safety(folder)
    catalog = load_catalog(folder)
    chat = Chat(Engine(Store(tmp_path / "c.db"), catalog, clock=clock))
    chat.open()
    chat.say("start reading")
    chat.say(LONG)
    chat.say("yes")
    shown = to_summary(chat, ("4", "1", "3", "2"))

    assert "What I notice:\n• Your largest gap is in resources (4 to 1)." in shown
    assert "outside the room" not in shown.split("What I notice:")[1].split("These fit")[0]


# == recommendations that fit ==================================================================


def recommended(chat: Chat) -> list[str]:
    rows = [r for r in chat.engine.store.conversations_of(chat.user) if r.dialogue == "reading"]
    return rows[-1].slots["recommendations"]


def test_the_users_words_raise_what_fits_and_unless_rules_out(reader: Chat) -> None:
    reader.say("the trust")
    shown = to_summary(reader, ("4", "1", "5", "1"))  # "closing the clinic", not in the room

    recs = recommended(reader)
    assert "speak_up" not in recs  # its `when` holds (position 5 to 1), its `unless` too
    assert recs.index("health_scrutiny") < recs.index("petition")  # "clinic": 50 + 10 > 55
    assert len(recs) == 7
    assert "healthwatch" not in recs  # the eighth that fits
    assert "1. Find who else is affected" in shown


def test_fewer_than_min_fitting_are_made_up_with_general_advice(reader: Chat) -> None:
    reader.say("the trust")
    to_summary(reader, ("3", "3", "3", "3"), in_room="yes")

    # start_somewhere weighs more than both, but `unless: in_room` rules it out.
    assert recommended(reader) == ["meet_officer", "name_and_frame", "observe_a_meeting"]


# == validation =================================================================================


@pytest.mark.parametrize(
    ("old", "new", "at", "expected"),
    [
        (
            "    when: not in_room\n    weight: 80\n",
            "    when: not in_rom\n    weight: 80\n",
            "not in_rom",
            "insights.2.when: 'not in_rom' names 'in_rom', which is not a slot",
        ),
        (
            "    source: Smircich and Morgan (1982)\n    text: You needed",
            "    text: You needed",
            "id: said_at_length",
            "insights.3.source: required but missing",
        ),
        (
            "    text: Money came up first;",
            "    text: Money came {{ up first;",
            "Money came {{",
            "insights.4.text: template error",
        ),
        (
            "    unless: not in_room\n    weight: 90",
            "    unless: in_room ==\n    weight: 90",
            "in_room ==",
            "recommendations.0.unless: 'in_room ==' is not a valid condition",
        ),
        (
            "    words: [meeting]",
            "    words: ['...']",
            "'...'",
            "recommendations.12.words.0: '...' has no words in it",
        ),
        ("    min: 3\n    max: 7", "    min: 8\n    max: 7", "7\n", "`min` is 8 but `max` is 7"),
        ("    max: 7\n", "    max: 7\n    show: 5\n", "5\n", "`show` is the old name of `max`"),
        ("      max_words: 5", "      max_words: 0", "0\n", "must be at least 1 (found 0)"),
        (
            "        text: A closure is",
            "        text: A closure {% if %}",
            "A closure {%",
            "steps.situation.ack.0.text: template error",
        ),
        (
            "      - when: not in_room\n        text: Then",
            "      - when: not in_rooms\n        text: Then",
            "not in_rooms",
            "steps.in_room.ack.0.when: 'not in_rooms' names 'in_rooms'",
        ),
        (
            "    title: Options\n",
            "    title: Options\n    ack:\n      - text: Nice.\n",
            "ack:\n      - text: Nice.",
            "steps.recommend.ack: a `recommend` step asks nothing to acknowledge",
        ),
    ],
    ids=[
        "insight_when",
        "insight_source",
        "insight_text",
        "unless",
        "words",
        "min_max",
        "show_and_max",
        "max_words",
        "ack_text",
        "ack_when",
        "ack_on_recommend",
    ],
)
def test_a_bad_new_field_is_reported_at_its_line_and_column(
    tmp_path: Path, old: str, new: str, at: str, expected: str
) -> None:
    text = READING.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    broken = text.replace(old, new)
    path = tmp_path / "reading.yaml"
    path.write_text(broken, encoding="utf-8")

    with pytest.raises(DialogueError) as caught:
        load_dialogue_file(path)

    start = broken.index(new)  # `at` is in what changed, or the item just above it
    offset = broken.find(at, start) if at in broken[start:] else broken.rindex(at, 0, start)
    line = broken.count("\n", 0, offset) + 1
    col = offset - broken.rfind("\n", 0, offset)
    problems = [p for p in str(caught.value).splitlines() if expected in p]
    assert problems, str(caught.value)
    assert problems[0].strip().startswith(f"{path}:{line}:{col}: "), problems[0]


def test_insights_true_needs_insights(tmp_path: Path) -> None:
    text = READING.read_text(encoding="utf-8")
    path = tmp_path / "reading.yaml"
    path.write_text(text[: text.index("insights:\n  - id: largest_gap")], encoding="utf-8")

    with pytest.raises(DialogueError, match=r"steps\.summary\.insights: `insights: true` needs"):
        load_dialogue_file(path)


def test_show_alone_is_still_read_as_max(tmp_path: Path) -> None:
    text = READING.read_text(encoding="utf-8").replace("    min: 3\n    max: 7\n", "    show: 2\n")
    path = tmp_path / "reading.yaml"
    path.write_text(text, encoding="utf-8")
    step = load_dialogue_file(path).dialogue.steps["recommend"]

    assert (step.least, step.most) == (2, 2)  # type: ignore[union-attr]
