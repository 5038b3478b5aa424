"""A person's time zone as their channel gives it (an IANA name such as Europe/London), kept
with them: their "today" and when they are checked in on depend on it, and a restart need
not ask the channel again."""

from __future__ import annotations

import sqlite3

from storage.base import StoreBase


class ZoneQueries(StoreBase):
    """A person's time zone, kept with them so a restart need not ask their channel again."""

    def time_zone_of(self, user_id: str) -> str | None:
        rows = self._read("SELECT time_zone FROM users WHERE id = ?", (user_id,))
        return rows[0][0] if rows else None

    def set_time_zone(self, user_id: str, zone: str) -> bool:
        """Keep the person's zone (an IANA name); False if they have no row yet."""
        try:
            with self._lock:
                cursor = self.db.execute(
                    "UPDATE users SET time_zone = ? WHERE id = ?", (zone, user_id)
                )
                return cursor.rowcount == 1
        except sqlite3.Error:
            return False  # kept another time: the zone is known in memory meanwhile
