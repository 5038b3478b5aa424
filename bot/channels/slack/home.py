"""The App Home tab: a person's open steps and past conversations, published whenever they
open it or change a step there (Done, Not yet, Dropped it)."""

from __future__ import annotations

from typing import Any

from bot.channels.slack import blocks, texts
from bot.channels.slack.outbox import Courier
from bot.channels.slack.requests import person_of, slack_user_of, user_key, workspace_of
from bot.channels.slack.talk import Talk
from bot.engine import Engine


class HomeTab:
    """Publishes a person's Home tab; says so there when replies did not reach them."""

    def __init__(self, engine: Engine, talk: Talk, courier: Courier) -> None:
        self.engine = engine
        self.talk = talk
        self.courier = courier

    def publish(self, key: str) -> None:
        """Publish the person's Home tab (tried once: they can open it again)."""
        notice = texts.UNREACHED_HOME if key in self.courier.unreached else None
        view = blocks.home_view(self.engine.overview(key), self.talk.today(key), notice)
        web = self.talk.web
        with web.hurried():
            web.attempt(
                "views.publish",
                lambda: self.talk.tokens.client_for(key).views_publish(
                    user_id=slack_user_of(key), view=view
                ),
            )

    def step_outcome(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A step's button on the tab was clicked: its outcome is recorded, the tab redrawn."""
        user = person_of(body)
        outcome = blocks.STEP_ACTIONS.get(str(action.get("action_id")))
        if user is None or outcome is None:
            return
        key = user_key(workspace_of(body), user)
        try:
            step_id = int(action.get("value", ""))
        except ValueError:
            return
        self.engine.record_step_outcome(key, step_id, outcome, zone=self.talk.zone(key))
        self.publish(key)
