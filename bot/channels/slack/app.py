"""The Slack channel: a Bolt app whose listeners translate Slack to the engine and back.

`SlackCoach` puts the parts together and is what the server and the tests drive:
- deliveries.py: each DM, answer click and "start" request kept in the store's inbox
  before it is acknowledged, and its turn run after, one person at a time, oldest first;
- talk.py: a turn made for a Slack person, and its replies posted in order (outbox.py);
- commands.py: `/coach …`; home.py: the Home tab; checkins.py: due check-ins;
- removals.py: workspaces that removed the coach; listeners.py: the Bolt listeners.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.channels.slack import listeners
from bot.channels.slack.checkins import CheckIns
from bot.channels.slack.commands import EXPORT_THREAD, Commands
from bot.channels.slack.deliveries import Deliveries
from bot.channels.slack.home import HomeTab
from bot.channels.slack.hours import WORKING_HOURS, WorkingHours
from bot.channels.slack.installs import (
    BOT_SCOPES,
    ROTATE_BEFORE_MINUTES,
    CoachInstallationStore,
    HideOAuthCodes,
    InstalledTokens,
    StoredAuthorize,
    Tokens,
)
from bot.channels.slack.listeners import MALFORMED
from bot.channels.slack.names import SlackNames
from bot.channels.slack.ordering import UserLocks
from bot.channels.slack.outbox import NOTE_AFTER, Courier
from bot.channels.slack.removals import ERASE_AFTER_DAYS, Removals
from bot.channels.slack.states import CoachOAuthStateStore
from bot.channels.slack.talk import CHANNEL, Talk
from bot.channels.slack.web import WebCalls
from bot.engine import Engine
from bot.errors import StorageError
from bot.turns import Reply

__all__ = ["CHANNEL", "EXPORT_THREAD", "MALFORMED", "SlackCoach", "SlackSettings"]

log = logging.getLogger("coach.slack")


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


#: How long an "Add to Slack" click has to come back from Slack (seconds).
OAUTH_STATE_SECONDS = 600


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
        self.talk = Talk(engine, self.web, self.tokens, self.names, self.courier)
        self.home = HomeTab(engine, self.talk, self.courier)
        self.deliveries = Deliveries(
            engine, self.web, self.tokens, self.locks, self.removals, self.talk
        )
        self.commands = Commands(
            engine, self.web, self.tokens, self.locks, self.talk, self.deliveries.run_waiting
        )
        self.checkins = CheckIns(engine, settings.checkin_hours, self.removals, self.talk)
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
        listeners.register(self)

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

    # -- what the server's loop and the tests call ---------------------------------------

    def receive(self, body: dict[str, Any], context: Any) -> BoltResponse | None:
        """Keep a turn-making request in the inbox before it is acknowledged (deliveries.py)."""
        return self.deliveries.receive(body, context)

    def run_waiting(self, key: str) -> None:
        """Run every delivery waiting for this user, oldest first, one turn at a time."""
        self.deliveries.run_waiting(key)

    def run_stranded(self, *, everything: bool = False) -> int:
        """Run deliveries left waiting (after a crash, or whose turn failed); how many users."""
        return self.deliveries.run_stranded(everything=everything)

    def post_reply(
        self, channel: str, reply: Reply, thread_ts: str | None = None, *, key: str
    ) -> bool:
        """Post a reply to a person's DM, in order, through the outbox (talk.py)."""
        return self.talk.post_reply(channel, reply, thread_ts, key=key)

    def deliver_held(self) -> int:
        """Send what waits in the outbox and is due (the follow-up loop's work)."""
        return self.courier.deliver_due()

    def publish_home(self, key: str) -> None:
        """Publish the person's Home tab (tried once: they can open it again)."""
        self.home.publish(key)

    def push_due_checkins(self) -> int:
        """Send each user whose next step is due a check-in DM; returns how many were sent."""
        return self.checkins.push_due()

    def _unreached(self, key: str, channel: str) -> None:
        """Replies to a person were given up on: the Home tab says so now, and one note with
        where the conversation is goes to the DM when Slack takes messages again."""
        self.publish_home(key)
        try:
            self.courier.hold_note(key, channel, self.engine.clock() + NOTE_AFTER)
        except StorageError as exc:
            log.warning("note to an unreached person not kept: %s", type(exc).__name__)

    def _where_we_are(self, key: str, channel: str) -> list[dict[str, Any]]:
        return self.talk.where_we_are(key, channel)

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
