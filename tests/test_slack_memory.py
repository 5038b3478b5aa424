"""A coach that remembers, in Slack, through the real Bolt app and the fake Web API: people
are greeted by their Slack display name (never asked; a person Slack does not know gets no
name), "call me …" changes it, `/coach history` and `/coach show 1` answer in the DM, and
the Home tab links to both.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot import messages
from bot.channels.slack import blocks, texts
from bot.channels.slack.app import SlackCoach
from bot.engine import Engine
from storage.store import Store
from tests.test_slack import (
    OTHER_PARTY,
    PAYLOADS,
    SITUATION,
    FakeSlack,
    Slack,
    ack_body,
    block_texts,
    build_coach,
    run_diagnosis,
    shown,
)

U1 = "slack:T1:U1"


@pytest.fixture
def coach(engine: Engine, fake: FakeSlack) -> SlackCoach:
    return build_coach(engine, fake)


@pytest.fixture
def slack(coach: SlackCoach, fake: FakeSlack) -> Slack:
    return Slack(coach, fake)


def click_in_view(slack: Slack, view: dict[str, Any], action_id: str, value: str) -> None:
    """Click a button on the Home tab, as Slack reports a click in a view."""
    payload = json.loads((PAYLOADS / "home_step_action.json").read_text())
    payload["view"]["blocks"] = view["blocks"]
    elements = [
        (block["block_id"], element)
        for block in view["blocks"]
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]
        if element.get("action_id") == action_id and element.get("value") == value
    ]
    assert elements, f"no {action_id} button worth {value!r} on the home tab"
    block_id, element = elements[0]
    payload["actions"] = [{**element, "block_id": block_id, "action_ts": f"{time.time():.6f}"}]
    response = slack.send(urlencode({"payload": json.dumps(payload)}), json_body=False)
    assert response.status == 200


# == a name from Slack ==========================================================================


def test_a_person_is_greeted_by_their_slack_display_name_and_never_asked(
    slack: Slack, fake: FakeSlack, store: Store
) -> None:
    fake.add_user("U1", "Sam", "Samira Okafor")

    slack.dm("hello")

    greeting = shown(slack.last_post()[1])
    assert greeting.startswith("Hello, Sam. I'm Influence Coach.")
    assert messages.NAME_KNOWN.format(name="Sam") in greeting
    assert messages.NAME_ASK not in greeting
    assert store.name_of(U1) == "Sam"
    slack.dm("start diagnose")
    assert [p["user"] for p in fake.of("users.info")] == ["U1"]  # looked up once


def test_someone_slack_does_not_know_is_greeted_without_a_name_and_not_asked(
    slack: Slack, fake: FakeSlack, store: Store
) -> None:
    slack.dm("hello")

    greeting = shown(slack.last_post()[1])
    assert greeting.startswith("Hello. I'm Influence Coach.")
    assert messages.NAME_ASK not in greeting
    assert fake.of("users.info"), "the coach asked Slack"
    assert store.name_of(U1) is None


def test_call_me_in_the_dm_changes_the_name_and_slack_is_not_asked_again(
    slack: Slack, fake: FakeSlack, engine: Engine, store: Store
) -> None:
    fake.add_user("U1", "Sam")
    slack.dm("hello")

    slack.dm("call me Samira")

    assert "I'll call you Samira from now on." in shown(slack.last_post()[1])
    assert store.name_of(U1) == "Samira"
    restarted = Slack(build_coach(engine, fake), fake)  # a new process knows nothing
    restarted.dm("menu")
    assert len(fake.of("users.info")) == 1


# == their record, from a slash command and the Home tab ================================


def test_coach_history_and_show_1_answer_in_the_dm_with_what_was_stored(
    slack: Slack, fake: FakeSlack
) -> None:
    fake.add_user("U1", "Sam")
    taken = run_diagnosis(slack)

    response = slack.command("history")

    assert ack_body(response).get("text") in (None, "")  # typed in the DM: the DM answers
    history = shown(slack.last_post()[1])
    assert f"Diagnose a power situation · {OTHER_PARTY}" in history
    assert f"{taken[0]} (open, by " in history and f"{taken[1]} (open, by " in history

    slack.command("show 1")

    full = shown(slack.last_post()[1])
    assert "Here's your diagnosis, in your words." in full
    assert "The situation: The partnership board &lt;!channel&gt; decides" in full  # escaped
    assert SITUATION not in full


def test_coach_history_typed_in_a_channel_says_it_went_to_the_dm(slack: Slack) -> None:
    response = slack.command("history", channel="C0PUBLIC")

    assert "direct message" in ack_body(response)["text"]
    assert messages.HISTORY_NONE in shown(slack.last_post()[1])


def test_the_home_tab_links_to_the_history_and_to_each_past_conversation(
    slack: Slack, fake: FakeSlack
) -> None:
    fake.add_user("U1", "Sam")
    run_diagnosis(slack)
    view = slack.open_home()
    seen = "\n".join(block_texts(view["blocks"]))
    assert "*Our past conversations*" in seen
    assert "*1.* Tuesday 1 December 2026" not in seen  # listed by when it was held: today, in tests
    assert f"Diagnose a power situation · {OTHER_PARTY} — 2 steps, 0 done" in seen

    click_in_view(slack, view, blocks.HISTORY_ACTION, "history")

    assert "1. " in shown(slack.last_post()[1])
    assert OTHER_PARTY in shown(slack.last_post()[1])

    click_in_view(slack, view, blocks.SHOW_ACTION, "1")

    assert "Here's your diagnosis, in your words." in shown(slack.last_post()[1])


def test_coach_steps_gives_each_step_the_number_to_mark_it_with(slack: Slack) -> None:
    taken = run_diagnosis(slack)

    text = ack_body(slack.command("steps"))["text"]

    assert f"• {taken[0]} (by Tuesday 1 December 2026) · `done 1`" in text
    assert texts.STEPS_MARK in text
    slack.dm("done 1")
    assert f"Marked as done: {taken[0]}." in shown(slack.last_post()[1])
