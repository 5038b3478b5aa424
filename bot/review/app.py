"""The review web app: Starlette with Jinja2 (autoescaped), sessions in a signed cookie with an
expiry (Starlette's SessionMiddleware, itsdangerous), CSRF tokens on every form
(Starlette-WTF), security headers on every response, and a short plain page for every error
(never a stack trace). Every route goes through `access.protect`."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_wtf import CSRFError, CSRFProtectMiddleware

from bot.loader import Catalog
from bot.review import access, admin, annotate, auth, views
from bot.review.rubric import load_rubric
from bot.review.web import HERE, render
from storage.store import Store

SESSION_HOURS = 8.0
#: Scripts from this server only (the vendored htmx), no inline script or style; htmx asks
#: this server alone.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: The largest request body read (notes are 5,000 characters): more is refused with 413.
MAX_BODY = 64 * 1024


class Guarded:
    """Outermost: the security headers on every response (errors and static files too), and
    a body past `MAX_BODY` refused with 413, by its declared length before anything reads
    it, or as it is read when it declares none (chunked)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            refused = PlainTextResponse("The request is too large.", status_code=413)
            await refused(scope, receive, self._secured(send))
            return
        await self.app(scope, self._limited(receive), self._secured(send))

    @staticmethod
    def _limited(receive: Receive) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise HTTPException(413)
            return message

        return limited

    @staticmethod
    def _secured(send: Send) -> Send:
        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        return secured


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _csrf_refused(request: Request, error: Exception) -> Response:
    return render(
        request,
        "error.html",
        400,
        code=400,
        message="The form had expired or was not this page's: go back, reload and try again.",
    )


async def _refused(request: Request, error: Exception) -> Response:
    """Any refusal as the error page: a 400 says what was wrong, others only their name."""
    assert isinstance(error, HTTPException)
    code = error.status_code
    message = error.detail if code == 400 else HTTPStatus(code).phrase
    return render(request, "error.html", code, code=code, message=message)


def create_app(
    store: Store,
    catalog: Catalog,
    *,
    rubric: tuple[str, ...] | None = None,
    secret: str | None = None,
    session_hours: float = SESSION_HOURS,
    clock: Callable[[], dt.datetime] = _utc_now,
) -> Starlette:
    """The app over one store. `coach review` passes the key kept beside the store
    (`server.session_key`); without one a new key is made, good for this app only."""
    key = secret or secrets.token_hex(32)
    routes = [
        *auth.routes,
        *views.routes,
        *annotate.routes,
        *admin.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=access.protect(routes),
        middleware=[
            Middleware(Guarded),
            Middleware(
                SessionMiddleware,
                secret_key=key,
                session_cookie="coach_review",
                max_age=round(session_hours * 3600),
                same_site="strict",
            ),
            # The CSRF token lives in the session, as long as it does.
            Middleware(CSRFProtectMiddleware, csrf_secret=key, csrf_time_limit=None),
        ],
        exception_handlers={CSRFError: _csrf_refused, HTTPException: _refused},
    )
    app.state.store = store
    app.state.catalog = catalog
    app.state.rubric = rubric if rubric is not None else load_rubric()
    app.state.clock = clock
    app.state.session_seconds = session_hours * 3600
    return app
