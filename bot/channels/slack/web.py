"""Calls to Slack's Web API that end: a bounded number of tries, then one log line.

slack_sdk retries inside the client (its retry handlers, set here): a network error or a
5xx a few times with growing waits, a 429 after the `Retry-After` it names, up to a few
times and never for longer than `MAX_RETRY_AFTER`. A thread that must not wait (a turn's,
`WebCalls.hurried()`) gets no retry in the client at all: its messages wait in the outbox
instead (`WebCalls.send` says how long Slack asked), and its other calls are given up on.
What still fails is given up on by `WebCalls.attempt`: one log line naming the call and the
kind of failure (never a message's text), and None to the caller, who decides what the
user hears. Errors that no retry can mend (a revoked token, a deleted channel) are never
retried, by slack_sdk, by the outbox or by the coach's inbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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


#: Whether the running thread must not wait for a retry (a turn's: see `WebCalls.hurried`).
_thread = threading.local()


def hurried() -> bool:
    return bool(getattr(_thread, "hurried", False))


class Patient(RetryHandler):
    """A slack_sdk retry handler that retries only in a thread that may wait."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            not hurried()
            and self._may_wait(response)
            and super()._can_retry(state=state, request=request, response=response, error=error)
        )

    def _may_wait(self, response: HttpResponse | None) -> bool:
        """Whether this answer's wait is one to wait out (all are, unless a handler says)."""
        return True


class PatientConnectionRetry(Patient, ConnectionErrorRetryHandler):
    """slack_sdk's network-error retry, except in a thread that must not wait."""


class PatientServerErrorRetry(Patient, ServerErrorRetryHandler):
    """slack_sdk's 5xx retry, except in a thread that must not wait."""


class BoundedRateLimitRetry(Patient, RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, which waits as long as `Retry-After` says, refusing to wait
    longer than `max_wait` seconds: better one log line than a turn thread held a minute."""

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _may_wait(self, response: HttpResponse | None) -> bool:
        return response is not None and retry_after(response) <= self.max_wait


def retry_after(response: HttpResponse) -> float:
    """Seconds Slack asked us to wait (1 when it did not say, as slack_sdk assumes)."""
    return _seconds(response.headers)


def _seconds(headers: Mapping[str, Any]) -> float:
    for name, values in headers.items():
        if name.lower() == "retry-after" and values:
            value = values if isinstance(values, str) else values[0]
            try:
                return max(0.0, float(value))
            except ValueError:
                return 1.0
    return 1.0


def retry_handlers(backoff: float = 0.5) -> list[RetryHandler]:
    """The retries every Web API call gets: bounded, with growing waits between them."""
    waits = BackoffRetryIntervalCalculator(backoff_factor=backoff)
    return [
        PatientConnectionRetry(max_retry_count=NETWORK_RETRIES, interval_calculator=waits),
        BoundedRateLimitRetry(RATE_LIMIT_RETRIES, MAX_RETRY_AFTER),
        PatientServerErrorRetry(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=waits),
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


@dataclass(frozen=True)
class Sent(Generic[T]):
    """How one try at a call went: its answer, or how long to wait before the next try
    (`wait`), or neither when it failed for good (already logged)."""

    answer: T | None = None
    wait: float | None = None
    kind: str = ""

    @property
    def ok(self) -> bool:
        return self.answer is not None


class WebCalls:
    """Runs Web API calls for the coach and gives up on them the same way everywhere."""

    def __init__(self, client: WebClient, *, backoff: float = 0.5) -> None:
        self.client = client
        self.backoff = backoff
        client.retry_handlers = retry_handlers(backoff)

    @staticmethod
    @contextmanager
    def hurried() -> Iterator[None]:
        """Calls made inside are tried once, never waited on (a turn's thread serves the
        next person: a 429's wait belongs to the outbox)."""
        before = hurried()
        _thread.hurried = True
        try:
            yield
        finally:
            _thread.hurried = before

    def send(self, what: str, call: Callable[[], T], tries: int = 1) -> Sent[T]:
        """One try at `call()`, never waiting: its answer; or, for passing trouble, how
        long to wait before the `tries + 1`th (Slack's Retry-After, else a growing
        backoff); or a failure for good, logged once here."""
        with self.hurried():
            try:
                return Sent(answer=call())
            except (SlackApiError, SlackClientError, OSError) as exc:
                kind = failure_kind(exc)
                if is_final(exc):
                    log.warning("%s failed (final): %s", what, kind)
                    return Sent(kind=kind)
                if isinstance(exc, SlackApiError) and exc.response.status_code == 429:
                    return Sent(wait=_seconds(exc.response.headers), kind=kind)
                return Sent(wait=self.backoff * 2 ** (tries - 1), kind=kind)

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
