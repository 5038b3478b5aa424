"""The coach's pages: the inbox (filters, saved filters, search), one conversation, and the
exports. Each reads conversations only through `access.visible()`; notes, the reviewed flag
and tags are in `annotate`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.loader import Catalog
from bot.review import access
from bot.review.exports import export_conversation, inbox_csv
from bot.review.reading import PAGE, conversation_view
from bot.review.web import abort, form_fields, redirect, render, url_for
from storage.review import HIT_END, HIT_START, InboxFilter, InboxRow, SearchError, SearchHit

MAX_QUERY = 200
SNIPPETS_EACH = 3
#: The query-string keys of the inbox a saved filter keeps, in this order.
FILTER_KEYS = ("q", "dialogue", "reviewed", "later", "tag", "since", "until", "limit")
MAX_FILTERS = 50
MAX_FILTER_NAME = 60


def _catalog(request: Request) -> Catalog:
    found: Catalog = request.app.state.catalog
    return found


def rubric_tags(request: Request) -> tuple[str, ...]:
    found: tuple[str, ...] = request.app.state.rubric
    return found


def _date(args: Mapping[str, str], key: str) -> str | None:
    raw = args.get(key, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        abort(400, f"{key} must be a date like 2026-12-01")


def parse_filter(request: Request, args: Mapping[str, Any]) -> tuple[InboxFilter, str]:
    """The inbox's filters and search words from a query string; 400 on anything unreadable."""
    reviewed_raw, later_raw = args.get("reviewed", ""), args.get("later", "")
    for key, raw in (("reviewed", reviewed_raw), ("later", later_raw)):
        if raw not in ("", "yes", "no"):
            abort(400, f"{key} must be yes or no")
    tag = args.get("tag", "") or None
    if tag is not None and tag not in rubric_tags(request):
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


def _listed(
    request: Request, args: Mapping[str, str]
) -> tuple[list[InboxRow], dict[int, list[SearchHit]], str]:
    wanted, query = parse_filter(request, args)
    ids = set(access.visible(request))
    hits: dict[int, list[SearchHit]] = {}
    store = access.store(request)
    if query:
        try:
            found = store.search(ids, query)
        except SearchError:
            abort(400, "that search could not be read")
        for hit in found:
            hits.setdefault(hit.conversation_id, []).append(hit)
        ids &= set(hits)
    today = access.now(request).date().isoformat()
    rows = store.inbox(access.coach(request).id, ids, wanted, today)
    return rows, hits, query


async def inbox(request: Request) -> Response:
    """The inbox; asked by htmx as the coach types in the search box (`HX-Request`), only its
    results, which htmx puts in place of the ones shown."""
    if access.coach(request).role == "admin":  # nothing is shared with an admin: their page
        return redirect(url_for(request, "admin.figures"))
    args = request.query_params
    rows, hits, query = _listed(request, args)
    results: dict[str, Any] = {
        "rows": rows,
        "hits": {cid: found[:SNIPPETS_EACH] for cid, found in hits.items()},
        "query": query,
        "args": args,
        "marked": marked,
        "filter_keys": FILTER_KEYS,
    }
    partial = "HX-History-Restore-Request" not in request.headers
    if request.headers.get("HX-Request") == "true" and partial:
        return render(request, "inbox_results.html", **results)
    store = access.store(request)
    return render(
        request,
        "inbox.html",
        **results,
        dialogues=store.dialogues_among(access.visible(request)),
        rubric=rubric_tags(request),
        saved=store.saved_filters(access.coach(request).id),
    )


def canonical_query(request: Request, args: Mapping[str, str]) -> str:
    """The inbox's filters as a query string (checked by `parse_filter`, 400 otherwise),
    only the keys it reads, empty ones left out: what a saved filter keeps."""
    parse_filter(request, args)
    return urlencode([(k, args[k].strip()) for k in FILTER_KEYS if args.get(k, "").strip()])


async def save_filter(request: Request) -> Response:
    """Keep the inbox's filters (sent as the form's fields) under a name of the coach's."""
    form = await form_fields(request)
    name = " ".join(form.get("name", "").split())
    if not 1 <= len(name) <= MAX_FILTER_NAME:
        abort(400, f"a saved filter's name is 1 to {MAX_FILTER_NAME} characters")
    query = canonical_query(request, form)
    store, coach_id = access.store(request), access.coach(request).id
    with store.transaction():
        kept = {f.name for f in store.saved_filters(coach_id)}
        if name not in kept and len(kept) >= MAX_FILTERS:
            abort(400, f"you can keep {MAX_FILTERS} filters: delete one first")
        store.save_filter(coach_id, name, query, access.now(request).isoformat())
    return redirect(url_for(request, "review.inbox") + ("?" + query if query else ""))


async def delete_filter(request: Request) -> Response:
    store = access.store(request)
    with store.transaction():
        if not store.delete_filter(access.coach(request).id, request.path_params["filter_id"]):
            abort(404)
    return redirect(url_for(request, "review.inbox"))


async def inbox_export(request: Request) -> Response:
    rows, _, _ = _listed(request, request.query_params)
    return Response(
        inbox_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="inbox.csv"'},
    )


def number_arg(request: Request, key: str, default: str | None = None) -> int | None:
    """A whole number from the query string (None when absent); 400 when it is not one."""
    raw = request.query_params.get(key, default)
    if raw is None or raw == "":
        return None
    if not raw.isdecimal() or len(raw) > 9:
        abort(400, f"{key} must be a number")
    return int(raw)


async def conversation(request: Request) -> Response:
    """One conversation; `?at=SEQ` opens the page holding that message, `?note_on=SEQ` too,
    with the note form pinned to it."""
    conversation_id = request.path_params["conversation_id"]
    shared = access.shared_or_404(request, conversation_id)
    store = access.store(request)
    page = number_arg(request, "page", "1") or 1
    note_on = number_arg(request, "note_on")
    at = note_on if note_on is not None else number_arg(request, "at")
    if at is not None:
        position = store.message_position(conversation_id, at)
        if position is None:
            abort(404)
        page = position // PAGE + 1
    view = conversation_view(store, _catalog(request), shared, access.coach(request).id, page=page)
    if view is None:
        abort(404)
    return render(
        request, "conversation.html", view=view, rubric=rubric_tags(request), note_on=note_on
    )


def _export(request: Request, kind: str) -> Response:
    """The conversation as a file: `md` or `json`, with the coach's notes marked private."""
    conversation_id = request.path_params["conversation_id"]
    shared = access.shared_or_404(request, conversation_id)
    text = export_conversation(
        access.store(request), _catalog(request), shared, access.coach(request).id, kind
    )
    if text is None:
        abort(404)
    return Response(
        text,
        media_type="application/json" if kind == "json" else "text/markdown",
        headers={
            "Content-Disposition": f'attachment; filename="conversation-{conversation_id}.{kind}"'
        },
    )


async def conversation_export(request: Request) -> Response:
    return _export(request, "md")


async def conversation_export_json(request: Request) -> Response:
    return _export(request, "json")


routes = [
    Route("/", inbox, name="review.inbox"),
    Route("/filters", save_filter, methods=["POST"], name="review.save_filter"),
    Route(
        "/filters/{filter_id:int}/delete",
        delete_filter,
        methods=["POST"],
        name="review.delete_filter",
    ),
    Route("/inbox.csv", inbox_export, name="review.inbox_export"),
    Route("/c/{conversation_id:int}", conversation, name="review.conversation"),
    Route(
        "/c/{conversation_id:int}/export.md",
        conversation_export,
        name="review.conversation_export",
    ),
    Route(
        "/c/{conversation_id:int}/export.json",
        conversation_export_json,
        name="review.conversation_export_json",
    ),
]
