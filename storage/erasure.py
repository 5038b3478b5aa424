"""Erasure that erases: a person (`coach forget`, `/coach forget`) and conversations past a
retention period (`coach db prune`), gone from the database's files and not only from its
queries.

A DELETE alone leaves the words behind in three places, each dealt with here:
- the pages the rows were on: `PRAGMA secure_delete` (set by `Store` on every connection)
  overwrites what is deleted with zeros;
- the full-text index: FTS5 (before SQLite 3.42's `secure-delete` option) only marks a
  deleted document, and its words stay in the index segments until they are merged, so an
  erasure that took indexed messages merges them all (`optimize`);
- the write-ahead log, which still holds the pages as they were before: it is checkpointed
  into the database and truncated to nothing (`wal_checkpoint(TRUNCATE)`). That waits for
  another connection's open read to end (the busy timeout); an idle connection is no bar.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass

from storage.base import StoreBase, friendly
from storage.records import COACH_TABLES, USER_TABLES

log = logging.getLogger(__name__)

#: The tables holding rows of one conversation, children first (the order they go in).
CONVERSATION_TABLES = (
    "coach_notes",
    "coach_flags",
    "coach_reviews",
    "shared_summaries",
    "shares",
    "safety_events",
    "next_steps",
    "messages",
)
#: A conversation's last activity, what the retention period is counted from.
_LAST_ACTIVITY = "coalesce(updated_at, started_at)"


@dataclass(frozen=True)
class Pruned:
    """What `prune_before` took: how many conversations, and messages with them or alone."""

    conversations: int
    messages: int
    #: False when another program kept the old pages in the write-ahead log (see `scrub`).
    scrubbed: bool = True


class ErasureQueries(StoreBase):
    """A person's erasure and the retention prune (a part of `Store`)."""

    def erase_user(self, user_id: str) -> bool:
        """Delete every row about the user (coaches' notes about them, `USER_TABLES`
        children first, then their `users` row) in one transaction, then scrub the files.
        False when the write-ahead log could not be emptied (another program's read)."""
        with self.transaction():
            indexed = self._indexed("SELECT id FROM messages WHERE user_id = ?", (user_id,))
            for table in (*COACH_TABLES, *USER_TABLES):
                self.db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            self.db.execute("DELETE FROM users WHERE id = ?", (user_id,))
            if indexed:
                self._merge_index()
        return self.scrub()

    def prunable(self, cutoff: str) -> tuple[int, int]:
        """How many conversations and messages `prune_before(cutoff)` would take."""
        ids = self._old_conversations(cutoff)
        rows = self._read(
            "SELECT count(*) FROM messages WHERE conversation_id IN "
            "(SELECT value FROM json_each(?)) OR (conversation_id IS NULL AND created_at < ?)",
            (json.dumps(ids), cutoff),
        )
        return len(ids), int(rows[0][0])

    def prune_before(self, cutoff: str) -> Pruned:
        """Delete every conversation last active before `cutoff` (an ISO time) with all that
        hangs on it: its messages, next steps and their check-ins, safety events, the shares
        and corrected summary of it, coaches' notes, flags and tags on it. Messages and
        safety events outside any conversation go by their own time; a share taken back
        before `cutoff` goes too. A 'future' share in force stays (it is a consent, not a
        conversation). Then the files are scrubbed."""
        with self.transaction():
            ids = json.dumps(self._old_conversations(cutoff))
            among = "conversation_id IN (SELECT value FROM json_each(?))"
            indexed = self._indexed(f"SELECT id FROM messages WHERE {among}", (ids,))
            messages = 0
            for table in CONVERSATION_TABLES:
                cursor = self.db.execute(f"DELETE FROM {table} WHERE {among}", (ids,))
                messages += cursor.rowcount if table == "messages" else 0
            for table in ("messages", "safety_events"):
                cursor = self.db.execute(
                    f"DELETE FROM {table} WHERE conversation_id IS NULL AND created_at < ?",
                    (cutoff,),
                )
                messages += cursor.rowcount if table == "messages" else 0
            self.db.execute("DELETE FROM shares WHERE revoked_at < ?", (cutoff,))
            self.db.execute(
                "UPDATE conversations SET revisit_of = NULL "
                "WHERE revisit_of IN (SELECT value FROM json_each(?))",
                (ids,),
            )
            cursor = self.db.execute(
                "DELETE FROM conversations WHERE id IN (SELECT value FROM json_each(?))", (ids,)
            )
            conversations = cursor.rowcount
            if indexed:
                self._merge_index()
        return Pruned(conversations, messages, self.scrub())

    def _old_conversations(self, cutoff: str) -> list[int]:
        """Conversations last active before `cutoff`, and the check-ins that follow them up
        (their steps go with them, so their check-ins do too)."""
        rows = self._read(
            f"WITH old AS (SELECT id FROM conversations WHERE {_LAST_ACTIVITY} < ?) "
            "SELECT id FROM old UNION SELECT id FROM conversations "
            "WHERE follow_up_of IN (SELECT id FROM old) ORDER BY id",
            (cutoff,),
        )
        return [int(r[0]) for r in rows]

    def _indexed(self, ids_sql: str, params: tuple[str, ...]) -> bool:
        """Whether the search index holds any of the messages `ids_sql` selects."""
        rows = self._read(
            f"SELECT EXISTS (SELECT 1 FROM messages_fts WHERE rowid IN ({ids_sql}))", params
        )
        return bool(rows[0][0])

    def delete_line(self, user_id: str, seq: int, now: str) -> bool:
        """Remove the words of the person's line `seq` (a message they deleted in their
        channel), keeping the line marked as deleted by them; its words leave the search
        index too. The caller scrubs the files after the transaction. False if there was no
        such line of theirs."""
        indexed = self._indexed(
            "SELECT id FROM messages WHERE user_id = ? AND seq = ?", (user_id, str(seq))
        )
        said = self.db.execute(
            "SELECT text FROM messages WHERE user_id = ? AND seq = ? AND sender = 'user'",
            (user_id, seq),
        ).fetchone()
        if said and said[0]:
            # A question held at the menu with these words ("shall we start from what you
            # wrote?") is dropped with them.
            self.db.execute(
                "UPDATE users SET pending = NULL WHERE id = ? AND instr(pending, ?) > 0",
                (user_id, json.dumps(said[0])[1:-1]),
            )
        cursor = self.db.execute(
            "UPDATE messages SET text = '', deleted_at = ? "
            "WHERE user_id = ? AND seq = ? AND sender = 'user'",
            (now, user_id, seq),
        )
        if indexed:
            self._merge_index()
        return cursor.rowcount == 1

    def _merge_index(self) -> None:
        """Merge the search index into one segment, so deleted messages' words leave it."""
        self.db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")

    def scrub(self) -> bool:
        """Checkpoint the write-ahead log into the database and truncate it, so no page as it
        was before an erasure stays in it. False (and a warning, never what was erased) when
        another connection's read kept it from finishing in the busy timeout."""
        try:
            with self._lock:
                busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from None
        if busy:
            log.warning("erasure: another connection kept the write-ahead log from emptying")
        return not busy
