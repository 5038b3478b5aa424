"""Posting to people in order, without a turn's thread ever waiting on Slack.

A message is tried once where it is made (a turn, a check-in). If Slack cannot take it just
now (429, a 5xx, the network), it and whatever that person is sent after it wait here, in
order, and the follow-up loop tries again when Slack said to (`Retry-After`) or after a
growing wait. After `TRIES` tries it is given up on with one log line, and the person is
told where the coach can reach them: the Home tab says some replies did not reach them, and
one short note with where the conversation is now is tried once more a minute later.

The outbox lives in memory: its turns are already stored, so a restart loses only the
wording of replies that had not gone out (as a crash before any reply would).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.channels.slack.web import WebCalls

log = logging.getLogger("coach.slack")

#: Tries at one message (the first, where it was made, included) before it is given up on.
TRIES = 5
#: How long after giving up the short note saying so is tried.
NOTE_AFTER = dt.timedelta(seconds=60)

#: chat.postMessage arguments for one message.
Message = dict[str, Any]


@dataclass
class Parcel:
    """One message waiting, or (`later`) the note to be written when it is due."""

    message: Message
    not_before: dt.datetime
    tries: int = 1
    #: The note itself (or what it became): its failure tells nobody anything more.
    note: bool = False
    later: Callable[[], list[Message]] | None = None


@dataclass
class Courier:
    """Posts messages for the coach: at once when Slack takes them, else later, in order."""

    web: WebCalls
    client_for: Callable[[str], WebClient]
    clock: Callable[[], dt.datetime]
    #: Called with (person, DM channel) when their messages were given up on.
    on_unreached: Callable[[str, str], None] = lambda key, channel: None
    #: People whose replies were given up on, since when (the Home tab says so).
    unreached: dict[str, dt.datetime] = field(default_factory=dict)
    _held: dict[str, deque[Parcel]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _try(self, key: str, message: Message, tries: int = 1) -> Any:
        client = self.client_for
        return self.web.send(
            "chat.postMessage", lambda: client(key).chat_postMessage(**message), tries
        )

    def post(self, key: str, messages: list[Message]) -> bool:
        """Post messages in order: those Slack can't take now, and everything after them,
        wait here. False when Slack refused one for good (logged once)."""
        with self._lock:
            waiting = bool(self._held.get(key))
        if waiting:  # behind what waits already, never overtaking it
            self.hold(key, messages, self.clock())
            return True
        for number, message in enumerate(messages):
            sent = self._try(key, message)
            if sent.ok:
                self.reached(key)
                continue
            if sent.wait is None:
                return False
            self.hold(key, messages[number:], self.clock() + dt.timedelta(seconds=sent.wait))
            return True
        return True

    def hold(
        self,
        key: str,
        messages: list[Message],
        not_before: dt.datetime,
        *,
        note: bool = False,
        later: Callable[[], list[Message]] | None = None,
    ) -> None:
        parcels = [Parcel(m, not_before, note=note) for m in messages]
        if later is not None:
            parcels = [Parcel({}, not_before, note=True, later=later)]
        with self._lock:
            self._held.setdefault(key, deque()).extend(parcels)

    def holds(self, key: str) -> int:
        with self._lock:
            return len(self._held.get(key) or ())

    def next_due(self) -> dt.datetime | None:
        with self._lock:
            firsts = [q[0].not_before for q in self._held.values() if q]
        return min(firsts, default=None)

    def reached(self, key: str) -> None:
        if key in self.unreached:
            with self._lock:
                self.unreached.pop(key, None)

    def deliver_due(self) -> int:
        """Try what waits and is due, oldest first for each person; how many went out."""
        now = self.clock()
        with self._lock:
            keys = [k for k, q in self._held.items() if q and q[0].not_before <= now]
        return sum(self._deliver(key, now) for key in keys)

    def _deliver(self, key: str, now: dt.datetime) -> int:
        out = 0
        while True:
            with self._lock:
                queue = self._held.get(key)
                if not queue:
                    self._held.pop(key, None)
                    return out
                parcel = queue[0]
                if parcel.not_before > now:
                    return out
                if parcel.later is not None:  # the note, written now it is due
                    queue.popleft()
                    queue.extendleft(Parcel(m, now, note=True) for m in reversed(parcel.later()))
                    continue
            sent = self._try(key, parcel.message, parcel.tries + 1)
            with self._lock:
                if sent.ok:
                    queue.popleft()
                    out += 1
                elif sent.wait is not None and parcel.tries + 1 < TRIES:
                    parcel.tries += 1
                    parcel.not_before = now + dt.timedelta(seconds=sent.wait)
                    return out
            if sent.ok:
                self.reached(key)
                continue
            if sent.wait is None:  # refused for good (logged): what waits can't go either
                with self._lock:
                    self._held.pop(key, None)
                return out
            self._give_up(key, parcel, sent.kind)
            return out

    def _give_up(self, key: str, parcel: Parcel, kind: str) -> None:
        """One log line (no text); then tell the person where the coach can."""
        with self._lock:
            dropped = self._held.pop(key, deque())
        log.warning(
            "chat.postMessage failed (gave up): %s after %d tries, %d messages not sent",
            kind,
            parcel.tries + 1,
            len(dropped),
        )
        if parcel.note:
            return  # the note itself did not go out: nothing more to try
        self.unreached[key] = self.clock()
        self.on_unreached(key, str(parcel.message.get("channel") or ""))
