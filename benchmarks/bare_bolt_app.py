"""The floor for `benchmarks/slack_ack.py`: a bare Bolt app that keeps each event with one
durable SQLite insert before acknowledging it, and whose only listener says "ok".

The insert is there because the coach must make one too (an acknowledged message is durable
before the reply): a floor without it would charge the coach for an fsync any correct app
pays. Served exactly like `coach slack` in HTTP mode (Bolt's WSGI adapter under gunicorn, 1
worker x 8 gthread threads), so the difference between the two is what the coach adds:

    SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… SLACK_API_URL=http://127.0.0.1:PORT/api/ \\
    BARE_DB=/tmp/bare.db python -m gunicorn --chdir benchmarks -k gthread -w 1 --threads 8 \\
        -b 127.0.0.1:PORT bare_bolt_app:application
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

REPLY = "ok"

app = App(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL") or WebClient.BASE_URL,
    ),
    token_verification_enabled=False,
    logger=logging.getLogger("bare.bolt"),
)


#: The events kept before they are acknowledged: WAL, synchronous=FULL, as the coach's store.
_db = sqlite3.connect(
    os.environ.get("BARE_DB") or "bare.db", check_same_thread=False, isolation_level=None
)
_db.execute("PRAGMA journal_mode = WAL")
_db.execute("PRAGMA synchronous = FULL")
_db.execute("CREATE TABLE IF NOT EXISTS inbox (event_id TEXT PRIMARY KEY, event TEXT)")
_lock = threading.Lock()


@app.use
def keep_before_ack(body: dict[str, Any], next: Callable[[], Any]) -> Any:
    if body.get("event_id"):
        with _lock:
            _db.execute(
                "INSERT OR IGNORE INTO inbox VALUES (?, ?)",
                (str(body["event_id"]), json.dumps(body.get("event"))),
            )
    return next()


@app.event("message")
def on_message(event: dict[str, Any], client: WebClient) -> None:
    client.chat_postMessage(channel=event["channel"], text=REPLY)


application = SlackRequestHandler(app)
