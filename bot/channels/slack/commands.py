"""`/coach …`: the slash command's subcommands. What is said to the conversation (`start`,
`menu`, `history`, `show`) runs as a turn and is answered in the DM; `help`, `status` and
`steps` are answered where the command was typed; `export` uploads a file to the DM on a
thread of its own; `forget` asks for a confirmation first."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from bot.channels.slack import blocks, texts
from bot.channels.slack.installs import Tokens
from bot.channels.slack.ordering import UserLocks
from bot.channels.slack.requests import (
    SAID_IN_DM,
    said_by_command,
    slack_user_of,
    user_key,
    workspace_of,
)
from bot.channels.slack.talk import CHANNEL, Talk
from bot.channels.slack.web import WebCalls
from bot.engine import Engine
from bot.errors import StorageError
from bot.export import export_markdown
from bot.turns import UserInput

log = logging.getLogger("coach.slack")

#: The name of the threads that upload exports (a test waits for them by it).
EXPORT_THREAD = "coach-export"


class Commands:
    """The `/coach` command, given what it needs: the engine, Slack, and a way to run the
    deliveries kept for a person (`run_waiting`)."""

    def __init__(
        self,
        engine: Engine,
        web: WebCalls,
        tokens: Tokens,
        locks: UserLocks,
        talk: Talk,
        run_waiting: Callable[[str], None],
    ) -> None:
        self.engine = engine
        self.web = web
        self.tokens = tokens
        self.locks = locks
        self.talk = talk
        self.run_waiting = run_waiting

    def handle(self, ack: Any, respond: Any, command: dict[str, Any], kept: str | None) -> None:
        """Answer `/coach …`: what is said to the conversation runs as a turn (kept in the
        inbox when it could be: `kept` is whose), the rest is answered in the acknowledgement."""
        user = command.get("user_id")
        if not isinstance(user, str) or not user:
            ack()  # not a person's command: nothing to do, nothing to say
            return
        key = user_key(workspace_of(command), user)
        words = (command.get("text") or "").strip()
        sub = words.partition(" ")[0].lower()
        in_dm = str(command.get("channel_id", "")).startswith("D")
        if sub in SAID_IN_DM:
            if in_dm:
                ack()
            else:
                ack(text=texts.sent_to_dm(command.get("team_id"), command.get("api_app_id")))
            if kept is not None:
                self.run_waiting(kept)
            else:  # a request without a trigger id cannot be kept: run it as it comes
                said = said_by_command(words) or "menu"
                with self.locks.hold(key), self.web.hurried():
                    reply = self.talk.turn(key, UserInput(said))
                self.talk.post_reply(user, reply, key=key)
        elif sub == "help":
            ack(text=texts.COMMAND_HELP)
        elif sub == "status":
            ack(text=texts.status(self.engine.overview(key)))
        elif sub == "steps":
            ack(text=texts.steps(self.engine.overview(key)))
        elif sub == "export":
            ack(text=texts.EXPORTING)
            if self._first_time(f"export:{command.get('trigger_id')}", key):
                export = threading.Thread(
                    target=self._export, args=(key, user, respond), name=EXPORT_THREAD, daemon=True
                )
                export.start()
        elif sub == "forget":
            ack(text=texts.FORGET_ASK, blocks=blocks.forget_confirmation())
        else:
            ack(text=texts.UNKNOWN_COMMAND.format(sub=blocks.escape(sub[:40])))

    def _first_time(self, delivery: str, key: str) -> bool:
        """Whether this is the first time a command came (not one of Slack's retries of it):
        noted in the store, so a retried `/coach export` uploads one file. A store that
        cannot say counts as a first time: better a second file than none."""
        store = self.engine.store
        try:
            with store.transaction():
                if store.seen_delivery(delivery):
                    return False
                store.ensure_user(key, CHANNEL, None, self.talk.now())
                store.mark_delivery(delivery, key, self.talk.now())
        except StorageError as exc:
            log.warning("command not noted: %s", type(exc).__name__)
        return True

    def _export(self, key: str, user: str, respond: Any) -> None:
        """Upload the user's export to their DM; if it can't be done, tell them where they
        typed the command (through its response_url, which needs no token and no upload
        host), and failing that in the DM."""
        try:
            content = export_markdown(self.engine.store, key)
        except StorageError as exc:
            log.warning("export not made: %s", type(exc).__name__)
            content = None
        if content is not None:
            uploaded = self.web.attempt(
                "export upload",
                lambda: self.tokens.client_for(key).files_upload_v2(
                    channel=self._dm_of(key),
                    content=content,
                    filename="influence-coach-export.md",
                    title="Your Influence Coach conversations",
                    initial_comment=texts.EXPORT_READY,
                ),
            )
            if uploaded is not None:
                return
        told = self.web.attempt(
            "export failure note", lambda: respond(text=texts.EXPORT_FAILED, replace_original=False)
        )
        if told is None:
            self.talk.post_text(key, user, texts.EXPORT_FAILED)

    def _dm_of(self, key: str) -> str:
        """The app's DM with a user (files go to a conversation id, not a user id)."""
        opened = self.tokens.client_for(key).conversations_open(users=slack_user_of(key))
        return str(opened["channel"]["id"])
