"""Workspaces that removed the coach: when, and when their people's data is erased.

A chat workspace (a Slack team) that uninstalls the app or revokes its bot token is noted
here with the prefix its people's user ids share (`slack:T123:`). Its check-ins stop at once;
its people's data is erased once `erase_after` has passed (a grace period, so a workspace
that reinstalls by mistake loses nothing), or at once by an admin. Nothing here is
personal: a prefix and two times.
"""

from __future__ import annotations

from storage.base import StoreBase


class RemovalQueries(StoreBase):
    """Writes here run inside the caller's transaction (`Store.transaction`)."""

    def note_removal(self, prefix: str, now: str, erase_after: str) -> None:
        """Note that a workspace removed the coach; a second notice keeps the first's times."""
        self.db.execute(
            "INSERT INTO removed_workspaces (user_prefix, removed_at, erase_after) "
            "VALUES (?, ?, ?) ON CONFLICT(user_prefix) DO NOTHING",
            (prefix, now, erase_after),
        )

    def cancel_removal(self, prefix: str) -> None:
        """The workspace is back (it reinstalled): nothing of it is to be erased."""
        self.db.execute("DELETE FROM removed_workspaces WHERE user_prefix = ?", (prefix,))

    def removed_prefixes(self) -> list[str]:
        return [r[0] for r in self._read("SELECT user_prefix FROM removed_workspaces")]

    def removals_due(self, now: str) -> list[str]:
        """Prefixes of the workspaces whose grace period has ended."""
        rows = self._read(
            "SELECT user_prefix FROM removed_workspaces WHERE erase_after <= ? "
            "ORDER BY erase_after",
            (now,),
        )
        return [r[0] for r in rows]

    def users_with_prefix(self, prefix: str) -> list[str]:
        rows = self._read(
            "SELECT id FROM users WHERE substr(id, 1, ?) = ? ORDER BY id", (len(prefix), prefix)
        )
        return [r[0] for r in rows]
