"""What a request from Slack asks of the coach: whose it is, which delivery, what kind, and
the little a turn needs of it. Pure translation, no network and no store.

A request that makes a turn (a DM, an answer click, a Home button, `/coach start`) or that
changes what was said (an edit, a deletion) becomes an `Inbound`, kept in the inbox before
Slack is answered. Its payload keeps only what the turn needs: never the request's token
or its response_url (a key to the person's conversation).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from slack_bolt.request.internals import extract_enterprise_id, extract_is_enterprise_install

from bot.channels.slack import blocks
from bot.channels.slack.incoming import typed_text

ANSWER_ACTIONS = re.compile(rf"^({blocks.ANSWER_PREFIX}\d+|{blocks.DATE_ACTION})$")
#: Message subtypes that are a person writing to the coach: a file shared with words (or
#: without), and a thread reply also sent to the conversation.
PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")
#: A person's edit or deletion of a message they sent.
CHANGE_SUBTYPES = ("message_changed", "message_deleted")
#: `/coach …` subcommands said in the DM, as the user would type them there.
SAID_IN_DM = ("", "menu", "start", "history", "show")


class Inbound(NamedTuple):
    """One delivery for the inbox: the person's key, its delivery id, its kind and payload."""

    key: str
    delivery: str
    kind: str
    payload: dict[str, Any]


def user_key(team_id: str | None, user_id: str) -> str:
    """The engine's name for a Slack user: unique across workspaces."""
    return f"slack:{team_id or 'T0'}:{user_id}"


def slack_user_of(key: str) -> str:
    return key.rsplit(":", 1)[-1]


def person_of(body: dict[str, Any]) -> str | None:
    """The Slack user id of who clicked (an interaction's `user.id`), if there is one."""
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else None
    return found if isinstance(found, str) and found else None


def team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    if isinstance(team, dict):
        return team.get("id")
    return body.get("team_id") or (body.get("user") or {}).get("team_id")


def workspace_of(body: dict[str, Any]) -> str | None:
    """Which workspace a person's key is under: the Enterprise Grid organisation when the
    coach is installed org-wide (so one person has one history across its workspaces),
    else their workspace."""
    if extract_is_enterprise_install(body):
        enterprise = extract_enterprise_id(body)
        if enterprise:
            return enterprise
    return team_of(body)


def is_dm_message(event: dict[str, Any]) -> bool:
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and event.get("subtype") in PERSON_SUBTYPES
        and not event.get("bot_id")
        and isinstance(event.get("user"), str)
    )


def is_dm_change(event: dict[str, Any]) -> bool:
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and event.get("subtype") in CHANGE_SUBTYPES
    )


#: Events saying workspaces removed the coach: an uninstall, a revoked token, or (Enterprise
#: Grid) an org admin taking workspaces away from the org's app.
REMOVAL_EVENTS = ("app_uninstalled", "tokens_revoked", "team_access_revoked")


def is_removal(body: dict[str, Any]) -> bool:
    """Whether the request says workspaces removed the coach (its retry must not read as
    the workspace coming back)."""
    event = body.get("event")
    return isinstance(event, dict) and event.get("type") in REMOVAL_EVENTS


def teams_named(event: dict[str, Any]) -> list[str]:
    """The workspaces a `team_access_revoked` event names."""
    teams = event.get("team_ids")
    if not isinstance(teams, list):
        return []
    return [t for t in teams if isinstance(t, str) and t]


def where(event: dict[str, Any]) -> dict[str, Any]:
    """Where a DM is answered: its conversation, and its thread when it was written in one."""
    found = {"channel": event.get("channel") or event["user"]}
    if isinstance(event.get("thread_ts"), str):
        found["thread_ts"] = event["thread_ts"]
    return found


def said_by_command(words: str) -> str | None:
    """What `/coach …` says to the conversation ("menu", "start diagnose", "history 2",
    "show 1"), if anything."""
    sub, _, rest = words.strip().partition(" ")
    sub, rest = sub.lower(), rest.strip()
    if sub not in SAID_IN_DM:
        return None
    if sub in ("start", "history", "show") and rest:
        return f"{sub} {rest}"
    return sub if sub in ("history", "show") else "menu"


def said_by_button(action_id: str, value: str) -> str | None:
    """What a Home tab button says to the conversation: start a dialogue, our history, one
    past conversation in full."""
    if action_id == blocks.START_ACTION:
        return f"start {value or 'diagnose'}"
    if action_id == blocks.HISTORY_ACTION:
        return "history"
    if action_id == blocks.SHOW_ACTION and value.isdigit():
        return f"show {value}"
    return None


def read_answer(action: dict[str, Any]) -> tuple[str | None, str, str] | None:
    """(question ref, value, label shown) of an answer click, or None for a foreign value."""
    if action.get("action_id") == blocks.DATE_ACTION:
        ref = str(action.get("block_id", "")).removeprefix(blocks.DATE_BLOCK_PREFIX) or None
        value = str(action.get("selected_date") or "")
        return ref, value, value
    try:
        ref, value = blocks.read_answer_value(action.get("value") or "")
    except ValueError:
        return None
    chosen = ((action.get("text") or {}).get("text")) or value
    return ref, value, chosen


def inbound(body: dict[str, Any], max_chars: int) -> Inbound | None:
    """The delivery a request makes, or None when it makes none (or is refused unkept: a DM
    longer than `max_chars`, or a button value that is not ours)."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        if not (isinstance(event, dict) and body.get("event_id")):
            return None
        if is_dm_change(event):
            return _changed(body, event)
        return _message(body, event, max_chars) if is_dm_message(event) else None
    if kind == "block_actions":
        return _action(body)
    if body.get("command") == "/coach" and body.get("user_id") and body.get("trigger_id"):
        command = said_by_command(str(body.get("text") or ""))
        if command is None:
            return None
        key = user_key(workspace_of(body), str(body["user_id"]))
        payload = {"text": command, "channel": str(body["user_id"])}
        return Inbound(key, f"command:{body['trigger_id']}", "said", payload)
    return None


def _message(body: dict[str, Any], event: dict[str, Any], max_chars: int) -> Inbound | None:
    text = typed_text(str(event.get("text") or ""))
    if len(text.strip()) > max_chars:
        return None  # refused unstored, straight from the listener
    key = user_key(workspace_of(body), event["user"])
    payload = {"text": text, **where(event)}
    if isinstance(event.get("ts"), str):
        payload["message_ref"] = f"{payload['channel']}:{event['ts']}"
    if event.get("files"):
        # Files are never fetched nor kept: the words are answered, the user told so; a
        # file alone gets the note only (kept, so Slack's retries post it once).
        payload["files"] = True
        if not text.strip():
            return Inbound(key, str(body["event_id"]), "note", {**payload, "text": ""})
    return Inbound(key, str(body["event_id"]), "message", payload)


def _action(body: dict[str, Any]) -> Inbound | None:
    actions = body.get("actions") or []
    user = (body.get("user") or {}).get("id")
    if not (user and actions and isinstance(actions[0], dict)):
        return None
    action = actions[0]
    action_id = str(action.get("action_id", ""))
    message = body.get("message") or {}
    delivery = f"action:{user}:{action.get('action_ts') or message.get('ts')}"
    channel = (body.get("channel") or {}).get("id") or user
    key = user_key(workspace_of(body), user)
    said = said_by_button(action_id, str(action.get("value") or ""))
    if said is not None:
        return Inbound(key, delivery, "said", {"text": said, "channel": user})
    if not ANSWER_ACTIONS.match(action_id):
        return None
    answer = read_answer(action)
    if answer is None:
        return None  # a foreign value: the listener says so, nothing is kept
    ref, value, chosen = answer
    shown = None
    if message.get("ts") and message.get("blocks"):
        shown = {k: message.get(k) for k in ("ts", "text", "blocks")}
    payload = {
        "text": value,
        "ref": ref,
        "chosen": chosen,
        "channel": channel,
        "user": user,
        "message": shown,
    }
    thread = message.get("thread_ts") or (body.get("container") or {}).get("thread_ts")
    if isinstance(thread, str):
        payload["thread_ts"] = thread  # a question asked in a thread is answered there
    return Inbound(key, delivery, "answer", payload)


def _changed(body: dict[str, Any], event: dict[str, Any]) -> Inbound | None:
    """A person's edit or deletion of one of their DMs, as a delivery: it runs after that
    DM's own turn, however the two arrive. An edit that changed no words (a link preview
    added) is nothing."""
    channel = str(event.get("channel") or "")
    if event.get("subtype") == "message_changed":
        now, before = event.get("message") or {}, event.get("previous_message") or {}
        if typed_text(str(now.get("text") or "")) == typed_text(str(before.get("text") or "")):
            return None
        kind, ts = "edited", now.get("ts")
    else:
        now = event.get("previous_message") or {}
        kind, ts = "deleted", event.get("deleted_ts") or now.get("ts")
    user = now.get("user")
    if not (isinstance(user, str) and isinstance(ts, str) and channel) or now.get("bot_id"):
        return None
    payload = {"message_ref": f"{channel}:{ts}", "channel": channel}
    if isinstance(now.get("thread_ts"), str):
        payload["thread_ts"] = now["thread_ts"]
    return Inbound(user_key(workspace_of(body), user), str(body["event_id"]), kind, payload)
