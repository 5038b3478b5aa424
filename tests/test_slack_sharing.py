"""A coachee shares with a coach in Slack, through the real Bolt app and the fake Web API:
picks the coach and the conversation by buttons, corrects the summary the coach reads
first, sees it under `shared`, and takes it back with `unshare`, at once."""

from __future__ import annotations

import pytest

from bot import messages
from bot.channels.slack.app import SlackCoach
from bot.engine import Engine
from storage.sharing import hash_token, new_token
from storage.store import Store
from tests.test_slack import FakeSlack, Slack, build_coach, run_diagnosis, shown

U1 = "slack:T1:U1"
CORRECTED = "The council holds the budget; I want a seat on the library board."


@pytest.fixture
def slack(engine: Engine, fake: FakeSlack) -> Slack:
    coach: SlackCoach = build_coach(engine, fake)
    return Slack(coach, fake)


def test_a_coachee_shares_corrects_the_summary_and_unshares_in_slack(
    slack: Slack, store: Store
) -> None:
    with store.transaction():
        chris = store.add_coach("Chris", hash_token(new_token()), "2026-11-01T09:00:00+00:00")
    run_diagnosis(slack)

    slack.dm("share")
    assert "Which coach would you like to share with?" in shown(slack.last_post()[1])
    slack.click("Chris")
    slack.click(index=0)  # the conversation just finished
    assert "This is what Chris will read first:" in shown(slack.last_post()[1])
    assert store.shared_conversations_for(chris) == []  # not before they say yes

    slack.click("Let me correct the summary first")
    slack.dm(CORRECTED)
    answer = shown(slack.last_post()[1])
    assert "Shared with Chris" in answer and "Chris will read your summary first." in answer
    (shared,) = store.shared_conversations_for(chris)
    assert shared.summary == CORRECTED and shared.user_id == U1
    said = [m["text"] for m in store.messages_of(U1)]
    assert CORRECTED in said  # the transcript keeps what was typed, as typed

    slack.dm("shared")
    assert "1. Chris: the conversation of" in shown(slack.last_post()[1])

    slack.dm("unshare")
    assert "1. Chris" in shown(slack.last_post()[1])
    slack.dm("unshare 1")
    assert "Chris can no longer see the conversation of" in shown(slack.last_post()[1])
    assert store.shared_conversations_for(chris) == []
    slack.dm("shared")
    assert messages.SHARED_NONE in shown(slack.last_post()[1])
