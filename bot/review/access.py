"""The one access check: who is signed in, and which conversations they may see *now*.

`require_coach` runs before every request (registered once on the app) and fails closed:
only the endpoints in `PUBLIC` (the login page and the stylesheet) are served to someone not
signed in; `require_admin` guards the admin's figures. `visible()` is the only way a page
learns which conversations it may show: it asks `Store.shared_conversations_for` afresh on
every request, so a share the coachee took back is gone on the coach's next request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from storage.sharing import Coach, SharedConversation
from storage.store import Store

#: The endpoints served without a signed-in coach.
PUBLIC = frozenset({"auth.login", "static"})
#: What a sign-in keeps in the session cookie.
SIGN_IN_KEYS = ("coach", "token_set_at", "login_at")


def store() -> Store:
    found: Store = current_app.config["STORE"]
    return found


def now() -> dt.datetime:
    clock = current_app.config["CLOCK"]
    found: dt.datetime = clock()
    return found


def require_coach() -> Response | None:
    """Before every request: a page other than `PUBLIC` needs a live session of a coach
    who still exists, whose token has not been rotated since, within the session's age."""
    if request.endpoint in PUBLIC:
        return None
    coach = signed_in()
    if coach is None:
        # An expired or outdated sign-in is dropped; the CSRF token of a login form open in
        # another request (the browser's own /favicon.ico, say) is left alone.
        for key in SIGN_IN_KEYS:
            session.pop(key, None)
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("auth.login"), code=303)
        abort(403)
    g.coach = coach
    return None


def signed_in() -> Coach | None:
    coach_id, token_set_at, login_at = (
        session.get("coach"),
        session.get("token_set_at"),
        session.get("login_at"),
    )
    if not isinstance(coach_id, int) or not isinstance(login_at, (int, float)):
        return None
    age = now().timestamp() - login_at
    if not 0 <= age <= current_app.permanent_session_lifetime.total_seconds():
        return None
    found = store().coach_signed_in(coach_id)
    if found is None or found[1] != token_set_at:
        return None
    return found[0]


def coach() -> Coach:
    """The coach `require_coach` let through."""
    found: Coach = g.coach
    return found


def may_see(found: Store, who: Coach) -> dict[int, SharedConversation]:
    """The rule itself, for the pages and `coach transcripts` alike: the conversations this
    coach may see now, by id; none for an admin (the store says the same: nothing is shared
    with an admin)."""
    shared = found.shared_conversations_for(who.id) if who.role == "coach" else []
    return {c.conversation_id: c for c in shared}


def visible() -> dict[int, SharedConversation]:
    """The conversations the signed-in coach may see now (`may_see`, read once a request)."""
    if "visible" not in g:
        g.visible = may_see(store(), coach())
    found: dict[int, SharedConversation] = g.visible
    return found


def shared_or_404(conversation_id: Any) -> SharedConversation:
    """The conversation if it is shared with this coach now; 404 otherwise (the same answer
    as for an id that does not exist, so guessing ids tells nothing)."""
    found = visible().get(conversation_id) if isinstance(conversation_id, int) else None
    if found is None:
        abort(404)
    return found


def require_admin() -> None:
    """The admin page's check: 404 for anyone but an admin, as for a page that is not there."""
    if coach().role != "admin":
        abort(404)
