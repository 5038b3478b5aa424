"""A workspace that removes the coach (`app_uninstalled`, or its bot token revoked): its
check-ins stop at once and its people's data is erased after the grace period, or at once
with `coach slack purge`; a workspace that comes back in time keeps everything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot import cli
from bot.engine import Engine
from storage.store import Store
from tests.slack_support import dm_event
from tests.test_slack import (
    PAYLOADS,
    USER_TABLES,
    FakeSlack,
    Slack,
    build_coach,
    count_rows,
    run_diagnosis,
)

U1 = "slack:T1:U1"
OTHER = "slack:T2:U9"  # someone in another workspace, which keeps the coach
MANIFEST = Path(__file__).parent.parent / "slack" / "manifest.yaml"


@pytest.fixture
def slack(engine: Engine, fake: FakeSlack) -> Slack:
    """U1 of workspace T1 has finished a diagnosis; U9 of workspace T2 has said hello."""
    slack = Slack(build_coach(engine, fake), fake)
    run_diagnosis(slack)
    body = dm_event("U9", "hello", event_id=slack.new_id(), team="T2")
    assert slack.send(body, json_body=True).status == 200
    return slack


def payload(name: str, **changes: Any) -> dict[str, Any]:
    found = json.loads((PAYLOADS / name).read_text())
    found.update(changes)
    return found


def rows_of(db_path: Path, user: str) -> int:
    return sum(count_rows(db_path, table, user) for table in USER_TABLES)


def test_an_uninstalled_workspace_gets_no_check_ins_and_is_erased_after_30_days(
    slack: Slack, clock: Any, db_path: Path, fake: FakeSlack
) -> None:
    coach = slack.coach
    assert slack.event(payload("app_uninstalled.json")).status == 200
    assert slack.event(payload("app_uninstalled.json")).status == 200  # Slack's retry
    clock.advance(days=9)  # a step of U1's is due

    assert coach.push_due_checkins() == 0
    clock.advance(days=20)  # 29 days after: still within the grace period
    assert coach.erase_removed_workspaces() == 0
    assert rows_of(db_path, U1) > 0

    clock.advance(days=2)
    assert coach.erase_removed_workspaces() == 1

    assert rows_of(db_path, U1) == count_rows(db_path, "users", U1) == 0
    assert rows_of(db_path, OTHER) > 0  # the other workspace's people are untouched
    assert coach.erase_removed_workspaces() == 0


def test_a_revoked_bot_token_removes_the_workspace_and_a_persons_token_alone_does_not(
    slack: Slack, clock: Any
) -> None:
    coach = slack.coach
    people_only = payload("tokens_revoked.json")
    people_only["event"]["tokens"] = {"oauth": ["U1"]}
    assert slack.event(people_only).status == 200
    clock.advance(days=9)
    assert coach.push_due_checkins() == 1  # the coach holds no person's token: nothing changes

    assert slack.event(payload("tokens_revoked.json", event_id="Ev_REVOKED2")).status == 200
    clock.advance(days=9)  # the second step is due now

    assert coach.push_due_checkins() == 0


def test_a_workspace_that_comes_back_within_the_grace_period_keeps_everything(
    slack: Slack, clock: Any, db_path: Path
) -> None:
    coach = slack.coach
    slack.event(payload("app_uninstalled.json"))
    clock.advance(days=3)
    slack.dm("hello")  # reinstalled: Slack sends its events again

    clock.advance(days=40)

    assert coach.erase_removed_workspaces() == 0
    assert rows_of(db_path, U1) > 0
    assert coach.push_due_checkins() == 1


def test_coach_slack_purge_erases_one_workspace_now_after_confirmation(
    slack: Slack, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.coach.engine.store.close()
    base = ["slack", "purge", "--team", "T1", "--db", str(db_path)]

    assert cli.main(base) == 1  # asks for --yes first
    assert "1 people of workspace T1" in capsys.readouterr().err
    assert rows_of(db_path, U1) > 0

    assert cli.main([*base, "--yes"]) == 0

    assert "Erased all data of 1 people of workspace T1." in capsys.readouterr().out
    assert rows_of(db_path, U1) == 0
    assert rows_of(db_path, OTHER) > 0
    store = Store(db_path)
    try:
        assert store.removed_prefixes() == []
    finally:
        store.close()


def test_the_manifest_subscribes_to_uninstall_and_token_revocation() -> None:
    events = YAML(typ="safe").load(MANIFEST.read_text())["settings"]["event_subscriptions"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events["bot_events"])


def test_replies_still_owed_to_an_erased_workspace_go_with_it(
    slack: Slack, clock: Any, db_path: Path, fake: FakeSlack
) -> None:
    fake.rate_limits["chat.postMessage"] = 1  # a reply Slack could not take just then
    slack.dm("status?")
    store = slack.coach.engine.store
    # and one to someone the coach only answered (a message too long to keep: no row of theirs)
    store.hold_messages("slack:T1:U7", [{"channel": "DU7", "text": "owed"}], "9999", "now")
    assert count_rows(db_path, "outbox") == 2
    slack.event(payload("app_uninstalled.json"))
    clock.advance(days=31)

    assert slack.coach.erase_removed_workspaces() == 1

    assert count_rows(db_path, "outbox") == 0
