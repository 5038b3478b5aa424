"""Posting to people in order, without a turn's thread ever waiting on Slack.

A message is tried once where it is made (a turn, a check-in). If Slack cannot take it just
now (429, a 5xx, the network), it and whatever that person is sent after it wait in the
store's outbox (storage/outbox.py), in order, and the follow-up loop tries again when Slack
said to (`Retry-After`) or after a growing wait. After `TRIES` tries it is given up on with
one log line, and the person is told where the coach can reach them: the Home tab says some
replies did not reach them, and one short note with where the conversation is now is tried
once more a minute later.

The outbox is kept in SQLite, not in memory: a reply whose turn was stored is still owed
after a restart, and the next `coach slack` sends it. Each row goes once Slack took it;
erasing a person takes theirs too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.channels.slack.web import WebCalls
from bot.errors import StorageError
from storage.outbox import NOTE, WHERE, HeldMessage
from storage.store import Store

log = logging.getLogger("coach.slack")

#: Tries at one message (the first, where it was made, included) before it is given up on.
TRIES = 5
#: How long after giving up the short note saying so is tried.
NOTE_AFTER = dt.timedelta(seconds=60)

#: chat.postMessage arguments for one message.
Message = dict[str, Any]


def _no_note(key: str, channel: str) -> list[Message]:
    return []


@dataclass
class Courier:
    """Posts messages for the coach: at once when Slack takes them, else later, in order."""

    web: WebCalls
    client_for: Callable[[str], WebClient]
    clock: Callable[[], dt.datetime]
    store: Store
    #: Writes the note with where a person's conversation is, for (person, DM channel).
    write_note: Callable[[str, str], list[Message]] = _no_note
    #: Called with (person, DM channel) when their messages were given up on.
    on_unreached: Callable[[str, str], None] = lambda key, channel: None
    #: People whose replies were given up on, since when (the Home tab says so).
    unreached: dict[str, dt.datetime] = field(default_factory=dict)
    #: People who may have messages waiting: who need not be looked up before a post.
    _waiting: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # Owed from before a restart: later posts to these people queue behind it.
        self._waiting.update(self.store.users_with_held())

    def _try(self, key: str, message: Message, tries: int = 1) -> Any:
        client = self.client_for
        return self.web.send(
            "chat.postMessage", lambda: client(key).chat_postMessage(**message), tries
        )

    def post(self, key: str, messages: list[Message]) -> bool:
        """Post messages in order: those Slack can't take now, and everything after them,
        wait in the outbox. False when Slack refused one for good (logged once), or when
        what Slack could not take could not be kept either."""
        with self._lock:
            if key in self._waiting and self._holds(key):
                # behind what waits already, never overtaking it
                return self._hold_or_log(key, messages, self.clock())
        for number, message in enumerate(messages):
            sent = self._try(key, message)
            if sent.ok:
                self.reached(key)
                continue
            if sent.wait is None:
                return False
            later = self.clock() + dt.timedelta(seconds=sent.wait)
            with self._lock:
                return self._hold_or_log(key, messages[number:], later)
        return True

    def _holds(self, key: str) -> int:
        """How many messages wait for the person; a store that cannot say counts as none
        (better a reply out of order than none)."""
        try:
            held = self.store.held_count(key)
        except StorageError as exc:
            log.warning("outbox not read: %s", type(exc).__name__)
            return 0
        if not held:
            self._waiting.discard(key)
        return held

    def _hold_or_log(self, key: str, messages: list[Message], not_before: dt.datetime) -> bool:
        try:
            self.hold(key, messages, not_before)
        except StorageError as exc:
            log.error("reply not kept for later, not sent: %s", type(exc).__name__)
            return False
        return True

    def hold(self, key: str, messages: list[Message], not_before: dt.datetime) -> None:
        """Keep messages for the person, after whatever waits for them already."""
        if not messages:
            return
        now = self.clock().isoformat()
        self.store.hold_messages(key, messages, not_before.isoformat(), now)
        self._waiting.add(key)

    def hold_note(self, key: str, channel: str, not_before: dt.datetime) -> None:
        """Tell the person where their conversation is, in the DM `channel`, once
        `not_before` has passed (the note is written then, by `write_note`)."""
        now = self.clock().isoformat()
        self.store.hold_messages(
            key, [{"channel": channel}], not_before.isoformat(), now, kind=WHERE
        )
        with self._lock:
            self._waiting.add(key)

    def holds(self, key: str) -> int:
        """How many messages wait for the person."""
        return self.store.held_count(key)

    def next_due(self) -> dt.datetime | None:
        """When the first of anyone's waiting messages may be tried."""
        due = self.store.next_held_due()
        return dt.datetime.fromisoformat(due) if due else None

    def reached(self, key: str) -> None:
        if key in self.unreached:
            with self._lock:
                self.unreached.pop(key, None)

    def deliver_due(self) -> int:
        """Try what waits and is due, oldest first for each person; how many went out."""
        now = self.clock()
        out = 0
        for key in self.store.users_with_held_due(now.isoformat()):
            try:
                out += self._deliver(key, now)
            except StorageError as exc:  # one person's trouble must not hold up the rest
                log.warning("outbox not sent: %s", type(exc).__name__)
        return out

    def _deliver(self, key: str, now: dt.datetime) -> int:
        out = 0
        while True:
            held = self.store.first_held(key)
            if held is None:
                with self._lock:
                    self._holds(key)
                return out
            if dt.datetime.fromisoformat(held.not_before) > now:
                return out
            if held.kind == WHERE:  # the note, written now it is due
                channel = str(held.message.get("channel") or "")
                self.store.write_held_note(held.id, self.write_note(key, channel))
                continue
            sent = self._try(key, held.message, held.tries + 1)
            if sent.ok:
                self.store.held_sent(held.id)
                out += 1
                self.reached(key)
                continue
            if sent.wait is None:  # refused for good (logged): what waits can't go either
                self.store.drop_held(key)
                return out
            if held.tries + 1 < TRIES:
                later = now + dt.timedelta(seconds=sent.wait)
                self.store.held_again(held.id, held.tries + 1, later.isoformat())
                return out
            self._give_up(key, held, sent.kind)
            return out

    def _give_up(self, key: str, held: HeldMessage, kind: str) -> None:
        """One log line (no text); then tell the person where the coach can."""
        dropped = self.store.drop_held(key)
        log.warning(
            "chat.postMessage failed (gave up): %s after %d tries, %d messages not sent",
            kind,
            held.tries + 1,
            dropped,
        )
        if held.kind == NOTE:
            return  # the note itself did not go out: nothing more to try
        self.unreached[key] = self.clock()
        self.on_unreached(key, str(held.message.get("channel") or ""))
