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
