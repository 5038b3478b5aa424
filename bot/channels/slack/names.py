"""What Slack calls a person: their display name from `users.info` (the `users:read` scope),
looked up once per process for someone the coach has no name for yet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bot.channels.slack.web import WebCalls


def name_in(user: dict[str, Any]) -> str | None:
    """The name a person shows in Slack: their display name, else their real name."""
    profile = user.get("profile") or {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:60]
    return None


class SlackNames:
    """Looks a person's name up in Slack the first time this process meets them without one.

    `known(key)` says whether the coach already has a name (the person said "call me …", or
    an earlier lookup gave one); a failed lookup is not retried until the process restarts.
    """

    def __init__(self, web: WebCalls, known: Callable[[str], bool]) -> None:
        self.web = web
        self.known = known
        self._asked: set[str] = set()
        self._lock = threading.Lock()

    def lookup(self, key: str, slack_user: str) -> str | None:
        """The Slack name to offer the coach for `key`, or None (known already, or none)."""
        with self._lock:
            if key in self._asked:
                return None
            self._asked.add(key)
        if self.known(key):
            return None
        found = self.web.attempt("users.info", lambda: self.web.client.users_info(user=slack_user))
        if found is None:
            return None
        user = found.get("user")
        return name_in(user) if isinstance(user, dict) else None
