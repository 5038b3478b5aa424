"""What Slack knows of a person: their display name and their time zone, from `users.info`
(the `users:read` scope), asked once per process and only when the coach needs it.

The name is offered the first time the coach meets someone it has no name for. The time
zone (`tz`, an IANA name) makes "today", the dates they type, the date picker and their
check-in times theirs; it is kept with the person (`users.time_zone`), so after a restart
Slack is asked again only for someone whose zone was never known.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient

from bot.channels.slack.web import WebCalls
from storage.store import Store


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


def zone_named(name: object) -> ZoneInfo | None:
    """The time zone of an IANA name, or None for a missing or unknown one."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Profile:
    name: str | None
    zone: ZoneInfo | None
    #: False when Slack could not be asked just now (asked again later).
    settled: bool = True


class SlackNames:
    """Looks people up in Slack at most once per process each.

    `known(key)` says whether the coach already has a name (the person said "call me …", or
    an earlier lookup gave one); a failed lookup is not retried until the process restarts.
    """

    def __init__(
        self,
        web: WebCalls,
        client_for: Callable[[str], WebClient],
        known: Callable[[str], bool],
        store: Store,
    ) -> None:
        self.web = web
        self.client_for = client_for
        self.known = known
        self.store = store
        self._offered: set[str] = set()
        self._profiles: dict[str, Profile] = {}
        self._zones: dict[str, ZoneInfo | None] = {}
        #: Zones Slack gave for someone with no row yet: kept after their first turn.
        self._unkept: set[str] = set()
        self._lock = threading.Lock()

    def _profile(self, key: str, slack_user: str) -> Profile:
        """What Slack says of the person, asked once: a lookup that met passing trouble (a
        429: never waited for in a turn) is not kept, and the next turn asks again."""
        with self._lock:
            if key in self._profiles:
                return self._profiles[key]
        sent = self.web.send("users.info", lambda: self.client_for(key).users_info(user=slack_user))
        if sent.wait is not None:
            return Profile(None, None, settled=False)
        user = sent.answer.get("user") if sent.answer is not None else None
        profile = Profile(None, None)
        if isinstance(user, dict):
            profile = Profile(name_in(user), zone_named(user.get("tz")))
        with self._lock:
            self._profiles[key] = profile
        return profile

    def lookup(self, key: str, slack_user: str) -> str | None:
        """The Slack name to offer the coach for `key`, or None (known already, or none)."""
        with self._lock:
            if key in self._offered:
                return None
            self._offered.add(key)
        if self.known(key):
            return None
        profile = self._profile(key, slack_user)
        if not profile.settled:
            with self._lock:
                self._offered.discard(key)  # offered at a later turn, when Slack answers
        return profile.name

    def zone(self, key: str, slack_user: str) -> ZoneInfo | None:
        """The person's time zone: remembered, kept with them, or asked of Slack once (and
        then kept with them, if they have a row yet)."""
        with self._lock:
            if key in self._zones:
                return self._zones[key]
        zone = zone_named(self.store.time_zone_of(key))
        unkept = False
        if zone is None:
            profile = self._profile(key, slack_user)
            if not profile.settled:
                return None  # UTC for now; Slack is asked again at the next turn
            zone = profile.zone
            unkept = zone is not None and not self.store.set_time_zone(key, zone.key)
        with self._lock:
            self._zones[key] = zone
            if unkept:
                self._unkept.add(key)
        return zone

    def keep(self, key: str) -> None:
        """After a first turn made the person's row: keep the zone Slack gave with them."""
        with self._lock:
            if key not in self._unkept:
                return
            zone = self._zones.get(key)
        if zone is not None and self.store.set_time_zone(key, zone.key):
            with self._lock:
                self._unkept.discard(key)
