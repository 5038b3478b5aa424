"""The words the Slack channel says itself (the engine's words are in bot/messages.py)."""

from __future__ import annotations

from urllib.parse import quote

from bot.channels.slack.blocks import day, escape
from bot.channels.slack.limits import cut
from bot.engine import Overview

SENT_TO_DM = "I've sent you a direct message: let's talk there."


def sent_to_dm(team_id: object, app_id: object) -> str:
    """Said where `/coach …` was typed outside the DM: the DM is where the coach answers,
    with a link that opens it (Slack's app_redirect) when the request says which app."""
    if not (isinstance(team_id, str) and isinstance(app_id, str) and team_id and app_id):
        return SENT_TO_DM
    link = f"https://slack.com/app_redirect?app={quote(app_id)}&team={quote(team_id)}"
    return f"I've sent you a <{link}|direct message>: let's talk there."


COMMAND_HELP = (
    "*Influence Coach* helps you think through a situation where you need to influence people "
    "you have no authority over.\n"
    "• `/coach`: the menu (in our DM)\n"
    "• `/coach start diagnose`: diagnose a power situation\n"
    "• `/coach start own_power`: reflect on your own power\n"
    "• `/coach status`: where you are\n"
    "• `/coach steps`: your open next steps\n"
    "• `/coach history`: our past conversations (`/coach history 2` for earlier ones)\n"
    "• `/coach show 1`: one past conversation in full, with how its steps went\n"
    "• `/coach export`: all your conversations as a Markdown file\n"
    "• `/coach forget`: erase all your data\n"
    "In our DM you can also type `help`, `back`, `restart`, `summary`, `pause` or `menu` "
    "at any point, `done 1` (or partly, not yet, dropped) to mark a step, and `call me …` "
    "to change what I call you."
)
UNKNOWN_COMMAND = "I don't know `/coach {sub}`. Try `/coach help`."
UNKNOWN_BUTTON = "That button isn't one I recognise any more, so nothing changed."
STALE = "That button belongs to an earlier question, so nothing changed."
INTERRUPTED = "I was interrupted just as I answered your last message, so here is where we are now."
DELAYED = (
    "I've got your message, but I can't get to it just this moment. "
    "I'll answer as soon as I can; there's no need to send it again."
)
#: Said when replies could not be posted however often they were tried (Slack kept
#: refusing them for now): on the Home tab at once, and in the DM when it takes messages.
UNREACHED_HOME = (
    ":warning: I couldn't reach you in our DM just now (Slack was too busy), so some of my "
    "replies are missing there. Say `menu` in our DM to carry on."
)
UNREACHED = (
    "Some of my replies didn't reach you just now (Slack was too busy), so here is where we are."
)
EXPORTING = "Preparing your export: it will arrive in our DM as a file."
EXPORT_READY = "Here is everything you've said to me, and your next steps."
EXPORT_FAILED = "Sorry, I couldn't upload your export just now. Please try `/coach export` again."
#: A step's title in `/coach steps`: enough to know it, so a long list stays one message.
STEP_TITLE_LIMIT = 200
FILES_ONLY = (
    "I can only read text, so I can't open files. Tell me in words and I'll carry on from there."
)
FILES_SET_ASIDE = "I can only read text, so I've left your file aside and answered your words."
#: Said to an edit of a message the coach has answered. Not re-read on purpose: the coach
#: has moved on from it (the next question may depend on it), and a silent re-read would
#: change an answer the user can no longer see being used; `back` changes it openly.
EDIT_NOT_REREAD = (
    "I'd already answered what you first wrote, so I haven't re-read your edit. "
    "To change an answer, say `back`."
)
STEPS_MARK = "To mark one, type `done 1` (or `partly 1`, `not yet 1`, `dropped 1`) in our DM."
FORGET_ASK = "Erase all your data?"
FORGOTTEN = "Done. Everything you shared with Influence Coach has been erased."
FORGET_CANCELLED = "Cancelled: nothing was erased."


def status(overview: Overview) -> str:
    if not overview.dialogue_title:
        return "You're not in a dialogue right now. `/coach` shows the menu."
    paused = " (paused)" if overview.status == "paused" else ""
    return (
        f"You're in *{escape(overview.dialogue_title)}*{paused}, "
        f"at *{escape(overview.step_title or '')}*. Carry on in our DM."
    )


def steps(overview: Overview) -> str:
    if not overview.open_steps:
        return "You have no open next steps. A diagnosis ends with two or three."
    lines = ["*Your open next steps*"]
    for n, step in enumerate(overview.open_steps, 1):
        title = cut(escape(step.title or step.text), STEP_TITLE_LIMIT)
        lines.append(f"• {title} (by {day(step.due_date)}) · `done {n}`")
    lines.append(STEPS_MARK)
    return "\n".join(lines)
