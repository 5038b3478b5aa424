"""The Slack channel: a Bolt app whose listeners translate Slack to the engine and back.

DMs, answer clicks and "start" requests become `UserInput`s (the event id or click as the
delivery id, so a retried delivery makes no second turn); replies become Block Kit messages.

Slack must hear back within three seconds and never resends what it got a 200 for, so each
delivery is written to the store's inbox *before* it is acknowledged, and its turn runs
after. A crash between the two loses nothing: the next start runs what is waiting. The
inbox also sets the order: a user's deliveries run one at a time, oldest first.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.channels.slack import blocks, texts
from bot.channels.slack.hours import WORKING_HOURS, WorkingHours
from bot.channels.slack.incoming import typed_text
from bot.channels.slack.installs import (
    BOT_SCOPES,
    ROTATE_BEFORE_MINUTES,
    CoachInstallationStore,
    HideOAuthCodes,
    InstalledTokens,
    StoredAuthorize,
    Tokens,
)
from bot.channels.slack.names import SlackNames
from bot.channels.slack.ordering import UserLocks
from bot.channels.slack.outbox import NOTE_AFTER, Courier
from bot.channels.slack.removals import ERASE_AFTER_DAYS, Removals
from bot.channels.slack.requests import (
    ANSWER_ACTIONS,
    SAID_IN_DM,
    inbound,
    is_dm_message,
    is_removal,
    person_of,
    said_by_command,
    slack_user_of,
    teams_named,
    user_key,
    where,
    workspace_of,
)
from bot.channels.slack.states import CoachOAuthStateStore
from bot.channels.slack.web import WebCalls
from bot.engine import Engine
from bot.engine.turn import local_date
from bot.errors import StorageError
from bot.export import export_markdown
from bot.turns import BotMessage, Reply, UserInput
from storage.store import InboxEntry

log = logging.getLogger("coach.slack")
CHANNEL = "slack"
STEP_ACTIONS = re.compile(r"^step_(done|not_yet|dropped)$")
#: Tries at a delivery whose turn fails (a locked store, a bug) before the user is told.
MAX_ATTEMPTS = 3
#: A delivery still waiting this long after it arrived is run by the follow-up loop.
STRANDED_AFTER = dt.timedelta(seconds=2)


#: Loggers that print request bodies (message text) or headers at DEBUG: never below WARNING.
BOLT_LOGGER = "coach.slack.bolt"
CHATTY_LOGGERS = ("slack_bolt", "slack_sdk", BOLT_LOGGER)


def quiet_chatty_loggers() -> None:
    """Message text and tokens never reach the logs, whatever level an operator sets."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


@dataclass(frozen=True)
class SlackSettings:
    """What the Slack app needs; `api_url` points the Web API client elsewhere (GovSlack, tests)."""

    bot_token: str | None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str | None = None
    followup_interval: float = 60.0
    #: Seconds before the first retry of a network error or 5xx; each next wait doubles.
    retry_backoff: float = 0.5
    #: Days a workspace that removed the coach has to come back before its data is erased.
    erase_after_days: float = ERASE_AFTER_DAYS
    #: When check-ins are sent, in each person's own time zone.
    checkin_hours: WorkingHours = WORKING_HOURS
    #: "Add to Slack" for many workspaces (HTTP mode): the app's Client ID and Secret.
    client_id: str | None = None
    client_secret: str | None = None
    #: The OAuth redirect URL registered with the app, when it must be named (optional).
    redirect_uri: str | None = None
    #: Refresh a rotating bot token this many minutes before it expires.
    rotate_before_minutes: int = ROTATE_BEFORE_MINUTES

    @property
    def distributed(self) -> bool:
        """Whether each workspace installs the coach itself, with its own token."""
        return bool(self.client_id and self.client_secret)


#: Errors a listener meets on a signed request of a shape Slack never sends: answered 400.
MALFORMED = (LookupError, TypeError, AttributeError, ValueError)
#: The name of the threads that upload exports (a test waits for them by it).
EXPORT_THREAD = "coach-export"
#: How long an "Add to Slack" click has to come back from Slack (seconds).
OAUTH_STATE_SECONDS = 600
#: Inbox deliveries that make no turn: a file alone, an edit, a deletion.
NO_TURN_KINDS = ("note", "edited", "deleted")


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
            token=None if settings.distributed else settings.bot_token,
            base_url=settings.api_url or WebClient.BASE_URL,
        )
        # Every call gets bounded retries (429 after its Retry-After, 5xx and network errors
        # with growing waits) and is then given up on with one log line: see web.py.
        self.web = WebCalls(self.client, backoff=settings.retry_backoff)
        self.removals = Removals(engine.store, engine.clock, settings.erase_after_days)
        oauth: dict[str, Any] = {}
        self.tokens: Tokens = Tokens(self.client)
        if settings.distributed:
            self.tokens, oauth = self._distributed(settings)
        self.names = SlackNames(self.web, self.tokens.client_for, engine.knows_name, engine.store)
        # Messages are tried once where they are made; what Slack can't take now waits in
        # the courier's outbox for the follow-up loop, never in a turn's thread.
        # It is kept in the store, so a restart still sends what was owed.
        self.courier = Courier(
            self.web,
            self.tokens.client_for,
            engine.clock,
            engine.store,
            write_note=self._where_we_are,
            on_unreached=self._unreached,
        )
        self.locks = UserLocks()
        #: Waiting deliveries whose user has been told their answer is delayed.
        self._told: set[int] = set()
        self._told_lock = threading.Lock()
        # Our own pool for the turns that run after each ack, so shutdown can drain it.
        self.turns = ThreadPoolExecutor(max_workers=8, thread_name_prefix="coach-turn")
        self.app = App(
            signing_secret=settings.signing_secret or "socket-mode-has-no-signing-secret",
            client=self.client,
            token_verification_enabled=False,
            process_before_response=process_before_response,
            request_verification_enabled=settings.signing_secret is not None,
            logger=logging.getLogger(BOLT_LOGGER),
            listener_executor=self.turns,
            **oauth,
        )
        self._register()

    def _distributed(self, settings: SlackSettings) -> tuple[InstalledTokens, dict[str, Any]]:
        """Bolt's OAuth flow ("Add to Slack" at /slack/install, Slack's answer at
        /slack/oauth_redirect), with its state store and slack_sdk's installation store in the
        coach's database file; requests are authorised from the stored tokens."""
        assert settings.client_id and settings.client_secret
        database = self.engine.store.path
        bolt_log = logging.getLogger(BOLT_LOGGER)
        if not any(isinstance(f, HideOAuthCodes) for f in bolt_log.filters):
            bolt_log.addFilter(HideOAuthCodes())
        installs = CoachInstallationStore(
            database=database, client_id=settings.client_id, on_install=self.removals.back
        )
        tokens = InstalledTokens(
            self.client,
            installs,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            rotate_before_minutes=settings.rotate_before_minutes,
        )
        states = CoachOAuthStateStore(
            database=database, expiration_seconds=OAUTH_STATE_SECONDS, clock=self.engine.clock
        )
        installs.init()  # their tables, now: a database that cannot take them fails at start
        states.init()
        states.delete_expired()  # clicks never finished, from before this start
        oauth = OAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=list(BOT_SCOPES),
            redirect_uri=settings.redirect_uri,
            installation_store=installs,
            state_store=states,
            token_rotation_expiration_minutes=settings.rotate_before_minutes,
        )
        return tokens, {"oauth_settings": oauth, "authorize": StoredAuthorize(tokens)}

    def drain(self) -> None:
        """Finish every acknowledged turn before the process exits: Slack will not resend
        an event it got a 200 for, so a deploy must not drop the queue."""
        self.turns.shutdown(wait=True)

    # -- helpers ---------------------------------------------------------------------

    def today(self, key: str | None = None) -> dt.date:
        """Today where the person is (their Slack time zone), or in UTC if unknown."""
        return local_date(self.engine.clock(), self.zone(key))

    def zone(self, key: str | None) -> dt.tzinfo | None:
        return self.names.zone(key, slack_user_of(key)) if key else None

    def now(self) -> str:
        return self.engine.clock().isoformat()

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

    def deliver_held(self) -> int:
        """Send what waits in the outbox and is due (the follow-up loop's work)."""
        return self.courier.deliver_due()

    def _unreached(self, key: str, channel: str) -> None:
        """Replies to a person were given up on: the Home tab says so now, and one note with
        where the conversation is goes to the DM when Slack takes messages again."""
        self.publish_home(key)
        try:
            self.courier.hold_note(key, channel, self.engine.clock() + NOTE_AFTER)
        except StorageError as exc:
            log.warning("note to an unreached person not kept: %s", type(exc).__name__)

    def _where_we_are(self, key: str, channel: str) -> list[dict[str, Any]]:
        reply = self.engine.show_current(key, texts.UNREACHED)
        if reply.failed:
            return [{"channel": channel, "text": texts.UNREACHED}]
        return [
            {"channel": channel, **payload}
            for payload in blocks.reply_messages(reply, self.today(key))
        ]

    def _turn(self, key: str, message: UserInput) -> Reply:
        """One turn of a Slack user: the coach never asks their name (Slack's display name
        is looked up once instead)."""
        name = self.names.lookup(key, slack_user_of(key))
        zone = self.zone(key)
        reply = self.engine.handle(
            key, message, channel=CHANNEL, name=name, ask_name=False, zone=zone
        )
        self.names.keep(key)
        return reply

    def receive(self, body: dict[str, Any], context: Any) -> BoltResponse | None:
        """Keep a turn-making request in the inbox before it is acknowledged.

        Returns a response to send instead of going on: 503 when it could not be kept (so
        Slack retries, and nothing is acknowledged that is not safe), or an empty 200 for a
        delivery received before (a retry: no second turn, no second reply).
        """
        if body.get("type") == "event_callback" and not is_removal(body):
            self.removals.back(workspace_of(body))  # a workspace that removed us is back (no read)
        found = inbound(body, self.engine.settings.max_chars)
        if found is None:
            return None
        key, delivery, kind, payload = found
        try:
            fresh = self.engine.store.receive(
                delivery, key, kind, payload, self.engine.clock().isoformat()
            )
        except StorageError as exc:
            log.error("delivery not kept, refused for a retry: %s", exc)
            return BoltResponse(status=503, body="try again shortly")
        if not fresh:
            return BoltResponse(status=200, body="")
        context["inbox_user"] = key
        return None

    def run_waiting(self, key: str) -> None:
        """Run every delivery waiting for this user, oldest first, one turn at a time.

        Whichever thread holds the user's lock runs them all; a thread that finds nothing
        waiting (another one got there first) does nothing. A turn that could not be saved
        stays waiting, to be tried again.
        """
        with self.locks.hold(key), self.web.hurried():
            for entry in self.engine.store.pending(key):
                if not self._run_entry(entry):
                    break

    def run_stranded(self, *, everything: bool = False) -> int:
        """Run deliveries left waiting: after a crash (at start, `everything`), or whose
        turn failed before. Returns how many users had some."""
        before = None if everything else (self.engine.clock() - STRANDED_AFTER).isoformat()
        users = self.engine.store.users_with_pending(before)
        for key in users:
            try:
                self.run_waiting(key)
            except Exception as exc:  # one user's trouble must not hold up everyone else's
                log.error("waiting messages of one user not run: %s", type(exc).__name__)
        return len(users)

    def _run_entry(self, entry: InboxEntry) -> bool:
        """One waiting delivery's turn and reply; False if it has to wait for another try."""
        payload = entry.payload
        channel = str(payload.get("channel") or slack_user_of(entry.user_id))
        thread = payload.get("thread_ts")
        if entry.kind in NO_TURN_KINDS:
            self._run_no_turn(entry, channel, thread)
            return True
        if entry.turned_at is not None:
            # Its turn was saved, but the process stopped before its reply was known to be
            # out: show where the conversation is now rather than leave the user waiting.
            where = self.engine.show_current(entry.user_id, texts.INTERRUPTED)
            if where.failed:
                return False  # the store can't be read just now: the next pass tries again
            self.post_reply(channel, where, thread, key=entry.user_id)
            self.engine.store.delivered(entry.id)
            return True
        handle = payload.get("message_ref")
        before = self.engine.store.last_user_seq(entry.user_id) if handle else 0
        reply = self._turn(
            entry.user_id,
            UserInput(
                str(payload.get("text") or ""),
                ref=payload.get("ref"),
                delivery_id=entry.delivery_id,
            ),
        )
        if reply.failed:
            return self._turn_failed(entry, reply, channel)
        link = None
        if handle and not reply.duplicate:
            # Which line of the transcript this DM became, for a deletion to find it later:
            # noted in the commit that lets the inbox entry go (no commit of its own).
            after = self.engine.store.last_user_seq(entry.user_id)
            link = (entry.delivery_id, str(handle), after if after > before else None)
        with self._told_lock:
            self._told.discard(entry.id)
        if not reply.duplicate:
            if payload.get("files") and not reply.failed:
                reply = replace(
                    reply, messages=(BotMessage(texts.FILES_SET_ASIDE), *reply.messages)
                )
            if entry.kind == "answer":
                self._show_answer(entry, reply, channel)
            else:
                self.post_reply(channel, reply, thread, key=entry.user_id)
        self.engine.store.delivered(entry.id, link)
        return True

    def _run_no_turn(self, entry: InboxEntry, channel: str, thread: str | None) -> None:
        """A delivery that makes no turn: a file alone (a note saying only text is read), an
        edit of a message the coach answered (a note that edits are not re-read), or a
        deletion (the words leave the transcript, silently, as they left Slack).

        Marked as seen in the same transaction as what it changes, so Slack's retries of it
        change and say nothing more."""
        store = self.engine.store
        ref = str(entry.payload.get("message_ref") or "")
        line = store.delivered_line(ref) if ref else None
        ours = line is not None and line[0] == entry.user_id
        if entry.turned_at is None and (entry.kind == "note" or store.knows_user(entry.user_id)):
            erased = False
            with store.transaction():
                store.ensure_user(entry.user_id, CHANNEL, None, self.now())
                store.mark_delivery(entry.delivery_id, entry.user_id, self.now())
                if entry.kind == "deleted" and ours and line is not None and line[1]:
                    erased = store.delete_line(entry.user_id, line[1], self.now())
            if erased:
                store.scrub()  # the words leave the write-ahead log too
        if entry.kind == "note":
            self.post_text(entry.user_id, channel, texts.FILES_ONLY, thread)
        elif entry.kind == "edited" and ours:
            self.post_text(entry.user_id, channel, texts.EDIT_NOT_REREAD, thread)
        store.delivered(entry.id)

    def _turn_failed(self, entry: InboxEntry, reply: Reply, channel: str) -> bool:
        """Keep the delivery for another try, telling the user once; after MAX_ATTEMPTS,
        give it up and say so. A store too locked to count the try is tried again later."""
        try:
            self.engine.store.count_attempt(entry.id)
            if entry.attempts + 1 >= MAX_ATTEMPTS:
                self.engine.store.delivered(entry.id)
                with self._told_lock:
                    self._told.discard(entry.id)
                # what went wrong, and to send it again
                self.post_reply(channel, reply, entry.payload.get("thread_ts"), key=entry.user_id)
                return True
        except StorageError as exc:
            log.warning("delivery left waiting: %s", exc)
        with self._told_lock:
            told = entry.attempts > 0 or entry.id in self._told
            self._told.add(entry.id)  # a store too locked to count the try still says once
        if not told:
            self.post_text(entry.user_id, channel, texts.DELAYED, entry.payload.get("thread_ts"))
        return False

    def _show_answer(self, entry: InboxEntry, reply: Reply, channel: str) -> None:
        payload = entry.payload
        user = str(payload.get("user") or slack_user_of(entry.user_id))
        if reply.stale:
            note = reply.messages[0].text if reply.messages else texts.STALE
            self._ephemeral_to(entry.user_id, channel, user, note)
            return
        message = payload.get("message")
        if message and not reply.refused:
            self.web.attempt(
                "chat.update",
                lambda: self.tokens.client_for(entry.user_id).chat_update(
                    channel=channel,
                    ts=message["ts"],
                    text=message.get("text") or blocks.escape(str(payload.get("chosen") or "")),
                    blocks=blocks.answered_blocks(message["blocks"], str(payload.get("chosen"))),
                ),
            )
        self.post_reply(channel, reply, payload.get("thread_ts"), key=entry.user_id)

    # -- listeners ---------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app

        @app.use
        def keep_before_ack(body: dict[str, Any], context: Any, next: Any) -> Any:
            refused = self.receive(body, context)
            return refused if refused is not None else next()

        @app.event("message")
        def on_message(
            event: dict[str, Any], body: dict[str, Any], context: Any, request: BoltRequest
        ) -> None:
            key = context.get("inbox_user")
            if key is not None:  # a DM, or a person's edit or deletion of one
                self.run_waiting(key)
                return
            if not is_dm_message(event) or request.headers.get("x-slack-retry-num"):
                return  # a refusal is posted once: not again for each of Slack's retries
            # Not kept (too long to be a turn): refused, and nothing is stored.
            key = user_key(workspace_of(body), event["user"])
            with self.locks.hold(key), self.web.hurried():
                reply = self._turn(key, UserInput(typed_text(str(event.get("text") or ""))))
            to = where(event)
            self.post_reply(to["channel"], reply, to.get("thread_ts"), key=key)

        @app.action(ANSWER_ACTIONS)
        def on_answer(ack: Any, body: dict[str, Any], context: Any) -> None:
            ack()
            key = context.get("inbox_user")
            if key is None:
                self._ephemeral(body, texts.UNKNOWN_BUTTON)
                return
            self.run_waiting(key)

        @app.action(STEP_ACTIONS)
        def on_step_outcome(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            user = person_of(body)
            outcome = blocks.STEP_ACTIONS.get(str(action.get("action_id")))
            if user is None or outcome is None:
                return
            key = user_key(workspace_of(body), user)
            try:
                step_id = int(action.get("value", ""))
            except ValueError:
                return
            self.engine.record_step_outcome(key, step_id, outcome, zone=self.zone(key))
            self.publish_home(key)

        @app.action(blocks.START_ACTION)
        @app.action(blocks.HISTORY_ACTION)
        @app.action(blocks.SHOW_ACTION)
        def on_start(ack: Any, context: Any) -> None:
            ack()
            if context.get("inbox_user"):
                self.run_waiting(context["inbox_user"])

        @app.action(blocks.FORGET_ACTION)
        def on_forget(ack: Any, body: dict[str, Any], respond: Any) -> None:
            ack()
            user = person_of(body)
            if user is None:
                return
            key = user_key(workspace_of(body), user)
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
        def on_command(ack: Any, command: dict[str, Any], context: Any, respond: Any) -> None:
            self._command(ack, respond, command, context.get("inbox_user"))

        @app.event("app_home_opened")
        def on_home(event: dict[str, Any], body: dict[str, Any]) -> None:
            if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
                return
            self.publish_home(user_key(workspace_of(body), event["user"]))

        @app.event("app_uninstalled")
        def on_uninstalled(body: dict[str, Any]) -> None:
            self.removed(workspace_of(body), "app_uninstalled")

        @app.event("team_access_revoked")
        def on_team_access_revoked(event: dict[str, Any]) -> None:
            # Enterprise Grid: an org admin took workspaces away from the org's app.
            for team in teams_named(event):
                self.removed(team, "team_access_revoked")

        @app.event("tokens_revoked")
        def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
            # Only the bot token matters: the coach holds no person's token.
            if (event.get("tokens") or {}).get("bot"):
                self.removed(workspace_of(body), "tokens_revoked")

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

    def _ephemeral(self, body: dict[str, Any], text: str) -> None:
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or user
        if user and channel:
            self._ephemeral_to(user_key(workspace_of(body), user), channel, user, text)

    def _ephemeral_to(self, key: str, channel: str, user: str, text: str) -> None:
        self.web.attempt(
            "chat.postEphemeral",
            lambda: self.tokens.client_for(key).chat_postEphemeral(
                channel=channel, user=user, text=text
            ),
        )

    def _command(self, ack: Any, respond: Any, command: dict[str, Any], kept: str | None) -> None:
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
                    reply = self._turn(key, UserInput(said))
                self.post_reply(user, reply, key=key)
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
                store.ensure_user(key, CHANNEL, None, self.now())
                store.mark_delivery(delivery, key, self.now())
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
            self.post_text(key, user, texts.EXPORT_FAILED)

    def _dm_of(self, key: str) -> str:
        """The app's DM with a user (files go to a conversation id, not a user id)."""
        opened = self.tokens.client_for(key).conversations_open(users=slack_user_of(key))
        return str(opened["channel"]["id"])

    def publish_home(self, key: str) -> None:
        """Publish the person's Home tab (tried once: they can open it again)."""
        notice = texts.UNREACHED_HOME if key in self.courier.unreached else None
        view = blocks.home_view(self.engine.overview(key), self.today(key), notice)
        with self.web.hurried():
            self.web.attempt(
                "views.publish",
                lambda: self.tokens.client_for(key).views_publish(
                    user_id=slack_user_of(key), view=view
                ),
            )

    # -- follow-ups ----------------------------------------------------------------------

    def push_due_checkins(self) -> int:
        """Send each user whose next step is due a check-in DM; returns how many were sent."""
        sent = 0
        now = self.engine.clock()
        # A step due "today" somewhere east of UTC may be due before UTC's today: ask for
        # those due by tomorrow, and let each person's own date decide (in the engine).
        latest = (now.date() + dt.timedelta(days=1)).isoformat()
        for key in self.engine.store.users_due_for_reminder(latest, CHANNEL):
            if self.removals.is_removed(key):
                continue  # their workspace removed the coach: no token to send with
            zone = self.zone(key)
            if not self.settings.checkin_hours.allows(now, zone):
                continue  # not during their working hours: a later pass sends it
            reply = self.engine.push_due_checkin(key, channel=CHANNEL, zone=zone)
            if reply is not None and reply.messages:
                self.post_reply(slack_user_of(key), reply, key=key)
                sent += 1
        return sent

    def removed(self, workspace: str | None, why: str) -> None:
        """A workspace removed the coach: its installation and tokens are deleted now (and
        scrubbed from the write-ahead log), its check-ins stop, its people's data is erased
        after the grace period."""
        if self.tokens.removed(workspace):
            try:
                self.engine.store.scrub()
            except StorageError as exc:
                log.warning("removed tokens not scrubbed yet: %s", type(exc).__name__)
        self.removals.removed(workspace, why)

    def erase_removed_workspaces(self) -> int:
        """Erase the people of workspaces that removed the coach and did not come back within
        the grace period; returns how many people were erased."""
        return self.removals.erase_due(self.engine.forget)
