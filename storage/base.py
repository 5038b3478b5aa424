"""What every part of `Store` stands on: its connection, and reads that fail as our own
errors, with a message a person can act on."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

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

    def transaction(self) -> Transaction:
        """One write transaction, taken up front (BEGIN IMMEDIATE) so turns never interleave.

        Everything inside commits together or not at all; a failure becomes StorageError.
        """
        return Transaction(self)


class Transaction:
    """`with store.transaction():` the store's lock, BEGIN IMMEDIATE, then COMMIT, or ROLLBACK
    on any error (a SQLite error raised as StorageError).

    A class rather than a `@contextmanager` generator: every turn opens one, and the
    generator's machinery cost about 2 µs of the 4 µs an empty transaction takes.
    """

    __slots__ = ("store",)

    def __init__(self, store: StoreBase) -> None:
        self.store = store

    def __enter__(self) -> Any:
        store = self.store
        store._lock.acquire()
        try:
            store.db.conn.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            store._lock.release()
            if isinstance(exc, sqlite3.Error):
                raise friendly(exc, store.path) from None
            raise
        return store

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store = self.store
        conn = store.db.conn
        try:
            if kind is None:
                try:
                    conn.execute("COMMIT")
                    return
                except BaseException as error:  # COMMIT failed: roll back, say why
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if isinstance(error, sqlite3.Error):
                        raise friendly(error, store.path) from None
                    raise
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise friendly(exc, store.path) from None
        finally:
            store._lock.release()
