"""The coach's pages: the inbox (filters, search), one conversation, notes, the reviewed
flag, tags, and the exports. Each reads conversations only through `access.visible()`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from bot.loader import Catalog
from bot.review import access
from bot.review.exports import conversation_markdown, inbox_csv
from bot.review.reading import by_turn, conversation_view
from storage.review import HIT_END, HIT_START, InboxFilter, InboxRow, SearchError, SearchHit

blueprint = Blueprint("review", __name__)

MAX_NOTE = 5000
MAX_QUERY = 200
SNIPPETS_EACH = 3


def _catalog() -> Catalog:
    found: Catalog = current_app.config["CATALOG"]
    return found


def _rubric() -> tuple[str, ...]:
    found: tuple[str, ...] = current_app.config["RUBRIC"]
    return found


def _date(args: Mapping[str, str], key: str) -> str | None:
    raw = args.get(key, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        abort(400, f"{key} must be a date like 2026-12-01")


def parse_filter(args: Mapping[str, str]) -> tuple[InboxFilter, str]:
    """The inbox's filters and search words from a query string; 400 on anything unreadable."""
    reviewed_raw = args.get("reviewed", "")
    if reviewed_raw not in ("", "yes", "no"):
        abort(400, "reviewed must be yes or no")
    tag = args.get("tag", "") or None
    if tag is not None and tag not in _rubric():
        abort(400, "no such tag")
    limit_raw = args.get("limit", "100")
    if not limit_raw.isdecimal() or not 1 <= int(limit_raw) <= 1000:
        abort(400, "limit must be a number from 1 to 1000")
    query = args.get("q", "").strip()
    if len(query) > MAX_QUERY:
        abort(400, "the search is too long")
    dialogue = args.get("dialogue", "").strip()[:100] or None
    wanted = InboxFilter(
        dialogue=dialogue,
        reviewed=None if not reviewed_raw else reviewed_raw == "yes",
        tag=tag,
        since=_date(args, "since"),
        until=_date(args, "until"),
        limit=int(limit_raw),
    )
    return wanted, query


def marked(snippet: str) -> Markup:
    """A search snippet, escaped, with its hits in <mark> (what was said never opens a tag)."""
    text = str(escape(snippet))
    return Markup(text.replace(HIT_START, "<mark>").replace(HIT_END, "</mark>"))


def _listed(args: Mapping[str, str]) -> tuple[list[InboxRow], dict[int, list[SearchHit]], str]:
    wanted, query = parse_filter(args)
    ids = set(access.visible())
    hits: dict[int, list[SearchHit]] = {}
    if query:
        try:
            found = access.store().search(ids, query)
        except SearchError:
            abort(400, "that search could not be read")
        for hit in found:
            hits.setdefault(hit.conversation_id, []).append(hit)
        ids &= set(hits)
    today = access.now().date().isoformat()
    rows = access.store().inbox(access.coach().id, ids, wanted, today)
    return rows, hits, query


@blueprint.route("/")
def inbox() -> str:
    rows, hits, query = _listed(request.args)
    return render_template(
        "inbox.html",
        rows=rows,
        hits={cid: found[:SNIPPETS_EACH] for cid, found in hits.items()},
        query=query,
        args=request.args,
        dialogues=access.store().dialogues_among(access.visible()),
        rubric=_rubric(),
        marked=marked,
    )


@blueprint.route("/inbox.csv")
def inbox_export() -> Response:
    rows, _, _ = _listed(request.args)
    return Response(
        inbox_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="inbox.csv"'},
    )


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdecimal() or len(raw) > 6:
        abort(400, "page must be a number")
    return int(raw)


@blueprint.route("/c/<int:conversation_id>")
def conversation(conversation_id: int) -> str:
    shared = access.shared_or_404(conversation_id)
    view = conversation_view(access.store(), _catalog(), shared, access.coach().id, page=_page())
    if view is None:
        abort(404)
    return render_template("conversation.html", view=view, rubric=_rubric())


@blueprint.route("/c/<int:conversation_id>/export.md")
def conversation_export(conversation_id: int) -> Response:
    shared = access.shared_or_404(conversation_id)
    store = access.store()
    view = conversation_view(store, _catalog(), shared, access.coach().id)
    if view is None:
        abort(404)
    lines = store.transcript(conversation_id, offset=0, limit=-1)
    text = conversation_markdown(view, by_turn(lines, view.safety))
    return Response(
        text,
        mimetype="text/markdown",
        headers={
            "Content-Disposition": f'attachment; filename="conversation-{conversation_id}.md"'
        },
    )


def _back(conversation_id: int) -> Response:
    return redirect(url_for("review.conversation", conversation_id=conversation_id), code=303)


@blueprint.route("/c/<int:conversation_id>/notes", methods=["POST"])
def add_note(conversation_id: int) -> Response:
    access.shared_or_404(conversation_id)
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_NOTE:
        abort(400, f"a note is 1 to {MAX_NOTE} characters")
    store = access.store()
    with store.transaction():
        store.add_note(access.coach().id, conversation_id, text, access.now().isoformat())
    return _back(conversation_id)


@blueprint.route("/c/<int:conversation_id>/reviewed", methods=["POST"])
def set_reviewed(conversation_id: int) -> Response:
    access.shared_or_404(conversation_id)
    value = request.form.get("reviewed", "")
    if value not in ("yes", "no"):
        abort(400, "reviewed must be yes or no")
    store = access.store()
    with store.transaction():
        store.set_reviewed(
            access.coach().id, conversation_id, value == "yes", access.now().isoformat()
        )
    return _back(conversation_id)


@blueprint.route("/c/<int:conversation_id>/tags", methods=["POST"])
def set_tags(conversation_id: int) -> Response:
    access.shared_or_404(conversation_id)
    tags = request.form.getlist("tag")
    rubric = _rubric()
    if any(t not in rubric for t in tags):
        abort(400, "no such tag")
    chosen = [t for t in rubric if t in tags]
    store = access.store()
    with store.transaction():
        store.set_tags(access.coach().id, conversation_id, chosen, access.now().isoformat())
    return _back(conversation_id)
