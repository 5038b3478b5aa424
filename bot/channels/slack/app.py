"""The Slack channel: a Bolt app whose listeners translate Slack to the engine and back.

DMs and button clicks become `UserInput`s (the event id or click as the delivery id, so a
retried delivery makes no second turn); replies become Block Kit messages. Every listener
acknowledges first and does the turn after, so Slack never waits more than a moment.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.channels.slack import blocks, texts
from bot.channels.slack.ordering import TurnOrder
from bot.engine import Engine
from bot.export import export_markdown
from bot.turns import Reply, UserInput

log = logging.getLogger("coach.slack")
CHANNEL = "slack"
ANSWER_ACTIONS = re.compile(rf"^({blocks.ANSWER_PREFIX}\d+|{blocks.DATE_ACTION})$")
STEP_ACTIONS = re.compile(r"^step_(done|not_yet|dropped)$")


#: Loggers that print request bodies (message text) or headers at DEBUG: never below WARNING.
CHATTY_LOGGERS = ("slack_bolt", "slack_sdk", "coach.slack.bolt")


def quiet_chatty_loggers() -> None:
    """Message text and tokens never reach the logs, whatever level an operator sets."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def user_key(team_id: str | None, user_id: str) -> str:
    """The engine's name for a Slack user: unique across workspaces."""
    return f"slack:{team_id or 'T0'}:{user_id}"


def slack_user_of(key: str) -> str:
    return key.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class SlackSettings:
    """What the Slack app needs; `api_url` points the Web API client elsewhere (GovSlack, tests)."""

    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str | None = None
    followup_interval: float = 60.0


def _team(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    if isinstance(team, dict):
        return team.get("id")
    return body.get("team_id") or (body.get("user") or {}).get("team_id")


def _is_dm_message(event: dict[str, Any]) -> bool:
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and isinstance(event.get("user"), str)
    )


class SlackCoach:
    """Builds the Bolt app around an engine; `app.dispatch` is the whole HTTP surface."""

    def __init__(
        self,
        engine: Engine,
        settings: SlackSettings,
        *,
        client: WebClient | None = None,
        process_before_response: bool = False,
    ) -> None:
        quiet_chatty_loggers()
        self.engine = engine
        self.settings = settings
        self.client = client or WebClient(
            token=settings.bot_token,
            base_url=settings.api_url or WebClient.BASE_URL,
        )
        # Slack answers 429 with Retry-After when a workspace posts fast: wait and retry
        # rather than lose a reply the user's turn already committed.
        self.client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
        self.order = TurnOrder()
        # Our own pool for the turns that run after each ack, so shutdown can drain it.
        self.turns = ThreadPoolExecutor(max_workers=8, thread_name_prefix="coach-turn")
        self.app = App(
            signing_secret=settings.signing_secret or "socket-mode-has-no-signing-secret",
            client=self.client,
            token_verification_enabled=False,
            process_before_response=process_before_response,
            request_verification_enabled=settings.signing_secret is not None,
            logger=logging.getLogger("coach.slack.bolt"),
            listener_executor=self.turns,
        )
        self._register()

    def drain(self) -> None:
        """Finish every acknowledged turn before the process exits: Slack will not resend
        an event it got a 200 for, so a deploy must not drop the queue."""
        self.turns.shutdown(wait=True)

    # -- helpers ---------------------------------------------------------------------

    def today(self) -> dt.date:
        return self.engine.clock().date()

    def post_reply(self, channel: str, reply: Reply) -> None:
        """Post a reply to a DM (a user id opens the app's DM): one message per turn, unless
        it is too big for Slack, then several in order."""
        for payload in blocks.reply_messages(reply, self.today()):
            self.client.chat_postMessage(channel=channel, **payload)

    def _ticket(self, body: dict[str, Any], context: Any) -> None:
        key = None
        if body.get("type") == "event_callback":
            event = body.get("event")
            if isinstance(event, dict) and _is_dm_message(event):
                key = user_key(_team(body), event["user"])
        elif body.get("type") == "block_actions":
            actions = body.get("actions") or []
            user = (body.get("user") or {}).get("id")
            if user and actions and ANSWER_ACTIONS.match(str(actions[0].get("action_id", ""))):
                key = user_key(_team(body), user)
        if key is not None:
            context["turn_key"] = key
            context["turn_ticket"] = self.order.ticket(key)

    # -- listeners ---------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app

        @app.use
        def take_ticket(body: dict[str, Any], context: Any, next: Any) -> Any:
            self._ticket(body, context)
            return next()

        @app.event("message")
        def on_message(event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
            if not _is_dm_message(event):
                return
            key = user_key(_team(body), event["user"])
            with self.order.turn(key, context.get("turn_ticket")):
                reply = self.engine.handle(
                    key,
                    UserInput(event.get("text") or "", delivery_id=body.get("event_id")),
                    channel=CHANNEL,
                )
                if not reply.duplicate:
                    self.post_reply(event["channel"], reply)

        @app.action(ANSWER_ACTIONS)
        def on_answer(ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
            ack()
            # The ticket taken on arrival is released whatever happens to this click.
            with self.order.turn(context.get("turn_key", ""), context.get("turn_ticket")):
                self._answer(body, action)

        @app.action(STEP_ACTIONS)
        def on_step_outcome(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            user = body["user"]["id"]
            key = user_key(_team(body), user)
            outcome = blocks.STEP_ACTIONS[action["action_id"]]
            try:
                step_id = int(action.get("value", ""))
            except ValueError:
                return
            self.engine.record_step_outcome(key, step_id, outcome)
            self.publish_home(key)

        @app.action(blocks.START_ACTION)
        def on_start(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            key = user_key(_team(body), body["user"]["id"])
            reply = self.engine.handle(
                key, UserInput(f"start {action.get('value', 'diagnose')}"), channel=CHANNEL
            )
            self.post_reply(body["user"]["id"], reply)

        @app.action(blocks.FORGET_ACTION)
        def on_forget(ack: Any, body: dict[str, Any], respond: Any) -> None:
            ack()
            key = user_key(_team(body), body["user"]["id"])
            self.engine.forget(key)
            respond(text=texts.FORGOTTEN, replace_original=True)

        @app.action(blocks.FORGET_CANCEL)
        def on_forget_cancel(ack: Any, respond: Any) -> None:
            ack()
            respond(text=texts.FORGET_CANCELLED, replace_original=True)

        @app.action(re.compile(".*"))
        def on_unknown_action(ack: Any, body: dict[str, Any]) -> None:
            ack()
            self._ephemeral(body, texts.UNKNOWN_BUTTON)

        @app.command("/coach")
        def on_command(ack: Any, command: dict[str, Any]) -> None:
            self._command(ack, command)

        @app.event("app_home_opened")
        def on_home(event: dict[str, Any], body: dict[str, Any]) -> None:
            if event.get("tab", "home") != "home":
                return
            self.publish_home(user_key(_team(body), event["user"]))

        @app.error
        def on_error(error: Exception) -> None:
            # The type only: a Slack error can quote message text.
            log.error("listener failed: %s", type(error).__name__)

    def _answer(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        user = body["user"]["id"]
        key = user_key(_team(body), user)
        channel = (body.get("channel") or {}).get("id") or user
        message = body.get("message") or {}
        if action["action_id"] == blocks.DATE_ACTION:
            ref = str(action.get("block_id", "")).removeprefix(blocks.DATE_BLOCK_PREFIX) or None
            value = action.get("selected_date") or ""
            chosen = value
        else:
            try:
                ref, value = blocks.read_answer_value(action.get("value") or "")
            except ValueError:
                self._ephemeral(body, texts.UNKNOWN_BUTTON)
                return
            chosen = ((action.get("text") or {}).get("text")) or value
        delivery = f"action:{user}:{action.get('action_ts') or message.get('ts')}"
        reply = self.engine.handle(
            key, UserInput(value, ref=ref, delivery_id=delivery), channel=CHANNEL
        )
        if reply.duplicate:
            return
        if reply.stale:
            self._ephemeral(body, reply.messages[0].text if reply.messages else texts.STALE)
            return
        if message.get("ts") and message.get("blocks") and not reply.refused:
            try:
                self.client.chat_update(
                    channel=channel,
                    ts=message["ts"],
                    text=message.get("text") or chosen,
                    blocks=blocks.answered_blocks(message["blocks"], chosen),
                )
            except SlackApiError as exc:
                log.warning("chat.update failed: %s", exc.response.get("error"))
        self.post_reply(channel, reply)

    def _ephemeral(self, body: dict[str, Any], text: str) -> None:
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or user
        if not user or not channel:
            return
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("chat.postEphemeral failed: %s", exc.response.get("error"))

    def _command(self, ack: Any, command: dict[str, Any]) -> None:
        user = command["user_id"]
        key = user_key(command.get("team_id"), user)
        words = (command.get("text") or "").strip()
        sub, _, rest = words.partition(" ")
        sub = sub.lower()
        in_dm = str(command.get("channel_id", "")).startswith("D")
        if sub in ("", "menu", "start"):
            if in_dm:
                ack()
            else:
                ack(text=texts.SENT_TO_DM)
            said = f"start {rest.strip()}" if sub == "start" and rest.strip() else "menu"
            self.post_reply(user, self.engine.handle(key, UserInput(said), channel=CHANNEL))
        elif sub == "help":
            ack(text=texts.COMMAND_HELP)
        elif sub == "status":
            ack(text=texts.status(self.engine.overview(key)))
        elif sub == "steps":
            ack(text=texts.steps(self.engine.overview(key)))
        elif sub == "export":
            ack(text=texts.EXPORTING)
            threading.Thread(target=self._export, args=(key, user), daemon=True).start()
        elif sub == "forget":
            ack(text=texts.FORGET_ASK, blocks=blocks.forget_confirmation())
        else:
            ack(text=texts.UNKNOWN_COMMAND.format(sub=sub[:40]))

    def _export(self, key: str, user: str) -> None:
        try:
            content = export_markdown(self.engine.store, key)
            opened = self.client.conversations_open(users=user)
            channel = opened["channel"]["id"]
            self.client.files_upload_v2(
                channel=channel,
                content=content,
                filename="influence-coach-export.md",
                title="Your Influence Coach conversations",
                initial_comment=texts.EXPORT_READY,
            )
        except SlackApiError as exc:
            log.warning("export upload failed: %s", exc.response.get("error"))
            self.client.chat_postMessage(channel=user, text=texts.EXPORT_FAILED)

    def publish_home(self, key: str) -> None:
        view = blocks.home_view(self.engine.overview(key), self.today())
        try:
            self.client.views_publish(user_id=slack_user_of(key), view=view)
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", exc.response.get("error"))

    # -- follow-ups ----------------------------------------------------------------------

    def push_due_checkins(self) -> int:
        """Send each user whose next step is due a check-in DM; returns how many were sent."""
        sent = 0
        today = self.today().isoformat()
        for key in self.engine.store.users_due_for_reminder(today, CHANNEL):
            reply = self.engine.push_due_checkin(key, channel=CHANNEL)
            if reply is not None and reply.messages:
                self.post_reply(slack_user_of(key), reply)
                sent += 1
        return sent
