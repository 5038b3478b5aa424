"""The rows storage hands out and takes in: plain dataclasses, no SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic_core import from_json, to_json


def compact_json(value: Any) -> str:
    """Compact JSON for slots and history, written every turn.

    pydantic-core's serializer (already installed with pydantic) does this about four
    times faster than the standard library's encoder, a measurable share of a turn.
    """
    return to_json(value).decode()


#: The hidden slot holding what a conversation was about (worked out when it ends or is set
#: aside); a save copies it to the `about` column (m013), which a listing reads instead of
#: parsing the slots.
ABOUT = "_about"

_CONVERSATION_COLUMNS = (
    "id, user_id, dialogue, dialogue_version, dialogue_digest, state, status, pending, "
    "slots, history, turn, follow_up_of, started_at, updated_at, completed_at, revisit_of"
)


@dataclass
class ConversationRow:
    """One conversation as stored: which dialogue, where it is, and what the user has said."""

    id: int
    user_id: str
    dialogue: str
    dialogue_version: int
    dialogue_digest: str
    state: str | None
    status: str
    pending: str | None
    slots: dict[str, Any]
    history: list[Any]
    turn: int
    follow_up_of: int | None
    started_at: str
    updated_at: str
    completed_at: str | None = None
    #: The past conversation this one is about (a revisit names the diagnosis it revisits).
    revisit_of: int | None = None
    #: How long `history` was when last read or written: lets a save append or drop one
    #: entry in SQL instead of rewriting the whole undo history every turn.
    saved_history: int | None = field(default=None, repr=False, compare=False)
    #: The status as last read or written: a save names `status` (an indexed column) only
    #: when it changed.
    saved_status: str | None = field(default=None, repr=False, compare=False)
    #: The reading a finished conversation ended with, set when it finishes and written with
    #: it ("" for a dialogue without one); never read back into a live row.
    reading: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_tuple(cls, row: Sequence[Any]) -> ConversationRow:
        values = list(row)
        values[8] = from_json(values[8] or "{}")
        values[9] = from_json(values[9] or "[]")
        loaded = cls(*values)
        loaded.saved_history = len(loaded.history)
        loaded.saved_status = loaded.status
        return loaded


@dataclass(frozen=True)
class NextStep:
    """A dated action the user committed to, with the idea behind it and its source."""

    id: int
    conversation_id: int
    user_id: str
    recommendation_id: str | None
    title: str | None
    text: str
    idea: str | None
    source: str | None
    due_date: str
    status: str
    outcome: str | None
    learned: str | None
    #: When its last check-in recorded an outcome.
    checked_at: str | None = None
    #: A check-in put off ("later") waits until this day.
    snoozed_until: str | None = None


@dataclass(frozen=True)
class InboxEntry:
    """A delivery a channel acknowledged before running its turn (see `Store.receive`)."""

    id: int
    delivery_id: str
    user_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    received_at: str
    turned_at: str | None = None


@dataclass(slots=True)
class MessageRow:
    """One line of a transcript, as the engine hands it to storage."""

    sender: str
    text: str
    state: str | None = None
    conversation_id: int | None = None


class StepOutcome(NamedTuple):
    """A next step as a record lists it: what it was, when it was due, and how it went."""

    conversation_id: int
    title: str
    due_date: str
    status: str
    outcome: str | None
    learned: str | None


#: The `next_steps` columns a `StepOutcome` is read from (a step without a title: its text).
STEP_OUTCOME_COLUMNS = "conversation_id, coalesce(title, text), due_date, status, outcome, learned"


class PastConversation(NamedTuple):
    """One of a person's conversations as their record shows it: when, how it ended, what it
    was about (`about`, worked out when it ended; None if it was not), its first suggestion
    (`top`), its next steps soonest first, its slots when they were read (`slots`), and the
    reading it ended with when that was read (`reading`).

    A NamedTuple, not a frozen dataclass: a page of `history` builds eleven, and a frozen
    dataclass costs 1.4 µs each to build (a NamedTuple about 0.4 µs)."""

    id: int
    dialogue: str
    status: str
    started_at: str
    updated_at: str
    completed_at: str | None
    about: str | None = None
    top: str | None = None
    slots: dict[str, Any] | None = None
    steps: tuple[StepOutcome, ...] = ()
    #: The reading it ended with, as stored when it finished (None: not read, or finished
    #: before readings were stored).
    reading: str | None = None

    @property
    def date(self) -> str:
        """The ISO date it is listed under: when it was finished, else last touched."""
        return (self.completed_at or self.updated_at or self.started_at)[:10]
