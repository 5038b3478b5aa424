"""Sharing with a coach, from the coachee's side: `share` asks with whom and what (one
conversation, shown first as the coach will read it and correctable, or all future ones),
`shared` lists what is shared, `unshare` takes it back at once.

`share` asks at the menu, a question at a time (`SHARE_PENDING` on the user, with the
question itself), so a conversation under way is set aside as `menu` sets it aside; it is
never asked past a safety question. The summary a coachee corrects is kept on its own; the
conversation itself is never changed.
"""

from __future__ import annotations

import json
from typing import Any

from bot import messages, understanding
from bot.engine.memory import entry, in_full
from bot.engine.menu import show_menu
from bot.engine.progress import (
    SHARE_PENDING,
    ask_again,
    discard,
    is_empty,
    safety_prompt,
    share_question,
)
from bot.engine.turn import Context, Turn
from bot.recap import LEFT, about, on_day
from storage.sharing import Share

#: Conversations offered by number (`history` has the rest, and any number is taken).
OFFERED = 5
CANCEL_WORDS = frozenset({"cancel", "no", "stop", "never mind", "nevermind", "nothing", "none"})
THIS_WORDS = frozenset(
    {"this", "this one", "last", "the last one", "last one", "this conversation", "the last"}
)
FUTURE_WORDS = frozenset({"future", "all future", "all future ones", "from now on", "all"})


def start(ctx: Context, turn: Turn) -> None:
    """`share`: which coach? (Never past a safety question, which is asked again.)"""
    live = turn.live
    pending = live.session.row.pending if live is not None else turn.lobby_pending
    if safety_prompt(ctx, pending) is not None:
        turn.say(messages.SHARE_AFTER_SAFETY)
        ask_again(ctx, turn)
        return
    coaches = ctx.store.coaches()
    if not coaches:
        turn.say(messages.SHARE_NO_COACHES)
        ask_again(ctx, turn)
        return
    if live is not None and live.session.row.pending != "menu":
        # Set aside as `menu` does: carried on from the menu once the sharing is done.
        if is_empty(live.session.row):
            discard(ctx, turn, live)
        else:
            live.session.row.status = "paused"
            live.session.row.pending = "menu"
            live.session.slots[LEFT] = "menu"
            turn.touch(live)
    choices = [[str(c.id), c.name] for c in coaches]
    _ask(ctx, turn, {"stage": "coach"}, messages.SHARE_WHICH_COACH, choices)


def drop_unfinished(ctx: Context, turn: Turn) -> None:
    """A new chat: a `share` left unanswered is behind them (nothing was shared), so what
    they type next is never read as its answer."""
    pending = turn.lobby_pending or ctx.store.user_pending(turn.user_id)
    if pending is not None and pending.startswith(SHARE_PENDING):
        turn.lobby_pending = None
        ctx.store.set_user_pending(turn.user_id, None)


def answer(ctx: Context, turn: Turn, text: str) -> bool:
    """The answer to a question `share` asked; False if none was asked."""
    data = _pending(turn.lobby_pending)
    if data is None:
        return False
    said = " ".join(text.lower().split()).strip(" .!")
    if said in CANCEL_WORDS and data.get("stage") != "correct":
        _finish(ctx, turn, messages.SHARE_CANCELLED)
        return True
    if data.get("stage") == "coach":
        _coach_picked(ctx, turn, data, said)
    elif data.get("stage") == "what":
        _what_picked(ctx, turn, data, said)
    elif data.get("stage") == "confirm":
        _confirmed(ctx, turn, data, said)
    elif data.get("stage") == "correct":
        _corrected(ctx, turn, data, text.strip())
    else:
        _finish(ctx, turn, messages.SHARE_CANCELLED)
    return True


def _coach_picked(ctx: Context, turn: Turn, data: dict[str, Any], said: str) -> None:
    picked = _pick(said, data["choices"], loose=True)
    coach = next((c for c in ctx.store.coaches() if str(c.id) == picked), None)
    if coach is None:
        _again(ctx, turn)
        return
    choices = [
        [str(n), _label(ctx, past, n, turn)]
        for n, past in enumerate(ctx.store.past_conversations(turn.user_id, limit=OFFERED), 1)
    ]
    choices.append(["future", messages.SHARE_FUTURE_LABEL])
    choices.append(["cancel", messages.SHARE_CANCEL_LABEL])
    state = {"stage": "what", "coach": coach.id, "name": coach.name}
    _ask(ctx, turn, state, messages.SHARE_WHAT.format(coach=coach.name), choices)


def _what_picked(ctx: Context, turn: Turn, data: dict[str, Any], said: str) -> None:
    coach_id, name = int(data["coach"]), str(data["name"])
    if said in THIS_WORDS:
        said = "1"
    picked = said if said.isdigit() else _pick(said, data["choices"], loose=True)
    if picked is None and said in FUTURE_WORDS:
        picked = "future"
    if picked == "cancel":
        _finish(ctx, turn, messages.SHARE_CANCELLED)
        return
    if picked == "future":
        ctx.store.share(turn.user_id, coach_id, None, turn.now_iso)
        _finish(ctx, turn, messages.SHARE_FUTURE_DONE.format(coach=name))
        return
    if picked is None or not picked.isdigit():
        _again(ctx, turn)
        return
    number = int(picked)
    found = ctx.store.past_conversations(turn.user_id, limit=1, offset=number - 1, full=True)
    if number < 1 or not found:
        turn.say(messages.SHARE_NO_NUMBER.format(n=number))
        ask_again(ctx, turn)
        return
    past = found[0]
    summary = ctx.store.shared_summary(past.id) or in_full(ctx, past, number, turn.today)
    state = {
        "stage": "confirm",
        "coach": coach_id,
        "name": name,
        "conversation": past.id,
        "what": _label(ctx, past, number, turn),
    }
    choices = [
        ["share", messages.SHARE_AS_IS],
        ["correct", messages.SHARE_CORRECT],
        ["cancel", messages.SHARE_CANCEL_LABEL],
    ]
    ask = messages.SHARE_PREVIEW.format(coach=name, summary=summary)
    _ask(ctx, turn, state, ask, choices)


def _confirmed(ctx: Context, turn: Turn, data: dict[str, Any], said: str) -> None:
    picked = "share" if said in ("yes", "y", "ok", "share") else _pick(said, data["choices"])
    if picked == "share":
        _share_one(ctx, turn, data)
    elif picked == "correct":
        state = {**data, "stage": "correct"}
        _ask(ctx, turn, state, messages.SHARE_CORRECT_ASK.format(coach=data["name"]), [])
    elif picked == "cancel":
        _finish(ctx, turn, messages.SHARE_CANCELLED)
    else:
        _again(ctx, turn)


def _corrected(ctx: Context, turn: Turn, data: dict[str, Any], text: str) -> None:
    if not text:
        _again(ctx, turn)
        return
    ctx.store.set_shared_summary(turn.user_id, int(data["conversation"]), text, turn.now_iso)
    _share_one(ctx, turn, data, corrected=True)


def _share_one(ctx: Context, turn: Turn, data: dict[str, Any], *, corrected: bool = False) -> None:
    name = str(data["name"])
    if ctx.store.share(turn.user_id, int(data["coach"]), int(data["conversation"]), turn.now_iso):
        said = messages.SHARE_DONE.format(coach=name, what=data["what"])
    else:
        said = messages.SHARE_ALREADY.format(coach=name)
    if corrected:
        said += " " + messages.SHARE_DONE_CORRECTED.format(coach=name)
    _finish(ctx, turn, said)


# == what is shared, and taking it back ==========================================================


def listed(ctx: Context, turn: Turn) -> list[tuple[Share, str]]:
    """The user's shares in force, each with how `shared` names it."""
    found = []
    for share in ctx.store.shares_of(turn.user_id):
        if share.conversation_id is None:
            date = on_day(share.created_at, turn.today)
            line = messages.SHARED_FUTURE.format(coach=share.coach_name, date=date)
        else:
            what = _conversation_label(ctx, share.conversation_id, turn)
            line = messages.SHARED_ONE.format(coach=share.coach_name, what=what)
        found.append((share, line))
    return found


def shared(ctx: Context, turn: Turn) -> None:
    """`shared`: what is shared, with whom, numbered for `unshare N`."""
    found = listed(ctx, turn)
    if not found:
        turn.say(messages.SHARED_NONE)
        return
    lines = [messages.SHARED_HEAD]
    lines.extend(f"{n}. {line}" for n, (_, line) in enumerate(found, 1))
    lines.append(messages.SHARED_UNSHARE)
    turn.say("\n".join(lines))


def unshare(ctx: Context, turn: Turn, which: str | None) -> None:
    """`unshare N` (as `shared` numbers them) or `unshare all`, at once; `unshare` alone
    lists them."""
    found = listed(ctx, turn)
    if not found:
        turn.say(messages.SHARED_NONE)
        return
    if which == "all":
        ctx.store.revoke_shares(turn.user_id, None, turn.now_iso)
        turn.say(messages.UNSHARE_ALL_DONE)
        return
    number = int(which) if which is not None and which.isdigit() else 0
    if not 1 <= number <= len(found):
        if which is None:
            shared(ctx, turn)
        else:
            verb = "is" if len(found) == 1 else "are"
            turn.say(messages.UNSHARE_WHICH.format(verb=verb, count=len(found)))
        return
    share, _ = found[number - 1]
    ctx.store.revoke_shares(turn.user_id, [share.id], turn.now_iso)
    what = (
        messages.SHARE_FUTURE_LABEL[0].lower() + messages.SHARE_FUTURE_LABEL[1:]
        if share.conversation_id is None
        else _conversation_label(ctx, share.conversation_id, turn)
    )
    turn.say(messages.UNSHARE_DONE.format(coach=share.coach_name, what=what))


# == helpers =======================================================================================


def _pending(pending: str | None) -> dict[str, Any] | None:
    if share_question(pending) is None or pending is None:
        return None
    data = json.loads(pending.removeprefix(SHARE_PENDING))
    return data if isinstance(data, dict) else None


def _ask(
    ctx: Context, turn: Turn, state: dict[str, Any], ask: str, choices: list[list[str]]
) -> None:
    state = {**state, "ask": ask, "choices": choices}
    turn.lobby_pending = SHARE_PENDING + json.dumps(state)
    ctx.store.set_user_pending(turn.user_id, turn.lobby_pending)
    ask_again(ctx, turn)


def _again(ctx: Context, turn: Turn) -> None:
    turn.say(messages.SHARE_NOT_UNDERSTOOD.format(ask="").strip())
    ask_again(ctx, turn)


def _finish(ctx: Context, turn: Turn, said: str) -> None:
    turn.lobby_pending = None
    ctx.store.set_user_pending(turn.user_id, None)
    turn.say(said)
    show_menu(ctx, turn)


def _pick(said: str, choices: list[list[str]], *, loose: bool = False) -> str | None:
    """The value of the choice `said` names: its number, its value or its label (or the
    one label it begins), else the one option its words name ("the Mark one", "the first").
    `loose`: a single near reading counts too ("the diagnosis"), where a preview and a
    confirmation follow before anything is shared."""
    if said.isdigit() and 1 <= int(said) <= len(choices):
        return choices[int(said) - 1][0]
    for value, label in choices:
        if said in (value.lower(), label.lower()):
            return value
    starting = [value for value, label in choices if said and label.lower().startswith(said)]
    if len(starting) == 1:
        return starting[0]
    table = understanding.ChoiceTable(
        [understanding.Option(value, label) for value, label in choices]
    )
    reading = understanding.read_choices(said, table)
    named = reading.outcome == "picked" or (loose and reading.outcome == "suggest")
    return reading.values[0] if named and len(reading.values) == 1 else None


def _label(ctx: Context, past: Any, number: int, turn: Turn) -> str:
    shown = entry(ctx, past, number)
    what = f" · {shown.other_party}" if shown.other_party != "—" else ""
    return f"{on_day(shown.date, turn.today)} · {shown.title}{what}"


def _conversation_label(ctx: Context, conversation_id: int, turn: Turn) -> str:
    row = ctx.store.get_conversation(conversation_id)
    if row is None:
        return "a conversation"
    loaded = ctx.catalog.dialogues.get(row.dialogue)
    title = loaded.dialogue.title if loaded is not None else row.dialogue
    what = row.slots.get("_about")
    if what is None and loaded is not None:
        what = about(loaded.dialogue, row.slots)
    suffix = f" · {what}" if what else ""
    return f"the conversation of {on_day(row.started_at, turn.today)} · {title}{suffix}"
