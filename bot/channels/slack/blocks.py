"""Pure translation from the engine's replies to Slack Block Kit, and back from clicks.

No network here: every function takes values and returns dicts, so the shapes Slack sees are
easy to test and to review.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot import templates
from bot.channels.slack import limits
from bot.engine import Overview, PastDiagnosis
from bot.text import visible
from bot.turns import Await, BotMessage, Reply
from storage.rows import NextStep

SECTION_LIMIT = 3000
#: Slack's limits on one message. A message holds at most 50 blocks; blocks holding much
#: more than 12,000 characters of text in all are refused (`msg_blocks_too_long`: observed,
#: not documented), so a post stays well under that; and the notification `text` is kept
#: to 3,000 characters (Slack advises under 4,000 and refuses much longer).
MAX_BLOCKS = limits.MESSAGE_BLOCKS
MAX_BLOCKS_TEXT = 10_000
TEXT_LIMIT = 3000
ANSWER_PREFIX = "answer_"
DATE_ACTION = "date_pick"
DATE_BLOCK_PREFIX = "date:"
DATE_HINT_BLOCK = "date_hint"
STEP_ACTIONS = {"step_done": "done", "step_not_yet": "not_yet", "step_dropped": "dropped"}
START_ACTION = "start_dialogue"
HISTORY_ACTION = "show_history"
SHOW_ACTION = "show_conversation"
FORGET_ACTION = "forget_confirm"
FORGET_CANCEL = "forget_cancel"


def escape(text: str) -> str:
    """Text as Slack may show it: mrkdwn's control characters escaped, so a user's words can't
    become <!channel> pings, and control characters made visible (`bot.text.visible`)."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_cut(escaped: str, limit: int) -> int:
    """Where to cut escaped text at most `limit` long without halving an entity (&amp;)."""
    amp = escaped.rfind("&", max(0, limit - 4), limit)
    if amp != -1 and ";" not in escaped[amp:limit]:
        return amp
    return limit


def _sections(text: str) -> list[dict[str, Any]]:
    """Text as section blocks, split at paragraph breaks to stay under Slack's limit."""
    chunks: list[str] = []
    current = ""
    for paragraph in escape(text).split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= SECTION_LIMIT:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while len(paragraph) > SECTION_LIMIT:
            cut = _safe_cut(paragraph, SECTION_LIMIT)
            chunks.append(paragraph[:cut])
            paragraph = paragraph[cut:]
        current = paragraph
    if current:
        chunks.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def answer_value(ref: str | None, value: str) -> str:
    """What a button carries: the question it answers (`ref`) and the chosen value."""
    return json.dumps({"r": ref, "v": value}, separators=(",", ":"))


def read_answer_value(raw: str) -> tuple[str | None, str]:
    """(ref, value) from a button's value; raises ValueError if it is not one of ours."""
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("v"), str):
        raise ValueError("not an answer button")
    ref = data.get("r")
    return (ref if isinstance(ref, str) else None), data["v"]


def _controls(awaits: Await, today: dt.date) -> list[dict[str, Any]]:
    """The interactive block for what the bot awaits: buttons, or a date picker."""
    if awaits.kind == "date":
        return [
            {
                "type": "actions",
                "block_id": f"{DATE_BLOCK_PREFIX}{awaits.ref}",
                "elements": [
                    {
                        "type": "datepicker",
                        "action_id": DATE_ACTION,
                        "initial_date": today.isoformat(),
                        "placeholder": {"type": "plain_text", "text": "Pick a date"},
                    }
                ],
            },
            {
                "type": "context",
                "block_id": DATE_HINT_BLOCK,
                "elements": [
                    {"type": "mrkdwn", "text": "…or type one: next friday, the 15th, in 2 weeks"}
                ],
            },
        ]
    if not awaits.choices:
        return []
    buttons = [
        {
            "type": "button",
            "action_id": f"{ANSWER_PREFIX}{n}",
            "text": {"type": "plain_text", "text": choice.label[:75], "emoji": True},
            "value": answer_value(awaits.ref, choice.value),
        }
        for n, choice in enumerate(awaits.choices)
    ]
    return [
        {
            "type": "actions",
            "block_id": f"choices:{awaits.ref}:{i}",
            "elements": buttons[i : i + 25],
        }
        for i in range(0, len(buttons), 25)
    ]


def reply_messages(
    reply: Reply,
    today: dt.date,
    *,
    max_blocks: int = MAX_BLOCKS,
    max_text: int = MAX_BLOCKS_TEXT,
) -> list[dict[str, Any]]:
    """A reply as chat.postMessage payloads: one post per turn, unless Slack's limits forbid.

    The reply's messages become section blocks in their order, with no divider between
    them: they read as one answer, paragraph after paragraph, as a person's message would.
    A message that offers choices it doesn't await lists them; the controls for what the bot
    awaits (buttons, or a date picker and its hint) come last. Only a reply too big for one
    message (`MAX_BLOCKS` blocks, `MAX_BLOCKS_TEXT` characters) is split, between messages
    where it can be; the controls always stay together, at the end of the last post.
    """
    groups: list[tuple[BotMessage, list[list[dict[str, Any]]]]] = []
    for n, message in enumerate(reply.messages):
        # Runs of blocks that are never split across posts: each section, and the controls.
        runs = [[section] for section in _sections(message.text)] if message.text else []
        if n == len(reply.messages) - 1:
            controls = _controls(reply.awaits, today)
            if controls:
                runs.append(controls)
        elif message.choices:
            runs.append([_choice_list(message)])
        if runs:
            groups.append((message, runs))

    posts: list[tuple[BotMessage, list[dict[str, Any]]]] = []
    current: list[dict[str, Any]] = []
    opening: BotMessage | None = None

    def fits(more: list[dict[str, Any]]) -> bool:
        return (
            len(current) + len(more) <= max_blocks
            and _text_size(current) + _text_size(more) <= max_text
        )

    def flush() -> None:
        nonlocal current, opening
        if current and opening is not None:
            posts.append((opening, current))
        current, opening = [], None

    for message, runs in groups:
        whole = [block for run in runs for block in run]
        if not fits(whole):
            flush()  # start the message on a fresh post rather than split it
        if fits(whole):
            current.extend(whole)
            opening = opening or message
            continue
        for run in runs:  # one message too big for a post of its own: split between runs
            if current and not fits(run):
                flush()
            current.extend(run)
            opening = opening or message
    flush()
    # `text` is what a phone's notification shows (Slack's desktop app takes the blocks'
    # text when it can, which starts the same way): the post's first message, escaped like
    # the blocks. A notification matters when the user is away, and then it is a check-in we
    # pushed: its opening says what this is about ("a quick check-in on a step you planned"),
    # while its question ("How did it go?") would mean nothing on its own. A reply to what
    # the user just did finds them in the DM, where a notification rarely shows at all.
    return [
        {"text": _fallback(message.text), "blocks": limits.fitted(blocks)}
        for message, blocks in posts
    ]


def _text_size(blocks: Sequence[dict[str, Any]]) -> int:
    """The characters of text a person can read in some blocks: what counts towards the limit."""
    size = 0
    for block in blocks:
        for item in (block, *(block.get("elements") or ())):
            text = item.get("text")
            if isinstance(text, dict):
                text = text.get("text")
            if isinstance(text, str):
                size += len(text)
    return size


def _fallback(text: str) -> str:
    """A message's text as a post's notification text: escaped, and at most `TEXT_LIMIT`."""
    return limits.cut(escape(text), TEXT_LIMIT) or "…"


def _choice_list(message: BotMessage) -> dict[str, Any]:
    lines = "\n".join(f"{n}. {escape(c.label)}" for n, c in enumerate(message.choices, 1))
    return {"type": "section", "text": {"type": "mrkdwn", "text": lines}}


def answered_blocks(blocks: Sequence[dict[str, Any]], chosen: str) -> list[dict[str, Any]]:
    """The clicked message with its controls replaced by the answer: it can't be clicked twice."""
    kept = [
        b for b in blocks if b.get("type") != "actions" and b.get("block_id") != DATE_HINT_BLOCK
    ]
    kept.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"✓ *{escape(chosen)}*"}]}
    )
    return limits.fitted(kept)


def day(date: str) -> str:
    """A date as the coach writes every date, in every channel: "Tuesday 1 December 2026"
    (the same on the Home tab, in `/coach steps`, in past conversations and in what the
    engine says in the DM; never "2026-12-01")."""
    return templates.day(date)


#: Past conversations listed on the Home tab, newest first; `/coach history` has them all.
HOME_PAST = 20


def home_view(overview: Overview, today: dt.date, notice: str | None = None) -> dict[str, Any]:
    """The App Home tab: open next steps with outcome buttons, past diagnoses, a start button.

    A view holds at most 100 blocks and each open step takes two, so when the steps would
    overflow, those due first are shown and a last line says how many more `/coach steps`
    lists: the tab is never refused for having too much on it.
    """
    top = _home_top(overview)
    if notice:  # said first, under the header: something the person needs to know
        top.insert(1, {"type": "section", "text": {"type": "mrkdwn", "text": notice}})
    past = _home_past(overview.past_diagnoses[:HOME_PAST])
    steps = overview.open_steps
    room = limits.VIEW_BLOCKS - len(top) - len(past)
    if 2 * len(steps) > room:
        steps = steps[: (room - 1) // 2]  # and a line saying how many more
    middle: list[dict[str, Any]] = []
    if not overview.open_steps:
        middle.append(_context("None yet: a diagnosis ends with some."))
    for step in steps:
        middle.extend(_step_blocks(step, today))
    hidden = len(overview.open_steps) - len(steps)
    if hidden:
        middle.append(_context(f"…and {hidden} more: `/coach steps` lists them all."))
    return {"type": "home", "blocks": limits.fitted([*top, *middle, *past])}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _home_top(overview: Overview) -> list[dict[str, Any]]:
    """The Home tab down to the heading of the open steps: where the user is, and starting."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Influence Coach"}},
    ]
    if overview.dialogue_title:
        where = f" — at *{escape(overview.step_title or '')}*" if overview.step_title else ""
        state = " (paused)" if overview.status == "paused" else ""
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"In progress: *{escape(overview.dialogue_title)}*{state}{where}. "
                    "Carry on in our DM.",
                },
            }
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": "home_start",
            "elements": [
                {
                    "type": "button",
                    "action_id": START_ACTION,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Start a new diagnosis"},
                    "value": "diagnose",
                },
                {
                    "type": "button",
                    "action_id": HISTORY_ACTION,
                    "text": {"type": "plain_text", "text": "Our past conversations"},
                    "value": "history",
                },
            ],
        }
    )
    blocks.append({"type": "divider"})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Your open next steps*"}})
    return blocks


def _step_blocks(step: NextStep, today: dt.date) -> list[dict[str, Any]]:
    """One open step on the Home tab: what and by when, and its outcome buttons."""
    overdue = " (due now)" if step.due_date <= today.isoformat() else ""
    title = escape(step.title or step.text[:75])
    idea = f"\n_{escape(step.idea)}_" if step.idea else ""
    return [
        {
            "type": "section",
            "block_id": f"step:{step.id}",
            "text": {
                "type": "mrkdwn",
                "text": f"*{title}*: by {day(step.due_date)}{overdue}{idea}",
            },
        },
        {
            "type": "actions",
            "block_id": f"step_actions:{step.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "text": {"type": "plain_text", "text": label},
                    "value": str(step.id),
                }
                for action_id, label in (
                    ("step_done", "Done"),
                    ("step_not_yet", "Not yet"),
                    ("step_dropped", "Dropped"),
                )
            ],
        },
    ]


def _home_past(past: Sequence[PastDiagnosis]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Our past conversations*"}},
    ]
    if not past:
        blocks.append(_context("None yet."))
    blocks.extend(_past_section(p) for p in past)
    return blocks


def _past_section(past: PastDiagnosis) -> dict[str, Any]:
    """One past conversation on the Home tab, with a button that shows it in full in the DM."""
    about = f" · {escape(past.other_party)}" if past.other_party != "—" else ""
    steps = f" — {past.steps} step{'s' if past.steps != 1 else ''}, {past.done} done"
    if not past.steps:
        steps = "" if past.finished else " — not finished"
    top = (
        f"\nFirst suggestion: {escape(past.top_recommendation)}" if past.top_recommendation else ""
    )
    text = f"*{past.number}.* {day(past.date)} · {escape(past.title)}{about}{steps}{top}"
    return {
        "type": "section",
        "block_id": f"past:{past.number}",
        "text": {"type": "mrkdwn", "text": text},
        "accessory": {
            "type": "button",
            "action_id": SHOW_ACTION,
            "text": {"type": "plain_text", "text": "Show in full"},
            "value": str(past.number),
        },
    }


def forget_confirmation() -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "This erases *all* your conversations, next steps and history with "
                "Influence Coach. It cannot be undone. Are you sure?",
            },
        },
        {
            "type": "actions",
            "block_id": "forget",
            "elements": [
                {
                    "type": "button",
                    "action_id": FORGET_ACTION,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Yes, erase everything"},
                    "value": "forget",
                },
                {
                    "type": "button",
                    "action_id": FORGET_CANCEL,
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "value": "cancel",
                },
            ],
        },
    ]
