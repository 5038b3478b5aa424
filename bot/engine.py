"""The dialogue engine: one entry point per user message, and no knowledge of any channel.

`Engine.handle(user, UserInput) -> Reply` runs one turn: safety first, then commands, then
the answer to the current step through the dialogue's state machine. The user's message, the
new state and the bot's reply are committed in one transaction before the reply is returned,
so an acknowledged turn is never lost and every conversation can be resumed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed

from bot import answers, messages, templates
from bot.compiler import CompiledDialogue, compile_dialogue
from bot.errors import StorageError
from bot.loader import Catalog, LoadedDialogue
from bot.safety import SafetyDetector
from bot.session import Session
from bot.steps import CONTEXT_SLOTS
from bot.turns import NOTHING, Await, BotMessage, Choice, Reply, UserInput
from storage.store import ConversationRow, MessageRow, NextStep, Store

log = logging.getLogger("coach.engine")

Clock = Callable[[], dt.datetime]
CHECKIN_DIALOGUE = "checkin"
MENU_REF = "menu"
COMMANDS = {
    "help": "help",
    "?": "help",
    "back": "back",
    "undo": "back",
    "restart": "restart",
    "start again": "restart",
    "start over": "restart",
    "pause": "pause",
    "summary": "summary",
    "quit": "quit",
    "exit": "quit",
    "bye": "quit",
    "menu": "menu",
}


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


class _StaleCache(Exception):
    """The live conversation kept in memory is not the stored one (another process wrote
    it): the turn is rolled back and run again from the store."""


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
    attributed: int = 0
    #: The conversation taken from memory without asking the store; checked when written.
    unverified: Live | None = None
    #: `now` as stored: formatted once (a cached_property takes a lock on every first read).
    now_iso: str = field(init=False)

    def __post_init__(self) -> None:
        self.now_iso = self.now.isoformat()

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        self.out.append(BotMessage(text, choices))

    def touch(self, live: Live) -> None:
        self.touched[id(live)] = live

    def attribute(self, conversation_id: int | None, state: str | None) -> None:
        """Record the bot messages said so far as belonging to this conversation and state."""
        self.rows.extend(
            MessageRow("bot", _transcript_text(m), state, conversation_id)
            for m in self.out[self.attributed :]
        )
        self.attributed = len(self.out)


@dataclass(frozen=True)
class PastDiagnosis:
    date: str
    other_party: str
    top_recommendation: str | None


@dataclass(frozen=True)
class Overview:
    """A user's situation at a glance: the current dialogue and step, plans, past diagnoses."""

    dialogue_title: str | None
    step_title: str | None
    status: str | None
    open_steps: list[NextStep]
    past_diagnoses: list[PastDiagnosis]


def _clean(text: str) -> str:
    """Text that can be stored: undecodable bytes (lone surrogates) become U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _transcript_text(message: BotMessage) -> str:
    if not message.choices:
        return message.text
    options = " | ".join(c.label for c in message.choices)
    return f"{message.text}\n[options: {options}]"


class Engine:
    """Runs every user's conversations against one store and one catalog of dialogues."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        *,
        settings: EngineSettings | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings or EngineSettings()
        self.clock = clock
        self.safety = SafetyDetector(catalog.safety)
        self._live: OrderedDict[str, Live] = OrderedDict()
        self._known_users: set[str] = set()
        self._lock = threading.RLock()

    # == public entry points ================================================================

    def open(
        self, user_id: str, *, channel: str = "terminal", display_name: str | None = None
    ) -> Reply:
        """The user starts a chat: due check-ins first, then where they were, else the menu."""
        return self._run(user_id, channel, display_name, None)

    def handle(
        self,
        user_id: str,
        message: UserInput,
        *,
        channel: str = "terminal",
        display_name: str | None = None,
    ) -> Reply:
        """One user message in, everything the bot says back out, durably stored first."""
        text = _clean(message.text or "").strip()
        if len(text) > self.settings.max_chars:
            note = messages.TOO_LONG.format(length=len(text), limit=self.settings.max_chars)
            return self._without_change(user_id, note)
        if text != message.text.strip():
            message = UserInput(text, ref=message.ref, delivery_id=message.delivery_id)
        return self._run(user_id, channel, display_name, message)

    def show_current(self, user_id: str, note: str) -> Reply:
        """A note, then the question the user is being asked now; nothing is stored.

        For a channel that cannot tell whether its last reply reached the user (it crashed
        while sending it): the conversation already moved on, so this is what to show.
        """
        return self._without_change(user_id, note)

    def current_awaits(self, user_id: str) -> Await:
        """What the user's current question awaits (for channels that draw controls)."""
        with self._lock:
            live = self._current(user_id)
            return self._awaits(live)

    def push_due_checkin(
        self, user_id: str, *, channel: str = "terminal", display_name: str | None = None
    ) -> Reply | None:
        """Start the check-in of a due next step unprompted (a channel's scheduled push).

        Each step is pushed once: the mark is written in the same transaction as the
        check-in, so a restart neither loses nor repeats it. None when nothing is due.
        """
        with self._lock:
            try:
                return self._push_due_checkin(user_id, channel, display_name)
            except BaseException:
                self._live.pop(user_id, None)  # memory must not run ahead of a rollback
                raise

    def _push_due_checkin(
        self, user_id: str, channel: str, display_name: str | None
    ) -> Reply | None:
        with self.store.transaction():
            now = self.clock()
            due = self.store.due_unreminded(user_id, now.date().isoformat())
            if not due:
                return None
            first = self._ensure_user(user_id, channel, display_name, now)
            turn = Turn(user_id, now, first)
            turn.live = self._current(user_id, turn)
            for step in due:
                self.store.mark_reminded(step.id, now.isoformat())
            loaded = self.catalog.dialogues.get(CHECKIN_DIALOGUE)
            if loaded is None:
                return None
            if turn.live is not None and turn.live.session.row.follow_up_of is not None:
                return None  # already in a check-in: the others follow when it ends
            turn.say(messages.CHECKIN_INTRO)
            self._start(turn, loaded, follow_up=due[0])
            self._persist(turn)
        return self._reply(turn)

    def overview(self, user_id: str) -> Overview:
        """Where the user is and what they have planned: for status commands and home tabs."""
        with self._lock:
            live = self._current(user_id)
            title = step = None
            if live is not None:
                title = live.session.compiled.dialogue.title
                state = live.session.state or ""
                states = live.machine.states_map
                step = states[state].name if state in states else state
            past = []
            for row in self.store.completed_conversations(user_id, "diagnose"):
                recs = row.slots.get("recommendations") or []
                loaded = self.catalog.dialogues.get(row.dialogue)
                top = None
                if recs and loaded is not None:
                    by_id = {r.id: r.title for r in loaded.dialogue.recommendations}
                    top = by_id.get(recs[0])
                past.append(
                    PastDiagnosis(
                        date=(row.completed_at or row.started_at)[:10],
                        other_party=str(row.slots.get("other_party") or "—"),
                        top_recommendation=top,
                    )
                )
            return Overview(
                dialogue_title=title,
                step_title=step,
                status=live.session.row.status if live else None,
                open_steps=self.store.open_next_steps(user_id),
                past_diagnoses=past,
            )

    def record_step_outcome(self, user_id: str, step_id: int, outcome: str) -> bool:
        """Mark one of the user's own next steps (a home-tab button); False if not theirs.

        `not_yet` and `partly` keep the step open and move its due date a week on.
        """
        with self._lock:
            step = self.store.get_next_step(step_id)
            if step is None or step.user_id != user_id or step.status != "open":
                return False
            now = self.clock()
            new_due = None
            if outcome in ("not_yet", "partly"):
                new_due = (now.date() + dt.timedelta(days=7)).isoformat()
            with self.store.transaction():
                self.store.record_outcome(step_id, outcome, None, new_due, now.isoformat())
            return True

    def forget(self, user_id: str) -> None:
        """Erase everything stored about the user, and any conversation held in memory."""
        with self._lock:
            self._live.pop(user_id, None)
            self._known_users.discard(user_id)
            self.store.erase_user(user_id)

    # == the turn ============================================================================

    def _run(
        self, user_id: str, channel: str, display_name: str | None, message: UserInput | None
    ) -> Reply:
        with self._lock:
            try:
                return self._run_once(user_id, channel, display_name, message)
            except _StaleCache:
                # Another process changed the conversation under our cached machine: the
                # turn was rolled back; run it again from what is stored.
                self._live.pop(user_id, None)
                return self._run_once(user_id, channel, display_name, message)

    def _run_once(
        self, user_id: str, channel: str, display_name: str | None, message: UserInput | None
    ) -> Reply:
        """One try at the turn; the caller holds the engine's lock."""
        try:
            with self.store.transaction():
                now = self.clock()
                first = self._ensure_user(user_id, channel, display_name, now)
                if message is not None and message.delivery_id:
                    if self.store.seen_delivery(message.delivery_id):
                        return Reply(duplicate=True)
                    self.store.mark_delivery(message.delivery_id, user_id, now.isoformat())
                turn = Turn(user_id, now, first)
                turn.live = self._current(user_id, turn)
                if turn.notice_only and message is not None and message.text.strip():
                    turn.rows.append(MessageRow("user", message.text.strip(), "menu", None))
                    self._show_menu(turn)
                elif message is None:
                    self._opening(turn, display_name)
                else:
                    early = self._check_input(turn, message)
                    if early is not None:
                        return early
                    text = message.text.strip()
                    turn.rows.append(
                        MessageRow("user", text, self._state_of(turn), self._conv_id(turn))
                    )
                    self._dispatch(turn, text)
                self._persist(turn)
            return self._reply(turn)
        except _StaleCache:
            raise
        except StorageError as exc:
            self._live.pop(user_id, None)
            self._known_users.discard(user_id)
            log.warning("turn not saved: %s", exc)
            return Reply((BotMessage(str(exc)),), failed=True)
        except Exception as exc:  # never a traceback in front of a user
            self._live.pop(user_id, None)
            self._known_users.discard(user_id)
            frames = traceback.extract_tb(exc.__traceback__)
            where = ", ".join(f"{f.name}:{f.lineno}" for f in frames[-4:])
            # Only the type and code location: exception text may quote the user.
            log.error("turn failed: %s at %s", type(exc).__name__, where)
            return Reply((BotMessage(messages.INTERNAL_ERROR),), failed=True)

    def _check_input(self, turn: Turn, message: UserInput) -> Reply | None:
        """Empty input and answers to a question that moved on change nothing."""
        live = turn.live
        if message.ref is not None and message.ref != self._ref(live):
            self._verify(turn)  # stale against what is stored, not only against memory
            out = [BotMessage(messages.STALE), *self._question(live)]
            return Reply(tuple(out), self._awaits(live), stale=True)
        if not message.text.strip():
            again = self._question(live)
            first = BotMessage(messages.EMPTY.format(again=messages.ASK_AGAIN).strip())
            return Reply((first, *again), self._awaits(live))
        return None

    def _without_change(self, user_id: str, note: str) -> Reply:
        with self._lock:
            try:
                live = self._current(user_id)
            except StorageError as exc:
                return Reply((BotMessage(str(exc)),), failed=True)
            return Reply((BotMessage(note), *self._question(live)), self._awaits(live))

    def _persist(self, turn: Turn) -> None:
        for live in turn.touched.values():
            row = live.session.row
            # A conversation from memory is written only over the turn it was read at.
            expected = row.turn if live is turn.unverified else None
            row.turn += 1
            row.updated_at = turn.now_iso
            if not self.store.save_conversation(row, expect_turn=expected):
                raise _StaleCache
            if live is turn.unverified:
                turn.unverified = None
        self._verify(turn)
        turn.attribute(self._conv_id(turn), self._state_of(turn))
        self.store.add_messages(turn.user_id, turn.rows, turn.now_iso)

    def _reply(self, turn: Turn) -> Reply:
        awaits = NOTHING if (turn.ended or turn.paused) else self._awaits(turn.live)
        return Reply(tuple(turn.out), awaits, ended=turn.ended, refused=turn.refused)

    def _ensure_user(
        self, user_id: str, channel: str, display_name: str | None, now: dt.datetime
    ) -> bool:
        """Create the user on first contact (True while they have said nothing yet).

        Users already seen by this process skip the write: every turn's message numbering
        updates their row (and when they were last seen) anyway.
        """
        if user_id in self._known_users:
            return False
        first = self.store.ensure_user(user_id, channel, display_name, now.isoformat())
        if not first:
            self._known_users.add(user_id)
        return first

    # == live conversations ==================================================================

    def _current(self, user_id: str, turn: Turn | None = None) -> Live | None:
        """The user's live conversation, from memory when the store agrees it is current.

        Within a turn, a conversation that cannot continue (its dialogue was removed, or
        changed so that its question no longer exists) is set aside with a note instead.
        """
        cached = self._live.get(user_id)
        if cached is not None:
            kept = cached.session.row
            if kept.status in ("active", "paused") and (
                turn is not None or self.store.conversation_turn(kept.id) == kept.turn
            ):
                # Within a turn it is checked when written (one statement fewer a turn).
                if turn is not None:
                    turn.unverified = cached
                self._live.move_to_end(user_id)
                return cached
            del self._live[user_id]
        row = self.store.current_conversation(user_id)
        if row is None:
            return None
        live = self._restore(row)
        if live is not None:
            self._remember(user_id, live)
        elif turn is not None:
            loaded = self.catalog.dialogues.get(row.dialogue)
            if loaded is None:
                turn.say(messages.DIALOGUE_GONE.format(name=row.dialogue))
            else:
                turn.say(messages.VERSION_CHANGED.format(title=loaded.dialogue.title))
            row.status, row.pending = "abandoned", None
            row.turn += 1
            row.updated_at = turn.now_iso
            self.store.save_conversation(row)
            turn.notice_only = True
        return live

    def _verify(self, turn: Turn) -> None:
        """Check a conversation taken from memory against the store (another process may
        have written it); raise _StaleCache if it moved on."""
        live, turn.unverified = turn.unverified, None
        if live is not None and self.store.conversation_turn(live.session.row.id) != (
            live.session.row.turn
        ):
            raise _StaleCache

    def _remember(self, user_id: str, live: Live) -> None:
        self._live[user_id] = live
        self._live.move_to_end(user_id)
        while len(self._live) > self.settings.live_cache_size:
            self._live.popitem(last=False)

    def _restore(self, row: ConversationRow) -> Live | None:
        """Rebuild a machine at the stored state, or None if it cannot continue as it was."""
        loaded = self.catalog.dialogues.get(row.dialogue)
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

    def _ref(self, live: Live | None) -> str:
        if live is None or live.session.row.pending == "menu":
            return MENU_REF
        return live.session.ref

    @staticmethod
    def _conv_id(turn: Turn) -> int | None:
        return turn.live.session.row.id if turn.live else None

    @staticmethod
    def _state_of(turn: Turn) -> str | None:
        if turn.live is None:
            return "menu"
        return turn.live.session.state

    # == what the bot asks ===================================================================

    def _question(self, live: Live | None) -> list[BotMessage]:
        """The question the user is being asked now, to show it again."""
        if live is None:
            return [self._menu_message(None)]
        row = live.session.row
        if row.pending == "safety":
            return [BotMessage(messages.SAFETY_ASK, self._safety_choices())]
        if row.pending == "resume":
            return [BotMessage(messages.RESUME_PROMPT, self._resume_choices())]
        if row.pending == "menu":
            return [self._menu_message(live)]
        return [live.runner.prompt(live.session.state, live.session.slots)]

    def _awaits(self, live: Live | None) -> Await:
        if live is None or live.session.row.pending == "menu":
            return Await("choice", self._menu_message(live).choices, ref=MENU_REF)
        row = live.session.row
        if row.pending == "safety":
            return Await("choice", self._safety_choices(), ref=live.session.ref)
        if row.pending == "resume":
            return Await("choice", self._resume_choices(), ref=live.session.ref)
        return live.runner.awaits(live.session.state, live.session.slots, live.session.ref)

    def _menu_message(self, paused: Live | None, text: str = messages.MENU) -> BotMessage:
        choices = [Choice(d.id, d.title) for d in self.catalog.listed()]
        if paused is not None:
            title = paused.session.compiled.dialogue.title
            choices.insert(0, Choice("resume", f"Carry on: {title}"))
        if not choices:
            return BotMessage(messages.NOTHING_LOADED)
        return BotMessage(text, tuple(choices))

    def _safety_choices(self) -> tuple[Choice, ...]:
        config = self.catalog.safety
        return (
            Choice("carry_on", config.continue_label if config else "Carry on"),
            Choice("stop", config.stop_label if config else "Stop here for now"),
        )

    @staticmethod
    def _resume_choices() -> tuple[Choice, ...]:
        return (
            Choice("resume", messages.RESUME_LABEL),
            Choice("restart", messages.RESTART_LABEL),
            Choice("menu", messages.MENU_LABEL),
        )

    def _ask_again(self, turn: Turn) -> None:
        turn.out.extend(self._question(turn.live))

    # == opening a chat ======================================================================

    def _opening(self, turn: Turn, display_name: str | None) -> None:
        live = turn.live
        if live is not None and live.session.row.follow_up_of is not None:
            self._welcome_back(turn, live)
            return
        if self._start_due_checkin(turn):
            return
        if live is None:
            name = f", {display_name}" if display_name else ""
            turn.say(messages.GREETING.format(name=name))
            self._show_menu(turn)
            return
        if self._idle(turn, live):
            return
        self._welcome_back(turn, live)

    def _welcome_back(self, turn: Turn, live: Live) -> None:
        row = live.session.row
        if row.pending in (None, "menu"):
            row.pending = None
            turn.say(messages.WELCOME_BACK.format(title=live.session.compiled.dialogue.title))
        row.status = "active"
        turn.touch(live)
        self._ask_again(turn)

    def _idle(self, turn: Turn, live: Live) -> bool:
        """After a long gap, recap and ask before carrying on (never silently continue)."""
        row = live.session.row
        try:
            last = dt.datetime.fromisoformat(row.updated_at)
        except ValueError:
            return False
        gap = turn.now - last
        if row.pending is not None or gap < self.settings.idle_after:
            return False
        state = live.session.state or ""
        where = live.machine.states_map[state].name if state in live.machine.states_map else state
        row.pending = "resume"
        row.status = "active"
        turn.touch(live)
        turn.say(
            messages.IDLE_RECAP.format(
                days=gap.days, title=live.session.compiled.dialogue.title, where=where
            ),
            self._resume_choices(),
        )
        return True

    def _show_menu(self, turn: Turn, text: str = messages.MENU) -> None:
        if self.catalog.problems and not self.catalog.dialogues:
            turn.say(messages.NOTHING_LOADED)
            return
        paused = turn.live if turn.live and turn.live.session.row.status == "paused" else None
        turn.out.append(self._menu_message(paused, text))

    # == dispatch ============================================================================

    def _dispatch(self, turn: Turn, text: str) -> None:
        if self._safety(turn, text):
            return
        live = turn.live
        if live is not None and self._idle(turn, live):
            return
        lowered = " ".join(text.lower().split()).strip(" .!")
        command = COMMANDS.get(lowered)
        if command is None and lowered.startswith("start "):
            name = lowered.removeprefix("start ").strip()
            if self._named_dialogue(name) is not None or not self._expects_words(live):
                self._start_named(turn, name)
                return
        if command is not None:
            getattr(self, f"_cmd_{command}")(turn)
            return
        if live is None:
            self._lobby(turn, text)
            return
        row = live.session.row
        if row.pending == "menu":
            self._lobby(turn, text)
        elif row.status == "paused":
            self._welcome_back(turn, live)
        elif row.pending == "safety":
            self._after_safety(turn, live, text)
        elif row.pending == "resume":
            self._after_resume_prompt(turn, live, text)
        else:
            self._answer(turn, live, text)

    # -- safety -------------------------------------------------------------------------

    def _safety(self, turn: Turn, text: str) -> bool:
        """Interrupt any dialogue when a safety signal appears; record that it did."""
        signal = self.safety.detect(text)
        if signal is None:
            return False
        category = signal.category
        live = turn.live
        seen: list[str] = live.session.slots.setdefault("_safety_seen", []) if live else []
        if not category.every_time and category.id in seen:
            return False
        self.store.record_safety_event(turn.user_id, self._conv_id(turn), category.id, turn.now_iso)
        log.info("safety interruption: %s", category.id)
        turn.say(category.message.strip())
        if live is None:
            self._show_menu(turn, messages.MENU_AGAIN)
            return True
        seen.append(category.id)
        live.session.row.pending = "safety"
        live.session.row.status = "active"
        turn.touch(live)
        turn.say(messages.SAFETY_ASK, self._safety_choices())
        return True

    def _after_safety(self, turn: Turn, live: Live, text: str) -> None:
        lowered = text.lower().strip()
        try:
            picked = answers.pick_choice(text, self._safety_choices()).value
        except answers.InvalidAnswer:
            if lowered in ("continue", "carry on", "yes", "go on", "ok", "okay"):
                picked = "carry_on"
            elif lowered in ("stop", "no", "not now"):
                picked = "stop"
            else:
                turn.say(messages.SAFETY_ASK, self._safety_choices())
                return
        live.session.row.pending = None
        turn.touch(live)
        if picked == "carry_on":
            turn.say(messages.SAFETY_CONTINUE)
            self._ask_again(turn)
        else:
            live.session.row.status = "paused"
            turn.paused = True
            turn.say(messages.SAFETY_STOPPED)

    def _after_resume_prompt(self, turn: Turn, live: Live, text: str) -> None:
        try:
            picked = answers.pick_choice(text, self._resume_choices()).value
        except answers.InvalidAnswer as exc:
            turn.say(str(exc))
            self._ask_again(turn)
            return
        live.session.row.pending = None
        turn.touch(live)
        if picked == "resume":
            turn.say(messages.WELCOME_BACK.format(title=live.session.compiled.dialogue.title))
            self._ask_again(turn)
        elif picked == "restart":
            self._cmd_restart(turn)
        else:
            self._cmd_menu(turn)

    # -- the menu (no dialogue running) --------------------------------------------------

    def _lobby(self, turn: Turn, text: str) -> None:
        if self._start_due_checkin(turn):
            return
        live = turn.live
        paused = live if live is not None and live.session.row.status == "paused" else None
        menu = self._menu_message(paused)
        try:
            picked = answers.pick_choice(text, menu.choices).value if menu.choices else None
        except answers.InvalidAnswer:
            picked = None
        if picked == "resume" and paused is not None:
            paused.session.row.pending = None
            self._welcome_back(turn, paused)
        elif picked is not None:
            self._start(turn, self.catalog.dialogues[picked])
        else:
            if turn.first_contact:
                turn.say(messages.GREETING.format(name=""))
            self._show_menu(turn)

    def _named_dialogue(self, name: str) -> LoadedDialogue | None:
        """A listed dialogue by id (own-power, own_power) or title, or None."""
        key = name.replace("-", "_").replace(" ", "_")
        loaded = self.catalog.dialogues.get(key)
        if loaded is None:
            by_title = {d.title.lower(): d.id for d in self.catalog.listed()}
            if name in by_title:
                loaded = self.catalog.dialogues[by_title[name]]
        if loaded is None or not loaded.dialogue.listed:
            return None
        return loaded

    def _expects_words(self, live: Live | None) -> bool:
        """True where "start …" may be an answer: free text, or a prompt offering "Start…"."""
        if live is None or live.session.row.status == "paused":
            return False
        if live.session.row.pending in ("resume", "safety"):
            return True
        return self._awaits(live).kind == "text"

    def _start_named(self, turn: Turn, name: str) -> None:
        loaded = self._named_dialogue(name)
        if loaded is None:
            known = ", ".join(d.id for d in self.catalog.listed()) or "none"
            turn.say(messages.UNKNOWN_DIALOGUE.format(name=name, known=known))
            self._ask_again(turn)
            return
        self._start(turn, loaded)

    def _start(
        self, turn: Turn, loaded: LoadedDialogue, *, follow_up: NextStep | None = None
    ) -> None:
        """Begin a dialogue. A check-in pauses the current conversation; anything else sets it
        aside (kept in the history, marked abandoned)."""
        current = turn.live
        if current is not None:
            row = current.session.row
            if follow_up is not None:
                row.status, row.pending = "paused", None
            else:
                row.status, row.pending = "abandoned", None
                turn.say(messages.ABANDONED.format(title=current.session.compiled.dialogue.title))
            turn.touch(current)
        turn.attribute(self._conv_id(turn), self._state_of(turn))
        compiled: CompiledDialogue = compile_dialogue(loaded)
        slots: dict[str, Any] = {
            "dialogue_title": loaded.dialogue.title,
            "today": turn.today.isoformat(),
        }
        if follow_up is not None:
            slots["step"] = {
                "id": follow_up.id,
                "title": follow_up.title,
                "text": follow_up.text,
                "idea": follow_up.idea,
                "source": follow_up.source,
                "due_date": follow_up.due_date,
            }
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
        )
        self.store.create_conversation(row)
        session = Session(row, compiled)
        live = Live(session, compiled.start(session))
        turn.live = live
        self._remember(turn.user_id, live)
        turn.touch(live)
        self._after_event(turn, live)

    def _start_due_checkin(self, turn: Turn) -> bool:
        loaded = self.catalog.dialogues.get(CHECKIN_DIALOGUE)
        if loaded is None:
            return False
        due = self.store.due_next_steps(turn.user_id, turn.today.isoformat())
        if not due:
            return False
        turn.say(messages.CHECKIN_INTRO)
        self._start(turn, loaded, follow_up=due[0])
        return True

    # -- answering the current step -------------------------------------------------------

    def _answer(self, turn: Turn, live: Live, text: str) -> None:
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
                self._ask_again(turn)
            return
        session.row.history.append(entry)
        turn.touch(live)
        noted = live.runner.date_answered(entry["state"], session.slots)
        if noted:
            # "next friday" is ambiguous: say which day was understood.
            turn.say(messages.DATE_NOTED.format(date=templates.day(noted)))
        try:
            live.session.compiled.send(live.machine, "answer")
        except TransitionNotAllowed:
            live.runner.undo(session, session.row.history.pop())
            turn.say(messages.PICK_ONE)
            self._ask_again(turn)
            return
        self._after_event(turn, live)

    def _after_event(self, turn: Turn, live: Live) -> None:
        """Collect what the machine said, store what steps asked for, finish if at the end."""
        session = live.session
        turn.out.extend(session.take_outbox())
        for effect in session.effects:
            if effect.kind == "outcome" and session.row.follow_up_of is not None:
                status = effect.data.get("status")
                if status:
                    self.store.record_outcome(
                        session.row.follow_up_of,
                        str(status),
                        effect.data.get("learned"),
                        effect.data.get("new_due"),
                        turn.now_iso,
                    )
        session.effects.clear()
        if session.completed:
            self._complete(turn, live)

    def _complete(self, turn: Turn, live: Live) -> None:
        row = live.session.row
        row.status = "completed"
        row.completed_at = turn.now_iso
        commitments = live.session.slots.get("commitments") or []
        if commitments:
            self.store.add_next_steps(row.id, turn.user_id, commitments, turn.now_iso)
        turn.touch(live)
        turn.attribute(row.id, row.state)  # the goodbye belongs to the finished conversation
        turn.live = None
        self._live.pop(turn.user_id, None)
        if self._start_due_checkin(turn):
            return
        paused = self.store.paused_conversation(turn.user_id)
        if paused is not None:
            restored = self._restore(paused)
            if restored is not None:
                turn.live = restored
                self._remember(turn.user_id, restored)
                paused.pending = "resume"
                paused.status = "active"
                turn.touch(restored)
                title = restored.session.compiled.dialogue.title
                turn.say(messages.PAUSED_OTHER.format(title=title), self._resume_choices())
                return
        self._show_menu(turn, messages.MENU_AGAIN)

    # == commands ============================================================================

    def _in_dialogue(self, turn: Turn) -> Live | None:
        """The live conversation a command acts on; with none, say so and show the menu."""
        if turn.live is None:
            turn.say(messages.NOT_IN_DIALOGUE)
            self._show_menu(turn)
        return turn.live

    def _cmd_help(self, turn: Turn) -> None:
        turn.say(messages.COMMANDS_HELP)
        live = turn.live
        if live is not None and live.session.row.pending is None and live.session.state:
            hint = live.runner.hint(live.session.state, live.session.slots)
            if hint:
                turn.say(messages.HINT.format(hint=hint))
        self._ask_again(turn)

    def _cmd_back(self, turn: Turn) -> None:
        live = self._in_dialogue(turn)
        if live is None:
            return
        session = live.session
        session.row.pending = None
        session.row.status = "active"
        turn.touch(live)
        if not session.row.history:
            turn.say(messages.NO_BACK)
            self._ask_again(turn)
            return
        entry = session.row.history.pop()
        before = dict(session.slots)
        live.runner.undo(session, entry)
        session.back_target = entry["state"]
        try:
            live.session.compiled.send(live.machine, "back")
        except TransitionNotAllowed:
            session.slots.clear()
            session.slots.update(before)
            session.row.history.append(entry)
            turn.say(messages.NO_BACK)
            self._ask_again(turn)
            return
        finally:
            session.back_target = None
        turn.say(messages.WENT_BACK)
        turn.out.extend(session.take_outbox())

    def _cmd_restart(self, turn: Turn) -> None:
        live = self._in_dialogue(turn)
        if live is None:
            return
        session = live.session
        kept = {k: v for k, v in session.slots.items() if k in CONTEXT_SLOTS or k == "_safety_seen"}
        session.slots.clear()
        session.slots.update(kept)
        session.slots["today"] = turn.today.isoformat()
        session.row.history.clear()
        session.row.pending = None
        session.row.status = "active"
        turn.touch(live)
        turn.say(messages.RESTARTED.format(title=session.compiled.dialogue.title))
        live.session.compiled.send(live.machine, "restart")
        self._after_event(turn, live)

    def _cmd_pause(self, turn: Turn) -> None:
        live = self._in_dialogue(turn)
        if live is None:
            return
        live.session.row.status = "paused"
        live.session.row.pending = None
        turn.touch(live)
        turn.paused = True
        turn.say(messages.PAUSED)

    def _cmd_quit(self, turn: Turn) -> None:
        live = turn.live
        if live is not None:
            live.session.row.status = "paused"
            if live.session.row.pending == "menu":
                live.session.row.pending = None
            turn.touch(live)
        turn.ended = True
        turn.say(messages.GOODBYE)

    def _cmd_menu(self, turn: Turn) -> None:
        live = turn.live
        if live is not None:
            live.session.row.status = "paused"
            live.session.row.pending = "menu"
            turn.touch(live)
        self._show_menu(turn)

    def _cmd_summary(self, turn: Turn) -> None:
        live = self._in_dialogue(turn)
        if live is None:
            return
        session = live.session
        title = session.compiled.dialogue.title
        rows = live.runner.answered(session.slots)
        if not rows:
            turn.say(messages.SUMMARY_EMPTY.format(title=title))
        else:
            lines = [messages.SUMMARY_HEAD.format(title=title)]
            lines.extend(f"• {name}: {value}" for name, value in rows)
            commitments = session.slots.get("commitments") or []
            if commitments:
                lines.append(messages.SUMMARY_STEPS)
                lines.extend(f"• {c.get('title')} (by {c.get('due_date')})" for c in commitments)
            turn.say("\n".join(lines))
        self._ask_again(turn)
