"""The conversation store: a SQLite file, opened durably, read and written only through here.

Every turn is one transaction (`Store.turn()`): the user's message, the state change and the
bot's reply commit together, with `synchronous=FULL` so an acknowledged turn survives a power
cut. Errors come out as StorageError with a message a person can act on.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic_core import from_json
from sqlite_utils import Database

from bot.errors import StorageError
from storage.base import friendly
from storage.edits import EditQueries
from storage.erasure import ErasureQueries
from storage.figures import FigureQueries
from storage.migrations import migrations
from storage.outbox import OutboxQueries
from storage.records import RecordQueries
from storage.removals import RemovalQueries
from storage.review import ReviewQueries
from storage.rows import (
    _CONVERSATION_COLUMNS,
    ABOUT,
    ConversationRow,
    InboxEntry,
    MessageRow,
    NextStep,
    compact_json,
)
from storage.sharing import SharingQueries
from storage.versions import VersionQueries
from storage.zones import ZoneQueries

__all__ = [
    "_CONVERSATION_COLUMNS",
    "ConversationRow",
    "InboxEntry",
    "MessageRow",
    "NextStep",
    "StorageError",
    "Store",
]

BUSY_TIMEOUT_MS = 5000
#: A next step's check-in not put off to a later day, nor planned today: a step dated
#: "today" is asked about tomorrow, not the moment the plan is made (three parameters: today).
_NOT_SNOOZED = "(snoozed_until IS NULL OR snoozed_until <= ?) AND (due_date < ? OR created_at < ?)"


class Store(
    RecordQueries,
    SharingQueries,
    ReviewQueries,
    ErasureQueries,
    FigureQueries,
    VersionQueries,
    EditQueries,
    RemovalQueries,
    ZoneQueries,
    OutboxQueries,
):
    """The SQLite file behind every conversation; safe to share between threads."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._kept_versions = set()
        try:
            if self.path != ":memory:":
                parent = Path(self.path).expanduser().resolve().parent
                if not parent.is_dir():
                    problem = "is a file, not a folder" if parent.exists() else "does not exist"
                    raise StorageError(
                        f"Cannot create the conversation store at {self.path}: {parent} "
                        f"{problem}. Choose another file with --db PATH or COACH_DB."
                    )
                target = Path(self.path).expanduser()
                if target.is_dir():
                    raise StorageError(
                        f"{self.path} is a folder, not a conversation store: give a file "
                        "with --db PATH or COACH_DB."
                    )
                # Checked up front: an existing store opens fine read-only and would only
                # fail at the first turn. WAL also needs to write files beside it.
                if (target.exists() and not os.access(target, os.W_OK)) or not os.access(
                    parent, os.W_OK
                ):
                    raise StorageError(
                        f"The conversation store ({self.path}) cannot be written (read-only "
                        "or no permission). Choose another file with --db PATH or COACH_DB."
                    )
            conn = sqlite3.connect(
                self.path,
                timeout=busy_timeout_ms / 1000,
                check_same_thread=False,
                isolation_level=None,
            )
            self.db = Database(conn)
            self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if self.path != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA synchronous = FULL")
            self.db.execute("PRAGMA foreign_keys = ON")
            # What is deleted is overwritten with zeros, not left in free space (erasure).
            self.db.execute("PRAGMA secure_delete = ON")
            migrations.apply(self.db)
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from None

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # -- users --------------------------------------------------------------------------

    def ensure_user(self, user_id: str, channel: str, display_name: str | None, now: str) -> bool:
        """Create the user on first contact; True while nothing has been said yet (greet them)."""
        (message_seq,) = self.db.execute(
            "INSERT INTO users (id, channel, display_name, message_seq, created_at, last_seen_at)"
            " VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT(id) DO UPDATE SET last_seen_at = ?"
            " RETURNING message_seq",
            (user_id, channel, display_name, now, now, now),
        ).fetchone()
        return bool(message_seq == 0)

    # -- conversations ------------------------------------------------------------------

    def current_conversation(self, user_id: str) -> ConversationRow | None:
        """The user's live conversation (active, else the latest paused one), if any."""
        rows = self._read(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations "
            "WHERE user_id = ? AND status IN ('active', 'paused') "
            "ORDER BY status = 'active' DESC, updated_at DESC, id DESC LIMIT 1",
            (user_id,),
        )
        return ConversationRow.from_tuple(rows[0]) if rows else None

    def paused_conversation(self, user_id: str) -> ConversationRow | None:
        rows = self._read(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations "
            "WHERE user_id = ? AND status = 'paused' ORDER BY updated_at DESC, id DESC LIMIT 1",
            (user_id,),
        )
        return ConversationRow.from_tuple(rows[0]) if rows else None

    def conversation_turn(self, conversation_id: int) -> int | None:
        """The stored turn counter: a cached live machine is only trusted if it matches."""
        rows = self._read("SELECT turn FROM conversations WHERE id = ?", (conversation_id,))
        return rows[0][0] if rows else None

    def get_conversation(self, conversation_id: int) -> ConversationRow | None:
        rows = self._read(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
        )
        return ConversationRow.from_tuple(rows[0]) if rows else None

    def create_conversation(self, row: ConversationRow) -> int:
        """Insert a new conversation (inside the turn's transaction) and return its id."""
        cursor = self.db.execute(
            "INSERT INTO conversations (user_id, dialogue, dialogue_version, dialogue_digest, "
            "state, status, pending, slots, history, turn, follow_up_of, started_at, updated_at, "
            "revisit_of, about) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.user_id,
                row.dialogue,
                row.dialogue_version,
                row.dialogue_digest,
                row.state,
                row.status,
                row.pending,
                compact_json(row.slots),
                compact_json(row.history),
                row.turn,
                row.follow_up_of,
                row.started_at,
                row.updated_at,
                row.revisit_of,
                row.slots.get(ABOUT),
            ),
        )
        row.id = int(cursor.lastrowid or 0)
        row.saved_history = len(row.history)
        row.saved_status = row.status
        return row.id

    def save_conversation(self, row: ConversationRow, *, expect_turn: int | None = None) -> bool:
        """Write back a conversation's state, slots, history and status.

        With `expect_turn`, only over that stored turn: False (nothing written) if the
        stored conversation has moved on or gone, so a copy kept in memory is never written
        over a newer one.

        An unchanged undo history is not sent again. A changed one is rewritten whole:
        serialising it here is cheaper than having SQLite parse and patch the stored JSON
        (`json_insert` measured twice the cost of the whole UPDATE).
        """
        if row.saved_history is not None and len(row.history) == row.saved_history:
            history_sql, history_arg = "coalesce(?, history)", None
        else:
            history_sql, history_arg = "?", compact_json(row.history)
        now = len(row.history)
        guard = "" if expect_turn is None else " AND turn = ?"
        # `revisit_of` and `status` are indexed (`status` by two, one of them the partial
        # index a record is listed by): each is named only when it has something to say (a
        # finished revisit; a status changed since the row was read or written), so an
        # ordinary turn's UPDATE leaves those indexes alone.
        revisit = "" if row.revisit_of is None else ", revisit_of = ?"
        status = "" if row.status == row.saved_status else ", status = ?"
        # What it was about mirrors its slot on every save (a bound NULL while under way), so
        # a listing reads a short column instead of parsing the slots; the reading is written
        # once it has one, when the conversation finishes.
        reading = "" if row.reading is None else ", reading = ?"
        cursor = self.db.execute(
            "UPDATE conversations SET state = ?, pending = ?, slots = ?, about = ?, "
            f"history = {history_sql}, turn = ?, dialogue_version = ?, dialogue_digest = ?, "
            f"updated_at = ?, completed_at = ?{revisit}{status}{reading} WHERE id = ?{guard}",
            (
                row.state,
                row.pending,
                compact_json(row.slots),
                row.slots.get(ABOUT),
                history_arg,
                row.turn,
                row.dialogue_version,
                row.dialogue_digest,
                row.updated_at,
                row.completed_at,
                *(() if row.revisit_of is None else (row.revisit_of,)),
                *(() if not status else (row.status,)),
                *(() if row.reading is None else (row.reading,)),
                row.id,
                *(() if expect_turn is None else (expect_turn,)),
            ),
        )
        if cursor.rowcount != 1:
            return False
        row.saved_history = now
        row.saved_status = row.status
        return True

    def conversations_of(self, user_id: str) -> list[ConversationRow]:
        rows = self._read(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [ConversationRow.from_tuple(r) for r in rows]

    # -- messages -----------------------------------------------------------------------

    def add_messages(self, user_id: str, messages: Sequence[MessageRow], now: str) -> None:
        """Append messages to the user's transcript, numbered in order (inside a turn)."""
        if not messages:
            return
        row = self.db.execute(
            "UPDATE users SET message_seq = message_seq + ?, last_seen_at = ? WHERE id = ? "
            "RETURNING message_seq",
            (len(messages), now, user_id),
        ).fetchone()
        if row is None:
            raise StorageError(f"No user {user_id!r} in {self.path}: were they just erased?")
        (seq,) = row
        first = seq - len(messages) + 1
        self.db.conn.executemany(
            "INSERT INTO messages (user_id, conversation_id, seq, sender, text, state, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (user_id, m.conversation_id, first + i, m.sender, m.text, m.state, now)
                for i, m in enumerate(messages)
            ],
        )

    def messages_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's whole transcript in order."""
        rows = self._read(
            "SELECT conversation_id, seq, sender, text, state, created_at FROM messages "
            "WHERE user_id = ? ORDER BY seq",
            (user_id,),
        )
        keys = ("conversation_id", "seq", "sender", "text", "state", "created_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # -- deliveries (exactly-once) ------------------------------------------------------

    def knows_user(self, user_id: str) -> bool:
        """Whether anything is stored about the user (everything hangs off their row)."""
        return bool(self._read("SELECT 1 FROM users WHERE id = ?", (user_id,)))

    def seen_delivery(self, delivery_id: str) -> bool:
        rows = self._read("SELECT 1 FROM deliveries WHERE delivery_id = ?", (delivery_id,))
        return bool(rows)

    def mark_delivery(self, delivery_id: str, user_id: str, now: str) -> None:
        """Record a delivery as turned into a turn (inside that turn's transaction): a retry
        of it is now a duplicate, and its inbox entry, if any, waits only for its reply."""
        self.db.execute(
            "INSERT INTO deliveries (delivery_id, user_id, created_at) VALUES (?, ?, ?)",
            (delivery_id, user_id, now),
        )
        self.db.execute("UPDATE inbox SET turned_at = ? WHERE delivery_id = ?", (now, delivery_id))

    # -- the inbox (received, acknowledged, not yet a turn) ----------------------------------

    def receive(
        self, delivery_id: str, user_id: str, kind: str, payload: dict[str, Any], now: str
    ) -> bool:
        """Keep a delivery durably before the channel acknowledges it; its own transaction.

        False when it was received before (a retry) or has already been turned into a turn.
        Raises StorageError when it could not be kept: then it must not be acknowledged.
        """
        with self.transaction():
            if self.seen_delivery(delivery_id):
                return False
            cursor = self.db.execute(
                "INSERT INTO inbox (delivery_id, user_id, kind, payload, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(delivery_id) DO NOTHING",
                (delivery_id, user_id, kind, compact_json(payload), now),
            )
            return cursor.rowcount == 1

    def pending(self, user_id: str) -> list[InboxEntry]:
        """The user's waiting deliveries, oldest first: those not yet turned into turns, and
        those whose turn was saved but whose reply may not have gone out (`turned_at`)."""
        rows = self._read(
            "SELECT id, delivery_id, user_id, kind, payload, attempts, received_at, turned_at "
            "FROM inbox WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [
            InboxEntry(
                id=r[0],
                delivery_id=r[1],
                user_id=r[2],
                kind=r[3],
                payload=from_json(r[4]),
                attempts=r[5],
                received_at=r[6],
                turned_at=r[7],
            )
            for r in rows
        ]

    def delivered(self, entry_id: int, link: tuple[str, str, int | None] | None = None) -> None:
        """A waiting delivery is done with (its reply has gone out, or it was given up on
        and the user told): let its entry go. `link` (delivery id, the channel's name for
        the message, the line it wrote) is noted in the same commit (`link_delivery`).

        Committed without waiting for the disk (`synchronous=NORMAL`, safe in WAL mode):
        if a power cut loses this, the user is shown their current question once more,
        which costs far less than a second fsync on every turn.
        """
        with self._lock:
            self.db.execute("PRAGMA synchronous = NORMAL")
            try:
                with self.transaction():
                    self.db.execute("DELETE FROM inbox WHERE id = ?", (entry_id,))
                    if link is not None:
                        self.link_delivery(*link)
            finally:
                self.db.execute("PRAGMA synchronous = FULL")

    def users_with_pending(self, received_before: str | None = None) -> list[str]:
        """Users with deliveries waiting (received before a time, if given), oldest first."""
        rows = self._read(
            "SELECT user_id FROM inbox WHERE received_at < ? GROUP BY user_id ORDER BY min(id)",
            (received_before or "9999",),  # ISO times sort as text: "9999" is after all
        )
        return [r[0] for r in rows]

    def count_attempt(self, entry_id: int) -> None:
        """Note a failed try at a delivery's turn, so one that always fails is given up on."""
        with self.transaction():
            self.db.execute("UPDATE inbox SET attempts = attempts + 1 WHERE id = ?", (entry_id,))

    # -- next steps ---------------------------------------------------------------------

    def add_next_steps(
        self, conversation_id: int, user_id: str, steps: Sequence[dict[str, Any]], now: str
    ) -> None:
        """Store the dated next steps a conversation ended with."""
        self.db.table("next_steps").insert_all(
            [
                {
                    "conversation_id": conversation_id,
                    "user_id": user_id,
                    "recommendation_id": s.get("id"),
                    "title": s.get("title"),
                    "text": s["text"],
                    "idea": s.get("idea"),
                    "source": s.get("source"),
                    "due_date": s["due_date"],
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                }
                for s in steps
            ]
        )

    def _next_steps(self, where: str, params: Sequence[Any]) -> list[NextStep]:
        rows = self._read(
            "SELECT id, conversation_id, user_id, recommendation_id, title, text, idea, source, "
            "due_date, status, outcome, learned, checked_at, snoozed_until "
            f"FROM next_steps WHERE {where} "
            "ORDER BY due_date, id",
            params,
        )
        return [NextStep(*r) for r in rows]

    def due_next_steps(self, user_id: str, today: str) -> list[NextStep]:
        """Open next steps whose due date has come (and not put off to a later day): the bot
        asks how they went."""
        return self._next_steps(
            f"user_id = ? AND status = 'open' AND due_date <= ? AND {_NOT_SNOOZED}",
            (user_id, today, today, today, today),
        )

    def open_next_steps(self, user_id: str) -> list[NextStep]:
        return self._next_steps("user_id = ? AND status = 'open'", (user_id,))

    def next_steps_of(self, user_id: str) -> list[NextStep]:
        return self._next_steps("user_id = ?", (user_id,))

    def get_next_step(self, step_id: int) -> NextStep | None:
        found = self._next_steps("id = ?", (step_id,))
        return found[0] if found else None

    def users_due_for_reminder(self, today: str, channel: str) -> list[str]:
        """Users of a channel with a due next step whose check-in has not been pushed yet."""
        rows = self._read(
            "SELECT DISTINCT user_id FROM next_steps WHERE status = 'open' AND due_date <= ? "
            f"AND reminded_at IS NULL AND {_NOT_SNOOZED} "
            "AND user_id IN (SELECT id FROM users WHERE channel = ?) ORDER BY user_id",
            (today, today, today, today, channel),
        )
        return [r[0] for r in rows]

    def due_unreminded(self, user_id: str, today: str) -> list[NextStep]:
        """The user's due next steps whose check-in has not been pushed yet."""
        return self._next_steps(
            "user_id = ? AND status = 'open' AND due_date <= ? AND reminded_at IS NULL "
            f"AND {_NOT_SNOOZED}",
            (user_id, today, today, today, today),
        )

    def mark_reminded(self, step_id: int, now: str) -> None:
        self.db.execute("UPDATE next_steps SET reminded_at = ? WHERE id = ?", (now, step_id))

    def completed_conversations(self, user_id: str, dialogue: str) -> list[ConversationRow]:
        rows = self._read(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ? "
            "AND dialogue = ? AND status = 'completed' ORDER BY completed_at DESC, id DESC",
            (user_id, dialogue),
        )
        return [ConversationRow.from_tuple(r) for r in rows]

    def record_outcome(
        self, step_id: int, outcome: str, learned: str | None, new_due: str | None, now: str
    ) -> None:
        """Record how a next step went; it stays open (re-dated) unless done or dropped."""
        closed = outcome in ("done", "dropped")
        # A re-dated step is due again later: its next check-in must be pushed afresh.
        self.db.execute(
            "UPDATE next_steps SET outcome = ?, learned = ?, status = ?, "
            "due_date = COALESCE(?, due_date), snoozed_until = NULL, checked_at = ?, "
            "reminded_at = CASE WHEN ? IS NULL THEN reminded_at END, updated_at = ? WHERE id = ?",
            (outcome, learned, "closed" if closed else "open", new_due, now, new_due, now, step_id),
        )

    def snooze_next_step(self, step_id: int, until: str, now: str) -> None:
        """Put a step's check-in off until a day ("later"): no outcome, no new date; it is
        pushed again once that day comes."""
        self.db.execute(
            "UPDATE next_steps SET snoozed_until = ?, reminded_at = NULL, updated_at = ? "
            "WHERE id = ? AND status = 'open'",
            (until, now, step_id),
        )

    def redate_next_step(self, step_id: int, user_id: str, due_date: str, now: str) -> bool:
        """Give one of the user's open next steps a new date (a revisit takes it on again);
        False if it is not theirs or no longer open."""
        cursor = self.db.execute(
            "UPDATE next_steps SET due_date = ?, snoozed_until = NULL, reminded_at = NULL, "
            "updated_at = ? WHERE id = ? AND user_id = ? AND status = 'open'",
            (due_date, now, step_id, user_id),
        )
        return cursor.rowcount == 1

    def recent_outcomes(self, user_id: str, *, besides: int | None, limit: int = 5) -> list[str]:
        """How the user's latest check-ins went (done, partly, not_yet, dropped), most recent
        first, leaving out the step `besides` (the one being checked in now)."""
        rows = self._read(
            "SELECT outcome FROM next_steps WHERE user_id = ? AND checked_at IS NOT NULL "
            "AND id IS NOT ? ORDER BY checked_at DESC, id DESC LIMIT ?",
            (user_id, besides, limit),
        )
        return [str(r[0]) for r in rows]

    # -- revisits -----------------------------------------------------------------------

    def finished_of(self, user_id: str, dialogue: str, limit: int) -> list[ConversationRow]:
        """The user's latest finished conversations of one dialogue, most recent first."""
        rows = self._read(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ? "
            "AND dialogue = ? AND status = 'completed' ORDER BY completed_at DESC, id DESC "
            "LIMIT ?",
            (user_id, dialogue, limit),
        )
        return [ConversationRow.from_tuple(r) for r in rows]

    def steps_about(self, conversation_id: int) -> list[NextStep]:
        """The next steps of a conversation and of the finished ones that revisit it: the
        plan for one situation, across sessions, soonest first."""
        return self._next_steps(
            "conversation_id IN (SELECT id FROM conversations WHERE id = ? OR "
            "(revisit_of = ? AND status = 'completed'))",
            (conversation_id, conversation_id),
        )

    # -- safety -------------------------------------------------------------------------

    def record_safety_event(
        self,
        user_id: str,
        conversation_id: int | None,
        category: str,
        now: str,
        level: str = "danger",
    ) -> None:
        """Record that a safety signal was answered: which kind and how serious, never the
        words that raised it."""
        self.db.execute(
            "INSERT INTO safety_events (user_id, conversation_id, category, level, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (user_id, conversation_id, category, level, now),
        )

    def safety_events_of(self, user_id: str) -> list[dict[str, Any]]:
        columns = ("conversation_id", "category", "level", "created_at")
        rows = self._read(
            f"SELECT {', '.join(columns)} FROM safety_events WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [dict(zip(columns, r, strict=True)) for r in rows]

    def safety_counts(self) -> list[tuple[str, str, int]]:
        """(category, level, how many times) over every user: figures, never who or what."""
        rows = self._read(
            "SELECT category, level, count(*) FROM safety_events "
            "GROUP BY category, level ORDER BY count(*) DESC, category",
            (),
        )
        return [(str(c), str(lv), int(n)) for c, lv, n in rows]

    # -- a question asked at the menu ----------------------------------------------------

    def user_pending(self, user_id: str) -> str | None:
        """What the coach asked the user outside any conversation and awaits an answer to."""
        rows = self._read("SELECT pending FROM users WHERE id = ?", (user_id,))
        return rows[0][0] if rows else None

    def set_user_pending(self, user_id: str, pending: str | None) -> None:
        self.db.execute("UPDATE users SET pending = ? WHERE id = ?", (pending, user_id))
