"""Time zones: each person's "today", the dates they type, the date picker and when they
are checked in on follow the time zone Slack gives for them (users.info `tz`), kept with
them; dates are written one way on every Slack surface."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.channels.slack.hours import ALWAYS, WorkingHours, parse_hours
from bot.engine import Engine
from bot.errors import ConfigError
from storage.store import Store
from tests.conftest import FakeClock
from tests.fakes.slack_api import FakeSlackAPI
from tests.test_slack import Slack, build_coach, run_diagnosis, shown

U1 = "slack:T1:U1"


@pytest.fixture
def slack(engine: Engine, fake: FakeSlackAPI) -> Slack:
    return Slack(build_coach(engine, fake), fake)


def datepicker_dates(fake: FakeSlackAPI) -> set[str]:
    return {
        element["initial_date"]
        for post in fake.of("chat.postMessage")
        for block in post.get("blocks") or []
        for element in block.get("elements") or []
        if element.get("type") == "datepicker"
    }


def test_today_the_date_picker_and_typed_dates_are_the_users_own_in_auckland(
    slack: Slack, fake: FakeSlackAPI, store: Store, clock: FakeClock
) -> None:
    # 12:00 on 23 Nov in UTC is 01:00 on 24 Nov in Auckland (UTC+13 in summer).
    clock.advance(hours=3)
    fake.add_user("U1", "Aroha", tz="Pacific/Auckland")

    taken = run_diagnosis(slack)

    assert datepicker_dates(fake) == {"2026-11-24"}
    steps = {s.title: s.due_date for s in store.next_steps_of(U1)}
    assert steps[taken[1]] == "2026-12-08"  # "in 2 weeks" from their 24 Nov, not UTC's 23rd
    assert store.time_zone_of(U1) == "Pacific/Auckland"  # kept with them


def test_a_zone_slack_could_not_give_for_a_moment_is_asked_for_again_at_the_next_turn(
    slack: Slack, fake: FakeSlackAPI, store: Store
) -> None:
    fake.add_user("U1", "Aroha", tz="Pacific/Auckland")
    fake.rate_limits["users.info"] = 1  # 429: the turn does not wait for it

    slack.dm("hello")
    slack.dm("menu")

    assert len(fake.of("users.info")) == 2
    assert store.time_zone_of(U1) == "Pacific/Auckland"


def test_someone_slack_gives_no_zone_for_keeps_utc_dates(
    slack: Slack, store: Store, clock: FakeClock
) -> None:
    clock.advance(hours=3)

    taken = run_diagnosis(slack)

    steps = {s.title: s.due_date for s in store.next_steps_of(U1)}
    assert steps[taken[1]] == "2026-12-07"
    assert store.time_zone_of(U1) is None


def test_a_check_in_waits_for_the_users_working_hours_in_new_york(
    slack: Slack, fake: FakeSlackAPI, clock: FakeClock
) -> None:
    fake.add_user("U1", "Dana", tz="America/New_York")
    run_diagnosis(slack)
    clock.advance(days=9)  # Wed 2 Dec, 09:00 UTC: 04:00 in New York; the 1 Dec step is due

    assert slack.coach.push_due_checkins() == 0

    clock.advance(hours=5)  # 09:00 in New York
    assert slack.coach.push_due_checkins() == 1
    assert "quick check-in" in slack.said_since(len(slack.posts()) - 1)


def test_a_step_due_today_where_the_user_is_ahead_of_utc_is_checked_in_on_their_day(
    slack: Slack, fake: FakeSlackAPI, clock: FakeClock, store: Store
) -> None:
    fake.add_user("U1", "Aroha", tz="Pacific/Auckland")
    run_diagnosis(slack)  # the first step is due on 1 Dec
    # Mon 30 Nov 21:00 UTC is Tue 1 Dec 10:00 in Auckland: due there, not yet in UTC.
    clock.advance(days=7, hours=12)

    assert slack.coach.push_due_checkins() == 1


def test_no_check_in_at_the_weekend_unless_set(
    slack: Slack, fake: FakeSlackAPI, clock: FakeClock
) -> None:
    fake.add_user("U1", "Sam")  # London
    run_diagnosis(slack)
    clock.advance(days=12, hours=2)  # Sat 5 Dec, 11:00

    assert slack.coach.push_due_checkins() == 0

    clock.advance(days=2)  # Mon 7 Dec, 11:00
    assert slack.coach.push_due_checkins() == 1


@pytest.mark.parametrize(
    ("setting", "hours"),
    [
        ("", WorkingHours(9, 17)),
        ("8-18", WorkingHours(8, 18)),
        ("9-17 every day", WorkingHours(9, 17, weekends=True)),
        ("always", ALWAYS),
    ],
)
def test_checkin_hours_are_read_from_the_setting(setting: str, hours: WorkingHours) -> None:
    assert parse_hours(setting) == hours


@pytest.mark.parametrize("setting", ["17-9", "nine to five", "9-25", "9-17 weekends"])
def test_a_bad_checkin_hours_setting_says_what_it_should_look_like(setting: str) -> None:
    with pytest.raises(ConfigError, match="COACH_CHECKIN_HOURS should be like '9-17'"):
        parse_hours(setting)


def test_dates_are_written_one_way_on_the_home_tab_in_coach_steps_and_in_the_dm(
    slack: Slack, fake: FakeSlackAPI, clock: FakeClock
) -> None:
    taken = run_diagnosis(slack)
    clock.advance(days=8)  # 1 December, a Tuesday: the first step is due
    assert slack.coach.push_due_checkins() == 1

    home = str(slack.open_home()["blocks"])
    steps = slack.command("steps")

    assert "by Tuesday 1 December 2026" in home and "by Monday 7 December 2026" in home
    body: Any = steps.body
    assert f"{taken[0]} (by Tuesday 1 December 2026)" in body and "2026-12-01" not in body
    # What the engine wrote in the DM: the plan at the end, and the check-in.
    said = [shown(post) for post in fake.of("chat.postMessage")]
    assert any(f"{taken[1]}, by Monday 7 December 2026" in text for text in said)  # the plan
    assert "You planned to do it by Tuesday 1 December 2026" in said[-1]
    assert not [text for text in said if re.search(r"\b2026-\d\d-\d\d\b", text)]


def test_not_yet_on_the_home_tab_moves_a_step_a_week_on_from_the_users_own_today(
    slack: Slack, fake: FakeSlackAPI, store: Store, clock: FakeClock
) -> None:
    fake.add_user("U1", "Aroha", tz="Pacific/Auckland")
    run_diagnosis(slack)
    clock.advance(days=2, hours=12)  # 21:00 on 25 Nov in UTC: 10:00 on the 26th in Auckland
    view = slack.open_home()
    first = store.next_steps_of(U1)[0]

    assert slack.click_home(view, "step_not_yet", first.id).status == 200

    moved = store.get_next_step(first.id)
    assert moved is not None and moved.due_date == "2026-12-03"  # not UTC's 2 December
