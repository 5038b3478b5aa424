"""Random walks through every dialogue: whatever a user types, the coach keeps its footing.

Hypothesis plays a user who mostly answers properly (picked from what the last reply says it
awaits), sometimes answers badly (nonsense, out-of-range numbers, "banana" for a date, empty
or 5,000-character messages), types commands (back, restart, help, summary, pause, menu,
quit), comes back after quitting, and lets days pass. After every message the reply must be
something a user can act on, and it must match what is saved.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot import messages
from bot.engine import COMMANDS as ENGINE_COMMANDS
from bot.engine import Engine
from bot.loader import Catalog, load_catalog
from bot.turns import Await, Reply, UserInput
from storage.store import ConversationRow, Store

REPO = Path(__file__).resolve().parent.parent
USER = "terminal:walker"
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
PLANTED = "planted by the test"
WALKS = ["diagnose", "own_power", "checkin"]
COMMANDS = [
    "back",
    "back",
    "restart",
    "help",
    "summary",
    "pause",
    "menu",
    "quit",
    "start own_power",
    "start nowhere",
]
#: What the user does next, weighted: mostly proper answers.
ACTIONS = ["valid"] * 24 + ["invalid"] * 3 + ["command"] * 3 + ["later"]
SENTENCES = [
    "The partnership board decides our funding next month.",
    "Families on my caseload, for decisions about respite care",
    "It went better than I expected.",
    "Some days I want to end it all.",  # a safety signal: the walk must survive it
]
INVALID = [
    "",
    "   ",
    "banana",
    "0",
    "-3",
    "99",
    "7.5",
    "maybe",
    "it depends, sort of",
    "I know this estate better than anyone at the trust",
    "1 and 2",
    "x" * 5000,
    "\u2603 \u00e9\u00e8 \U0001f600",
]


@functools.cache
def reading_catalog() -> Catalog:
    """The test dialogue that asks for short names, acknowledges and reads (no safety file of
    its own: the shipped one is used)."""
    loaded = load_catalog(REPO / "tests" / "dialogues_fixture")
    assert [str(p) for p in loaded.problems if "safety" not in str(p)] == []
    loaded.safety = shipped_catalog().safety
    return loaded


@functools.cache
def shipped_catalog() -> Catalog:
    """The shipped dialogues, loaded once (not a fixture: Hypothesis would print it whole)."""
    loaded = load_catalog(REPO / "dialogues")
    assert not loaded.problems, [str(p) for p in loaded.problems]
    return loaded


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def is_command(text: str) -> bool:
    return " ".join(text.lower().split()).strip(" .!") in ENGINE_COMMANDS


def valid_answers(awaits: Await, today: dt.date) -> st.SearchStrategy[str]:
    """Every way of answering the question properly, read from what the reply awaits."""
    kind = awaits.kind
    if kind in ("choice", "yesno", "scale"):
        options = awaits.choices
        forms = [
            st.sampled_from([c.value for c in options]),
            st.sampled_from([c.label for c in options]),
            st.integers(1, len(options)).map(str),
        ]
        if kind == "yesno":
            forms.append(st.sampled_from(["yes", "no", "Yes.", "nope", "sure"]))
        if kind == "scale":
            assert awaits.min is not None and awaits.max is not None
            forms.append(st.integers(awaits.min, awaits.max).map(str))
        return st.one_of(forms)
    if kind == "date":
        return st.one_of(
            st.integers(1, 60).map(lambda n: f"in {n} days"),
            st.sampled_from(["in 3 days", "tomorrow", "next friday", "in 2 weeks"]),
            st.integers(0, 400).map(lambda n: (today + dt.timedelta(days=n)).isoformat()),
        )
    if kind == "text":
        return st.one_of(
            st.sampled_from(SENTENCES),
            # A word that is a command ("bye", "EXIT") is a command, not an answer.
            st.text(min_size=1, max_size=60).filter(lambda t: not is_command(t)),
        )
    return st.sampled_from(SENTENCES)


def invalid_answers(awaits: Await) -> st.SearchStrategy[str]:
    forms = [
        st.sampled_from(INVALID),
        st.text(max_size=30),
    ]
    if awaits.choices:
        forms.append(st.integers(len(awaits.choices) + 1, 40).map(str))
    if awaits.min is not None and awaits.max is not None:
        forms.append(st.integers(awaits.max + 1, awaits.max + 50).map(str))
        forms.append(st.integers(-50, awaits.min - 1).map(str))
    return st.one_of(forms)


def plant_due_step(store: Store, user: str) -> None:
    """A next step from an earlier diagnosis, due three days ago: opening starts a check-in."""
    now = (START - dt.timedelta(days=20)).isoformat()
    with store.transaction():
        store.ensure_user(user, "terminal", "Walker", now)
        row = ConversationRow(
            id=0,
            user_id=user,
            dialogue="diagnose",
            dialogue_version=1,
            dialogue_digest=PLANTED,
            state="end",
            status="completed",
            pending=None,
            slots={},
            history=[],
            turn=30,
            follow_up_of=None,
            started_at=now,
            updated_at=now,
            completed_at=now,
        )
        store.create_conversation(row)
        store.add_next_steps(
            row.id,
            user,
            [
                {
                    "id": "find_first_ally",
                    "title": "Find one ally before the next meeting",
                    "text": "Ring one person affected by this and ask them to stand with you.",
                    "idea": "Coalitions start small.",
                    "source": "Citizens UK / London Citizens",
                    "due_date": (START - dt.timedelta(days=3)).date().isoformat(),
                }
            ],
            now,
        )


def check(
    reply: Reply,
    engine: Engine,
    store: Store,
    catalog: Catalog,
    *,
    quiet_ok: bool,
    reload: bool = True,
) -> None:
    """What every reply owes the user, and (with `reload`) that it agrees with what was saved."""
    text = reply.text
    assert reply.messages, "the coach said nothing"
    assert "Traceback" not in text
    assert messages.INTERNAL_ERROR not in text, "a turn failed inside the engine"
    awaits = reply.awaits
    if awaits.kind == "none":
        assert quiet_ok, f"the coach asks nothing and the chat has not ended: {text!r}"
        return
    if awaits.kind in ("choice", "yesno", "scale"):
        assert awaits.choices, awaits
        shown = reply.messages[-1].choices
        # A short check ("That sounds like … Is that right?") shows no list; any list shown
        # is the one accepted.
        assert shown == awaits.choices or (reply.refused and not shown), (
            "the options shown are not the options accepted"
        )
    if not reload:
        return
    # A coach started afresh on the same file (after a crash) asks the very same question.
    fresh = Engine(store, catalog, clock=engine.clock)
    assert fresh.current_awaits(USER) == awaits


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(walk=st.sampled_from(WALKS), data=st.data())
def test_random_walks_always_leave_the_user_a_next_move(walk: str, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "coach.db")
        try:
            _walk(store, shipped_catalog(), walk, data)
        finally:
            store.close()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_walks_through_names_acks_and_insights(data: st.DataObject) -> None:
    """The name question, acks and insights keep their footing like any other step."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "coach.db")
        try:
            _walk(store, reading_catalog(), "reading", data)
        finally:
            store.close()


def _walk(store: Store, catalog: Catalog, walk: str, data: st.DataObject) -> None:
    clock = Clock()
    engine = Engine(store, catalog, clock=clock)

    def say(text: str) -> Reply:
        return engine.handle(USER, UserInput(text))

    if walk == "checkin":
        plant_due_step(store, USER)
        reply = engine.open(USER)
        current = store.current_conversation(USER)
        assert current is not None and current.dialogue == "checkin"
    else:
        engine.open(USER)
        reply = say(walk)
        current = store.current_conversation(USER)
        assert current is not None and current.dialogue == walk
    check(reply, engine, store, catalog, quiet_ok=False)

    for step in range(data.draw(st.integers(5, 100), label="length")):
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        quiet_ok = False
        awaits = reply.awaits
        if action == "later":
            clock.now += dt.timedelta(days=data.draw(st.integers(1, 20), label="days later"))
            continue
        if awaits.kind == "none" or action == "valid":
            if {c.value for c in awaits.choices} == {"carry_on", "stop"}:
                quiet_ok = True  # stopping after a safety message pauses the chat
            text = data.draw(valid_answers(awaits, clock.now.date()), label="answer")
        elif action == "invalid":
            text = data.draw(invalid_answers(awaits), label="bad answer")
        else:
            text = data.draw(st.sampled_from(COMMANDS), label="command")
            quiet_ok = text in ("pause", "quit")
        reply = say(text)
        # Rebuilding from the file costs as much as a turn: do it every few turns.
        check(reply, engine, store, catalog, quiet_ok=quiet_ok, reload=step % 4 == 0)
        if reply.ended and data.draw(st.booleans(), label="come back"):
            reply = engine.open(USER)
            check(reply, engine, store, catalog, quiet_ok=False)
    check(reply, engine, store, catalog, quiet_ok=True)
    for row in store.conversations_of(USER):
        if row.dialogue_digest != PLANTED:
            event(f"{row.dialogue}: {row.status}")


@pytest.mark.parametrize("digit", ["²", "①"])
def test_a_digit_that_is_not_a_plain_number_is_refused_like_any_wrong_option(
    tmp_path: Path, digit: str
) -> None:
    store = Store(tmp_path / "coach.db")
    try:
        engine = Engine(store, shipped_catalog(), clock=Clock())
        engine.open(USER)
        at_menu = engine.handle(USER, UserInput(digit))
        engine.handle(USER, UserInput("diagnose"))
        at_question = engine.handle(USER, UserInput(digit))
    finally:
        store.close()

    for reply in (at_menu, at_question):
        assert messages.INTERNAL_ERROR not in reply.text
        assert reply.awaits.kind == "choice"
    assert messages.PICK_ONE in at_question.text
