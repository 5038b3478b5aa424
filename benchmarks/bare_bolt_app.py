"""The floor for `benchmarks/slack_ack.py`: a bare Bolt app whose only listener says "ok".

Served exactly like `coach slack` in HTTP mode (Bolt's WSGI adapter under gunicorn, 1 worker
x 8 gthread threads), so the difference between the two is what the coach adds:

    SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… SLACK_API_URL=http://127.0.0.1:PORT/api/ \\
        python -m gunicorn --chdir benchmarks -k gthread -w 1 --threads 8 \\
        -b 127.0.0.1:PORT bare_bolt_app:application
"""

from __future__ import annotations

import logging
import os
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


@app.event("message")
def on_message(event: dict[str, Any], client: WebClient) -> None:
    client.chat_postMessage(channel=event["channel"], text=REPLY)


application = SlackRequestHandler(app)
