"""Calls to Slack's Web API that end: a bounded number of tries, then one log line.

slack_sdk retries inside the client (its retry handlers, set here): a network error or a
5xx a few times with growing waits, a 429 after the `Retry-After` it names, up to a few
times and never for longer than `MAX_RETRY_AFTER` (a turn thread is not held for a
minute). What still fails is given up on by `WebCalls.attempt`: one log line naming the
call and the kind of failure (never a message's text), and None to the caller, who decides
what the user hears. Errors that no retry can mend (a revoked token, a deleted channel)
are never retried, by slack_sdk or by the coach's inbox.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

log = logging.getLogger("coach.slack")
T = TypeVar("T")

#: Slack's answers that no retry can mend: the workspace removed the app or the person, or
#: the conversation is gone. Given up on at once.
FINAL_ERRORS = frozenset(
    {
        "token_revoked",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "user_not_found",
    }
)
#: Retries after the first try, for each kind of passing trouble.
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
NETWORK_RETRIES = 2
#: The longest `Retry-After` waited out in a thread; a longer one gives up at once.
MAX_RETRY_AFTER = 10.0


class BoundedRateLimitRetry(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, which waits as long as `Retry-After` says, refusing to wait
    longer than `max_wait` seconds: better one log line than a turn thread held a minute."""

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response) <= self.max_wait


def retry_after(response: HttpResponse) -> float:
    """Seconds Slack asked us to wait (1 when it did not say, as slack_sdk assumes)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return float(values[0])
            except ValueError:
                return 1.0
    return 1.0


def retry_handlers(backoff: float = 0.5) -> list[RetryHandler]:
    """The retries every Web API call gets: bounded, with growing waits between them."""
    waits = BackoffRetryIntervalCalculator(backoff_factor=backoff)
    return [
        ConnectionErrorRetryHandler(max_retry_count=NETWORK_RETRIES, interval_calculator=waits),
        BoundedRateLimitRetry(RATE_LIMIT_RETRIES, MAX_RETRY_AFTER),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=waits),
    ]


def failure_kind(exc: Exception) -> str:
    """What went wrong, in words safe for a log: Slack's error code, an HTTP status, or the
    exception's type (a network error's message can hold a URL, never text we were sent)."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return str(error or f"http_{exc.response.status_code}")
    return type(exc).__name__


class NotInstalled(SlackClientError):
    """The coach has no token for a workspace: never installed there, or removed since.
    Final, like a revoked token."""


def is_final(exc: Exception) -> bool:
    if isinstance(exc, NotInstalled):
        return True
    return isinstance(exc, SlackApiError) and failure_kind(exc) in FINAL_ERRORS


class WebCalls:
    """Runs Web API calls for the coach and gives up on them the same way everywhere."""

    def __init__(self, client: WebClient, *, backoff: float = 0.5) -> None:
        self.client = client
        client.retry_handlers = retry_handlers(backoff)

    def attempt(self, what: str, call: Callable[[], T]) -> T | None:
        """`call()`'s answer, or None once it has failed for good (logged once, here)."""
        started = time.monotonic()
        try:
            return call()
        except (SlackApiError, SlackClientError, OSError) as exc:
            final = "final" if is_final(exc) else "gave up"
            log.warning(
                "%s failed (%s): %s after %.1fs",
                what,
                final,
                failure_kind(exc),
                time.monotonic() - started,
            )
            return None
