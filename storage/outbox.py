"""Messages a channel could not send yet, kept until it can (m015): one row a message, sent
in order for each person, deleted once sent or given up on. A restart sends what is owed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json

from storage.base import StoreBase
from storage.rows import compact_json

#: A message as it was made (a reply, or a note of the channel's own).
REPLY = "reply"
#: The note telling someone where their conversation is, once written: its failure tells
#: nobody anything more.
NOTE = "note"
#: That note before it is written (it is written when due): `message` names only the DM.
WHERE = "where"

_COLUMNS = "id, user_id, kind, message, not_before, tries"
#: Each person's first waiting message (the one in the way of the rest).
_FIRSTS = (
    "SELECT o.user_id, o.not_before FROM outbox o WHERE o.id = ("
    "SELECT f.id FROM outbox f WHERE f.user_id = o.user_id ORDER BY f.place, f.id LIMIT 1)"
)


@dataclass(frozen=True)
class HeldMessage:
    """One message waiting in the outbox: what it is, when it may be tried, how often it was."""

    id: int
    user_id: str
    kind: str
    message: dict[str, Any]
    not_before: str
    tries: int


class OutboxQueries(StoreBase):
    """The outbox (a part of `Store`): each write is its own transaction."""

    def hold_messages(
        self,
        user_id: str,
        messages: Sequence[dict[str, Any]],
        not_before: str,
        now: str,
        *,
        kind: str = REPLY,
        tries: int = 1,
    ) -> None:
        """Keep messages to send the person later, in this order, after any already kept."""
        with self.transaction():
            (last,) = self.db.execute("SELECT coalesce(max(place), 0) FROM outbox").fetchone()
            self.db.conn.executemany(
                "INSERT INTO outbox (user_id, place, kind, message, not_before, tries, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (user_id, last + 1, kind, compact_json(m), not_before, tries, now)
                    for m in messages
                ],
            )

    def first_held(self, user_id: str) -> HeldMessage | None:
        """The person's message that goes next, or None when nothing waits for them."""
        rows = self._read(
            f"SELECT {_COLUMNS} FROM outbox WHERE user_id = ? ORDER BY place, id LIMIT 1",
            (user_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return HeldMessage(row[0], row[1], row[2], from_json(row[3]), row[4], row[5])

    def held_count(self, user_id: str) -> int:
        return int(self._read("SELECT count(*) FROM outbox WHERE user_id = ?", (user_id,))[0][0])

    def users_with_held(self) -> list[str]:
        return [r[0] for r in self._read("SELECT DISTINCT user_id FROM outbox")]

    def users_with_held_due(self, now: str) -> list[str]:
        """People whose next message may be tried by `now`, the longest waiting first."""
        rows = self._read(
            f"SELECT user_id FROM ({_FIRSTS}) WHERE not_before <= ? ORDER BY not_before",
            (now,),
        )
        return [r[0] for r in rows]

    def next_held_due(self) -> str | None:
        """When the soonest of everyone's next messages may be tried (None: nothing waits)."""
        return self._read(f"SELECT min(not_before) FROM ({_FIRSTS})")[0][0]

    def held_sent(self, held_id: int) -> None:
        """Slack took it: it goes."""
        with self.transaction():
            self.db.execute("DELETE FROM outbox WHERE id = ?", (held_id,))

    def held_again(self, held_id: int, tries: int, not_before: str) -> None:
        """Tried again and not taken: how often, and when it may be tried next."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET tries = ?, not_before = ? WHERE id = ?",
                (tries, not_before, held_id),
            )

    def write_held_note(self, held_id: int, messages: Sequence[dict[str, Any]]) -> None:
        """The note a `WHERE` row stood for, written now it is due, in that row's place."""
        with self.transaction():
            found = self.db.execute(
                "SELECT user_id, place, not_before, created_at FROM outbox WHERE id = ?",
                (held_id,),
            ).fetchone()
            if found is None:
                return  # erased meanwhile (by another process): nothing to write
            user_id, place, not_before, created_at = found
            self.db.execute("DELETE FROM outbox WHERE id = ?", (held_id,))
            self.db.conn.executemany(
                "INSERT INTO outbox (user_id, place, kind, message, not_before, tries, "
                "created_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
                [(user_id, place, NOTE, compact_json(m), not_before, created_at) for m in messages],
            )

    def drop_held(self, user_id: str) -> int:
        """Give up on everything waiting for the person; how many messages that was."""
        with self.transaction():
            cursor = self.db.execute("DELETE FROM outbox WHERE user_id = ?", (user_id,))
            return int(cursor.rowcount)

    def drop_held_with_prefix(self, prefix: str) -> int:
        """Everything waiting for the people of one workspace (their user ids' prefix): part
        of erasing it, for those the coach only ever answered (no `users` row)."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM outbox WHERE substr(user_id, 1, ?) = ?", (len(prefix), prefix)
            )
            return int(cursor.rowcount)
