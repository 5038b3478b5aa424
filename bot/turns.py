"""The engine's value objects: what a channel hands in and what it gets back.

They play the part bolt's BoltRequest/BoltResponse play: channels translate to and from
them and never reach inside the engine. Every word the bot shows passes through `Choice` and
`BotMessage`, so that is where control characters a user typed are made visible (`visible`):
no channel can replay them as terminal control, whatever it prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.text import visible

AwaitKind = Literal["choice", "text", "scale", "yesno", "date", "none"]


@dataclass(frozen=True)
class Choice:
    """One option the user can pick: `value` is what is stored, `label` what is shown."""

    value: str
    label: str

    def __post_init__(self) -> None:
        shown = visible(self.label)
        if shown is not self.label:
            object.__setattr__(self, "label", shown)


@dataclass(frozen=True)
class Await:
    """What kind of answer the bot waits for next, so a front end can offer the right control.

    `ref` names the exact question being asked (conversation and turn); a channel that
    sends it back with the answer lets the engine spot answers to questions that moved on.
    """

    kind: AwaitKind
    choices: tuple[Choice, ...] = ()
    min: int | None = None
    max: int | None = None
    ref: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.choices:
            data["choices"] = [{"value": c.value, "label": c.label} for c in self.choices]
        if self.min is not None:
            data["min"] = self.min
        if self.max is not None:
            data["max"] = self.max
        if self.ref is not None:
            data["ref"] = self.ref
        return data


NOTHING = Await("none")


@dataclass(frozen=True)
class BotMessage:
    """One message from the bot: text, and the choices it offers (if any).

    The text is as shown: a user's words quoted in it have their control characters made
    visible. What the user typed is stored as typed (`UserInput`).
    """

    text: str
    choices: tuple[Choice, ...] = ()

    def __post_init__(self) -> None:
        shown = visible(self.text)
        if shown is not self.text:
            object.__setattr__(self, "text", shown)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.choices:
            data["choices"] = [{"value": c.value, "label": c.label} for c in self.choices]
        return data


@dataclass(frozen=True)
class UserInput:
    """One message from the user.

    `ref` is the `Await.ref` of the question a button answered (None for typed text);
    `delivery_id` identifies the delivery (a Slack event id) so a retried delivery is
    recognised and produces no second turn.
    """

    text: str
    ref: str | None = None
    delivery_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """Everything the bot says in answer to one user message, and what it awaits next.

    `stale` is True when the input answered a question that had moved on: nothing changed,
    and a channel may show the note privately (Slack's ephemeral message).
    `duplicate` is True when the delivery had been processed before: say nothing.
    `ended` is True when the user asked to leave the chat (`quit`).
    `refused` is True when the answer did not fit the question, which is asked again.
    `failed` is True when the turn could not be saved (a locked store, an error on our
    side): nothing changed, and the same message may be tried again.
    """

    messages: tuple[BotMessage, ...] = ()
    awaits: Await = NOTHING
    stale: bool = False
    duplicate: bool = False
    ended: bool = False
    refused: bool = False
    failed: bool = False

    @property
    def text(self) -> str:
        """All message texts joined: handy for logs of shape and for tests."""
        return "\n".join(m.text for m in self.messages)
