"""Check-ins sent by the follow-up loop: a DM to each person whose next step is due, during
their working hours, unless their workspace removed the coach."""

from __future__ import annotations

import datetime as dt

from bot.channels.slack.hours import WorkingHours
from bot.channels.slack.removals import Removals
from bot.channels.slack.requests import slack_user_of
from bot.channels.slack.talk import CHANNEL, Talk
from bot.engine import Engine


class CheckIns:
    """Due check-ins, found in the store and started in the engine."""

    def __init__(self, engine: Engine, hours: WorkingHours, removals: Removals, talk: Talk) -> None:
        self.engine = engine
        self.hours = hours
        self.removals = removals
        self.talk = talk

    def push_due(self) -> int:
        """Send each user whose next step is due a check-in DM; returns how many were sent."""
        sent = 0
        now = self.engine.clock()
        # A step due "today" somewhere east of UTC may be due before UTC's today: ask for
        # those due by tomorrow, and let each person's own date decide (in the engine).
        latest = (now.date() + dt.timedelta(days=1)).isoformat()
        for key in self.engine.store.users_due_for_reminder(latest, CHANNEL):
            if self.removals.is_removed(key):
                continue  # their workspace removed the coach: no token to send with
            zone = self.talk.zone(key)
            if not self.hours.allows(now, zone):
                continue  # not during their working hours: a later pass sends it
            reply = self.engine.push_due_checkin(key, channel=CHANNEL, zone=zone)
            if reply is not None and reply.messages:
                self.talk.post_reply(slack_user_of(key), reply, key=key)
                sent += 1
        return sent
