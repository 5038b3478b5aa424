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

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from bot.review.access import now, signed_in, store

blueprint = Blueprint("auth", __name__)

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


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        if signed_in() is not None:
            return redirect(url_for("review.inbox"), code=303)
        return render_template("login.html")
    token = request.form.get("token", "").strip()[:200]
    keys = [f"addr:{request.remote_addr}"]
    if _too_many(keys):
        return render_template("login.html", error="Too many attempts: wait ten minutes."), 429
    coach = store().coach_for_token(token) if token else None
    if coach is None:
        _failed(keys)
        error = "That token is not a coach's: check it, or ask an admin for a new one."
        return render_template("login.html", error=error), 401
    found = store().coach_signed_in(coach.id)
    session.clear()
    session.permanent = True
    session["coach"] = coach.id
    session["token_set_at"] = found[1] if found else None
    session["login_at"] = now().timestamp()
    return redirect(url_for("review.inbox"), code=303)


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"), code=303)
