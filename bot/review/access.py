"""The one access check: who is signed in, and which conversations they may see *now*.

`protect` is applied once, by the app, to every route: each endpoint but those in `PUBLIC`
(the login page and the static files) runs behind `require_coach`, which fails closed, and
every endpoint that takes a form behind the CSRF check. `visible()` is the only way a page
learns which conversations it may show: it asks `Store.shared_conversations_for` afresh on
every request, so a share the coachee took back is gone on the coach's next request.
`may_see` is the rule itself, which `coach transcripts` calls too.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette_wtf import csrf_protect

from bot.review.web import Endpoint, abort, redirect, url_for
from storage.sharing import Coach, SharedConversation
from storage.store import Store

#: The routes served without a signed-in coach.
PUBLIC = frozenset({"auth.login", "static"})
#: What a sign-in keeps in the session cookie.
SIGN_IN_KEYS = ("coach", "token_set_at", "login_at")
#: Methods that change something: their endpoints check the form's CSRF token.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def now(request: Request) -> dt.datetime:
    found: dt.datetime = request.app.state.clock()
    return found


def checked(endpoint: Endpoint) -> Endpoint:
    """`endpoint` behind `require_coach`, marked so the route test can tell it is."""

    @functools.wraps(endpoint)
    async def behind_the_check(request: Request) -> Any:
        refused = require_coach(request)
        if refused is not None:
            return refused
        return await endpoint(request)

    behind_the_check.access_checked = True  # type: ignore[attr-defined]
    return behind_the_check


def protect(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Every route with its checks: the access check unless `PUBLIC`, CSRF on any write.
    Mounted apps other than `static` are refused: they could not go through the check."""
    found: list[BaseRoute] = []
    for route in routes:
        name = getattr(route, "name", None)
        if not isinstance(route, Route):
            if name not in PUBLIC:
                raise TypeError(f"{route!r} cannot go through the access check")
            found.append(route)
            continue
        endpoint = route.endpoint
        if (route.methods or set()) & WRITES:
            endpoint = csrf_protect(endpoint)
        if name not in PUBLIC:
            endpoint = checked(endpoint)
        found.append(Route(route.path, endpoint, methods=list(route.methods or ()), name=name))
    return found


def unchecked_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes that would serve someone the check never saw: what the route test
    asserts is none."""
    return [
        route
        for route in routes
        if getattr(route, "name", None) not in PUBLIC
        and not getattr(getattr(route, "endpoint", None), "access_checked", False)
    ]


def require_coach(request: Request) -> Response | None:
    """A page other than `PUBLIC` needs a live session of a coach who still exists, whose
    token has not been rotated since, within the session's age."""
    coach = signed_in(request)
    if coach is None:
        # An expired or outdated sign-in is dropped; the CSRF token of a login form open in
        # another request (the browser's own /favicon.ico, say) is left alone.
        for key in SIGN_IN_KEYS:
            request.session.pop(key, None)
        if request.method in ("GET", "HEAD"):
            return redirect(url_for(request, "auth.login"))
        abort(403)
    request.state.coach = coach
    return None


def signed_in(request: Request) -> Coach | None:
    session = request.session
    coach_id, token_set_at, login_at = (
        session.get("coach"),
        session.get("token_set_at"),
        session.get("login_at"),
    )
    if not isinstance(coach_id, int) or not isinstance(login_at, (int, float)):
        return None
    age = now(request).timestamp() - login_at
    if not 0 <= age <= request.app.state.session_seconds:
        return None
    found = store(request).coach_signed_in(coach_id)
    if found is None or found[1] != token_set_at:
        return None
    return found[0]


def coach(request: Request) -> Coach:
    """The coach `require_coach` let through."""
    found: Coach = request.state.coach
    return found


def may_see(found: Store, who: Coach) -> dict[int, SharedConversation]:
    """The rule itself, for the pages and `coach transcripts` alike: the conversations this
    coach may see now, by id; none for an admin (the store says the same: nothing is shared
    with an admin)."""
    shared = found.shared_conversations_for(who.id) if who.role == "coach" else []
    return {c.conversation_id: c for c in shared}


def visible(request: Request) -> dict[int, SharedConversation]:
    """The conversations the signed-in coach may see now (`may_see`, read once a request)."""
    if not hasattr(request.state, "visible"):
        request.state.visible = may_see(store(request), coach(request))
    found: dict[int, SharedConversation] = request.state.visible
    return found


def shared_or_404(request: Request, conversation_id: Any) -> SharedConversation:
    """The conversation if it is shared with this coach now; 404 otherwise (the same answer
    as for an id that does not exist, so guessing ids tells nothing)."""
    found = visible(request).get(conversation_id) if isinstance(conversation_id, int) else None
    if found is None:
        abort(404)
    return found


def require_admin(request: Request) -> None:
    """The admin page's check: 404 for anyone but an admin, as for a page that is not there."""
    if coach(request).role != "admin":
        abort(404)
