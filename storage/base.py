"""What every part of `Store` stands on: its connection, and reads that fail as our own
errors, with a message a person can act on."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self

from sqlite_utils import Database

from bot.errors import StorageError


def friendly(exc: sqlite3.Error, path: str) -> StorageError:
    """An sqlite3 error as one a person can act on, naming the file."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StorageError(
            f"The conversation store ({path}) is locked by another program. "
            "Nothing from your last message was saved; please send it again in a moment."
        )
    if "readonly" in text or "read-only" in text or "permission" in text:
        return StorageError(
            f"The conversation store ({path}) cannot be written (read-only or no permission). "
            "Choose another file with --db PATH or COACH_DB."
        )
    if "unable to open" in text:
        return StorageError(
            f"Cannot open the conversation store at {path}: check that the folder exists and "
            "is writable, or choose another file with --db PATH or COACH_DB."
        )
    if "disk" in text and "full" in text:
        return StorageError(f"The disk holding {path} is full; nothing was saved.")
    if "not a database" in text or "malformed" in text:
        return StorageError(f"{path} is not a conversation store (or it is damaged).")
    return StorageError(f"The conversation store ({path}) failed: {exc}")


class StoreBase:
    """The connection, the locked read and the write transaction that `RecordQueries`,
    `SharingQueries`, `ReviewQueries`, `ErasureQueries` and `Store` share."""

    db: Database
    path: str
    _lock: threading.RLock

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from None

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """One write transaction, taken up front (BEGIN IMMEDIATE) so turns never interleave.

        Everything inside commits together or not at all; a failure becomes StorageError.
        """
        with self._lock:
            conn = self.db.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise friendly(exc, self.path) from None
            try:
                yield self
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise friendly(exc, self.path) from None
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
