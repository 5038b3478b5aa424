"""Transcripts are sensitive: no message text and no token reaches the logs, even at DEBUG."""

from __future__ import annotations

import logging

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.channels.slack.app import SlackCoach, SlackSettings
from bot.engine import Engine
from bot.turns import UserInput
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack_support import BOT_TOKEN, SIGNING_SECRET, dm_event, signed_headers

SECRET_WORDS = "Councillor Okafor keeps blocking our youth project"
CRISIS_WORDS = "I feel suicidal about all this"


def test_engine_logs_no_message_text_even_when_a_turn_fails(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine.open("terminal:ana")
    engine.handle("terminal:ana", UserInput("diagnose"))
    engine.handle("terminal:ana", UserInput("voluntary"))
    engine.handle("terminal:ana", UserInput(SECRET_WORDS))
    engine.handle("terminal:ana", UserInput(CRISIS_WORDS))
    engine.store.db.conn.execute("DROP TABLE deliveries")  # the next turn fails inside
    reply = engine.handle("terminal:ana", UserInput(SECRET_WORDS, delivery_id="d1"))

    assert "wasn't saved" in reply.text or "failed" in reply.text
    assert "safety interruption: self_harm" in caplog.text  # the category, not the words
    assert "Okafor" not in caplog.text
    assert "suicidal" not in caplog.text


def test_slack_logs_no_message_text_and_no_token_at_debug(
    engine: Engine, fake: FakeSlackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    coach = SlackCoach(
        engine,
        SlackSettings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url),
        client=WebClient(token=BOT_TOKEN, base_url=fake.base_url),
        process_before_response=True,
    )
    # The other party's name comes back in the next question: a reply quoting the user.
    said = ["hello", "diagnose", "voluntary", SECRET_WORDS, "Councillor Okafor"]
    for n, text in enumerate(said):
        body = dm_event("U1", text, event_id=f"Ev{n}")
        response = coach.app.dispatch(
            BoltRequest(body=body, headers=signed_headers(body, json_body=True))
        )
        assert response.status == 200

    assert any("Councillor Okafor" in str(p.get("text")) for p in fake.of("chat.postMessage"))
    assert "Okafor" not in caplog.text
    assert BOT_TOKEN not in caplog.text
    assert SIGNING_SECRET not in caplog.text
