"""`coach review`: the review app served by waitress on 127.0.0.1 only."""

from __future__ import annotations

import sys
from pathlib import Path

from waitress import serve

from bot.loader import load_catalog
from bot.review.app import create_app
from bot.review.rubric import DEFAULT_RUBRIC, load_rubric
from storage.store import Store

HOST = "127.0.0.1"


def run(db_path: str, dialogues: Path, port: int, rubric: Path | None = None) -> int:
    """Serve until interrupted; the store is closed on the way out."""
    tags = load_rubric(rubric or DEFAULT_RUBRIC)
    store = Store(db_path)
    try:
        app = create_app(store, load_catalog(dialogues), rubric=tags)
        print(f"coach: review page on http://{HOST}:{port}/", file=sys.stderr, flush=True)
        serve(app, host=HOST, port=port, threads=4, ident="coach-review")
    finally:
        store.close()
    return 0
