"""Every version of a dialogue that a conversation ran on, with its YAML source, so a
conversation can finish on the version it started on however the file changes meanwhile."""

from __future__ import annotations

from storage.base import StoreBase


class VersionQueries(StoreBase):
    """`dialogue_versions`: one row per (dialogue, digest of its file), written when the
    first conversation starts on it (inside that turn's transaction)."""

    #: Versions known to be stored (set up by `Store`): written once per process.
    _kept_versions: set[tuple[str, str]]

    def keep_dialogue_version(
        self, dialogue: str, version: int, digest: str, source: str, now: str
    ) -> None:
        """Store this version's source once; later calls for it cost a set lookup."""
        key = (dialogue, digest)
        if key in self._kept_versions:
            return
        self.db.execute(
            "INSERT INTO dialogue_versions (dialogue, digest, version, source, first_used_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (dialogue, digest) DO NOTHING",
            (dialogue, digest, version, source, now),
        )
        self._kept_versions.add(key)

    def dialogue_source(self, dialogue: str, digest: str) -> str | None:
        """The YAML a version was loaded from, or None if no conversation ran on it here."""
        rows = self._read(
            "SELECT source FROM dialogue_versions WHERE dialogue = ? AND digest = ?",
            (dialogue, digest),
        )
        return str(rows[0][0]) if rows else None

    def versions_of(self, dialogue: str) -> list[tuple[str, int, str]]:
        """(digest, version, first used) of each stored version of a dialogue, oldest first."""
        rows = self._read(
            "SELECT digest, version, first_used_at FROM dialogue_versions WHERE dialogue = ?"
            " ORDER BY first_used_at, version",
            (dialogue,),
        )
        return [(str(d), int(v), str(at)) for d, v, at in rows]

    def conversations_by_version(self, dialogue: str) -> list[tuple[str, int, int, int, str, str]]:
        """Per version a conversation ran on: (digest, version, conversations, of those still
        in progress, first started, last active). Counts only, never what was said."""
        rows = self._read(
            "SELECT dialogue_digest, dialogue_version, COUNT(*),"
            " SUM(status IN ('active', 'paused')), MIN(started_at), MAX(updated_at)"
            " FROM conversations WHERE dialogue = ?"
            " GROUP BY dialogue_digest, dialogue_version",
            (dialogue,),
        )
        return [
            (str(d or ""), int(v or 0), int(n), int(live or 0), str(first), str(last or first))
            for d, v, n, live, first, last in rows
        ]
