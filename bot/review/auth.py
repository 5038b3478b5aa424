"""Logging in with a coach's personal token alone, and out.

The token finds its coach by `token_lookup` and is checked against the stored scrypt hash
in constant time; a token nobody has costs the same hash, so timing tells nothing. Failed
attempts are counted per address (on 127.0.0.1 that is everyone): past `MAX_FAILURES`
within `WINDOW`, login answers 429, even to the right token.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.review.access import now, signed_in, store
from bot.review.web import redirect, render, url_for

MAX_FAILURES = 5
WINDOW = 600.0
_failures: dict[str, deque[float]] = defaultdict(deque)
_failures_lock = threading.Lock()


def _too_many(keys: list[str]) -> bool:
    cutoff = time.monotonic() - WINDOW
    with _failures_lock:
        for key in keys:
            seen = _failures[key]
            while seen and seen[0] < cutoff:
                seen.popleft()
            if len(seen) >= MAX_FAILURES:
                return True
    return False


def _failed(keys: list[str]) -> None:
    with _failures_lock:
        for key in keys:
            _failures[key].append(time.monotonic())


def forget_failures() -> None:
    """For tests: start counting afresh."""
    with _failures_lock:
        _failures.clear()


async def login(request: Request) -> Response:
    if request.method == "GET":
        if signed_in(request) is not None:
            return redirect(url_for(request, "review.inbox"))
        return render(request, "login.html")
    form = await request.form()
    token = str(form.get("token", "")).strip()[:200]
    keys = [f"addr:{request.client.host if request.client else '-'}"]
    if _too_many(keys):
        return render(request, "login.html", 429, error="Too many attempts: wait ten minutes.")
    coach = store(request).coach_for_token(token) if token else None
    if coach is None:
        _failed(keys)
        error = "That token is not a coach's: check it, or ask an admin for a new one."
        return render(request, "login.html", 401, error=error)
    found = store(request).coach_signed_in(coach.id)
    session = request.session
    session.clear()
    session["coach"] = coach.id
    session["token_set_at"] = found[1] if found else None
    session["login_at"] = now(request).timestamp()
    return redirect(url_for(request, "review.inbox"))


async def logout(request: Request) -> Response:
    request.session.clear()
    return redirect(url_for(request, "auth.login"))


routes = [
    Route("/login", login, methods=["GET", "POST"], name="auth.login"),
    Route("/logout", logout, methods=["POST"], name="auth.logout"),
]
