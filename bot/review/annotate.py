"""What a coach writes about a shared conversation: private notes (on it or on one message),
the reviewed and saved-for-later marks, rubric tags and flagged messages; and the page of a
coach's notes, for one coachee or all.
Every route goes through `access.shared_or_404` or reads only `access.visible()`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.review import access
from bot.review.views import rubric_tags
from bot.review.web import abort, form_fields, redirect, render, url_for

MAX_NOTE = 5000


def _back(request: Request, conversation_id: int, at: int | None = None) -> Response:
    url = url_for(request, "review.conversation", conversation_id=conversation_id, at=at)
    return redirect(url + (f"#m-{at}" if at is not None else ""))


def _yes_no(form: Mapping[str, str], key: str) -> bool:
    value = form.get(key, "")
    if value not in ("yes", "no"):
        abort(400, f"{key} must be yes or no")
    return value == "yes"


def _seq(form: Mapping[str, str], required: bool) -> int | None:
    """The message a form is about (its `seq`); 400 when it is not a number."""
    raw = form.get("seq", "")
    if not raw and not required:
        return None
    if not raw.isdecimal() or len(raw) > 9:
        abort(400, "seq must be a message's number")
    return int(raw)


def _shared_id(request: Request) -> int:
    """The conversation in the URL, if it is shared with this coach now (404 otherwise)."""
    conversation_id: int = request.path_params["conversation_id"]
    access.shared_or_404(request, conversation_id)
    return conversation_id


async def add_note(request: Request) -> Response:
    """A note on the conversation, or with `seq` on one of its messages (404 for a message
    that is not in it, like a conversation that is not shared)."""
    conversation_id = _shared_id(request)
    form = await form_fields(request)
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_NOTE:
        abort(400, f"a note is 1 to {MAX_NOTE} characters")
    seq = _seq(form, required=False)
    store = access.store(request)
    with store.transaction():
        if not store.add_note(
            access.coach(request).id, conversation_id, text, access.now(request).isoformat(), seq
        ):
            abort(404)
    return _back(request, conversation_id, seq)


async def set_flag(request: Request) -> Response:
    """Flag or unflag one message (404 for a message that is not in the conversation)."""
    conversation_id = _shared_id(request)
    form = await form_fields(request)
    seq, flagged = _seq(form, required=True), _yes_no(form, "flagged")
    assert seq is not None
    store = access.store(request)
    with store.transaction():
        if not store.set_flag(
            access.coach(request).id, conversation_id, seq, flagged,
            access.now(request).isoformat(),
        ):  # fmt: skip
            abort(404)
    return _back(request, conversation_id, seq)


async def set_reviewed(request: Request) -> Response:
    return await _mark(request, "reviewed")


async def set_later(request: Request) -> Response:
    return await _mark(request, "later")


async def _mark(request: Request, key: str) -> Response:
    """Set or clear the coach's `reviewed` or `later` mark on the conversation."""
    conversation_id = _shared_id(request)
    value = _yes_no(await form_fields(request), key)
    store = access.store(request)
    setter = store.set_reviewed if key == "reviewed" else store.set_later
    with store.transaction():
        setter(access.coach(request).id, conversation_id, value, access.now(request).isoformat())
    return _back(request, conversation_id)


async def set_tags(request: Request) -> Response:
    conversation_id = _shared_id(request)
    tags = (await form_fields(request)).getlist("tag")
    rubric = rubric_tags(request)
    if any(t not in rubric for t in tags):
        abort(400, "no such tag")
    chosen = [t for t in rubric if t in tags]
    store = access.store(request)
    with store.transaction():
        store.set_tags(
            access.coach(request).id, conversation_id, chosen, access.now(request).isoformat()
        )
    return _back(request, conversation_id)


async def notes(request: Request) -> Response:
    """Every note of the coach's on what is shared with them now; `?coachee=ID` for one
    coachee (404 for one who shares nothing with this coach, like one who does not exist)."""
    shown = access.visible(request)
    coachee = request.query_params.get("coachee") or None
    if coachee is not None and coachee not in {c.user_id for c in shown.values()}:
        abort(404)
    store = access.store(request)
    found = store.notes_among(access.coach(request).id, shown, coachee)
    coachees = store.coachees_among(shown)
    return render(request, "notes.html", notes=found, coachee=coachee, coachees=coachees)


def _post(path: str, endpoint: Callable[[Request], Awaitable[Response]], name: str) -> Route:
    return Route(path, endpoint, methods=["POST"], name=f"review.{name}")


routes = [
    _post("/c/{conversation_id:int}/notes", add_note, "add_note"),
    _post("/c/{conversation_id:int}/flags", set_flag, "set_flag"),
    _post("/c/{conversation_id:int}/reviewed", set_reviewed, "set_reviewed"),
    _post("/c/{conversation_id:int}/later", set_later, "set_later"),
    _post("/c/{conversation_id:int}/tags", set_tags, "set_tags"),
    Route("/notes", notes, name="review.notes"),
]
