"""`coach review`: the review app served by uvicorn on 127.0.0.1 only, signing sessions with
a key kept beside the store, so a restart does not sign every coach out."""

from __future__ import annotations

import gc
import os
import secrets
import signal
import stat
import sys
from pathlib import Path

import uvicorn

from bot.errors import CoachError
from bot.loader import load_catalog
from bot.review.app import create_app
from bot.review.rubric import DEFAULT_RUBRIC, load_rubric
from storage.store import Store

HOST = "127.0.0.1"
#: Beside the store: `coach.db` signs its sessions with `coach.db.review-key`.
KEY_SUFFIX = ".review-key"


def key_path(db_path: str) -> Path:
    return Path(db_path + KEY_SUFFIX)


def session_key(db_path: str) -> str:
    """The key sessions are signed with: read from the key file beside the store, or made
    there (readable by its owner only) the first time. A key file others may read is
    refused, as ssh refuses such a private key: anyone holding it could sign a session."""
    path = key_path(db_path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise CoachError(f"Cannot create the review key {path}: {exc.strerror}.") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    return _read_key(path)


def _read_key(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CoachError(f"Cannot read the review key {path}: {exc}.") from None
    if not stat.S_ISREG(mode) or mode & 0o077:
        raise CoachError(
            f"The review key {path} can be read by others: remove it (every coach logs in "
            f"again) or make it private with `chmod 600 {path}`."
        )
    if len(key) < 32:
        raise CoachError(f"The review key {path} is damaged: remove it (coaches log in again).")
    return key


def settle_memory() -> None:
    """Move what start-up built (the dialogues, templates, routes) out of the collector's
    reach: a long-running page otherwise walks all of it in every full collection, and one
    request in a hundred waited ~40 ms for that (the search's p99 went from 53 to 17 ms).
    New garbage is still collected as before."""
    gc.collect()
    gc.freeze()


def _stopped(signum: int, frame: object) -> None:
    """SIGTERM, once uvicorn has finished the requests under way: return from `run`."""


def run(db_path: str, dialogues: Path, port: int, rubric: Path | None = None) -> int:
    """Serve until interrupted or sent SIGTERM; the store is closed on the way out."""
    tags = load_rubric(rubric or DEFAULT_RUBRIC)
    key = session_key(db_path)
    store = Store(db_path)
    try:
        app = create_app(store, load_catalog(dialogues), rubric=tags, secret=key)
        settle_memory()
        print(f"coach: review page on http://{HOST}:{port}/", file=sys.stderr, flush=True)
        # uvicorn stops on SIGTERM and then raises it again with the handler it found: with
        # this one that ends here, the store is closed and the exit is 0, not a kill.
        signal.signal(signal.SIGTERM, _stopped)
        # No access log (a search's words are in its URL), no proxy headers (an address
        # taken from X-Forwarded-For would let anyone dodge the login's rate limit).
        uvicorn.run(
            app,
            host=HOST,
            port=port,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            log_level="warning",
        )
    finally:
        store.close()
    return 0
