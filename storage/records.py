"""A person's own record, read back: the name the coach uses, what it remembers of them, their
past conversations newest first with the steps each ended with, and everything for export.

Every read is one indexed query (`conversations(user_id, id)`, `next_steps(conversation_id)`),
so a person with hundreds of conversations is answered as fast as one with a few. `Store`
inherits these; `USER_TABLES` is the one list both `export_user` and `erase_user` go by.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import from_json

from storage.base import StoreBase
from storage.rows import STEP_OUTCOME_COLUMNS, PastConversation, StepOutcome, compact_json

#: Every table holding a person's rows besides `users`, children before parents (the order
#: they are erased in), with the columns that hold JSON (decoded in the export).
USER_TABLES: dict[str, tuple[str, ...]] = {
    "shares": (),
    "shared_summaries": (),
    "inbox": ("payload",),
    "outbox": ("message",),
    "deliveries": (),
    "safety_events": (),
    "next_steps": (),
    "messages": (),
    "conversations": ("slots", "history"),
}
#: What coaches keep about a person's shared conversations (private notes, reviewed and later
#: marks, tags, flagged messages): erased with the person, never in their export (a coach's
#: notes are the coach's).
COACH_TABLES: tuple[str, ...] = ("coach_notes", "coach_reviews", "coach_flags")
#: The `users` columns holding JSON.
USER_JSON = ("known",)
#: Conversations a person's record lists: not the check-ins (their outcomes are shown on the
#: steps they follow up) and not one left before any answer (discarded). It holds the terms
#: of the partial index `idx_conversations_listed` (m011), so the planner uses it and a page
#: far back skips index entries, not table rows.
_LISTED = "user_id = ? AND follow_up_of IS NULL AND status != 'discarded'"
#: What a listing reads of each: what it was about (its own column, m013) and its first
#: suggestion straight from the JSON, and the whole slots only when what it was about was
#: not kept when it ended; not its reading (m014).
_BRIEF = (
    "id, dialogue, status, started_at, updated_at, completed_at, "
    "about, json_extract(slots, '$.recommendations[0]'), "
    "CASE WHEN about IS NULL THEN slots END, NULL"
)
#: The same without the first suggestion, for a listing that does not show it (`history`):
#: each `json_extract` parses the whole slots again, about 0.6 µs a conversation.
_BRIEF_NO_TOP = _BRIEF.replace("json_extract(slots, '$.recommendations[0]')", "NULL")
#: A conversation under way without an answer yet (its history read only if under way).
_UNANSWERED = "CASE WHEN status IN ('active', 'paused') THEN history = '[]' ELSE 0 END"
_FULL = (
    "id, dialogue, status, started_at, updated_at, completed_at, "
    "about, json_extract(slots, '$.recommendations[0]'), slots, reading"
)
#: What `show N` reads: the reading stored when it finished (m014), and the slots only when there
#: is none (under way, finished before readings were stored, or a dialogue without one: its
#: answers are listed instead) or what it was about was not kept; not the first suggestion,
#: which it does not name.
_SHOWN = (
    "id, dialogue, status, started_at, updated_at, completed_at, about, NULL, "
    "CASE WHEN coalesce(reading, '') = '' OR about IS NULL THEN slots END, reading"
)


class RecordQueries(StoreBase):
    """The reads and small writes of a person's own record (a part of `Store`)."""

    # -- the name, and what is remembered ------------------------------------------------

    def name_of(self, user_id: str) -> str | None:
        """What the coach calls the person; None when it was never said."""
        rows = self._read("SELECT name FROM users WHERE id = ?", (user_id,))
        return rows[0][0] if rows else None

    def set_name(self, user_id: str, name: str) -> None:
        """What to call the person from now on (inside a turn)."""
        self.db.execute("UPDATE users SET name = ? WHERE id = ?", (name, user_id))

    def offer_name(self, user_id: str, name: str) -> None:
        """A channel's name for the person (Slack's display name), kept unless they already
        told the coach what to call them."""
        self.db.execute("UPDATE users SET name = ? WHERE id = ? AND name IS NULL", (name, user_id))

    def known_of(self, user_id: str) -> dict[str, Any]:
        """What the coach remembers of the person, by slot: {slot: {slot: …, slot_label: …}}."""
        rows = self._read("SELECT known FROM users WHERE id = ?", (user_id,))
        known = from_json(rows[0][0]) if rows and rows[0][0] else {}
        return known if isinstance(known, dict) else {}

    def remember(self, user_id: str, values: dict[str, dict[str, Any]]) -> None:
        """Keep answers about the person (by slot, each replacing what was kept before)."""
        if not values:
            return
        paths = ", ".join("?, json(?)" for _ in values)
        params: list[Any] = []
        for slot, kept in values.items():
            params += [f'$."{slot}"', compact_json(kept)]
        self.db.execute(
            f"UPDATE users SET known = json_set(coalesce(known, '{{}}'), {paths}) WHERE id = ?",
            (*params, user_id),
        )

    # -- past conversations --------------------------------------------------------------

    def past_conversations(
        self,
        user_id: str,
        *,
        limit: int,
        offset: int = 0,
        full: bool = False,
        top: bool = True,
        peek: bool = False,
        shown: bool = False,
    ) -> list[PastConversation]:
        """The person's conversations newest first (`limit` of them from `offset`), each with
        its next steps; with `full`, their slots and stored reading too; with `shown`, what
        `show N` needs (the stored reading, the slots only without one); without `top`, not
        their first suggestion (`top` is None). With `peek`, one more after them, without
        its steps (a page of `history` only needs to know whether another page follows).
        Check-ins, conversations left before any answer, and the one just begun without an
        answer yet are not listed."""
        columns = _SHOWN if shown else _FULL if full else _BRIEF if top else _BRIEF_NO_TOP
        wanted = limit + peek
        if offset == 0:
            # The first page (`history`, `show 1`, a home tab) reads one more, with whether
            # it is under way unanswered: one statement instead of two.
            rows = self._read(
                f"SELECT {columns}, {_UNANSWERED} FROM conversations WHERE {_LISTED} "
                "ORDER BY id DESC LIMIT ?",
                (user_id, wanted + 1),
            )
            if rows and rows[0][-1]:
                del rows[0]
            return self._with_steps([r[:-1] for r in rows[:wanted]], limit)
        offset += self._unanswered_newest(user_id)
        rows = self._read(
            f"SELECT {columns} FROM conversations WHERE {_LISTED} "
            "ORDER BY id DESC LIMIT ? OFFSET ?",
            (user_id, wanted, offset),
        )
        return self._with_steps(rows, limit)

    def _unanswered_newest(self, user_id: str) -> int:
        """1 when the newest listed conversation is one under way without an answer yet."""
        rows = self._read(
            f"SELECT {_UNANSWERED} FROM conversations WHERE {_LISTED} ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        return 1 if rows and rows[0][0] else 0

    def latest_completed(
        self, user_id: str, dialogue: str | None = None, *, full: bool = False
    ) -> PastConversation | None:
        """The person's last finished conversation (of one dialogue, if given), with its
        steps; with `full`, its slots too."""
        where = f"{_LISTED} AND status = 'completed'"
        params: tuple[Any, ...] = (user_id,)
        if dialogue is not None:
            where += " AND dialogue = ?"
            params += (dialogue,)
        rows = self._read(
            f"SELECT {_FULL if full else _BRIEF} FROM conversations WHERE {where} "
            "ORDER BY id DESC LIMIT 1",
            params,
        )
        found = self._with_steps(rows)
        return found[0] if found else None

    def _with_steps(
        self, rows: list[tuple[Any, ...]], stepped: int | None = None
    ) -> list[PastConversation]:
        """The rows as `PastConversation`s, the first `stepped` of them (all, if None) with
        their next steps."""
        if not rows:
            return []
        ids = [r[0] for r in rows[:stepped]]
        marks = ", ".join("?" * len(ids))
        steps: dict[int, list[StepOutcome]] = {}
        for r in self._read(
            f"SELECT {STEP_OUTCOME_COLUMNS} FROM next_steps WHERE conversation_id IN ({marks}) "
            # Each conversation's steps soonest first; by conversation too, the order of the
            # index (m011), so SQLite sorts nothing.
            "ORDER BY conversation_id, due_date, id",
            ids,
        ):
            steps.setdefault(r[0], []).append(StepOutcome(*r))
        return [
            PastConversation(
                id=r[0],
                dialogue=r[1],
                status=r[2],
                started_at=r[3],
                updated_at=r[4],
                completed_at=r[5],
                about=r[6],
                top=r[7],
                slots=from_json(r[8]) if r[8] else None,
                steps=tuple(steps.get(r[0], ())),
                reading=r[9],
            )
            for r in rows
        ]

    def record_learned(self, step_id: int, learned: str, now: str) -> None:
        """What the person learned from a step they marked outside a check-in."""
        self.db.execute(
            "UPDATE next_steps SET learned = ?, updated_at = ? WHERE id = ?",
            (learned, now, step_id),
        )

    # -- privacy -------------------------------------------------------------------------

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything stored about one person, for them to keep: every column of their
        `users` row and of their rows in each of `USER_TABLES` (JSON decoded)."""
        users = self._rows("users", "id", user_id, USER_JSON)
        data: dict[str, Any] = {"user_id": user_id, "user": users[0] if users else None}
        for table, json_columns in reversed(USER_TABLES.items()):
            data[table] = self._rows(table, "user_id", user_id, json_columns)
        return data

    def _rows(
        self, table: str, key: str, user_id: str, json_columns: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        names = [c[1] for c in self._read(f"PRAGMA table_info({table})")]
        found = self._read(f"SELECT * FROM {table} WHERE {key} = ? ORDER BY rowid", (user_id,))
        rows = [dict(zip(names, r, strict=True)) for r in found]
        for row in rows:
            for column in json_columns:
                if isinstance(row.get(column), str):
                    row[column] = from_json(row[column])
        return rows
