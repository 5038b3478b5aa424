"""The model python-statemachine drives: one conversation's state, slots and pending output.

The machine writes `state`; the generic step callbacks read the slots and append to
`outbox`. Nothing here touches storage or a channel: the engine persists and sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.turns import BotMessage
from storage.store import ConversationRow

if TYPE_CHECKING:
    from bot.compiler import CompiledDialogue


@dataclass
class Effect:
    """Something a step asks the engine to store in the same transaction as the turn."""

    kind: str
    data: dict[str, Any]


@dataclass
class Session:
    """A live conversation: its stored row, its compiled dialogue, and this turn's output."""

    row: ConversationRow
    compiled: CompiledDialogue
    outbox: list[BotMessage] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    back_target: str | None = None
    completed: bool = False
    #: This turn's answer kept a remembered one ("still so?" "yes"): not a new answer.
    known: bool = False
    #: The state just entered took its remembered answer without asking: move on.
    skip: bool = False

    @property
    def state(self) -> str | None:
        return self.row.state

    @state.setter
    def state(self, value: str | None) -> None:
        self.row.state = value

    @property
    def slots(self) -> dict[str, Any]:
        return self.row.slots

    @property
    def ref(self) -> str:
        """Names the question now being asked; changes with every saved turn."""
        return f"{self.row.id}.{self.row.turn}"

    def say(self, text: str, choices: tuple[Any, ...] = ()) -> None:
        if text:
            self.outbox.append(BotMessage(text, choices))

    def take_outbox(self) -> list[BotMessage]:
        out, self.outbox = self.outbox, []
        return out
