"""Hostile and malformed requests: whatever body, headers or signature arrive, the real
Bolt app behind our WSGI handler answers 4xx (or 200 for a harmless event), never a 500,
and no traceback reaches the log.

Hypothesis builds the requests; a third of them are signed correctly, so the
app's own parsing is reached and not only the signature check. The WSGI callable is
called directly (no socket), as gunicorn calls it.
"""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.channels.slack.app import SlackCoach, SlackSettings
from bot.channels.slack.server import wsgi_app
from bot.engine import Engine
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack_support import BOT_TOKEN, SIGNING_SECRET, join_exports

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
KINDS = ["event_callback", "block_actions", "url_verification", "view_submission", None, 3]


def event_bodies() -> st.SearchStrategy[str]:
    event = st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "app_home_opened", "app_uninstalled", "x"])},
        optional={
            "channel_type": st.sampled_from(["im", "channel"]) | JSONISH,
            "subtype": st.sampled_from(["file_share", "message_changed", "message_deleted"])
            | JSONISH,
            "user": st.sampled_from(["U1"]) | JSONISH,
            "text": JSONISH,
            "ts": JSONISH,
            "thread_ts": JSONISH,
            "files": JSONISH,
            "message": JSONISH,
            "previous_message": JSONISH,
            "tab": JSONISH,
        },
    )
    body = st.fixed_dictionaries(
        {"type": st.sampled_from(KINDS)},
        optional={
            "event": event | JSONISH,
            "event_id": JSONISH,
            "team_id": JSONISH,
            "team": JSONISH,
        },
    )
    return body.map(json.dumps)


def form_bodies() -> st.SearchStrategy[str]:
    payload = st.fixed_dictionaries(
        {"type": st.sampled_from(KINDS)},
        optional={
            "user": JSONISH | st.just({"id": "U1"}),
            "actions": JSONISH
            | st.lists(
                st.dictionaries(
                    st.sampled_from(
                        ["action_id", "value", "block_id", "selected_date", "action_ts"]
                    ),
                    JSONISH,
                ),
                max_size=2,
            ),
            "channel": JSONISH,
            "message": JSONISH,
            "team": JSONISH,
            "view": JSONISH,
        },
    )
    command = st.dictionaries(
        st.sampled_from(
            ["command", "text", "user_id", "team_id", "channel_id", "trigger_id", "response_url"]
        ),
        st.text(max_size=30),
    ).map(lambda d: urlencode({**d, "command": d.get("command", "/coach")}))
    return st.one_of(
        payload.map(lambda p: urlencode({"payload": json.dumps(p)})),
        st.text(max_size=60).map(lambda t: urlencode({"payload": t})),
        command,
    )


BODIES = st.one_of(
    event_bodies(),
    form_bodies(),
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
        "multipart/form-data",
    ]
)


#: The WSGI app under test, built once per test (hypothesis runs the body many times).
APPS: dict[int, Any] = {}
TIMESTAMPS = st.one_of(
    st.just("now"),
    st.sampled_from(["abc", "", "1e9", "-1", "0", " 17", "99999999999999999999"]),
    st.text(max_size=12),
)


def call(app: Any, body: str, headers: dict[str, str]) -> int:
    """One POST to the WSGI callable, as gunicorn makes it; returns the status code."""
    raw = body.encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "CONTENT_LENGTH": str(len(raw)),
    }
    for name, value in headers.items():
        if name.lower() == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    status: list[str] = []
    app(environ, lambda line, _headers, *_: status.append(line))
    return int(status[0].split()[0])


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=BODIES,
    content_type=CONTENT_TYPES,
    signing=st.sampled_from(["right", "wrong", "none"]),
    timestamp=TIMESTAMPS,
    retry=st.sampled_from([None, "1", "x"]),
)
def test_no_request_shape_gets_a_500_or_a_traceback(
    engine: Engine,
    fake: FakeSlackAPI,
    caplog: pytest.LogCaptureFixture,
    body: str,
    content_type: str,
    signing: str,
    timestamp: str,
    retry: str | None,
) -> None:
    app = APPS.get(id(engine))
    if app is None:  # one app per test run: hypothesis calls this many times per fixture
        APPS.clear()
        app = APPS[id(engine)] = wsgi_app(
            SlackCoach(
                engine,
                SlackSettings(
                    bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url
                ),
                client=WebClient(token=BOT_TOKEN, base_url=fake.base_url),
                process_before_response=True,  # listeners run before the answer: errors show
            )
        )
    headers = {"content-type": content_type}
    ts = str(int(time.time())) if timestamp == "now" else timestamp
    if signing != "none":
        secret = SIGNING_SECRET if signing == "right" else "not-the-secret"
        headers["x-slack-signature"] = SignatureVerifier(secret).generate_signature(
            timestamp=ts, body=body
        )
        headers["x-slack-request-timestamp"] = ts
    if retry is not None:
        headers["x-slack-retry-num"] = retry
    caplog.clear()

    with caplog.at_level(logging.WARNING):
        status = call(app, body, headers)
    join_exports()  # a fuzzed `/coach export` must not outlive the test

    assert status < 500, (status, body, headers)
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Traceback" not in caplog.text
