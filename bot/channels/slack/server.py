"""Running the Slack app: settings from the environment, Socket Mode or HTTP under gunicorn,
and the follow-up loop that pushes due check-ins."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.channels.slack.app import MALFORMED, SlackCoach, SlackSettings
from bot.channels.slack.hours import parse_hours
from bot.channels.slack.removals import ERASE_AFTER_DAYS
from bot.errors import ConfigError

log = logging.getLogger("coach.slack")

WHERE_BOT_TOKEN = (
    "copy the Bot User OAuth Token (xoxb-…) from your app's 'OAuth & Permissions' page "
    "(create the app from slack/manifest.yaml first)"
)
WHERE_SIGNING_SECRET = "copy the Signing Secret from your app's 'Basic Information' page"
WHERE_APP_TOKEN = (
    "create an App-Level Token with the connections:write scope on your app's "
    "'Basic Information' page (xapp-…)"
)
TRY_LOCALLY = "To try the coach without Slack, run `coach chat`."
WHERE_CLIENT = "copy the Client ID and Client Secret from your app's 'Basic Information' page"


def check_distributed(
    client_id: str | None,
    client_secret: str | None,
    signing_secret: str | None,
    app_token: str | None,
    bot_token: str,
) -> None:
    """ "Add to Slack" for many workspaces needs both OAuth credentials, HTTP mode (Slack
    sends people back to /slack/oauth_redirect) and no single token to confuse with theirs."""
    if not (client_id and client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set: {WHERE_CLIENT} (both are needed for 'Add to Slack'), or "
            "unset the other to run in one workspace with SLACK_BOT_TOKEN."
        )
    if app_token is not None or signing_secret is None:
        raise ConfigError(
            "'Add to Slack' (SLACK_CLIENT_ID) runs in HTTP mode: set SLACK_SIGNING_SECRET ("
            f"{WHERE_SIGNING_SECRET}) and unset SLACK_APP_TOKEN."
        )
    if bot_token:
        raise ConfigError(
            "Unset SLACK_BOT_TOKEN: with SLACK_CLIENT_ID each workspace gets its own token "
            "when it installs the coach (README, 'Distribute to several workspaces')."
        )


def settings_from_env(env: Mapping[str, str] | None = None) -> SlackSettings:
    """Read and check the Slack settings; a missing or malformed one says where to get it.

    Socket Mode when SLACK_APP_TOKEN is set (no public URL needed); otherwise HTTP mode,
    which needs SLACK_SIGNING_SECRET to verify every request.
    """
    env = os.environ if env is None else env
    bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
    app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
    secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
    client_id = env.get("SLACK_CLIENT_ID", "").strip() or None
    client_secret = env.get("SLACK_CLIENT_SECRET", "").strip() or None
    if client_id or client_secret:
        check_distributed(client_id, client_secret, secret, app_token, bot_token)
        bot_token = ""
    elif not bot_token:
        raise ConfigError(f"SLACK_BOT_TOKEN is not set: {WHERE_BOT_TOKEN}. {TRY_LOCALLY}")
    elif not bot_token.startswith("xoxb-"):
        raise ConfigError(
            f"SLACK_BOT_TOKEN should start with 'xoxb-' (a bot token): {WHERE_BOT_TOKEN}. "
            f"{TRY_LOCALLY}"
        )
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError(
            f"SLACK_APP_TOKEN should start with 'xapp-' (an app-level token): {WHERE_APP_TOKEN}."
            f" {TRY_LOCALLY}"
        )
    if app_token is None and secret is None:
        raise ConfigError(
            "Set SLACK_APP_TOKEN for Socket Mode (" + WHERE_APP_TOKEN + "), or "
            f"SLACK_SIGNING_SECRET for HTTP mode ({WHERE_SIGNING_SECRET}). {TRY_LOCALLY}"
        )
    api_url = env.get("SLACK_API_URL", "").strip() or None
    if api_url and not api_url.endswith("/"):
        api_url += "/"  # the Web API client joins method names onto it
    interval = float(env.get("COACH_FOLLOWUP_SECONDS", "60") or 60)
    erase_days = env.get("COACH_SLACK_ERASE_DAYS", "").strip() or str(ERASE_AFTER_DAYS)
    try:
        erase_after = float(erase_days)
    except ValueError:
        erase_after = -1.0
    if erase_after < 0:
        raise ConfigError(
            f"COACH_SLACK_ERASE_DAYS should be a number of days (0 or more), not {erase_days!r}:"
            " how long a workspace that removed the coach has before its data is erased."
        )
    return SlackSettings(
        bot_token=bot_token or None,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=env.get("SLACK_REDIRECT_URI", "").strip() or None,
        signing_secret=secret,
        app_token=app_token,
        api_url=api_url,
        followup_interval=interval,
        erase_after_days=erase_after,
        checkin_hours=parse_hours(env.get("COACH_CHECKIN_HOURS", "")),
    )


#: How often messages left waiting (a turn that failed) are tried again, at most.
RETRY_WAITING_SECONDS = 5.0
#: The shortest sleep of the follow-up loop (a held message due now).
MIN_TICK = 0.05


class FollowUpLoop(threading.Thread):
    """The coach's own work: messages left waiting, and due check-ins every `interval`.

    On its first pass it runs every message acknowledged before a crash and not yet
    answered; later passes, every few seconds, run those whose turn failed (a locked
    store), so a user told "I'll answer as soon as I can" is not kept a minute. Due times
    live in SQLite, and each push is marked in the same transaction as the check-in it
    starts, so a restart neither loses nor repeats one."""

    def __init__(self, coach: SlackCoach, interval: float) -> None:
        super().__init__(name="coach-followups", daemon=True)
        self.coach = coach
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        first = True
        tick = min(self.interval, RETRY_WAITING_SECONDS)
        next_checkins = time.monotonic()
        while not self.stopped.is_set():
            try:
                self.coach.run_stranded(everything=first)
                first = False
            except Exception as exc:  # the loop must outlive one failure
                log.error("waiting messages not run: %s", type(exc).__name__)
            try:
                self.coach.deliver_held()
            except Exception as exc:
                log.error("held messages not sent: %s", type(exc).__name__)
            if time.monotonic() >= next_checkins:
                next_checkins = time.monotonic() + self.interval
                try:
                    self.coach.push_due_checkins()
                except Exception as exc:
                    log.error("follow-up push failed: %s", type(exc).__name__)
                try:
                    self.coach.erase_removed_workspaces()
                except Exception as exc:
                    log.error("erasing removed workspaces failed: %s", type(exc).__name__)
            self.stopped.wait(self._until_next(tick))

    def _until_next(self, tick: float) -> float:
        """Seconds to sleep: a tick, or less when a held message is due sooner."""
        due = self.coach.courier.next_due()
        if due is None:
            return tick
        seconds = (due - self.coach.engine.clock()).total_seconds()
        return min(tick, max(MIN_TICK, seconds))

    def stop(self) -> None:
        self.stopped.set()


def wsgi_app(coach: SlackCoach) -> Any:
    """Bolt's WSGI adapter, answering 400 (not 500) to a signed body it cannot parse."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_bolt.response import BoltResponse

    class CoachRequestHandler(SlackRequestHandler):
        def dispatch(self, request: Any) -> BoltResponse:
            try:
                return super().dispatch(request)
            except MALFORMED as exc:
                log.warning("malformed request refused: %s", type(exc).__name__)
                return BoltResponse(status=400, body="malformed request")

    return CoachRequestHandler(coach.app)


def run_socket_mode(coach: SlackCoach) -> None:
    """Connect out to Slack over a WebSocket: no public URL needed."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    loop = FollowUpLoop(coach, coach.settings.followup_interval)
    handler = SocketModeHandler(coach.app, coach.settings.app_token)

    def stop(signum: int, frame: Any) -> None:
        # Close the WebSocket properly on SIGTERM (systemd, docker stop), then leave.
        handler.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    loop.start()
    try:
        handler.start()
    finally:
        loop.stop()
        coach.drain()


def run_http(
    make_coach: Callable[[], SlackCoach],
    *,
    host: str,
    port: int,
    threads: int = 8,
) -> None:
    """Serve Slack's requests with Bolt's WSGI adapter under gunicorn: one worker process,
    `threads` threads.

    One process on purpose: the inbox orders each user's deliveries, but the lock that runs
    them one at a time lives in process memory, and the engine keeps live conversations
    there too (the database still makes every delivery exactly-once). The coach is built
    inside the worker, after gunicorn forks.
    """
    from gunicorn.app.base import BaseApplication

    class CoachServer(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": 1,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 30,
                "graceful_timeout": 10,
                "accesslog": None,
                "loglevel": "warning",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            coach = make_coach()
            FollowUpLoop(coach, coach.settings.followup_interval).start()
            # gunicorn calls worker_exit in the worker once requests stop: drain turns there.
            self.cfg.set("worker_exit", lambda server, worker: coach.drain())
            return wsgi_app(coach)

    CoachServer().run()
