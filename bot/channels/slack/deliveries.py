"""Deliveries from Slack, kept before they are acknowledged and run after, one person at a
time, oldest first (the store's inbox): a DM's turn, an answer click, a file, an edit or a
deletion; what stayed waiting after a crash or a failed turn is run by the follow-up loop.

Slack must hear back within three seconds and never resends what it got a 200 for, so each
delivery is written to the inbox *before* it is acknowledged, and its turn runs after. A
crash between the two loses nothing: the next start runs what is waiting.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import replace
from typing import Any

from slack_bolt.response import BoltResponse

from bot.channels.slack import blocks, texts
from bot.channels.slack.installs import Tokens
from bot.channels.slack.ordering import UserLocks
from bot.channels.slack.removals import Removals
from bot.channels.slack.requests import inbound, is_removal, slack_user_of, workspace_of
from bot.channels.slack.talk import CHANNEL, Talk
from bot.channels.slack.web import WebCalls
from bot.engine import Engine
from bot.errors import StorageError
from bot.turns import BotMessage, Reply, UserInput
from storage.store import InboxEntry

log = logging.getLogger("coach.slack")

#: Tries at a delivery whose turn fails (a locked store, a bug) before the user is told.
MAX_ATTEMPTS = 3
#: A delivery still waiting this long after it arrived is run by the follow-up loop.
STRANDED_AFTER = dt.timedelta(seconds=2)
#: Inbox deliveries that make no turn: a file alone, an edit, a deletion.
NO_TURN_KINDS = ("note", "edited", "deleted")


class Deliveries:
    """The inbox side of the Slack app: keep, then run, each person's deliveries in order."""

    def __init__(
        self,
        engine: Engine,
        web: WebCalls,
        tokens: Tokens,
        locks: UserLocks,
        removals: Removals,
        talk: Talk,
    ) -> None:
        self.engine = engine
        self.web = web
        self.tokens = tokens
        self.locks = locks
        self.removals = removals
        self.talk = talk
        #: Waiting deliveries whose user has been told their answer is delayed.
        self._told: set[int] = set()
        self._told_lock = threading.Lock()

    def receive(self, body: dict[str, Any], context: Any) -> BoltResponse | None:
        """Keep a turn-making request in the inbox before it is acknowledged.

        Returns a response to send instead of going on: 503 when it could not be kept (so
        Slack retries, and nothing is acknowledged that is not safe), or an empty 200 for a
        delivery received before (a retry: no second turn, no second reply).
        """
        if body.get("type") == "event_callback" and not is_removal(body):
            self.removals.back(workspace_of(body))  # a workspace that removed us is back (no read)
        found = inbound(body, self.engine.settings.max_chars)
        if found is None:
            return None
        key, delivery, kind, payload = found
        try:
            fresh = self.engine.store.receive(
                delivery, key, kind, payload, self.engine.clock().isoformat()
            )
        except StorageError as exc:
            log.error("delivery not kept, refused for a retry: %s", exc)
            return BoltResponse(status=503, body="try again shortly")
        if not fresh:
            return BoltResponse(status=200, body="")
        context["inbox_user"] = key
        return None

    def run_waiting(self, key: str) -> None:
        """Run every delivery waiting for this user, oldest first, one turn at a time.

        Whichever thread holds the user's lock runs them all; a thread that finds nothing
        waiting (another one got there first) does nothing. A turn that could not be saved
        stays waiting, to be tried again.
        """
        with self.locks.hold(key), self.web.hurried():
            for entry in self.engine.store.pending(key):
                if not self._run_entry(entry):
                    break

    def run_stranded(self, *, everything: bool = False) -> int:
        """Run deliveries left waiting: after a crash (at start, `everything`), or whose
        turn failed before. Returns how many users had some."""
        before = None if everything else (self.engine.clock() - STRANDED_AFTER).isoformat()
        users = self.engine.store.users_with_pending(before)
        for key in users:
            try:
                self.run_waiting(key)
            except Exception as exc:  # one user's trouble must not hold up everyone else's
                log.error("waiting messages of one user not run: %s", type(exc).__name__)
        return len(users)

    def _run_entry(self, entry: InboxEntry) -> bool:
        """One waiting delivery's turn and reply; False if it has to wait for another try."""
        payload = entry.payload
        channel = str(payload.get("channel") or slack_user_of(entry.user_id))
        thread = payload.get("thread_ts")
        if entry.kind in NO_TURN_KINDS:
            self._run_no_turn(entry, channel, thread)
            return True
        if entry.turned_at is not None:
            # Its turn was saved, but the process stopped before its reply was known to be
            # out: show where the conversation is now rather than leave the user waiting.
            where = self.engine.show_current(entry.user_id, texts.INTERRUPTED)
            if where.failed:
                return False  # the store can't be read just now: the next pass tries again
            self.talk.post_reply(channel, where, thread, key=entry.user_id)
            self.engine.store.delivered(entry.id)
            return True
        handle = payload.get("message_ref")
        before = self.engine.store.last_user_seq(entry.user_id) if handle else 0
        reply = self.talk.turn(
            entry.user_id,
            UserInput(
                str(payload.get("text") or ""),
                ref=payload.get("ref"),
                delivery_id=entry.delivery_id,
            ),
        )
        if reply.failed:
            return self._turn_failed(entry, reply, channel)
        link = None
        if handle and not reply.duplicate:
            # Which line of the transcript this DM became, for a deletion to find it later:
            # noted in the commit that lets the inbox entry go (no commit of its own).
            after = self.engine.store.last_user_seq(entry.user_id)
            link = (entry.delivery_id, str(handle), after if after > before else None)
        with self._told_lock:
            self._told.discard(entry.id)
        if not reply.duplicate:
            if payload.get("files") and not reply.failed:
                reply = replace(
                    reply, messages=(BotMessage(texts.FILES_SET_ASIDE), *reply.messages)
                )
            if entry.kind == "answer":
                self._show_answer(entry, reply, channel)
            else:
                self.talk.post_reply(channel, reply, thread, key=entry.user_id)
        self.engine.store.delivered(entry.id, link)
        return True

    def _run_no_turn(self, entry: InboxEntry, channel: str, thread: str | None) -> None:
        """A delivery that makes no turn: a file alone (a note saying only text is read), an
        edit of a message the coach answered (a note that edits are not re-read), or a
        deletion (the words leave the transcript, silently, as they left Slack).

        Marked as seen in the same transaction as what it changes, so Slack's retries of it
        change and say nothing more."""
        store = self.engine.store
        ref = str(entry.payload.get("message_ref") or "")
        line = store.delivered_line(ref) if ref else None
        ours = line is not None and line[0] == entry.user_id
        if entry.turned_at is None and (entry.kind == "note" or store.knows_user(entry.user_id)):
            erased = False
            with store.transaction():
                store.ensure_user(entry.user_id, CHANNEL, None, self.talk.now())
                store.mark_delivery(entry.delivery_id, entry.user_id, self.talk.now())
                if entry.kind == "deleted" and ours and line is not None and line[1]:
                    erased = store.delete_line(entry.user_id, line[1], self.talk.now())
            if erased:
                store.scrub()  # the words leave the write-ahead log too
        if entry.kind == "note":
            self.talk.post_text(entry.user_id, channel, texts.FILES_ONLY, thread)
        elif entry.kind == "edited" and ours:
            self.talk.post_text(entry.user_id, channel, texts.EDIT_NOT_REREAD, thread)
        store.delivered(entry.id)

    def _turn_failed(self, entry: InboxEntry, reply: Reply, channel: str) -> bool:
        """Keep the delivery for another try, telling the user once; after MAX_ATTEMPTS,
        give it up and say so. A store too locked to count the try is tried again later."""
        try:
            self.engine.store.count_attempt(entry.id)
            if entry.attempts + 1 >= MAX_ATTEMPTS:
                self.engine.store.delivered(entry.id)
                with self._told_lock:
                    self._told.discard(entry.id)
                # what went wrong, and to send it again
                self.talk.post_reply(
                    channel, reply, entry.payload.get("thread_ts"), key=entry.user_id
                )
                return True
        except StorageError as exc:
            log.warning("delivery left waiting: %s", exc)
        with self._told_lock:
            told = entry.attempts > 0 or entry.id in self._told
            self._told.add(entry.id)  # a store too locked to count the try still says once
        if not told:
            self.talk.post_text(
                entry.user_id, channel, texts.DELAYED, entry.payload.get("thread_ts")
            )
        return False

    def _show_answer(self, entry: InboxEntry, reply: Reply, channel: str) -> None:
        payload = entry.payload
        user = str(payload.get("user") or slack_user_of(entry.user_id))
        if reply.stale:
            note = reply.messages[0].text if reply.messages else texts.STALE
            self.talk.ephemeral_to(entry.user_id, channel, user, note)
            return
        message = payload.get("message")
        if message and not reply.refused:
            self.web.attempt(
                "chat.update",
                lambda: self.tokens.client_for(entry.user_id).chat_update(
                    channel=channel,
                    ts=message["ts"],
                    text=message.get("text") or blocks.escape(str(payload.get("chosen") or "")),
                    blocks=blocks.answered_blocks(message["blocks"], str(payload.get("chosen"))),
                ),
            )
        self.talk.post_reply(channel, reply, payload.get("thread_ts"), key=entry.user_id)
