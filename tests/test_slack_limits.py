"""Slack's limits, checked before sending: the largest Home tab and messages the data allows
are built within them, and the fake Web API refuses what Slack refuses, so no test can pass
on a payload Slack would turn down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.channels.slack import blocks, limits
from bot.engine import Overview, PastDiagnosis
from storage.rows import NextStep
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack_support import BOT_TOKEN

TODAY = dt.date(2026, 12, 2)
#: Each "&" is shown escaped as "&amp;": five characters in Slack for one typed.
LONG = "Smith & Jones " * 400


def step(n: int) -> NextStep:
    return NextStep(
        id=n,
        conversation_id=1,
        user_id="slack:T1:U1",
        recommendation_id=None,
        title=f"{n}. {LONG}",
        text=LONG,
        idea=LONG,
        source=None,
        due_date=(TODAY + dt.timedelta(days=n)).isoformat(),
        status="open",
        outcome=None,
        learned=None,
    )


def largest_overview(open_steps: int) -> Overview:
    """As much as a user's data can put on the Home tab: every text as long as it can be."""
    past = [
        PastDiagnosis(
            date="2026-11-01",
            other_party=LONG,
            top_recommendation=LONG,
            number=n,
            title=LONG,
            steps=3,
            done=1,
        )
        for n in range(1, 31)
    ]
    return Overview(LONG, LONG, "paused", [step(n) for n in range(open_steps)], past)


def texts_of(view: dict[str, Any]) -> str:
    return str(view["blocks"])


@pytest.mark.parametrize("open_steps", [0, 1, 38, 39, 41, 200])
def test_the_largest_home_tab_is_within_slacks_limits(open_steps: int) -> None:
    view = blocks.home_view(largest_overview(open_steps), TODAY)

    assert limits.problems(view["blocks"], max_blocks=limits.VIEW_BLOCKS) == []
    View(**view).validate_json()  # and slack_sdk's own models take it


def test_steps_that_would_overflow_the_home_tab_are_summarised_with_where_to_see_them() -> None:
    view = blocks.home_view(largest_overview(41), TODAY)

    shown = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("step:")]
    assert 30 <= len(shown) < 41
    assert shown[0]["block_id"] == "step:0"  # the steps due first are the ones shown
    hidden = 41 - len(shown)
    assert f"…and {hidden} more: `/coach steps` lists them all." in texts_of(view)
    assert len(view["blocks"]) <= limits.VIEW_BLOCKS


def test_a_home_tab_that_fits_shows_every_step_and_no_summary() -> None:
    view = blocks.home_view(largest_overview(30), TODAY)

    shown = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("step:")]
    assert len(shown) == 30
    assert "more: `/coach steps`" not in texts_of(view)


def test_a_text_cut_to_its_limit_ends_in_an_ellipsis_never_in_half_an_escape() -> None:
    escaped = blocks.escape("x" * 2997 + "&&&")
    cut = limits.cut(escaped, 3000)

    assert len(cut) <= 3000 and cut.endswith("x…")
    assert limits.cut("short", 3000) == "short"


def test_an_answered_message_keeps_within_the_limits_whatever_was_chosen() -> None:
    answered = blocks.answered_blocks([], "A & B " * 1000)

    assert limits.problems(answered, max_blocks=limits.MESSAGE_BLOCKS) == []


# == the fake refuses what Slack refuses =========================================================


@pytest.fixture
def client() -> Iterator[WebClient]:
    fake = FakeSlackAPI().start()
    yield WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    fake.stop()


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(text: str, value: str = "v") -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "a",
                "text": {"type": "plain_text", "text": text},
                "value": value,
            }
        ],
    }


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param([section("x")] * 51, id="51 blocks"),
        pytest.param([section("x" * 3001)], id="section text"),
        pytest.param([context("x" * 4080)], id="context element text"),
        pytest.param([button("x" * 76)], id="button text"),
        pytest.param([button("x", value="v" * 2001)], id="button value"),
        pytest.param(
            [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], id="header"
        ),
    ],
)
def test_the_fake_refuses_a_message_slack_would_refuse(
    client: WebClient, refused: list[dict[str, Any]]
) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="DU1", text="x", blocks=refused)
    assert caught.value.response["error"] == "invalid_blocks"


def test_the_fake_refuses_a_home_view_of_more_than_100_blocks(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x")] * 101})
    assert caught.value.response["error"] == "invalid_arguments"

    client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x")] * 100})
