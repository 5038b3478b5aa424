"""The Bolt listeners: each translates one kind of Slack request into a call on the coach's
parts (deliveries, commands, the Home tab, removals) and nothing more."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.channels.slack import blocks, texts
from bot.channels.slack.incoming import typed_text
from bot.channels.slack.requests import (
    ANSWER_ACTIONS,
    is_dm_message,
    person_of,
    teams_named,
    user_key,
    where,
    workspace_of,
)
from bot.turns import UserInput

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackCoach

log = logging.getLogger("coach.slack")

STEP_ACTIONS = re.compile(r"^step_(done|not_yet|dropped)$")
#: Errors a listener meets on a signed request of a shape Slack never sends: answered 400.
MALFORMED = (LookupError, TypeError, AttributeError, ValueError)


def register(coach: SlackCoach) -> None:
    """Attach every listener to the coach's Bolt app."""
    app = coach.app

    @app.use
    def keep_before_ack(body: dict[str, Any], context: Any, next: Any) -> Any:
        refused = coach.deliveries.receive(body, context)
        return refused if refused is not None else next()

    @app.event("message")
    def on_message(
        event: dict[str, Any], body: dict[str, Any], context: Any, request: BoltRequest
    ) -> None:
        key = context.get("inbox_user")
        if key is not None:  # a DM, or a person's edit or deletion of one
            coach.deliveries.run_waiting(key)
            return
        if not is_dm_message(event) or request.headers.get("x-slack-retry-num"):
            return  # a refusal is posted once: not again for each of Slack's retries
        # Not kept (too long to be a turn): refused, and nothing is stored.
        key = user_key(workspace_of(body), event["user"])
        with coach.locks.hold(key), coach.web.hurried():
            reply = coach.talk.turn(key, UserInput(typed_text(str(event.get("text") or ""))))
        to = where(event)
        coach.talk.post_reply(to["channel"], reply, to.get("thread_ts"), key=key)

    @app.action(ANSWER_ACTIONS)
    def on_answer(ack: Any, body: dict[str, Any], context: Any) -> None:
        ack()
        key = context.get("inbox_user")
        if key is None:
            coach.talk.ephemeral(body, texts.UNKNOWN_BUTTON)
            return
        coach.deliveries.run_waiting(key)

    @app.action(STEP_ACTIONS)
    def on_step_outcome(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        coach.home.step_outcome(body, action)

    @app.action(blocks.START_ACTION)
    @app.action(blocks.HISTORY_ACTION)
    @app.action(blocks.SHOW_ACTION)
    def on_start(ack: Any, context: Any) -> None:
        ack()
        if context.get("inbox_user"):
            coach.deliveries.run_waiting(context["inbox_user"])

    @app.action(blocks.FORGET_ACTION)
    def on_forget(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        user = person_of(body)
        if user is None:
            return
        key = user_key(workspace_of(body), user)
        coach.engine.forget(key)
        respond(text=texts.FORGOTTEN, replace_original=True)

    @app.action(blocks.FORGET_CANCEL)
    def on_forget_cancel(ack: Any, respond: Any) -> None:
        ack()
        respond(text=texts.FORGET_CANCELLED, replace_original=True)

    @app.action(re.compile(".*"))
    def on_unknown_action(ack: Any, body: dict[str, Any]) -> None:
        ack()
        coach.talk.ephemeral(body, texts.UNKNOWN_BUTTON)

    @app.command("/coach")
    def on_command(ack: Any, command: dict[str, Any], context: Any, respond: Any) -> None:
        coach.commands.handle(ack, respond, command, context.get("inbox_user"))

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
            return
        coach.home.publish(user_key(workspace_of(body), event["user"]))

    @app.event("app_uninstalled")
    def on_uninstalled(body: dict[str, Any]) -> None:
        coach.removed(workspace_of(body), "app_uninstalled")

    @app.event("team_access_revoked")
    def on_team_access_revoked(event: dict[str, Any]) -> None:
        # Enterprise Grid: an org admin took workspaces away from the org's app.
        for team in teams_named(event):
            coach.removed(team, "team_access_revoked")

    @app.event("tokens_revoked")
    def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        # Only the bot token matters: the coach holds no person's token.
        if (event.get("tokens") or {}).get("bot"):
            coach.removed(workspace_of(body), "tokens_revoked")

    @app.error
    def on_error(error: Exception) -> BoltResponse | None:
        # The type only: a Slack error can quote message text.
        if isinstance(error, MALFORMED):
            # A signed request of a shape Slack never sends (or a timestamp that is not a
            # number): the sender's mistake, answered 400, never 500 and no traceback.
            log.warning("malformed request refused: %s", type(error).__name__)
            return BoltResponse(status=400, body="malformed request")
        log.error("listener failed: %s", type(error).__name__)
        return None
