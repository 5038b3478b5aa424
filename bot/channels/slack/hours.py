"""When a check-in may be sent: during the person's working hours, in their own time zone.

A check-in is a DM the person did not ask for; at 3 a.m. their time it is a notification
that wakes them, on a Saturday it is work in their weekend. So it waits for their working
hours (09:00 to 17:00, Monday to Friday, unless set otherwise), judged in the time zone
Slack gives for them, or in UTC when Slack gives none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.errors import ConfigError


@dataclass(frozen=True)
class WorkingHours:
    """From `start` to `end` o'clock (local), on weekdays only unless `weekends`."""

    start: int = 9
    end: int = 17
    weekends: bool = False

    def allows(self, now: dt.datetime, zone: dt.tzinfo | None) -> bool:
        local = now.astimezone(zone) if zone is not None else now
        if not self.weekends and local.weekday() >= 5:
            return False
        return self.start <= local.hour < self.end


WORKING_HOURS = WorkingHours()
ALWAYS = WorkingHours(0, 24, weekends=True)


def parse_hours(value: str) -> WorkingHours:
    """`COACH_CHECKIN_HOURS`: "9-17" (weekdays), "9-17 every day", or "always"."""
    text = value.strip().lower()
    if not text:
        return WORKING_HOURS
    if text == "always":
        return ALWAYS
    span, _, days = text.partition(" ")
    start, _, end = span.partition("-")
    try:
        hours = WorkingHours(int(start), int(end), weekends=days.strip() == "every day")
    except ValueError:
        hours = WorkingHours(-1, -1)
    if not (0 <= hours.start < hours.end <= 24) or days.strip() not in ("", "every day"):
        raise ConfigError(
            f"COACH_CHECKIN_HOURS should be like '9-17' (weekdays), '9-17 every day' or "
            f"'always', not {value!r}: the local hours when check-ins are sent."
        )
    return hours
