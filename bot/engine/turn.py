"""The turn itself, the engine's ground floor: what one turn says and changes, the live machines
kept in memory, and writing it all in the turn's transaction. Knows no dialogue logic.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statemachine import StateMachine

from bot import messages
from bot.compiler import compile_dialogue
from bot.engine import pinning
from bot.errors import DialogueLoop, StorageError, TemplateTooCostly
from bot.loader import Catalog
from bot.safety import SafetyDetector
from bot.session import Session
from bot.turns import BotMessage, Choice, Reply
from storage.store import ConversationRow, MessageRow, Store

log = logging.getLogger("coach.engine")

Clock = Callable[[], dt.datetime]
MENU_REF = "menu"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class EngineSettings:
    """Limits a deployment may tune: idle time before a recap, message size, cache size."""

    idle_after: dt.timedelta = dt.timedelta(days=7)
    max_chars: int = 4000
    live_cache_size: int = 1024


@dataclass
class Live:
    """A conversation with its machine kept in memory: building a machine costs a lot."""

    session: Session
    machine: StateMachine

    @property
    def runner(self) -> Any:
        return self.session.compiled.runner


class StaleCache(Exception):
    """The live conversation kept in memory is not the stored one (another process wrote
    it): the turn is rolled back and run again from the store."""


def local_date(now: dt.datetime, zone: dt.tzinfo | None) -> dt.date:
    """The date it is at `now` where the person is (in UTC when their zone is unknown)."""
    return now.astimezone(zone).date() if zone is not None else now.date()


@dataclass
class Turn:
    """What one turn has said and changed, written together at the end."""

    user_id: str
    now: dt.datetime
    first_contact: bool
    live: Live | None = None
    out: list[BotMessage] = field(default_factory=list)
    rows: list[MessageRow] = field(default_factory=list)
    touched: dict[int, Live] = field(default_factory=dict)
    ended: bool = False
    paused: bool = False
    refused: bool = False
    notice_only: bool = False
    #: A dialogue finished during the turn: what follows it (a due check-in, a paused
    #: conversation, the menu) is decided by the entry point, which knows all of those.
    completed: bool = False
    #: The dialogue the finished one's end step leads to, and the past conversation it is
    #: then about (a check-in that leads to a revisit of the diagnosis its step came from).
    following: tuple[str, int | None] | None = None
    #: The dialogue that finished was a follow-up (a check-in): the next one says "next".
    finished_follow_up: bool = False
    attributed: int = 0
    #: The conversation taken from memory without asking the store; checked when written.
    unverified: Live | None = None
    #: What a safety interruption at the menu (no conversation) asked: kept on the user.
    lobby_pending: str | None = None
    #: Whether to ask what to call them at first contact (a channel with a directory of
    #: names, Slack, says instead).
    ask_name: bool = True
    #: Answers about the person to remember (`remember: {scope: person}`), by slot.
    remember: dict[str, Any] | None = None
    #: The person's own time zone, when their channel knows it: their "today" (dates they
    #: type, due dates) is theirs, while `now` stays in UTC for what is stored.
    zone: dt.tzinfo | None = None
    #: `now` as stored: formatted once (a cached_property takes a lock on every first read).
    now_iso: str = field(init=False)

    def __post_init__(self) -> None:
        self.now_iso = self.now.isoformat()

    @property
    def today(self) -> dt.date:
        return local_date(self.now, self.zone)

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        self.out.append(BotMessage(text, choices))

    def touch(self, live: Live) -> None:
        self.touched[id(live)] = live

    def attribute(self, conversation_id: int | None, state: str | None) -> None:
        """Record the bot messages said so far as belonging to this conversation and state."""
        self.rows.extend(
            MessageRow("bot", transcript_text(m), state, conversation_id)
            for m in self.out[self.attributed :]
        )
        self.attributed = len(self.out)


@dataclass(slots=True)
class Context:
    """What every handler works against, built once per engine: the store, the catalog, the
    settings, and what this process keeps in memory between turns."""

    store: Store
    catalog: Catalog
    settings: EngineSettings
    safety: SafetyDetector
    #: Live conversations by user, least recently used first.
    cache: OrderedDict[str, Live] = field(default_factory=OrderedDict)
    #: Users whose row this process has already written (their first turn is behind them).
    known_users: set[str] = field(default_factory=set)
    #: Earlier dialogue versions rebuilt from the store for conversations pinned to them.
    pinned: pinning.Rebuilt = field(default_factory=OrderedDict)


def clean(text: str) -> str:
    """Text that can be stored: undecodable bytes (lone surrogates) become U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8")


def transcript_text(message: BotMessage) -> str:
    if not message.choices:
        return message.text
    options = " | ".join(c.label for c in message.choices)
    return f"{message.text}\n[options: {options}]"


def conv_id(turn: Turn) -> int | None:
    return turn.live.session.row.id if turn.live else None


def state_of(turn: Turn) -> str | None:
    if turn.live is None:
        return "menu"
    return turn.live.session.state


def ref_of(live: Live | None) -> str:
    if live is None or live.session.row.pending == "menu":
        return MENU_REF
    return live.session.ref


def ensure_user(
    ctx: Context, user_id: str, channel: str, display_name: str | None, now: dt.datetime
) -> bool:
    """Create the user on first contact (True while they have said nothing yet).

    Users already seen by this process skip the write: every turn's message numbering
    updates their row (and when they were last seen) anyway.
    """
    if user_id in ctx.known_users:
        return False
    first = ctx.store.ensure_user(user_id, channel, display_name, now.isoformat())
    if not first:
        ctx.known_users.add(user_id)
    return first


def persist(ctx: Context, turn: Turn) -> None:
    """Write every conversation the turn touched, then its messages (inside its transaction)."""
    for live in turn.touched.values():
        row = live.session.row
        # A conversation from memory is written only over the turn it was read at.
        expected = row.turn if live is turn.unverified else None
        row.turn += 1
        row.updated_at = turn.now_iso
        if not ctx.store.save_conversation(row, expect_turn=expected):
            raise StaleCache
        if live is turn.unverified:
            turn.unverified = None
    verify(ctx, turn)
    if turn.remember:
        ctx.store.remember(turn.user_id, turn.remember)
    turn.attribute(conv_id(turn), state_of(turn))
    ctx.store.add_messages(turn.user_id, turn.rows, turn.now_iso)


def failed(ctx: Context, user_id: str, exc: Exception) -> Reply:
    """The reply to a turn that was rolled back; memory forgets the user so as not to run
    ahead of the store. Never a traceback in front of a user."""
    ctx.cache.pop(user_id, None)
    ctx.known_users.discard(user_id)
    if isinstance(exc, StorageError):
        log.warning("turn not saved: %s", exc)
        return Reply((BotMessage(str(exc)),), failed=True)
    if isinstance(exc, DialogueLoop):  # names only the dialogue and a step, never the user
        log.error("turn not saved: %s", exc)
        return Reply((BotMessage(messages.DIALOGUE_LOOP),), failed=True)
    if isinstance(exc, TemplateTooCostly):  # names only what the template asked for
        log.error("turn not saved: %s", exc)
        return Reply((BotMessage(messages.TEMPLATE_TOO_COSTLY),), failed=True)
    frames = traceback.extract_tb(exc.__traceback__)
    where = ", ".join(f"{f.name}:{f.lineno}" for f in frames[-4:])
    # Only the type and code location: exception text may quote the user.
    log.error("turn failed: %s at %s", type(exc).__name__, where)
    return Reply((BotMessage(messages.INTERNAL_ERROR),), failed=True)


# == live conversations ==========================================================================


def current(ctx: Context, user_id: str, turn: Turn | None = None) -> Live | None:
    """The user's live conversation, from memory when the store agrees it is current.

    Within a turn, a conversation that cannot continue (its dialogue was removed, or
    changed so that its question no longer exists) is set aside with a note instead.
    """
    cache = ctx.cache
    cached = cache.get(user_id)
    if cached is not None:
        kept = cached.session.row
        if kept.status in ("active", "paused") and (
            turn is not None or ctx.store.conversation_turn(kept.id) == kept.turn
        ):
            # Within a turn it is checked when written (one statement fewer a turn).
            if turn is not None:
                turn.unverified = cached
            cache.move_to_end(user_id)
            return cached
        del cache[user_id]
    row = ctx.store.current_conversation(user_id)
    if row is None:
        return None
    live = restore(ctx, row)
    if live is not None:
        remember(ctx, user_id, live)
    elif turn is not None:
        loaded = ctx.catalog.dialogues.get(row.dialogue)
        if loaded is None:
            turn.say(messages.DIALOGUE_GONE.format(name=row.dialogue))
        else:
            turn.say(messages.VERSION_CHANGED.format(title=loaded.dialogue.title))
        row.status, row.pending = "abandoned", None
        row.turn += 1
        row.updated_at = turn.now_iso
        ctx.store.save_conversation(row)
        turn.notice_only = True
    return live


def verify(ctx: Context, turn: Turn) -> None:
    """Check a conversation taken from memory against the store (another process may
    have written it); raise StaleCache if it moved on."""
    live, turn.unverified = turn.unverified, None
    if live is not None and ctx.store.conversation_turn(live.session.row.id) != (
        live.session.row.turn
    ):
        raise StaleCache


def remember(ctx: Context, user_id: str, live: Live) -> None:
    cache = ctx.cache
    cache[user_id] = live
    cache.move_to_end(user_id)
    while len(cache) > ctx.settings.live_cache_size:
        cache.popitem(last=False)


def restore(ctx: Context, row: ConversationRow) -> Live | None:
    """Rebuild a machine at the stored state, or None if it cannot continue as it was."""
    loaded = pinning.pinned(ctx.store, ctx.catalog, ctx.pinned, row)
    if loaded is None:
        return None
    compiled = compile_dialogue(loaded)
    session = Session(row, compiled)
    if not compiled.waits_at(row.state):
        return None
    if row.dialogue_digest != loaded.digest:
        row.dialogue_digest = loaded.digest
        row.dialogue_version = loaded.dialogue.version
    return Live(session, compiled.restore(session))
