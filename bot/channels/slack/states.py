"""The OAuth `state` of each "Add to Slack" click, kept until Slack sends the admin back:
slack_sdk's SQLite state store in the coach's database file, on the coach's clock, and
rid of the states that expired (a click never finished), which slack_sdk's never deletes."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

log = logging.getLogger("coach.slack")


class CoachOAuthStateStore(SQLite3OAuthStateStore):
    """slack_sdk's SQLite state store, with expired states deleted at start-up
    (`delete_expired`) and whenever a new one is issued."""

    def __init__(
        self, *, database: str, expiration_seconds: int, clock: Callable[[], dt.datetime]
    ) -> None:
        super().__init__(database=database, expiration_seconds=expiration_seconds, logger=log)
        self.clock = clock

    def _now(self) -> float:
        return self.clock().timestamp()

    def delete_expired(self) -> int:
        """Delete the states no admin can come back with any more; how many there were."""
        with self.connect() as conn:
            cursor = conn.execute("DELETE FROM oauth_states WHERE expire_at <= ?", (self._now(),))
            conn.commit()
            return int(cursor.rowcount)

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state for an "Add to Slack" click, after deleting those that expired."""
        state = str(uuid.uuid4())
        now = self._now()
        with self.connect() as conn:
            conn.execute("DELETE FROM oauth_states WHERE expire_at <= ?", (now,))
            conn.execute(
                "INSERT INTO oauth_states (state, expire_at) VALUES (?, ?)",
                (state, now + self.expiration_seconds),
            )
            conn.commit()
        return state

    def consume(self, state: str) -> bool:
        """Whether `state` was issued here and has not expired; it can be used once. A
        store that cannot say refuses it (the admin clicks "Add to Slack" again)."""
        try:
            with self.connect() as conn:
                cursor = conn.execute(
                    "DELETE FROM oauth_states WHERE state = ? AND expire_at > ?",
                    (state, self._now()),
                )
                conn.commit()
                return cursor.rowcount > 0
        except sqlite3.Error as exc:
            log.warning("OAuth state not checked: %s", type(exc).__name__)
            return False
