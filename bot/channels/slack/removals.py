"""A workspace that uninstalls the coach or revokes its bot token: its check-ins stop at
once, and its people's data is erased after a grace period (30 days unless set otherwise).

Slack sends `app_uninstalled` when a workspace removes the app, `tokens_revoked` when its
tokens are revoked, and (Enterprise Grid) `team_access_revoked` naming the workspaces an org
admin took away from the organisation's app; none can be answered with a message (the
token is gone), so nothing is posted. Under an org-wide install people are keyed by the
organisation, which keeps its install: `team_access_revoked` removes only what is keyed by
the workspaces it names. The grace period lets a workspace that removed the app by mistake reinstall
without losing its people's plans: any later event from it cancels the erasure. An admin can
erase at once with `coach slack purge --team T…`. Log lines name the workspace (a team id)
and counts, never a person.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from bot.channels.slack.requests import user_key
from storage.store import Store

log = logging.getLogger("coach.slack")
ERASE_AFTER_DAYS = 30.0


def team_prefix(team_id: str | None) -> str:
    """What the user ids of one workspace's people start with."""
    return user_key(team_id, "")


class Removals:
    """The workspaces that removed the coach, kept in the store and mirrored in memory so
    that checking a request against them costs no database read on the ack path."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], dt.datetime],
        erase_after_days: float = ERASE_AFTER_DAYS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.grace = dt.timedelta(days=erase_after_days)
        self._lock = threading.Lock()
        self._prefixes = set(store.removed_prefixes())

    def removed(self, team_id: str | None, why: str) -> None:
        """The workspace removed the coach: stop its check-ins, erase its data after the
        grace period. A repeated notice changes nothing."""
        prefix = team_prefix(team_id)
        now = self.clock()
        with self.store.transaction():
            self.store.note_removal(prefix, now.isoformat(), (now + self.grace).isoformat())
        with self._lock:
            self._prefixes.add(prefix)
        log.warning(
            "workspace %s removed the coach (%s): check-ins stopped, its data is erased "
            "after %d days",
            team_id,
            why,
            self.grace.days,
        )

    def back(self, team_id: str | None) -> None:
        """The workspace sent an event again (it reinstalled): erase nothing of it."""
        prefix = team_prefix(team_id)
        with self._lock:
            if prefix not in self._prefixes:
                return
            self._prefixes.discard(prefix)
        with self.store.transaction():
            self.store.cancel_removal(prefix)
        log.warning("workspace %s is back: its data will not be erased", team_id)

    def is_removed(self, user_id: str) -> bool:
        with self._lock:
            return any(user_id.startswith(p) for p in self._prefixes)

    def erase_due(self, forget: Callable[[str], None]) -> int:
        """Erase the people of every workspace whose grace period has ended; how many."""
        erased = 0
        for prefix in self.store.removals_due(self.clock().isoformat()):
            erased += erase_workspace(self.store, prefix, forget)
            with self._lock:
                self._prefixes.discard(prefix)
        return erased


def erase_workspace(store: Store, prefix: str, forget: Callable[[str], object]) -> int:
    """Erase every person whose user id starts with `prefix`, then the removal's own note;
    returns how many people were erased."""
    people = store.users_with_prefix(prefix)
    for user_id in people:
        forget(user_id)
    if store.drop_held_with_prefix(prefix):  # replies owed to people never stored
        store.scrub()
    with store.transaction():
        store.cancel_removal(prefix)
    log.warning("workspace %s erased: %d people", prefix.split(":")[1], len(people))
    return len(people)
