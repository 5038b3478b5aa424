"""The coach's pages: the inbox (filters, saved filters, search), one conversation, and the
exports. Each reads conversations only through `access.visible()`; notes, the reviewed flag
and tags are in `annotate`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlencode

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
from bot.review.exports import export_conversation, inbox_csv
from bot.review.reading import PAGE, conversation_view
from storage.review import HIT_END, HIT_START, InboxFilter, InboxRow, SearchError, SearchHit

blueprint = Blueprint("review", __name__)

MAX_QUERY = 200
SNIPPETS_EACH = 3
#: The query-string keys of the inbox a saved filter keeps, in this order.
FILTER_KEYS = ("q", "dialogue", "reviewed", "later", "tag", "since", "until", "limit")
MAX_FILTERS = 50
MAX_FILTER_NAME = 60


def _catalog() -> Catalog:
    found: Catalog = current_app.config["CATALOG"]
    return found


def rubric_tags() -> tuple[str, ...]:
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
    reviewed_raw, later_raw = args.get("reviewed", ""), args.get("later", "")
    for key, raw in (("reviewed", reviewed_raw), ("later", later_raw)):
        if raw not in ("", "yes", "no"):
            abort(400, f"{key} must be yes or no")
    tag = args.get("tag", "") or None
    if tag is not None and tag not in rubric_tags():
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
        later=None if not later_raw else later_raw == "yes",
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
def inbox() -> str | Response:
    if access.coach().role == "admin":  # nothing is shared with an admin: their page
        return redirect(url_for("admin.figures"), code=303)
    rows, hits, query = _listed(request.args)
    return render_template(
        "inbox.html",
        rows=rows,
        hits={cid: found[:SNIPPETS_EACH] for cid, found in hits.items()},
        query=query,
        args=request.args,
        dialogues=access.store().dialogues_among(access.visible()),
        rubric=rubric_tags(),
        marked=marked,
        saved=access.store().saved_filters(access.coach().id),
        filter_keys=FILTER_KEYS,
    )


def canonical_query(args: Mapping[str, str]) -> str:
    """The inbox's filters as a query string (checked by `parse_filter`, 400 otherwise),
    only the keys it reads, empty ones left out: what a saved filter keeps."""
    parse_filter(args)
    return urlencode([(k, args[k].strip()) for k in FILTER_KEYS if args.get(k, "").strip()])


@blueprint.route("/filters", methods=["POST"])
def save_filter() -> Response:
    """Keep the inbox's filters (sent as the form's fields) under a name of the coach's."""
    name = " ".join(request.form.get("name", "").split())
    if not 1 <= len(name) <= MAX_FILTER_NAME:
        abort(400, f"a saved filter's name is 1 to {MAX_FILTER_NAME} characters")
    query = canonical_query(request.form)
    store, coach_id = access.store(), access.coach().id
    with store.transaction():
        kept = {f.name for f in store.saved_filters(coach_id)}
        if name not in kept and len(kept) >= MAX_FILTERS:
            abort(400, f"you can keep {MAX_FILTERS} filters: delete one first")
        store.save_filter(coach_id, name, query, access.now().isoformat())
    return redirect(url_for("review.inbox") + ("?" + query if query else ""), code=303)


@blueprint.route("/filters/<int:filter_id>/delete", methods=["POST"])
def delete_filter(filter_id: int) -> Response:
    store = access.store()
    with store.transaction():
        if not store.delete_filter(access.coach().id, filter_id):
            abort(404)
    return redirect(url_for("review.inbox"), code=303)


@blueprint.route("/inbox.csv")
def inbox_export() -> Response:
    rows, _, _ = _listed(request.args)
    return Response(
        inbox_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="inbox.csv"'},
    )


def number_arg(key: str, default: str | None = None) -> int | None:
    """A whole number from the query string (None when absent); 400 when it is not one."""
    raw = request.args.get(key, default)
    if raw is None or raw == "":
        return None
    if not raw.isdecimal() or len(raw) > 9:
        abort(400, f"{key} must be a number")
    return int(raw)


@blueprint.route("/c/<int:conversation_id>")
def conversation(conversation_id: int) -> str:
    """One conversation; `?at=SEQ` opens the page holding that message, `?note_on=SEQ` too,
    with the note form pinned to it."""
    shared = access.shared_or_404(conversation_id)
    store = access.store()
    page = number_arg("page", "1") or 1
    note_on = number_arg("note_on")
    at = note_on if note_on is not None else number_arg("at")
    if at is not None:
        position = store.message_position(conversation_id, at)
        if position is None:
            abort(404)
        page = position // PAGE + 1
    view = conversation_view(store, _catalog(), shared, access.coach().id, page=page)
    if view is None:
        abort(404)
    return render_template("conversation.html", view=view, rubric=rubric_tags(), note_on=note_on)


def _export(conversation_id: int, kind: str) -> Response:
    """The conversation as a file: `md` or `json`, with the coach's notes marked private."""
    shared = access.shared_or_404(conversation_id)
    text = export_conversation(access.store(), _catalog(), shared, access.coach().id, kind)
    if text is None:
        abort(404)
    return Response(
        text,
        mimetype="application/json" if kind == "json" else "text/markdown",
        headers={
            "Content-Disposition": f'attachment; filename="conversation-{conversation_id}.{kind}"'
        },
    )


@blueprint.route("/c/<int:conversation_id>/export.md")
def conversation_export(conversation_id: int) -> Response:
    return _export(conversation_id, "md")


@blueprint.route("/c/<int:conversation_id>/export.json")
def conversation_export_json(conversation_id: int) -> Response:
    return _export(conversation_id, "json")
