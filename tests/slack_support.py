"""Building real, signed Slack requests for tests (events, slash commands, block actions)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from storage.store import Store

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, json_body: bool
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "x-slack-signature": signature,
        "x-slack-request-timestamp": ts,
        "content-type": "application/json" if json_body else "application/x-www-form-urlencoded",
    }


def slack_encoded(typed: str) -> str:
    """Text as Slack sends what a person typed: `&`, `<` and `>` HTML-encoded."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def dm_event(
    user: str,
    text: str,
    *,
    event_id: str,
    team: str = "T1",
    channel: str | None = None,
    as_sent: bool = False,
    enterprise: str | None = None,
    org_wide: bool = False,
) -> str:
    """A message.im event_callback body, as Slack sends it: `text` is what the person typed,
    encoded here as Slack encodes it (`as_sent`: it is already in Slack's form, with its
    mentions and links in angle brackets). In an Enterprise Grid workspace it names the
    organisation, and `authorizations` says whether the app is installed org-wide (Slack's
    Events API docs; tests/slack_payloads/grid_org_dm.json is one such body)."""
    text = text if as_sent else slack_encoded(text)
    return json.dumps(
        {
            "token": "unused",
            "team_id": team,
            "enterprise_id": enterprise,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": enterprise,
                    "team_id": None if org_wide else team,
                    "user_id": "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": org_wide,
                }
            ],
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": channel or f"D{user}",
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
                "event_ts": f"{time.time():.6f}",
            },
        }
    )


def home_opened(user: str, *, event_id: str, team: str = "T1") -> str:
    return json.dumps(
        {
            "team_id": team,
            "type": "event_callback",
            "event_id": event_id,
            "event": {"type": "app_home_opened", "user": user, "tab": "home"},
        }
    )


def slash_command(
    user: str, text: str, *, response_url: str, team: str = "T1", channel: str | None = None
) -> str:
    return urlencode(
        {
            "command": "/coach",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "team_id": team,
            "api_app_id": "A1",
            "channel_id": channel or f"D{user}",
            "response_url": response_url,
            "trigger_id": f"trigger{time.time_ns()}",  # Slack's are unique per command
        }
    )


def block_action(
    user: str,
    action: dict[str, Any],
    *,
    message: dict[str, Any] | None,
    response_url: str,
    action_ts: str | None = None,
    team: str = "T1",
    channel: str | None = None,
) -> str:
    """A block_actions payload for a click on `action` (a button or datepicker element)."""
    payload = {
        "type": "block_actions",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A1",
        "channel": {"id": channel or f"D{user}"},
        "container": {"type": "message", "message_ts": (message or {}).get("ts", "1.1")},
        "message": message,
        "response_url": response_url,
        "trigger_id": "trigger",
        "actions": [{**action, "action_ts": action_ts or f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def plant_overdue_step(db: Path | str, key: str, title: str = "Call the chair") -> None:
    """Give the user's current conversation a next step that fell due yesterday."""
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    store = Store(db)
    try:
        conversation = store.current_conversation(key)
        assert conversation is not None
        with store.transaction():
            store.add_next_steps(
                conversation.id,
                key,
                [{"title": title, "text": "Ask the chair for a seat", "due_date": yesterday}],
                dt.datetime.now(dt.UTC).isoformat(),
            )
    finally:
        store.close()


def posts_in(fake: Any, channel: str) -> list[dict[str, Any]]:
    """Every message the bot posted to one channel (text and blocks), in posting order."""
    return [p for p in fake.of("chat.postMessage") if p.get("channel") == channel]


def wait_for_posts(
    fake: Any, channel: str, count: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Posts to `channel` once there are `count` of them (listeners run after the ack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = posts_in(fake, channel)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    texts = [p.get("text") for p in posts_in(fake, channel)]
    raise AssertionError(f"expected {count} posts in {channel}, got {texts}")


def sections(post: dict[str, Any]) -> list[str]:
    """The texts a posted message shows, one per section block: one turn's messages, in order."""
    return [b["text"]["text"] for b in post.get("blocks") or [] if b.get("type") == "section"]


def join_exports(timeout: float = 10.0) -> None:
    """Wait for every `/coach export` upload thread to finish, so none outlives its test
    (and its fake Web API) to log a failure into the next one."""
    from bot.channels.slack.app import EXPORT_THREAD

    for thread in threading.enumerate():
        if thread.name == EXPORT_THREAD:
            thread.join(timeout=timeout)
