"""The dialogue engine: one entry point per user message, and no knowledge of any channel.

`Engine.handle(user, UserInput) -> Reply` runs one turn: safety first, then commands, then
the answer to the current step through the dialogue's state machine. The user's message, the
new state and the bot's reply are committed in one transaction before the reply is returned,
so an acknowledged turn is never lost and every conversation can be resumed.

The package is built in floors; a module only uses the floors below it:

    __init__                          Engine: the entry points, routing a turn
    commands · interrupts · checkins  handlers, one concern each
    sharing                           sharing with a coach (`share`, `shared`, `unshare`)
    memory                            what the coach knows of a person; their own record
    menu                              the first greeting and the lobby
    progress                          moving one dialogue on; the question asked
    recall                            the past conversation a look-back is about
    turn                              Turn, live-machine cache, persistence

`tests/test_engine_structure.py` holds that order.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from bot import messages, understanding
from bot.engine import checkins, commands, interrupts, memory, menu, progress, sharing
from bot.engine.checkins import CHECKIN_DIALOGUE
from bot.engine.commands import COMMANDS
from bot.engine.memory import Overview, PastDiagnosis
from bot.engine.turn import (
    MENU_REF,
    Clock,
    Context,
    EngineSettings,
    Live,
    StaleCache,
    Turn,
    clean,
    conv_id,
    current,
    ensure_user,
    failed,
    local_date,
    persist,
    state_of,
    utc_now,
)
from bot.errors import StorageError
from bot.loader import Catalog, load_catalog
from bot.safety import detector_for
from bot.turns import Await, BotMessage, Reply, UserInput
from storage.store import MessageRow, Store

log = logging.getLogger("coach.engine")

__all__ = [
    "CHECKIN_DIALOGUE",
    "COMMANDS",
    "MENU_REF",
    "Clock",
    "Engine",
    "EngineSettings",
    "Live",
    "Overview",
    "PastDiagnosis",
    "Turn",
    "utc_now",
]


@dataclass(frozen=True, slots=True)
class Arrival:
    """Who a message comes from, as the channel knows them: for the users row and greeting."""

    channel: str
    display_name: str | None
    name: str | None = None
    ask_name: bool = True
    #: Their time zone, if the channel knows it (Slack's users.info `tz`).
    zone: dt.tzinfo | None = None


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
        # Fails closed: without a valid safety screen the coach does not run at all.
        self.safety = detector_for(catalog.require_safety())
        self._ctx = Context(store, catalog, self.settings, self.safety)
        self._live = self._ctx.cache
        self._lock = threading.RLock()

    # == public entry points ====================================================================

    def open(
        self,
        user_id: str,
        *,
        channel: str = "terminal",
        display_name: str | None = None,
        name: str | None = None,
        ask_name: bool = True,
    ) -> Reply:
        """The user starts a chat: due check-ins first, then where they were, else the menu.

        `name` is what the channel's directory calls them (Slack's display name), kept
        unless they say otherwise; with none, the coach asks at first contact unless
        `ask_name` is False (a channel whose people have names elsewhere).
        """
        return self._run(user_id, Arrival(channel, display_name, name, ask_name), None)

    def handle(
        self,
        user_id: str,
        message: UserInput,
        *,
        channel: str = "terminal",
        display_name: str | None = None,
        name: str | None = None,
        ask_name: bool = True,
        zone: dt.tzinfo | None = None,
    ) -> Reply:
        """One user message in, everything the bot says back out, durably stored first.

        `zone` is the person's time zone when the channel knows it: "today", and the dates
        they type, are then theirs."""
        text = clean(message.text or "").strip()
        if len(text) > self.settings.max_chars:
            note = messages.TOO_LONG.format(length=len(text), limit=self.settings.max_chars)
            return self._without_change(user_id, note)
        if text != message.text.strip():
            message = UserInput(text, ref=message.ref, delivery_id=message.delivery_id)
        arrival = Arrival(channel, display_name, name, ask_name, zone)
        return self._run(user_id, arrival, message)

    def knows_name(self, user_id: str) -> bool:
        """Whether the coach has a name for the user (a channel need not look one up)."""
        with self._lock:
            return self.store.name_of(user_id) is not None

    def show_current(self, user_id: str, note: str) -> Reply:
        """A note, then the question the user is being asked now; nothing is stored.

        For a channel that cannot tell whether its last reply reached the user (it crashed
        while sending it): the conversation already moved on, so this is what to show.
        """
        return self._without_change(user_id, note)

    def current_awaits(self, user_id: str) -> Await:
        """What the user's current question awaits (for channels that draw controls)."""
        with self._lock:
            live = current(self._ctx, user_id)
            return progress.awaits(self._ctx, live, self._lobby(user_id, live))

    def push_due_checkin(
        self,
        user_id: str,
        *,
        channel: str = "terminal",
        display_name: str | None = None,
        zone: dt.tzinfo | None = None,
    ) -> Reply | None:
        """Start the check-in of a due next step unprompted (a channel's scheduled push).

        Each step is pushed once: the mark is written in the same transaction as the
        check-in, so a restart neither loses nor repeats it. None when nothing is due (on
        the person's own date, when `zone` says where they are).
        """
        with self._lock:
            try:
                return self._push_due_checkin(user_id, channel, display_name, zone)
            except BaseException:
                self._live.pop(user_id, None)  # memory must not run ahead of a rollback
                raise

    def overview(self, user_id: str) -> Overview:
        """Where the user is and what they have planned: for status commands and home tabs."""
        with self._lock:
            return memory.overview(self._ctx, user_id, current(self._ctx, user_id))

    def record_step_outcome(
        self, user_id: str, step_id: int, outcome: str, *, zone: dt.tzinfo | None = None
    ) -> bool:
        """Mark one of the user's own next steps (a home-tab button); False if not theirs.

        `not_yet` and `partly` keep the step open and move its due date a week on from the
        user's today in `zone` (UTC when unknown).
        """
        with self._lock:
            return checkins.record_outcome(self._ctx, user_id, step_id, outcome, self.clock, zone)

    def reload(self, directory: Path) -> list[str]:
        """Load the dialogue files again, keeping the last good version of whatever fails.

        A safety file that no longer loads leaves the screen as it was (never unscreened);
        a dialogue file that no longer loads keeps its last good version. Conversations in
        progress finish on the version they started on (`bot.engine.pinning`); new ones take
        the edited file. Returns the problems found, each as file:line:col and what was
        expected.
        """
        fresh = load_catalog(directory)
        with self._lock:
            kept = self.catalog
            if fresh.safety is None:
                fresh.safety = kept.safety
                fresh.safety_problem = None
            broken = {problem.path for problem in fresh.problems}
            for dialogue_id, loaded in kept.dialogues.items():
                if dialogue_id not in fresh.dialogues and loaded.path in broken:
                    fresh.dialogues[dialogue_id] = loaded
            safety = detector_for(fresh.require_safety())
            self.catalog = self._ctx.catalog = fresh
            self.safety = self._ctx.safety = safety
        for problem in fresh.problems:  # file:line:col and what was expected, never a user's words
            log.error("dialogue file refused on reload, last good version kept: %s", problem)
        return [str(problem) for problem in fresh.problems]

    def forget(self, user_id: str) -> None:
        """Erase everything stored about the user, and any conversation held in memory."""
        with self._lock:
            self._live.pop(user_id, None)
            self._ctx.known_users.discard(user_id)
            self.store.erase_user(user_id)

    # == the turn ===============================================================================

    def _run(self, user_id: str, arrival: Arrival, message: UserInput | None) -> Reply:
        with self._lock:
            try:
                return self._run_once(user_id, arrival, message)
            except StaleCache:
                # Another process changed the conversation under our cached machine: the
                # turn was rolled back; run it again from what is stored.
                self._live.pop(user_id, None)
                return self._run_once(user_id, arrival, message)

    def _run_once(self, user_id: str, arrival: Arrival, message: UserInput | None) -> Reply:
        """One try at the turn; the caller holds the engine's lock."""
        ctx = self._ctx
        try:
            with ctx.store.transaction():
                now = self.clock()
                first = ensure_user(ctx, user_id, arrival.channel, arrival.display_name, now)
                if message is not None and message.delivery_id:
                    if ctx.store.seen_delivery(message.delivery_id):
                        return Reply(duplicate=True)
                    ctx.store.mark_delivery(message.delivery_id, user_id, now.isoformat())
                if arrival.name:
                    ctx.store.offer_name(user_id, arrival.name)
                turn = Turn(user_id, now, first, zone=arrival.zone)
                if not arrival.ask_name:
                    turn.ask_name = False
                turn.live = current(ctx, user_id, turn)
                if not first and (turn.live is None or turn.live.session.row.pending == "menu"):
                    # What the coach asked at the menu (a safety question, a suggestion).
                    turn.lobby_pending = ctx.store.user_pending(user_id)
                if turn.notice_only and message is not None and message.text.strip():
                    turn.rows.append(MessageRow("user", message.text.strip(), "menu", None))
                    menu.show_menu(ctx, turn)
                elif message is None:
                    self._opening(turn)
                else:
                    early = progress.check_input(ctx, turn, message)
                    if early is not None:
                        return early
                    text = message.text.strip()
                    turn.rows.append(MessageRow("user", text, state_of(turn), conv_id(turn)))
                    self._dispatch(turn, text)
                if turn.completed:
                    self._after_completion(turn)
                persist(ctx, turn)
            return progress.reply(ctx, turn)
        except StaleCache:
            raise
        except Exception as exc:  # never a traceback in front of a user
            return failed(ctx, user_id, exc)

    def _push_due_checkin(
        self, user_id: str, channel: str, display_name: str | None, zone: dt.tzinfo | None
    ) -> Reply | None:
        ctx = self._ctx
        with ctx.store.transaction():
            now = self.clock()
            due = ctx.store.due_unreminded(user_id, local_date(now, zone).isoformat())
            if not due:
                return None
            first = ensure_user(ctx, user_id, channel, display_name, now)
            turn = Turn(user_id, now, first, zone=zone)
            turn.live = current(ctx, user_id, turn)
            if not checkins.push(ctx, turn, due):
                return None
            if turn.completed:
                self._after_completion(turn)
            persist(ctx, turn)
        return progress.reply(ctx, turn)

    def _without_change(self, user_id: str, note: str) -> Reply:
        with self._lock:
            try:
                live = current(self._ctx, user_id)
            except StorageError as exc:
                return Reply((BotMessage(str(exc)),), failed=True)
            lobby = self._lobby(user_id, live)
            question = progress.question(self._ctx, live, lobby)
            return Reply((BotMessage(note), *question), progress.awaits(self._ctx, live, lobby))

    def _lobby(self, user_id: str, live: Live | None) -> str | None:
        """What the coach asked at the menu (a safety question, a suggestion), if it is there."""
        at_menu = live is None or live.session.row.pending == "menu"
        return self._ctx.store.user_pending(user_id) if at_menu else None

    # == routing ================================================================================

    def _opening(self, turn: Turn) -> None:
        """The user opens a chat: a check-in under way, a due one, the greeting (by name, with
        what matters now), a recap after a long gap, or straight back to where they were.
        A conversation left before any answer is discarded, not offered again."""
        ctx, live = self._ctx, turn.live
        sharing.drop_unfinished(ctx, turn)
        if live is not None and progress.is_empty(live.session.row):
            progress.discard(ctx, turn, live)
            live = None
        if live is not None and live.session.row.follow_up_of is not None:
            menu.welcome_back(ctx, turn, live)
            return
        if live is None:
            if turn.lobby_pending is not None:  # a new chat: that question is behind them
                turn.lobby_pending = None
                ctx.store.set_user_pending(turn.user_id, None)
            if turn.first_contact:
                if not checkins.start_due(ctx, turn):
                    menu.greet(ctx, turn)
                return
            memory.welcome(ctx, turn)
            if not checkins.start_due(ctx, turn):
                menu.show_menu(ctx, turn)
            return
        if ctx.store.due_next_steps(turn.user_id, turn.today.isoformat()):
            memory.hello(ctx, turn)
            if checkins.start_due(ctx, turn):
                return
        if interrupts.idle(ctx, turn, live):
            return
        menu.welcome_back(ctx, turn, live)

    def _dispatch(self, turn: Turn, text: str) -> None:
        """Hand the user's message to whoever's turn it is: safety, the idle prompt, a command,
        starting a dialogue by name, the menu, an interruption's prompt, or the dialogue."""
        ctx = self._ctx
        pending = interrupts.awaiting_safety_answer(ctx, turn)
        if pending is not None and interrupts.after_safety(ctx, turn, pending, text):
            return
        if interrupts.safety(ctx, turn, text):
            return
        live = turn.live
        if live is not None and interrupts.idle(ctx, turn, live):
            return
        lowered = " ".join(text.lower().split()).strip(" .!")
        command = COMMANDS.get(lowered)
        run = commands.HANDLERS[command] if command is not None else commands.with_words(lowered)
        if run is not None and command is None:
            command = lowered  # a command with words after it: `show 2`, `call me Sam`
        starting = command is None and lowered.startswith("start ")
        if pending is not None and run is not None and command in commands.AFTER_SAFETY:
            run(ctx, turn)  # it says it waits, and asks the safety question again
            return
        if pending is not None and command is None:
            named = lowered.removeprefix("start ").strip() if starting else ""
            if not starting or menu.named_dialogue(ctx, named) is None:
                interrupts.ask_safety_again(ctx, turn)  # never carry on past it
                return
        if turn.lobby_pending is not None and (command is not None or starting):
            turn.lobby_pending = None  # a command or a start leaves the question asked
            ctx.store.set_user_pending(turn.user_id, None)
        if starting:
            name = lowered.removeprefix("start ").strip()
            if menu.named_dialogue(ctx, name) is not None or not menu.expects_words(ctx, live):
                menu.start_named(ctx, turn, name)
                return
        if run is not None:
            run(ctx, turn)
            return
        if live is None or live.session.row.pending == "menu":
            # Free text at the menu: a due check-in comes before anything picked.
            if (
                sharing.answer(ctx, turn, text)
                or memory.answer_lobby(ctx, turn, text)
                or checkins.answer_report(ctx, turn, text)
            ):
                return
            if checkins.start_due(ctx, turn):
                return
            if turn.lobby_pending is None and checkins.offer_report(ctx, turn, text):
                return
            wanted = menu.lobby(ctx, turn, text)
            if wanted is not None:  # "what were my steps?": that command
                commands.HANDLERS[wanted](ctx, turn)
            return
        row = live.session.row
        if row.status == "paused":
            menu.welcome_back(ctx, turn, live)
        elif row.pending == "resume":
            interrupts.after_resume_prompt(ctx, turn, live, text)
        elif understanding.takes_back_the_last_answer(text) and live.session.row.history:
            commands.go_back(ctx, turn, live, messages.TOOK_BACK)
        else:
            asked = understanding.asks_about_the_question(text)
            if asked is None or not progress.explain(ctx, turn, live, asked):
                progress.answer(ctx, turn, live, text)

    def _after_completion(self, turn: Turn) -> None:
        """What follows a finished dialogue: the dialogue its end step leads to, else a due
        check-in, else the conversation it interrupted, else the menu. A check-in may itself
        finish at once, hence the loop."""
        ctx = self._ctx
        while turn.completed:
            turn.completed = False
            following, turn.following = turn.following, None
            after_checkin, turn.finished_follow_up = turn.finished_follow_up, False
            loaded = ctx.catalog.dialogues.get(following[0]) if following else None
            if (
                following is not None
                and loaded is not None
                and progress.start(ctx, turn, loaded, about=following[1], ask_when_nothing=False)
            ):
                pass  # the end step led on (a check-in to a revisit): it comes first
            elif not (
                checkins.start_due(ctx, turn, following=after_checkin)
                or menu.offer_paused(ctx, turn)
            ):
                menu.show_menu(ctx, turn, messages.MENU_AGAIN)
