"""What the coach reads back of a conversation: when it was left, its last answers, what it was
about, and, for one in the past, the reading it ended with. Pure functions over slots.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from typing import Any

from bot import messages
from bot.recommending import bullets
from bot.schema import Dialogue, SummaryStep
from bot.steps import StepRunner
from bot.templates import render
from storage.rows import ABOUT as ABOUT

#: How a conversation was left, kept in its hidden slot `_left` until it is taken up again:
#: `paused` (the user said pause, or stop after a safety question), `quit`, `menu`, or
#: `set_aside` (a check-in came first). Only `paused` is called paused.
LEFT = "_left"
# What a conversation was about (the dialogue's `about:`) is kept when it ends or is set
# aside, so a listing of hundreds of them renders nothing: the hidden slot `ABOUT`, named by
# storage (imported above), since a save copies it to its own column.


def since(then: str | None, now: dt.datetime) -> str:
    """When something happened, as people say it: "earlier today", "yesterday", "on Tuesday",
    "on 1 December" (with the year when it is not this one); "" when just now or unknown."""
    if not then:
        return ""
    try:
        when = dt.datetime.fromisoformat(then)
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if now - when < dt.timedelta(hours=1):
        return ""
    days = (now.date() - when.date()).days
    if days <= 0:
        return "earlier today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {when:%A}"
    return f"on {on_day(when.date().isoformat(), now.date())}"


@functools.lru_cache(maxsize=1024)
def on_day(iso: str, today: dt.date) -> str:
    """A date as a short phrase: "1 December", or "1 December 2025" in another year."""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {day:%B}" + (f" {day.year}" if day.year != today.year else "")


def last_answers(
    runner: StepRunner, slots: dict[str, Any], history: list[Any], count: int = 2
) -> list[tuple[str, str]]:
    """(question, answer) for the last `count` questions answered, oldest first."""
    answered = dict(runner.answered(slots))
    found: list[tuple[str, str]] = []
    for entry in reversed(history):
        state = entry.get("state") if isinstance(entry, dict) else None
        if not state or state not in runner.dialogue.steps:
            continue  # a commit's date or a short name: its question comes before
        step = runner.dialogue.steps[state]
        title = step.title or state.replace("_", " ")
        if title in answered and all(title != t for t, _ in found):
            found.append((title, answered[title]))
        if len(found) == count:
            break
    return found[::-1]


def answer_lines(runner: StepRunner, slots: dict[str, Any], history: list[Any]) -> list[str]:
    """ "Your last answers:" and the last two, one bullet each; nothing when none."""
    answered = last_answers(runner, slots, history)
    if not answered:
        return []
    return [messages.RECAP_ANSWERS, *(f"• {q}: {a}" for q, a in answered)]


def about(dialogue: Dialogue, slots: dict[str, Any]) -> str | None:
    """What a conversation was about (the dialogue's `about:` template), or None when the
    dialogue does not say or it was not answered yet."""
    if not dialogue.topic:
        return None
    try:
        text = render(dialogue.topic, slots)
    except Exception:  # a file edited since: an old conversation is listed without it
        return None
    return text if text and text != "—" else None


def reading(runner: StepRunner, slots: dict[str, Any]) -> str | None:
    """The reading a finished conversation ended with: its summary step as it was said, with
    the insights it gave; None when the dialogue has no summary step."""
    step = next((s for s in runner.dialogue.steps.values() if isinstance(s, SummaryStep)), None)
    if step is None:
        return None
    try:
        text = render(step.text, slots)
    except Exception:  # a file edited since: say what is kept rather than fail
        return None
    shown = (slots.get("insights") or []) if step.insights else []
    if isinstance(shown, list) and shown:
        heading = render(step.insights_heading, slots)
        with contextlib.suppress(KeyError, TypeError):  # insights as an older version kept them
            text += "\n\n" + bullets(heading, shown[: step.max_insights])
    return text
