"""What the coach says to one person in Slack: a turn made for them (with the name and time
zone Slack gives), and its replies posted in order through the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.channels.slack import blocks, texts
from bot.channels.slack.installs import Tokens
from bot.channels.slack.names import SlackNames
from bot.channels.slack.outbox import Courier
from bot.channels.slack.requests import slack_user_of, user_key, workspace_of
from bot.channels.slack.web import WebCalls
from bot.engine import Engine
from bot.engine.turn import local_date
from bot.turns import Reply, UserInput

CHANNEL = "slack"


class Talk:
    """Turns and replies for one person at a time; shared by every part of the Slack app."""

    def __init__(
        self, engine: Engine, web: WebCalls, tokens: Tokens, names: SlackNames, courier: Courier
    ) -> None:
        self.engine = engine
        self.web = web
        self.tokens = tokens
        self.names = names
        self.courier = courier

    def today(self, key: str | None = None) -> dt.date:
        """Today where the person is (their Slack time zone), or in UTC if unknown."""
        return local_date(self.engine.clock(), self.zone(key))

    def zone(self, key: str | None) -> dt.tzinfo | None:
        return self.names.zone(key, slack_user_of(key)) if key else None

    def now(self) -> str:
        return self.engine.clock().isoformat()

    def turn(self, key: str, message: UserInput) -> Reply:
        """One turn of a Slack user: the coach never asks their name (Slack's display name
        is looked up once instead)."""
        name = self.names.lookup(key, slack_user_of(key))
        zone = self.zone(key)
        reply = self.engine.handle(
            key, message, channel=CHANNEL, name=name, ask_name=False, zone=zone
        )
        self.names.keep(key)
        return reply

    def post_reply(
        self, channel: str, reply: Reply, thread_ts: str | None = None, *, key: str
    ) -> bool:
        """Post a reply to a DM (a user id opens the app's DM), in a thread if the user wrote
        in one: one message per turn, unless it is too big for Slack, then several in order.
        What Slack can't take just now is sent later, in order (the outbox); False if Slack
        refused it for good (logged once): the turn stays stored, and the rest is not posted
        out of order."""
        messages = [
            {"channel": channel, "thread_ts": thread_ts, **payload}
            for payload in blocks.reply_messages(reply, self.today(key))
        ]
        return self.courier.post(key, messages)

    def post_text(self, key: str, channel: str, text: str, thread_ts: str | None = None) -> bool:
        """Post a one-line note of the channel's own; False if Slack refused it for good."""
        return self.courier.post(key, [{"channel": channel, "text": text, "thread_ts": thread_ts}])

    def where_we_are(self, key: str, channel: str) -> list[dict[str, Any]]:
        """The note for someone whose replies were given up on: where their conversation
        is now (written when it is sent)."""
        reply = self.engine.show_current(key, texts.UNREACHED)
        if reply.failed:
            return [{"channel": channel, "text": texts.UNREACHED}]
        return [
            {"channel": channel, **payload}
            for payload in blocks.reply_messages(reply, self.today(key))
        ]

    def ephemeral(self, body: dict[str, Any], text: str) -> None:
        """A private note to whoever made this request, where they made it."""
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or user
        if user and channel:
            self.ephemeral_to(user_key(workspace_of(body), user), channel, user, text)

    def ephemeral_to(self, key: str, channel: str, user: str, text: str) -> None:
        self.web.attempt(
            "chat.postEphemeral",
            lambda: self.tokens.client_for(key).chat_postEphemeral(
                channel=channel, user=user, text=text
            ),
        )
