"""Moving one dialogue on: starting it, answering its current step, finishing it, and the
question the user is being asked now (with what it awaits), menu and interruptions included.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from statemachine.exceptions import TransitionNotAllowed

from bot import answers, messages, remembering, templates
from bot.acknowledging import LAST_ACK
from bot.compiler import CompiledDialogue, compile_dialogue
from bot.engine import pinning, recall
from bot.engine.turn import (
    MENU_REF,
    Context,
    Live,
    Turn,
    conv_id,
    ref_of,
    remember,
    state_of,
    verify,
)
from bot.loader import LoadedDialogue
from bot.recap import ABOUT, LEFT, reading
from bot.recap import about as topic_of
from bot.schema import PUT_OFF, Dialogue, EndStep
from bot.session import Session
from bot.steps import CONTEXT_SLOTS
from bot.turns import NOTHING, Await, BotMessage, Choice, Reply, UserInput
from storage.store import ConversationRow, NextStep

#: What a conversation (or the menu) awaits after a safety interruption: carry on or stop…
SAFETY_PENDING = "safety"
#: …or, after a softer signal, "concern:<category>": are you safe, would you like support?
CONCERN_PENDING = "concern:"
#: At the menu (no conversation to keep it in), a safety question carries the sentence that
#: raised it after this mark, as JSON: carrying on offers to work on it.
HELD_MARK = "|"
#: At the menu, a sentence that seemed to want a dialogue: `suggest:{"id": …, "opening": …}`.
SUGGEST_PENDING = "suggest:"
#: At first contact: what would you like me to call you?
NAME_PENDING = "name"
#: After a step was marked from `steps`: `learned:<step id>`, what did you learn from it?
LEARNED_PENDING = "learned:"
#: Sharing with a coach, a question at a time: `share:{"stage": …, "ask": …, "choices": …}`
#: (the question is kept with it, so it can be asked again as it was).
SHARE_PENDING = "share:"
#: At the menu, a sentence that seemed to be news of an open step: `report:{"text": …,
#: "steps": [ids], "titles": [titles]}`; the check-in of the step picked starts with it.
REPORT_PENDING = "report:"
#: The safety categories already answered in this conversation (a note is said once).
SAFETY_SEEN = "_safety_seen"

# == starting, answering, finishing =============================================================


def start(
    ctx: Context,
    turn: Turn,
    loaded: LoadedDialogue,
    *,
    follow_up: NextStep | None = None,
    opening: str | None = None,
    context: dict[str, Any] | None = None,
    about: int | None = None,
    ask_when_nothing: bool = True,
) -> bool:
    """Begin a dialogue; False if it could not start (nothing to look back on).

    A check-in pauses the current conversation; anything else sets it aside (kept in the
    history, marked abandoned), and one left before any answer is discarded. `opening` is
    what the user wrote at the menu that led here: dialogues read it back as the `opening`
    slot. What the coach remembers is offered back (`remember:`). `context` are slots the
    caller fills (a check-in's `open_steps`); a dialogue with `about:` starts with the past
    conversation in `then` (`about`, if it is one of the user's, else the latest), and is
    not started at all when there is none: its `about.none` is said instead (and, with
    `ask_when_nothing`, the question being asked again)."""
    looked_back = None
    if loaded.dialogue.about is not None:
        looked_back = recall.looking_back(ctx, turn.user_id, loaded.dialogue.about, about)
        if looked_back is None:
            turn.out.append(recall.nothing_to_look_back_on(loaded.dialogue.about))
            if ask_when_nothing:
                ask_again(ctx, turn)
            return False
    current = turn.live
    if current is not None:
        row = current.session.row
        if is_empty(row):
            discard(ctx, turn, current)
        elif follow_up is not None:
            row.status, row.pending = "paused", None
            row.slots.setdefault(LEFT, "set_aside")
        else:
            row.status, row.pending = "abandoned", None
            row.slots[ABOUT] = topic_of(current.session.compiled.dialogue, row.slots) or ""
            turn.say(messages.ABANDONED.format(title=current.session.compiled.dialogue.title))
        turn.touch(current)
    turn.attribute(conv_id(turn), state_of(turn))
    compiled: CompiledDialogue = compile_dialogue(loaded)
    pinning.keep(
        ctx.store, loaded, turn.now_iso
    )  # it finishes on this version, whatever edits come
    slots: dict[str, Any] = {
        "dialogue_title": loaded.dialogue.title,
        "today": turn.today.isoformat(),
    }
    if opening:
        slots["opening"] = opening
        # A note said about these words at the menu is not said again when they are read
        # back as the situation (the legal note for "evicting", say).
        noted = [note.category.id for note in ctx.safety.screen(opening).notes]
        if noted:
            slots[SAFETY_SEEN] = noted
    if compiled.runner.remembering:
        known = _known_at_start(ctx, turn, loaded)
        if known is not None:
            slots[remembering.KNOWN] = known
    if follow_up is not None:
        slots["step"] = recall.step_record(follow_up)
    slots.update(looked_back or {})
    slots.update(context or {})
    row = ConversationRow(
        id=0,
        user_id=turn.user_id,
        dialogue=loaded.dialogue.id,
        dialogue_version=loaded.dialogue.version,
        dialogue_digest=loaded.digest,
        state=None,
        status="active",
        pending=None,
        slots=slots,
        history=[],
        turn=0,
        follow_up_of=follow_up.id if follow_up else None,
        started_at=turn.now_iso,
        updated_at=turn.now_iso,
        revisit_of=recall.revisit_of(slots),
    )
    ctx.store.create_conversation(row)
    session = Session(row, compiled)
    live = Live(session, compiled.start(session))
    turn.live = live
    remember(ctx, turn.user_id, live)
    turn.touch(live)
    after_event(ctx, turn, live)
    return True


def answer(ctx: Context, turn: Turn, live: Live, text: str) -> None:
    """Apply the user's answer to the current step and move the machine on."""
    session = live.session
    session.slots["today"] = turn.today.isoformat()
    try:
        entry = live.runner.apply_answer(session.state, session, text, turn.today)
    except answers.InvalidAnswer as exc:
        if exc.keep:  # the user's own words, and a suggestion awaiting a yes or a no
            session.slots.update(exc.keep)
            turn.touch(live)
        turn.refused = True
        turn.say(str(exc))
        if exc.reask:
            ask_again(ctx, turn)
        return
    session.row.history.append(entry)
    turn.touch(live)
    recall.after_answer(ctx, live, entry)
    session.row.revisit_of = recall.revisit_of(session.slots)
    noted = live.runner.date_answered(entry["state"], session.slots)
    if noted:
        # "next friday" is ambiguous: say which day was understood.
        turn.say(messages.DATE_NOTED.format(date=templates.day(noted)))
    if session.known:  # "still so?" "yes": nothing new to acknowledge or to keep
        ack = None
    else:
        ack = live.runner.acknowledge(entry["state"], session.slots, text)
        if live.runner.remembering:
            kept = live.runner.person_answer(entry["state"], session.slots)
            if kept:
                turn.remember = {**(turn.remember or {}), **kept}
    said_so_far = len(session.outbox)
    try:
        live.session.compiled.send(live.machine, "answer")
    except TransitionNotAllowed:
        live.runner.undo(session, session.row.history.pop())
        turn.say(messages.PICK_ONE)
        ask_again(ctx, turn)
        return
    if ack is not None:
        # Between what reading the answer said and the next question.
        session.outbox.insert(said_so_far, BotMessage(ack))
        session.slots[LAST_ACK] = ack
    after_event(ctx, turn, live)


def _known_at_start(ctx: Context, turn: Turn, loaded: LoadedDialogue) -> dict[str, Any] | None:
    """What a new conversation of a remembering dialogue starts knowing: answers about the
    person, and the situation of their last finished conversation of it."""
    steps = remembering.remembering_steps(loaded.dialogue).values()
    person = ctx.store.known_of(turn.user_id)
    past = None
    if any(s.remember is not None and s.remember.scope == "situation" for s in steps):
        past = ctx.store.latest_completed(turn.user_id, loaded.dialogue.id, full=True)
    return remembering.known_answers(loaded.dialogue, person, past)


def is_empty(row: ConversationRow) -> bool:
    """Left before a single answer, with nothing of theirs in it and nothing asked of them
    (a safety question waits for its answer): there is nothing to come back to."""
    slots = row.slots
    return (
        not row.history
        and row.pending in (None, "menu", "resume")
        and not slots.get("opening")
        and not slots.get("_held")
        and not any(v for k, v in slots.items() if k.endswith("_note"))
    )


def discard(ctx: Context, turn: Turn, live: Live) -> None:
    """Set aside a conversation left before any answer: not offered again, not in history."""
    row = live.session.row
    row.status, row.pending = "discarded", None
    turn.touch(live)
    if turn.live is live:
        turn.live = None
    cached = ctx.cache.get(turn.user_id)
    if cached is live:
        ctx.cache.pop(turn.user_id, None)


def restart(ctx: Context, turn: Turn, live: Live) -> None:
    """Start the live dialogue again from its first step, keeping what the user told us of
    themselves (the context slots) and which safety notices they have seen."""
    session = live.session
    kept = {k: v for k, v in session.slots.items() if k in CONTEXT_SLOTS or k == SAFETY_SEEN}
    session.slots.clear()
    session.slots.update(kept)
    session.slots["today"] = turn.today.isoformat()
    session.row.history.clear()
    session.row.pending = None
    session.row.status = "active"
    turn.touch(live)
    turn.say(messages.RESTARTED.format(title=session.compiled.dialogue.title))
    live.session.compiled.send(live.machine, "restart")
    after_event(ctx, turn, live)


def after_event(ctx: Context, turn: Turn, live: Live) -> None:
    """Collect what the machine said, store what steps asked for, finish if at the end."""
    session = live.session
    turn.out.extend(session.take_outbox())
    for effect in session.effects:
        if effect.kind == "outcome" and session.row.follow_up_of is not None:
            status = effect.data.get("status")
            if status == PUT_OFF:  # "later": asked again tomorrow, nothing recorded
                tomorrow = (turn.today + dt.timedelta(days=1)).isoformat()
                ctx.store.snooze_next_step(session.row.follow_up_of, tomorrow, turn.now_iso)
            elif status:
                ctx.store.record_outcome(
                    session.row.follow_up_of,
                    str(status),
                    effect.data.get("learned"),
                    effect.data.get("new_due"),
                    turn.now_iso,
                )
    session.effects.clear()
    if session.completed:
        complete(ctx, turn, live)


def complete(ctx: Context, turn: Turn, live: Live) -> None:
    """Close a finished dialogue and store the next steps it produced. What comes after it
    is not decided here: `turn.completed` tells the entry point to choose."""
    row = live.session.row
    slots = live.session.slots
    row.status = "completed"
    row.completed_at = turn.now_iso
    row.slots[ABOUT] = topic_of(live.session.compiled.dialogue, row.slots) or ""
    # The reading it ends with, kept as said, so `show N` reads it back instead of rendering
    # the summary again ("" for a dialogue without one).
    row.reading = reading(live.runner, row.slots) or ""
    row.revisit_of = recall.revisit_of(slots)
    commitments = slots.get("commitments") or []
    added = [c for c in commitments if not c.get("step_id")]
    if added:
        ctx.store.add_next_steps(row.id, turn.user_id, added, turn.now_iso)
    for again in commitments:  # an open step taken on again: a new date, not a new step
        if again.get("step_id"):
            ctx.store.redate_next_step(
                int(again["step_id"]), turn.user_id, str(again["due_date"]), turn.now_iso
            )
    _, end, _ = live.runner.resolve(row.state or "")
    if isinstance(end, EndStep) and end.next_dialogue is not None:
        turn.following = (end.next_dialogue, recall.subject_of(slots))
    turn.finished_follow_up = row.follow_up_of is not None
    turn.touch(live)
    turn.attribute(row.id, row.state)  # the goodbye belongs to the finished conversation
    turn.live = None
    ctx.cache.pop(turn.user_id, None)
    turn.completed = True


# == what the bot asks ===========================================================================


def question(ctx: Context, live: Live | None, lobby: str | None = None) -> list[BotMessage]:
    """The question the user is being asked now, to show it again.

    `lobby` is what a safety interruption at the menu (no conversation) asked, if anything.
    """
    if live is None or live.session.row.pending == "menu":
        prompt = lobby_prompt(ctx, lobby)
        return [prompt if prompt is not None else menu_message(ctx, live)]
    row = live.session.row
    prompt = safety_prompt(ctx, row.pending)
    if prompt is not None:
        return [prompt]
    if row.pending == "resume":
        return [BotMessage(messages.RESUME_PROMPT, resume_choices())]
    if row.pending == "menu":
        return [menu_message(ctx, live)]
    return [live.runner.prompt(live.session.state, live.session.slots)]


def awaits(ctx: Context, live: Live | None, lobby: str | None = None) -> Await:
    """What the question being asked now awaits (for channels that draw controls)."""
    if live is None or live.session.row.pending == "menu":
        prompt = lobby_prompt(ctx, lobby)
        shown = prompt if prompt is not None else menu_message(ctx, live)
        if prompt is not None and not prompt.choices:  # a `share` asking for the summary
            return Await("text", ref=MENU_REF)
        return Await("choice", shown.choices, ref=MENU_REF)
    row = live.session.row
    prompt = safety_prompt(ctx, row.pending)
    if prompt is not None:
        return Await("choice", prompt.choices, ref=live.session.ref)
    if row.pending == "resume":
        return Await("choice", resume_choices(), ref=live.session.ref)
    return live.runner.awaits(live.session.state, live.session.slots, live.session.ref)


def ask_again(ctx: Context, turn: Turn) -> None:
    turn.out.extend(question(ctx, turn.live, turn.lobby_pending))


def explain(ctx: Context, turn: Turn, live: Live, asked: str) -> bool:
    """Answer a user who asks about the question ("why do you need to know that?", "what
    do you mean?") and ask it again; False where nothing is being asked. Why: the step's
    `why`, else its hint; what it means: the hint, else the `why`."""
    state = live.session.state
    if (
        not state
        or live.session.row.pending is not None
        or not live.session.compiled.waits_at(state)
    ):
        return False
    slots = live.session.slots
    why, hint = live.runner.why(state, slots), live.runner.hint(state, slots)
    said = (why or hint) if asked == "why" else (hint or why)
    turn.say(
        messages.ABOUT_THE_QUESTION.format(said=said) if said else messages.ABOUT_THE_QUESTION_PLAIN
    )
    ask_again(ctx, turn)
    return True


#: The menu's choices for the listed dialogues, kept with the list they were made from: a
#: turn at the menu asks for them twice (the question and what it awaits), and each `Choice`
#: checks its label for control characters as it is made.
_menu_choices: tuple[list[Dialogue], tuple[Choice, ...]] | None = None


def menu_message(ctx: Context, paused: Live | None, text: str = messages.MENU) -> BotMessage:
    """The menu: every listed dialogue, after "Carry on" when a conversation is paused."""
    global _menu_choices
    listed = ctx.catalog.listed()  # the same list until the catalog's dialogues change
    if _menu_choices is None or _menu_choices[0] is not listed:
        _menu_choices = (listed, tuple(Choice(d.id, d.title) for d in listed))
    choices = _menu_choices[1]
    if paused is not None:
        title = paused.session.compiled.dialogue.title
        choices = (Choice("resume", f"Carry on: {title}"), *choices)
    if not choices:
        return BotMessage(messages.NOTHING_LOADED)
    return BotMessage(text, choices)


def safety_choices(ctx: Context) -> tuple[Choice, ...]:
    """After a danger signal (or the support places): carry on, or stop here."""
    config = ctx.safety.config
    return (Choice("carry_on", config.continue_label), Choice("stop", config.stop_label))


def concern_choices(ctx: Context) -> tuple[Choice, ...]:
    """After a softer signal: are you safe, and would you like the places to get support?"""
    labels = ctx.safety.config.concern_labels
    return (
        Choice("support", labels.support),
        Choice("carry_on", labels.carry_on),
        Choice("unsafe", labels.unsafe),
        Choice("stop", labels.stop),
    )


def safety_prompt(ctx: Context, pending: str | None) -> BotMessage | None:
    """The question a safety interruption asked and awaits an answer to, if `pending` is one:
    `safety` (carry on or stop) or `concern:<category>` (are you safe?)."""
    if pending is not None:
        pending = pending.partition(HELD_MARK)[0]  # at the menu, what they wrote rides along
    if pending == SAFETY_PENDING:
        return BotMessage(messages.SAFETY_ASK, safety_choices(ctx))
    if pending is not None and pending.startswith(CONCERN_PENDING):
        return BotMessage(ctx.safety.config.concern_ask, concern_choices(ctx))
    return None


def resume_choices() -> tuple[Choice, ...]:
    return (
        Choice("resume", messages.RESUME_LABEL),
        Choice("restart", messages.RESTART_LABEL),
        Choice("menu", messages.MENU_LABEL),
    )


def lobby_prompt(ctx: Context, pending: str | None) -> BotMessage | None:
    """What the coach asked at the menu and awaits: a safety question, or whether to start
    the dialogue a sentence typed there seemed to want."""
    suggested = suggestion_of(ctx, pending)
    if suggested is not None:
        title = suggested[0].dialogue.title
        return BotMessage(messages.MENU_SUGGEST_ASK.format(title=title), suggest_choices())
    if pending == NAME_PENDING:
        return menu_message(ctx, None, messages.NAME_ASK)
    reported = report_of(pending)
    if reported is not None:
        steps = list(zip(reported["steps"], reported["titles"], strict=True))
        if len(steps) == 1:
            ask = messages.REPORT_ASK_ONE.format(title=steps[0][1])
            return BotMessage(ask, report_yes_no())
        choices = [Choice(str(step_id), title) for step_id, title in steps]
        return BotMessage(messages.REPORT_ASK_WHICH, (*choices, Choice("no", messages.REPORT_NONE)))
    if pending is not None and pending.startswith(LEARNED_PENDING):
        return BotMessage(messages.LEARNED_ASK, (Choice("skip", messages.LEARNED_SKIP),))
    shared = share_question(pending)
    if shared is not None:
        return shared
    return safety_prompt(ctx, pending)


def share_question(pending: str | None) -> BotMessage | None:
    """The question a `share` under way asks, if `pending` is one."""
    if pending is None or not pending.startswith(SHARE_PENDING):
        return None
    try:
        data = json.loads(pending.removeprefix(SHARE_PENDING))
        choices = tuple(Choice(str(v), str(label)) for v, label in data.get("choices", []))
        return BotMessage(str(data["ask"]), choices)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def suggestion_of(ctx: Context, pending: str | None) -> tuple[LoadedDialogue, str | None] | None:
    """The dialogue a pending menu suggestion names, and the sentence that led to it."""
    if pending is None or not pending.startswith(SUGGEST_PENDING):
        return None
    try:
        data = json.loads(pending.removeprefix(SUGGEST_PENDING))
        loaded = ctx.catalog.dialogues.get(str(data["id"]))
    except (ValueError, KeyError, TypeError):
        return None
    if loaded is None:
        return None
    opening = data.get("opening")
    return loaded, opening if isinstance(opening, str) else None


def report_of(pending: str | None) -> dict[str, Any] | None:
    """What a pending offer to check in on a step holds (the sentence, the steps' ids and
    titles), if `pending` is one."""
    if pending is None or not pending.startswith(REPORT_PENDING):
        return None
    try:
        data = json.loads(pending.removeprefix(REPORT_PENDING))
        if not isinstance(data["text"], str) or len(data["steps"]) != len(data["titles"]):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return data if data["steps"] else None


def report_yes_no() -> tuple[Choice, ...]:
    return (Choice("yes", messages.REPORT_YES), Choice("no", messages.REPORT_NO))


def suggest_choices() -> tuple[Choice, ...]:
    return (Choice("yes", messages.MENU_SUGGEST_YES), Choice("no", messages.MENU_SUGGEST_NO))


def check_input(ctx: Context, turn: Turn, message: UserInput) -> Reply | None:
    """Empty input and answers to a question that moved on change nothing."""
    live = turn.live
    if message.ref is not None and message.ref != ref_of(live):
        verify(ctx, turn)  # stale against what is stored, not only against memory
        lobby = turn.lobby_pending
        out = [BotMessage(messages.STALE), *question(ctx, live, lobby)]
        return Reply(tuple(out), awaits(ctx, live, lobby), stale=True)
    if not message.text.strip():
        again = question(ctx, live, turn.lobby_pending)
        first = BotMessage(messages.EMPTY.format(again=messages.ASK_AGAIN).strip())
        return Reply((first, *again), awaits(ctx, live, turn.lobby_pending))
    return None


def reply(ctx: Context, turn: Turn) -> Reply:
    """Everything the turn said, and what the question now being asked awaits."""
    shown = NOTHING if (turn.ended or turn.paused) else awaits(ctx, turn.live, turn.lobby_pending)
    return Reply(tuple(turn.out), shown, ended=turn.ended, refused=turn.refused)
