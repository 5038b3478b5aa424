"""The review web app: Flask with Jinja2 (autoescaped), sessions in a signed cookie with an
expiry (itsdangerous, through Flask), CSRF tokens on every form (Flask-WTF), security
headers on every response, and a short plain page for every error (never a stack trace)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from bot.loader import Catalog
from bot.review import access, admin, annotate, auth, views  # noqa: F401 (annotate: its routes)
from bot.review.rubric import load_rubric
from storage.store import Store

SESSION_HOURS = 8.0
#: No script at all: the pages work without JavaScript.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    store: Store,
    catalog: Catalog,
    *,
    rubric: tuple[str, ...] | None = None,
    secret: str | None = None,
    session_hours: float = SESSION_HOURS,
    clock: Callable[[], dt.datetime] = _utc_now,
) -> Flask:
    """The app over one store. `coach review` passes the key kept beside the store
    (`server.session_key`); without one a new key is made, good for this app only."""
    app = Flask(__name__)
    app.config.update(
        STORE=store,
        CATALOG=catalog,
        RUBRIC=rubric if rubric is not None else load_rubric(),
        CLOCK=clock,
        SECRET_KEY=secret or secrets.token_hex(32),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=session_hours),
        SESSION_COOKIE_NAME="coach_review",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # as long as the session it is kept in
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_PARTS=100,
    )
    # The access check first: nothing else runs for a request it refuses.
    app.before_request(access.require_coach)
    CSRFProtect(app)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(admin.blueprint)

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        return render_template(
            "error.html",
            code=400,
            message="The form had expired or was not this page's: go back, reload and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException) -> tuple[str, int]:
        code = error.code or 400
        message = error.description if code == 400 else error.name
        return render_template("error.html", code=code, message=message), code

    return app
