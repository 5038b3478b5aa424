"""What the coach knows of a person, and their own record read back to them: their name, the
greeting of someone returning, their open steps, their past conversations (`history`, `show
N`) and marking a step from there. The queries are the store's; the words are `messages`'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from bot import messages
from bot.compiler import compile_dialogue
from bot.engine.menu import show_menu, wanted
from bot.engine.progress import LEARNED_PENDING, NAME_PENDING, ask_again, menu_message
from bot.engine.turn import Context, Live, Turn
from bot.naming import read_own_name
from bot.recap import LEFT, about, on_day, reading
from bot.templates import day
from bot.turns import BotMessage
from storage.rows import NextStep, PastConversation, StepOutcome

#: Past conversations shown per page of `history` (and on a home tab).
PAGE = 10
#: What `done 2`, `partly 2`, `not yet 2` and `dropped 2` record.
OUTCOMES = ("done", "partly", "not_yet", "dropped")


class PastDiagnosis(NamedTuple):
    """One past conversation as a person's record lists it: `number` is what `show N` takes.

    A NamedTuple, not a frozen dataclass: a page of `history` builds ten, at a third of
    the cost each."""

    date: str
    other_party: str
    top_recommendation: str | None
    number: int = 0
    title: str = ""
    steps: int = 0
    done: int = 0
    finished: bool = True


@dataclass(frozen=True)
class Overview:
    """A user's situation at a glance: the current dialogue and step, plans, past diagnoses."""

    dialogue_title: str | None
    step_title: str | None
    status: str | None
    open_steps: list[NextStep]
    past_diagnoses: list[PastDiagnosis]
    name: str | None = None


def overview(ctx: Context, user_id: str, live: Live | None) -> Overview:
    """The user's overview, given their live conversation (None when there is none).

    `status` is "paused" only for a conversation they paused (not one they just left)."""
    title = step = status = None
    if live is not None:
        title = live.session.compiled.dialogue.title
        state = live.session.state or ""
        states = live.machine.states_map
        step = states[state].name if state in states else state
        status = "paused" if live.session.slots.get(LEFT) == "paused" else "active"
    return Overview(
        dialogue_title=title,
        step_title=step,
        status=status,
        open_steps=ctx.store.open_next_steps(user_id),
        past_diagnoses=past_diagnoses(ctx, user_id),
        name=ctx.store.name_of(user_id),
    )


def past_diagnoses(ctx: Context, user_id: str, page: int = 1) -> list[PastDiagnosis]:
    """One page of the user's past conversations, newest first, numbered for `show N`."""
    offset = (page - 1) * PAGE
    found = ctx.store.past_conversations(user_id, limit=PAGE, offset=offset)
    return [entry(ctx, past, offset + n) for n, past in enumerate(found, 1)]


def entry(ctx: Context, past: PastConversation, number: int) -> PastDiagnosis:
    """A past conversation as a record lists it."""
    title, what = named(ctx, past)
    top = None
    loaded = ctx.catalog.dialogues.get(past.dialogue)
    if loaded is not None:
        rec = compile_dialogue(loaded).runner.recommendations.get(past.top or "")
        top = rec.title if rec is not None else None
    return PastDiagnosis(
        date=past.date,
        other_party=what or "—",
        top_recommendation=top,
        number=number,
        title=title,
        steps=len(past.steps),
        done=sum(1 for s in past.steps if s.outcome == "done"),
        finished=past.status == "completed",
    )


def named(ctx: Context, past: PastConversation) -> tuple[str, str | None]:
    """A past conversation's dialogue title and what it was about (None when nothing is). What
    it was about was kept when it ended; one under way (or from before that was kept) has it
    worked out from its slots."""
    loaded = ctx.catalog.dialogues.get(past.dialogue)
    if loaded is None:
        return past.dialogue, past.about or None
    what = past.about
    if what is None and past.slots is not None:
        what = about(loaded.dialogue, past.slots)
    return loaded.dialogue.title, what or None


# == the greeting of someone returning ===========================================================


def welcome(ctx: Context, turn: Turn) -> None:
    """Greet a returning person by name with what matters now: a step due, their other open
    steps soonest first, and their last conversation in one line. The caller goes on to a
    due check-in or the menu."""
    name = ctx.store.name_of(turn.user_id)
    lines = [messages.WELCOME_BACK.format(name=f", {name}" if name else "")]
    steps = ctx.store.open_next_steps(turn.user_id)
    today = turn.today.isoformat()
    due = [s for s in steps if s.due_date <= today]
    if len(due) == 1:
        first = due[0]
        title, date = first.title or first.text, day(first.due_date)
        lines.append(messages.GREET_DUE.format(title=title, date=date))
    elif due:  # every step that has come due, before the rest
        lines.append(messages.GREET_DUE_MANY)
        lines.extend(
            "• " + messages.DUE_LINE.format(title=s.title or s.text, date=day(s.due_date))
            for s in due
        )
    others = [s for s in steps if s.due_date > today]
    if others:
        lines.append(messages.GREET_OTHERS if due else messages.GREET_OPEN)
        lines.extend(f"• {_step_line(s, turn.today)}" for s in others)
    last = ctx.store.latest_completed(turn.user_id)
    if last is not None:
        lines.append(_last_time(ctx, last, turn.today))
    if steps or last is not None:
        lines.append(messages.GREET_COMMANDS)
    turn.say("\n".join(lines))


def hello(ctx: Context, turn: Turn) -> None:
    """ "Welcome back, Sam.": before what comes first (a check-in that is due)."""
    name = ctx.store.name_of(turn.user_id)
    turn.say(messages.WELCOME_BACK.format(name=f", {name}" if name else ""))


def _step_line(step: NextStep, today: dt.date) -> str:
    title = step.title or step.text
    if step.due_date < today.isoformat():
        return messages.STEP_OVERDUE.format(title=title, date=day(step.due_date))
    return messages.STEP_BY.format(title=title, date=day(step.due_date))


def _last_time(ctx: Context, last: PastConversation, today: dt.date) -> str:
    """ "Last time, 1 December: the council's commissioning team — 3 steps, 1 done." """
    shown = entry(ctx, last, 0)
    what = shown.other_party if shown.other_party != "—" else shown.title
    return messages.GREET_LAST.format(
        date=on_day(shown.date, today), what=what, steps=_steps_count(shown)
    )


def _steps_count(shown: PastDiagnosis) -> str:
    if not shown.steps:
        return messages.COUNT_NO_STEPS
    counted = messages.COUNT_STEPS.format(n=shown.steps, s="" if shown.steps == 1 else "s")
    if not shown.done:
        return counted + messages.COUNT_NONE_DONE
    return counted + messages.COUNT_DONE.format(n=shown.done)


# == questions asked at the menu about the person =================================================


def answer_lobby(ctx: Context, turn: Turn, text: str) -> bool:
    """An answer to what the coach asked at the menu about the person (what to call them,
    what they learned from a step); False if `text` is not one (the menu reads it)."""
    pending = turn.lobby_pending
    if pending == NAME_PENDING:
        if wanted(ctx, text, menu_message(ctx, None).choices) is not None:
            return False  # a pick or a command: the menu starts it
        name, declined = read_own_name(text)
        if name is None and not declined:
            return False
        _settle(ctx, turn)
        if name is not None:
            ctx.store.set_name(turn.user_id, name)
            turn.say(messages.NAME_THANKS.format(name=name))
        else:
            turn.say(messages.NAME_SKIPPED)
        show_menu(ctx, turn)
        return True
    if pending is not None and pending.startswith(LEARNED_PENDING):
        _settle(ctx, turn)
        said = text.strip()
        if said.lower().strip(" .!") in messages.SKIP_WORDS:
            turn.say(messages.LEARNED_SKIPPED)
        else:
            step_id = int(pending.removeprefix(LEARNED_PENDING) or 0)
            ctx.store.record_learned(step_id, said, turn.now_iso)
            turn.say(messages.LEARNED_KEPT)
        show_menu(ctx, turn)
        return True
    return False


def _settle(ctx: Context, turn: Turn) -> None:
    turn.lobby_pending = None
    ctx.store.set_user_pending(turn.user_id, None)


def call_me(ctx: Context, turn: Turn, words: str) -> None:
    """ "call me Sam": what to call them from now on; then the question they were at."""
    name, _ = read_own_name(f"call me {words}")
    if name is None:
        turn.say(messages.NAME_UNREADABLE.format(text=words.strip()[:40]))
    else:
        ctx.store.set_name(turn.user_id, name)
        turn.say(messages.NAME_CHANGED.format(name=name))
    ask_again(ctx, turn)


# == their own record ==============================================================================


def list_steps(ctx: Context, turn: Turn) -> None:
    """The open next steps, numbered soonest first, each with its date and the idea behind it,
    and how to mark one."""
    found = ctx.store.open_next_steps(turn.user_id)
    if not found:
        turn.say(messages.STEPS_NONE)
        return
    lines = [messages.STEPS_HEAD]
    today = turn.today.isoformat()
    for n, step in enumerate(found, 1):
        due = messages.STEPS_DUE if step.due_date <= today else ""
        lines.append(f"{n}. {step.title or step.text} — by {day(step.due_date)}{due}")
        if step.idea:
            lines.append(f"   Why: {step.idea}")
    lines.append(messages.STEPS_MARK)
    turn.say("\n".join(lines))


def mark_step(ctx: Context, turn: Turn, number: int, outcome: str) -> None:
    """`done 2` and the like: record how the second open step (soonest first) went. At the
    menu, ask what they learned from it."""
    found = ctx.store.open_next_steps(turn.user_id)
    if not 1 <= number <= len(found):
        if found:
            turn.say(messages.STEPS_WHICH.format(count=len(found)))
        else:
            turn.say(messages.STEPS_NONE)
        return
    step = found[number - 1]
    new_due = None
    if outcome in ("not_yet", "partly"):
        new_due = (turn.today + dt.timedelta(days=7)).isoformat()
    ctx.store.record_outcome(step.id, outcome, None, new_due, turn.now_iso)
    title = step.title or step.text
    turn.say(messages.MARKED[outcome].format(title=title, date=day(new_due) if new_due else ""))
    at_menu = turn.live is None or turn.live.session.row.pending == "menu"
    if at_menu and outcome != "not_yet":
        turn.lobby_pending = f"{LEARNED_PENDING}{step.id}"
        ctx.store.set_user_pending(turn.user_id, turn.lobby_pending)


def history(ctx: Context, turn: Turn, page: int = 1) -> None:
    """Past conversations newest first: date, dialogue, what it was about, the steps chosen
    and how each went; a page at a time."""
    page = max(page, 1)
    offset = (page - 1) * PAGE
    # A listing line does not name the first suggestion: it is not read. One more is peeked
    # at, without its steps, to know whether another page follows.
    found = ctx.store.past_conversations(
        turn.user_id, limit=PAGE, offset=offset, top=False, peek=True
    )
    if not found:
        turn.say(messages.HISTORY_NONE if page == 1 else messages.HISTORY_NO_PAGE)
        return
    lines = [messages.HISTORY_HEAD]
    today = turn.today  # once a page, not once a line and step
    for n, past in enumerate(found[:PAGE], offset + 1):
        title, what = named(ctx, past)  # a line needs no more of what `entry` works out
        said = f" · {what}" if what and what != "—" else ""
        state = "" if past.status == "completed" else messages.UNFINISHED.get(past.status, "")
        lines.append(f"{n}. {on_day(past.date, today)} · {title}{said}{state}")
        if past.steps:
            outcomes = " · ".join([_outcome(s, today) for s in past.steps])
            lines.append(f"   {messages.HISTORY_STEPS}{outcomes}")
    lines.append(messages.HISTORY_SHOW.format(n=offset + 1))
    if len(found) > PAGE:
        lines.append(messages.HISTORY_MORE.format(page=page + 1))
    turn.say("\n".join(lines))


def _outcome(step: StepOutcome, today: dt.date) -> str:
    title = step.title
    if step.status == "open":
        label = messages.OUTCOME_OPEN.format(date=day(step.due_date))
        if step.outcome:
            label = f"{messages.OUTCOME_LABELS.get(step.outcome, step.outcome)}, {label}"
        return f"{title} ({label})"
    return f"{title} ({messages.OUTCOME_LABELS.get(step.outcome or '', step.outcome)})"


def show(ctx: Context, turn: Turn, number: int) -> None:
    """One past conversation in full: the reading it ended with (or the answers so far), and
    the steps it ended with and how they went."""
    offset = max(number, 1) - 1
    found = ctx.store.past_conversations(turn.user_id, limit=1, offset=offset, shown=True)
    if number < 1 or not found:
        turn.say(messages.SHOW_WHICH)
        return
    turn.out.append(BotMessage(in_full(ctx, found[0], number, turn.today)))


def in_full(ctx: Context, past: PastConversation, number: int, today: dt.date) -> str:
    """A past conversation (read with its stored reading, or its slots when it has none) as
    `show N` gives it: what a coach it is shared with reads first, unless its coachee
    corrected it. A finished one reads back the reading it ended with, as stored then; one
    finished before readings were stored has it rendered from its slots."""
    shown = entry(ctx, past, number)
    what = f" — {shown.other_party}" if shown.other_party != "—" else ""
    lines = [f"{number}. {shown.title}, {day(shown.date)}{what}"]
    loaded = ctx.catalog.dialogues.get(past.dialogue)
    runner = compile_dialogue(loaded).runner if loaded is not None else None
    slots = past.slots or {}
    said = None
    if shown.finished:
        said = past.reading or (reading(runner, slots) if runner is not None else None)
    if said:
        lines.append(said)
    elif runner is not None:
        answered = runner.answered(slots)
        lines.append(messages.SHOW_ANSWERS if answered else messages.SHOW_NO_ANSWERS)
        lines.extend(f"• {question}: {answer}" for question, answer in answered)
    if past.steps:
        lines.append(messages.SHOW_STEPS)
        for step in past.steps:
            learned = messages.SHOW_LEARNED.format(text=step.learned) if step.learned else ""
            lines.append(f"• {_outcome(step, today)}{learned}")
    return "\n".join(lines)
