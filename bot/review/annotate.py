"""What a coach writes about a shared conversation: private notes (on it or on one message),
the reviewed and saved-for-later marks, rubric tags and flagged messages; and the page of a
coach's notes, for one coachee or all.
Every route goes through `access.shared_or_404` or reads only `access.visible()`."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.review import access
from bot.review.views import blueprint, rubric_tags

MAX_NOTE = 5000


def _back(conversation_id: int, at: int | None = None) -> Response:
    url = url_for("review.conversation", conversation_id=conversation_id, at=at)
    return redirect(url + (f"#m-{at}" if at is not None else ""), code=303)


def _yes_no(key: str) -> bool:
    value = request.form.get(key, "")
    if value not in ("yes", "no"):
        abort(400, f"{key} must be yes or no")
    return value == "yes"


def _seq(required: bool) -> int | None:
    """The message a form is about (its `seq`); 400 when it is not a number."""
    raw = request.form.get("seq", "")
    if not raw and not required:
        return None
    if not raw.isdecimal() or len(raw) > 9:
        abort(400, "seq must be a message's number")
    return int(raw)


@blueprint.route("/c/<int:conversation_id>/notes", methods=["POST"])
def add_note(conversation_id: int) -> Response:
    """A note on the conversation, or with `seq` on one of its messages (404 for a message
    that is not in it, like a conversation that is not shared)."""
    access.shared_or_404(conversation_id)
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_NOTE:
        abort(400, f"a note is 1 to {MAX_NOTE} characters")
    seq = _seq(required=False)
    store = access.store()
    with store.transaction():
        if not store.add_note(
            access.coach().id, conversation_id, text, access.now().isoformat(), seq
        ):
            abort(404)
    return _back(conversation_id, seq)


@blueprint.route("/c/<int:conversation_id>/flags", methods=["POST"])
def set_flag(conversation_id: int) -> Response:
    """Flag or unflag one message (404 for a message that is not in the conversation)."""
    access.shared_or_404(conversation_id)
    seq, flagged = _seq(required=True), _yes_no("flagged")
    assert seq is not None
    store = access.store()
    with store.transaction():
        if not store.set_flag(
            access.coach().id, conversation_id, seq, flagged, access.now().isoformat()
        ):
            abort(404)
    return _back(conversation_id, seq)


@blueprint.route("/c/<int:conversation_id>/reviewed", methods=["POST"])
def set_reviewed(conversation_id: int) -> Response:
    return _mark(conversation_id, "reviewed")


@blueprint.route("/c/<int:conversation_id>/later", methods=["POST"])
def set_later(conversation_id: int) -> Response:
    return _mark(conversation_id, "later")


def _mark(conversation_id: int, key: str) -> Response:
    """Set or clear the coach's `reviewed` or `later` mark on the conversation."""
    access.shared_or_404(conversation_id)
    value = _yes_no(key)
    store = access.store()
    setter = store.set_reviewed if key == "reviewed" else store.set_later
    with store.transaction():
        setter(access.coach().id, conversation_id, value, access.now().isoformat())
    return _back(conversation_id)


@blueprint.route("/c/<int:conversation_id>/tags", methods=["POST"])
def set_tags(conversation_id: int) -> Response:
    access.shared_or_404(conversation_id)
    tags = request.form.getlist("tag")
    rubric = rubric_tags()
    if any(t not in rubric for t in tags):
        abort(400, "no such tag")
    chosen = [t for t in rubric if t in tags]
    store = access.store()
    with store.transaction():
        store.set_tags(access.coach().id, conversation_id, chosen, access.now().isoformat())
    return _back(conversation_id)


@blueprint.route("/notes")
def notes() -> str:
    """Every note of the coach's on what is shared with them now; `?coachee=ID` for one
    coachee (404 for one who shares nothing with this coach, like one who does not exist)."""
    shown = access.visible()
    coachee = request.args.get("coachee") or None
    if coachee is not None and coachee not in {c.user_id for c in shown.values()}:
        abort(404)
    found = access.store().notes_among(access.coach().id, shown, coachee)
    coachees = access.store().coachees_among(shown)
    return render_template("notes.html", notes=found, coachee=coachee, coachees=coachees)
