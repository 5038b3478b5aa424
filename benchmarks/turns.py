"""How much a full turn costs next to the cheapest durable write of the same rows.

A turn is one `Engine.handle(user, UserInput(answer))` answering the current question of a
synthetic 30-step dialogue: restore (the live machine from the cache, checked against the
store), transition, persist, render, all in one BEGIN IMMEDIATE ... COMMIT on a SQLite file
in WAL mode with synchronous=FULL.

The floor is plain `sqlite3` on a second file on the same disk, with the same pragmas,
running in one BEGIN IMMEDIATE ... COMMIT exactly the writes a turn makes, with the same
row contents (recorded from a scratch run of the engine): the users upsert, the conversation
update, the message_seq update and the message inserts (the user's message plus the bot's).

Both databases are pre-filled with realistic rows (many users, conversations and messages)
to each size, and engine and floor turns are measured in interleaved blocks so drift hits
both. "Cold" turns (the live machine cache emptied before each) are shown separately: they
are not part of the target.

    .venv/bin/python benchmarks/turns.py                # ~2000 turns per size, 1k and 100k
    .venv/bin/python benchmarks/turns.py --quick        # smoke run, ~20 s
    .venv/bin/python benchmarks/turns.py --profile      # also cProfile the warm engine turn
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from statemachine import StateMachine  # noqa: E402

from bot.compiler import CompiledDialogue  # noqa: E402
from bot.engine import MENU_REF, Engine  # noqa: E402
from bot.loader import load_catalog, load_dialogue_file  # noqa: E402
from bot.turns import Await, Reply, UserInput  # noqa: E402
from storage.store import _CONVERSATION_COLUMNS, Store  # noqa: E402

TARGET_RATIO = 2.0
#: "Flat": the engine's median turn at the largest size is at most this times the smallest's.
FLAT_TOLERANCE = 1.25
DIALOGUE_ID = "bench"
START_TEXT = f"start {DIALOGUE_ID}"
VARIANTS = 6  # distinct answer scripts (different branches), replayed in rotation
BLOCK = 50  # turns per measurement block
COLD_SHARE = 4  # one cold turn per this many warm turns

# The exact statements a turn runs in storage.store, for the floor.
SQL_UPSERT_USER = (
    "INSERT INTO users (id, channel, display_name, message_seq, created_at, last_seen_at)"
    " VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT(id) DO UPDATE SET last_seen_at = ?"
    " RETURNING message_seq"
)
SQL_UPDATE_CONVERSATION = (
    "UPDATE conversations SET state = ?, pending = ?, slots = ?, "
    "history = ?, turn = ?, dialogue_version = ?, dialogue_digest = ?, "
    "updated_at = ?, completed_at = ? WHERE id = ?"
)
#: The same, on a turn that changed the conversation's status (it names `status` only then).
SQL_UPDATE_CONVERSATION_STATUS = SQL_UPDATE_CONVERSATION.replace(" WHERE", ", status = ? WHERE")
SQL_UPDATE_SEQ = (
    "UPDATE users SET message_seq = message_seq + ?, last_seen_at = ? WHERE id = ? "
    "RETURNING message_seq"
)
SQL_INSERT_MESSAGE = (
    "INSERT INTO messages (user_id, conversation_id, seq, sender, text, state, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class SendTimer:
    """Time spent sending the answer to the machine: python-statemachine's event processing
    (with our guards), the step entered said, and any steps that ask nothing passed through
    (`CompiledDialogue.send`).

    It shows how much of a turn is the library's event processing, next to what the rest
    of the engine and the storage cost; the wrapper itself adds well under a microsecond.
    """

    def __init__(self) -> None:
        self.ns = 0
        self._original = CompiledDialogue.send

    def install(self) -> None:
        original, clock = self._original, time.perf_counter_ns

        def send(compiled: CompiledDialogue, machine: StateMachine, event: str) -> None:
            t0 = clock()
            try:
                original(compiled, machine, event)
            finally:
                self.ns += clock() - t0

        CompiledDialogue.send = send  # type: ignore[method-assign]

    def uninstall(self) -> None:
        CompiledDialogue.send = self._original  # type: ignore[method-assign]

    def take(self) -> int:
        ns, self.ns = self.ns, 0
        return ns


SEND_TIMER = SendTimer()


# == the synthetic dialogue ====================================================================

WORDS = (
    "partnership",
    "board",
    "funding",
    "council",
    "trust",
    "residents",
    "service",
    "manager",
    "evidence",
    "meeting",
    "decision",
    "paper",
    "agenda",
    "voice",
    "power",
    "mandate",
    "ally",
    "network",
    "relationship",
    "budget",
    "community",
    "professional",
    "proposal",
    "timeline",
    "pilot",
    "outcome",
    "feedback",
    "question",
    "approach",
    "listen",
    "share",
    "invite",
    "challenge",
    "support",
    "experience",
    "local",
    "knowledge",
    "data",
    "story",
)

TEXT_ANSWERS = (
    "The partnership board decides our funding next month and we have no seat at the table.",
    "Sam Patel, the commissioning lead at the council.",
    "They listen when residents turn up in numbers, less so to written submissions.",
    "I could bring the data from our last two years of outreach work.",
    "Honestly I am not sure; maybe the chair of the residents' association.",
    "Ask for fifteen minutes on the agenda of the next board meeting.",
    "Children's social care",
    "We tried a letter in March and got a polite reply but nothing changed.",
    "I worry they see us as troublemakers rather than partners.",
    "Invite two councillors to see the project for themselves before the vote.",
    "ok",
    "The trust's patient experience team, and through them the chief nurse.",
)


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _prompt(rng: random.Random, n: int, with_template: bool) -> str:
    lead = "Thinking about {{ a02 }}: " if with_template else ""
    return f"{lead}{_sentence(rng, 8, 22)} {_sentence(rng, 6, 14)} (question {n})"


def build_dialogue(seed: int = 7) -> dict[str, Any]:
    """30 steps: a message, 27 questions (text/choice/scale/yesno), a summary and an end.

    Linear, with four branches: per-choice `next` (s07, s26), a scale condition (s11) and
    yes/no conditions (s14, s23). Several prompts are templates over earlier answers.
    """
    rng = random.Random(seed)
    kinds = {
        2: "text", 3: "choice", 4: "text", 5: "scale", 6: "scale", 7: "choice", 8: "text",
        9: "yesno", 10: "text", 11: "scale", 12: "text", 13: "choice", 14: "yesno",
        15: "text", 16: "scale", 17: "choice", 18: "text", 19: "yesno", 20: "scale",
        21: "choice", 22: "text", 23: "yesno", 24: "text", 25: "scale", 26: "choice",
        27: "text", 28: "yesno",
    }  # fmt: skip
    steps: dict[str, Any] = {
        "s01": {
            "kind": "message",
            "title": "Welcome",
            "text": "Let's look at one situation together. " + _sentence(rng, 20, 40),
            "next": "s02",
        }
    }
    for n, kind in kinds.items():
        sid, nxt = f"s{n:02d}", f"s{n + 1:02d}"
        step: dict[str, Any] = {
            "kind": kind,
            "title": f"Question {n}",
            "prompt": _prompt(rng, n, with_template=n > 3 and n % 3 == 0),
            "slot": f"a{n:02d}",
        }
        if n % 4 == 0:
            step["hint"] = _sentence(rng, 8, 16)
        if kind == "choice":
            count = 3 + n % 4
            step["choices"] = [
                {"value": f"opt_{k}", "label": f"{_sentence(rng, 3, 8)[:60]} ({k})"}
                for k in range(1, count + 1)
            ]
        if kind == "scale":
            step.update(min=1, max=5, min_label="very little", max_label="a great deal")
        step["next"] = nxt
        steps[sid] = step
    steps["s07"]["choices"][0]["next"] = "s09"  # skip s08
    steps["s26"]["choices"][1]["next"] = "s28"  # skip s27
    steps["s11"]["next"] = [{"when": "a11 - a05 >= 2", "to": "s13"}, {"to": "s12"}]
    steps["s14"]["next"] = [{"when": "a14", "to": "s15"}, {"to": "s16"}]
    steps["s23"]["next"] = [{"when": "a23 and a20 >= 3", "to": "s24"}, {"to": "s25"}]
    steps["s29"] = {
        "kind": "summary",
        "title": "Summary",
        "text": (
            "Here's what you told me.\n\nThe situation: {{ a04 }}\nWho: {{ a02 }}\n"
            "Their power {{ a05 | bar }}  yours {{ a06 | bar }}  gap {{ (a05 - a06) | signed }}\n"
            "{% if a09 %}You have tried before.{% else %}This is a first try.{% endif %}\n"
            "Next: {{ a27 }}"
        ),
        "next": "s30",
    }
    steps["s30"] = {
        "kind": "end",
        "title": "The end",
        "text": "Thank you. " + _sentence(rng, 10, 20),
    }
    return {
        "id": DIALOGUE_ID,
        "title": "Benchmark dialogue",
        "version": 1,
        "description": "A synthetic 30-step dialogue for benchmarks/turns.py.",
        "listed": True,
        "start": "s01",
        "steps": steps,
    }


def write_dialogues(directory: Path) -> Path:
    """The synthetic dialogue (YAML 1.2; JSON is valid YAML) plus the shipped safety file and
    dialogues, so safety screening and the end-of-dialogue check-in query run too (the
    check-in can lead into a revisit, which looks back on a diagnosis: all are loaded)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{DIALOGUE_ID}.yaml"
    path.write_text(
        "# Generated by benchmarks/turns.py\n" + json.dumps(build_dialogue(), indent=2) + "\n",
        encoding="utf-8",
    )
    for name in (
        "safety.yaml",
        "safety_model.json",
        "checkin.yaml",
        "revisit.yaml",
        "diagnose.yaml",
    ):
        shutil.copyfile(REPO / "dialogues" / name, directory / name)
    return path


# == answer scripts, and the rows each turn writes =============================================


def pick_answer(awaits: Await, rng: random.Random) -> str:
    """A valid answer to what the bot awaits, typed the way people type."""
    if awaits.kind == "choice":
        k = rng.randrange(len(awaits.choices))
        return str(k + 1) if rng.random() < 0.5 else awaits.choices[k].label
    if awaits.kind == "scale":
        return str(rng.randint(awaits.min or 1, awaits.max or 5))
    if awaits.kind == "yesno":
        return rng.choice(("yes", "no", "Yes", "yep", "no"))
    if awaits.kind == "text":
        return rng.choice(TEXT_ANSWERS)
    raise RuntimeError(f"unexpected await {awaits}")


@dataclass
class ScriptTurn:
    answer: UserInput
    reply_text: str
    # what the turn wrote, for the floor
    messages: list[tuple[str, str, str | None, bool]]  # sender, text, state, has conversation
    conversation: tuple[Any, ...]  # state, status, pending, slots, history, ver, digest, done
    status_changed: bool  # the turn changed the conversation's status (completed it)


@dataclass
class Script:
    """One pass through the dialogue: the restart turn, then one turn per question."""

    start_reply: str
    turns: list[ScriptTurn] = field(default_factory=list)


def record_scripts(catalog: Any, workdir: Path, variants: int) -> list[Script]:
    """Run the engine once per variant on a scratch store and record every turn's rows."""
    path = workdir / "scratch.db"
    store = Store(path)
    engine = Engine(store, catalog)
    scripts: list[Script] = []
    user = "bench:scratch"
    conn = store.db.conn
    last_seq = 0
    for v in range(variants):
        rng = random.Random(1000 + v)
        reply = engine.handle(user, UserInput(START_TEXT))
        (last_seq,) = conn.execute("SELECT message_seq FROM users WHERE id = ?", (user,)).fetchone()
        script = Script(reply.text)
        while True:
            answer = UserInput(pick_answer(reply.awaits, rng))
            before = conn.execute(
                "SELECT id, state, status FROM conversations WHERE user_id = ? "
                "ORDER BY id DESC LIMIT 1",
                (user,),
            ).fetchone()
            reply = engine.handle(user, answer)
            rows = conn.execute(
                "SELECT sender, text, state, conversation_id, seq FROM messages "
                "WHERE user_id = ? AND seq > ? ORDER BY seq",
                (user, last_seq),
            ).fetchall()
            last_seq = rows[-1][4]
            conv = conn.execute(
                "SELECT state, status, pending, slots, history, dialogue_version, "
                "dialogue_digest, completed_at, turn FROM conversations WHERE id = ?",
                (before[0],),
            ).fetchone()
            if conv[0] == before[1] and conv[1] != "completed":
                raise RuntimeError(f"answer {answer.text!r} at {before[1]} was not accepted")
            script.turns.append(
                ScriptTurn(
                    answer,
                    reply.text,
                    [(s, t, st, cid is not None) for s, t, st, cid, _ in rows],
                    tuple(conv[:8]),
                    conv[1] != before[2],
                )
            )
            if reply.awaits.ref == MENU_REF:  # completed: back at the menu
                break
        scripts.append(script)
    store.close()
    return scripts


# == pre-filling a database ====================================================================


def prefill(path: Path, n_messages: int, seed: int) -> dict[str, int]:
    """Create the schema by opening a Store, then bulk-insert realistic rows with executemany."""
    Store(path).close()
    rng = random.Random(seed)
    bot_pool = [
        " ".join(_sentence(rng, 6, 20) for _ in range(rng.randint(1, 5))) for _ in range(400)
    ]
    user_pool = [*TEXT_ANSWERS, "1", "2", "3", "4", "yes", "no", "back", "help"] + [
        _sentence(rng, 2, 30) for _ in range(300)
    ]
    slot_pool = []
    for _ in range(60):
        slots = {f"a{n:02d}": rng.choice(user_pool) for n in range(2, rng.randint(8, 29))}
        slots.update(today="2026-11-23", dialogue_title="Diagnose a power situation")
        history = [
            {"state": f"s{n:02d}", "undo": {f"a{n:02d}": "__absent__"}} for n in range(2, 26)
        ]
        slot_pool.append((json.dumps(slots), json.dumps(history[: rng.randint(0, 24)])))
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    users, conversations, messages, next_steps = [], [], [], []
    conv_id = 0
    u = 0
    while len(messages) < n_messages:
        u += 1
        uid = f"slack:T01:U{u:07d}" if u % 3 else f"terminal:user{u}"
        seq = 0
        n_convs = rng.randint(1, 5)
        for c in range(n_convs):
            conv_id += 1
            started = t0 + dt.timedelta(minutes=rng.randint(0, 500_000))
            last = c == n_convs - 1
            status = (
                rng.choice(("active", "active", "paused", "completed"))
                if last
                else rng.choice(("completed", "completed", "completed", "abandoned"))
            )
            slots, history = rng.choice(slot_pool)
            length = min(rng.randint(10, 70), n_messages - len(messages))
            state = f"s{rng.randint(2, 28):02d}"
            for k in range(length):
                seq += 1
                sender = "user" if k % 2 else "bot"
                text = rng.choice(user_pool if sender == "user" else bot_pool)
                at = (started + dt.timedelta(seconds=20 * k)).isoformat()
                messages.append((uid, conv_id, seq, sender, text, f"s{k // 2 + 1:02d}", at))
            updated = (started + dt.timedelta(seconds=20 * length)).isoformat()
            conversations.append(
                (conv_id, uid, rng.choice(("diagnose", "own_power", "checkin")), 1,
                 "0123456789ab", "s30" if status == "completed" else state, status, None,
                 slots, history, length // 2, None, started.isoformat(), updated,
                 updated if status == "completed" else None, None)
            )  # fmt: skip
            if status == "completed":
                for _ in range(rng.randint(0, 3)):
                    due = (started + dt.timedelta(days=rng.randint(3, 40))).date().isoformat()
                    next_steps.append(
                        (conv_id, uid, "rec", "A step", rng.choice(bot_pool), "An idea",
                         "A source", due, rng.choice(("open", "closed")), updated, updated)
                    )  # fmt: skip
            if len(messages) >= n_messages:
                break
        users.append((uid, "slack" if u % 3 else "terminal", None, seq, t0.isoformat(),
                      t0.isoformat()))  # fmt: skip
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # pre-fill only: the measured connections use FULL
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO users (id, channel, display_name, message_seq, created_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        users,
    )
    conn.executemany(
        f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) VALUES ({', '.join('?' * 16)})",
        conversations,
    )
    conn.executemany(
        "INSERT INTO messages (user_id, conversation_id, seq, sender, text, state, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        messages,
    )
    conn.executemany(
        "INSERT INTO next_steps (conversation_id, user_id, recommendation_id, title, text, "
        "idea, source, due_date, status, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        next_steps,
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"users": len(users), "conversations": len(conversations), "messages": len(messages)}


# == the two kinds of turn =====================================================================


class EngineDriver:
    """One user answering script after script through an engine; restarts are timed apart."""

    def __init__(self, engine: Engine, user: str, scripts: list[Script], *, cold: bool) -> None:
        self.engine = engine
        self.user = user
        self.scripts = scripts
        self.cold = cold
        self.cycle = 0
        self.pos = -1  # -1: the next turn must start the dialogue
        self.restarts: list[int] = []
        #: Per measured turn: the time spent inside the state machine's `send`.
        self.sends: list[int] = []

    def _check(self, reply: Reply, expected: str) -> None:
        if reply.text != expected:
            raise RuntimeError(
                f"{self.user}: the engine replied differently from the recorded script:\n"
                f"got:      {reply.text[:300]!r}\nexpected: {expected[:300]!r}"
            )

    def turn(self) -> int:
        """Run one measured answer turn (restarting first if needed); its time in ns."""
        engine, clock = self.engine, time.perf_counter_ns
        script = self.scripts[self.cycle % len(self.scripts)]
        if self.pos < 0:
            start = UserInput(START_TEXT)
            t0 = clock()
            reply = engine.handle(self.user, start)
            t1 = clock()
            self._check(reply, script.start_reply)
            if not self.cold:
                self.restarts.append(t1 - t0)
            self.pos = 0
        step = script.turns[self.pos]
        if self.cold:
            engine._live.clear()
        answer = step.answer
        SEND_TIMER.take()
        t0 = clock()
        reply = engine.handle(self.user, answer)
        t1 = clock()
        self.sends.append(SEND_TIMER.take())
        self._check(reply, step.reply_text)
        self.pos += 1
        if self.pos == len(script.turns):
            self.pos = -1
            self.cycle += 1
        return t1 - t0


class FloorDriver:
    """Bare sqlite3: the same statements and rows as the turns, in one transaction each."""

    def __init__(self, path: Path, scripts: list[Script]) -> None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        self.conn = conn
        self.user = "bench:floor"
        now = dt.datetime.now(dt.UTC).isoformat()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(SQL_UPSERT_USER, (self.user, "terminal", None, now, now, now)).fetchone()
        self.conversation_id = conn.execute(
            "INSERT INTO conversations (user_id, dialogue, dialogue_version, dialogue_digest, "
            "state, status, pending, slots, history, turn, follow_up_of, started_at, updated_at)"
            " VALUES (?, 'bench', 1, 'x', 's01', 'active', NULL, '{}', '[]', 0, NULL, ?, ?)",
            (self.user, now, now),
        ).lastrowid
        conn.execute("COMMIT")
        self.turns = [t for s in scripts for t in s.turns]
        self.i = 0
        self.counter = 0

    def turn(self) -> int:
        step = self.turns[self.i % len(self.turns)]
        self.i += 1
        self.counter += 1
        conn, user, conv_id, counter = self.conn, self.user, self.conversation_id, self.counter
        state, status, pending, slots, history, version, digest, done = step.conversation
        messages = step.messages
        clock = time.perf_counter_ns
        t0 = clock()
        now = dt.datetime.now(dt.UTC).isoformat()
        conn.execute("BEGIN IMMEDIATE")
        # A user the engine has seen: its row is written once, by the numbering update.
        if step.status_changed:
            conn.execute(
                SQL_UPDATE_CONVERSATION_STATUS,
                (state, pending, slots, history, counter, version, digest, now, done, status,
                 conv_id),
            )  # fmt: skip
        else:
            conn.execute(
                SQL_UPDATE_CONVERSATION,
                (state, pending, slots, history, counter, version, digest, now, done, conv_id),
            )
        (seq,) = conn.execute(SQL_UPDATE_SEQ, (len(messages), now, user)).fetchone()
        first = seq - len(messages) + 1
        conn.executemany(
            SQL_INSERT_MESSAGE,
            [
                (user, conv_id if has_conv else None, first + k, sender, text, st, now)
                for k, (sender, text, st, has_conv) in enumerate(messages)
            ],
        )
        conn.execute("COMMIT")
        return clock() - t0

    def close(self) -> None:
        self.conn.close()


# == measuring =================================================================================


def p99(values: list[int]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def us(ns: float) -> float:
    return ns / 1000


@dataclass
class SizeResult:
    size: int
    start_messages: int
    end_messages: int
    warm: list[int]
    warm_sends: list[int]
    floor: list[int]
    cold: list[int]
    restarts: list[int]
    prefill_s: float
    measure_s: float

    @property
    def ratio(self) -> float:
        return statistics.median(self.warm) / statistics.median(self.floor)

    @property
    def ratio_p99(self) -> float:
        return p99(self.warm) / p99(self.floor)


def measure_size(
    size: int, turns: int, scripts: list[Script], catalog: Any, workdir: Path, seed: int
) -> tuple[SizeResult, Engine, EngineDriver]:
    template = workdir / f"prefill-{size}.db"
    t0 = time.perf_counter()
    counts = prefill(template, size, seed)
    prefill_s = time.perf_counter() - t0
    engine_path, floor_path = workdir / f"engine-{size}.db", workdir / f"floor-{size}.db"
    cold_path = workdir / f"cold-{size}.db"
    for path in (engine_path, floor_path, cold_path):
        shutil.copyfile(template, path)
    template.unlink()
    # Flush the pre-fill and the copies to disk now: otherwise their writeback lands in the
    # measured fsyncs (ext4 and friends commit other files' dirty data with a journal flush).
    os.sync()
    time.sleep(0.2)

    store = Store(engine_path)
    warm_engine = Engine(store, catalog)
    # Cold turns get their own engine (its cache is emptied before each turn) and their own
    # copy of the database, so their writes do not add WAL checkpoints to the warm runs.
    cold_store = Store(cold_path)
    cold_engine = Engine(cold_store, catalog)
    warm = EngineDriver(warm_engine, "terminal:bench-warm", scripts, cold=False)
    cold = EngineDriver(cold_engine, "terminal:bench-cold", scripts, cold=True)
    floor = FloorDriver(floor_path, scripts)

    # Warm-up: a full pass of each, so statement caches, the compiled dialogue and the
    # template cache are hot, then discard what was measured.
    per_pass = len(scripts[0].turns)
    for _ in range(per_pass + 1):
        warm.turn()
        floor.turn()
    for _ in range(4):
        cold.turn()
    warm.restarts.clear()
    warm.sends.clear()

    warm_ns: list[int] = []
    floor_ns: list[int] = []
    cold_ns: list[int] = []
    cold_turns = max(BLOCK // COLD_SHARE, turns // COLD_SHARE)
    rounds = math.ceil(turns / BLOCK)
    cold_block = math.ceil(cold_turns / rounds)

    def run_warm() -> None:
        for _ in range(min(BLOCK, turns - len(warm_ns))):
            warm_ns.append(warm.turn())

    def run_floor() -> None:
        for _ in range(min(BLOCK, turns - len(floor_ns))):
            floor_ns.append(floor.turn())

    def run_cold() -> None:
        for _ in range(min(cold_block, cold_turns - len(cold_ns))):
            cold_ns.append(cold.turn())

    order: list[Callable[[], None]] = [run_warm, run_floor, run_cold]
    gc.collect()
    t0 = time.perf_counter()
    for r in range(rounds):
        k = r % len(order)
        for block in order[k:] + order[:k]:  # rotate who goes first, so drift hits all alike
            block()
    measure_s = time.perf_counter() - t0
    floor.close()
    cold_store.close()
    (end_messages,) = store.db.execute("SELECT count(*) FROM messages").fetchone()
    result = SizeResult(
        size=size,
        start_messages=counts["messages"],
        end_messages=end_messages,
        warm=warm_ns,
        warm_sends=list(warm.sends),
        floor=floor_ns,
        cold=cold_ns,
        restarts=warm.restarts,
        prefill_s=prefill_s,
        measure_s=measure_s,
    )
    return result, warm_engine, warm


def profile_warm(driver: EngineDriver, turns: int, top: int = 25) -> str:
    """cProfile a run of warm turns; the report sorted by own time and by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(turns):
        driver.turn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(f"\n== cProfile of {turns} warm engine turns, by own time ==\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write("\n== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# == reporting =================================================================================


def environment(workdir: Path) -> list[str]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    load = os.getloadavg()
    return [
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"sqlite {sqlite3.sqlite_version}, python-statemachine {version('python-statemachine')}, "
        f"sqlite-utils {version('sqlite-utils')}",
        f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; databases in {workdir} (device {os.stat(workdir).st_dev:#x})",
        "pragmas: journal_mode=WAL, synchronous=FULL, foreign_keys=ON (engine and floor); "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other work skews the figures)",
    ]


def report(results: list[SizeResult], dialogue_info: str, env: list[str], total_s: float) -> str:
    lines = ["Influence Coach: one turn through engine + storage vs bare sqlite3 (µs per turn)"]
    lines += env
    lines.append(dialogue_info)
    lines.append("")
    head = (
        f"{'stored msgs':>11} {'(at end)':>9} {'turns':>6} │ {'engine med':>10} {'p99':>8} │ "
        f"{'floor med':>9} {'p99':>8} │ {'ratio med':>9} {'p99':>6} │ {'engine−floor':>12}"
    )
    lines.append(head)
    lines.append("─" * len(head))
    for r in results:
        lines.append(
            f"{r.size:>11,} {r.end_messages:>9,} {len(r.warm):>6} │ "
            f"{us(statistics.median(r.warm)):>10.0f} {us(p99(r.warm)):>8.0f} │ "
            f"{us(statistics.median(r.floor)):>9.0f} {us(p99(r.floor)):>8.0f} │ "
            f"{r.ratio:>9.2f} {r.ratio_p99:>6.2f} │ "
            f"{us(statistics.median(r.warm) - statistics.median(r.floor)):>12.0f}"
        )
    lines.append("")
    lines.append(
        "where a warm turn goes (medians): sending the answer to the machine "
        "(python-statemachine's event processing, our guards, the next step said) vs the "
        "rest of the engine and storage:"
    )
    for r in results:
        send = statistics.median(r.warm_sends)
        rest = statistics.median([w - s for w, s in zip(r.warm, r.warm_sends, strict=True)])
        floor = statistics.median(r.floor)
        lines.append(
            f"{r.size:>11,} {'':>9} {len(r.warm):>6} │ send {us(send):>5.0f} "
            f"({send / floor:.2f} floors) │ rest {us(rest):>5.0f} ({rest / floor:.2f} floors)"
        )
    lines.append("")
    lines.append("cold turns (live machine cache emptied before each; not part of the target):")
    for r in results:
        med = statistics.median(r.cold)
        lines.append(
            f"{r.size:>11,} {'':>9} {len(r.cold):>6} │ {us(med):>10.0f} {us(p99(r.cold)):>8.0f} │ "
            f"{'':>9} {'':>8} │ {med / statistics.median(r.floor):>9.2f}   "
            f"(×{med / statistics.median(r.warm):.2f} a warm turn)"
        )
    lines.append("restart turns ('start bench': a new conversation; excluded above):")
    for r in results:
        if not r.restarts:
            lines.append(f"{r.size:>11,} {'':>9} {0:>6} │ (none: too few turns)")
            continue
        lines.append(
            f"{r.size:>11,} {'':>9} {len(r.restarts):>6} │ "
            f"{us(statistics.median(r.restarts)):>10.0f} {us(max(r.restarts)):>8.0f} (max)"
        )
    lines.append("")
    first, last = results[0], results[-1]
    growth = statistics.median(last.warm) / statistics.median(first.warm)
    floor_growth = statistics.median(last.floor) / statistics.median(first.floor)
    ratio_ok = all(r.ratio <= TARGET_RATIO for r in results)
    flat_ok = growth <= FLAT_TOLERANCE
    lines.append(
        f"engine median {first.size:,} → {last.size:,} stored messages: ×{growth:.2f} "
        f"(floor ×{floor_growth:.2f}); flat means ≤ ×{FLAT_TOLERANCE}"
    )
    timings = ", ".join(f"{r.size:,}: prefill {r.prefill_s:.1f}s measure {r.measure_s:.1f}s"
                        for r in results)  # fmt: skip
    lines.append(f"time: {timings}; total {total_s:.0f}s")
    verdict = "PASS" if ratio_ok and flat_ok else "FAIL"
    lines.append(
        f"target: ratio <= {TARGET_RATIO} and flat as the DB grows: {verdict}  "
        f"(ratio {' / '.join(f'{r.ratio:.2f}' for r in results)}; growth ×{growth:.2f})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=None, help="measured turns per size")
    parser.add_argument("--sizes", default="1000,100000", help="stored messages, comma-separated")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (~20 s)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile warm turns at the largest size"
    )
    args = parser.parse_args(argv)
    turns = args.turns or (600 if args.quick else 2000)
    sizes = [int(s.replace("_", "").replace("k", "000")) for s in args.sizes.split(",") if s]
    if turns < 10 or not sizes:
        parser.error("need at least 10 turns and one size")

    started = time.perf_counter()
    SEND_TIMER.install()
    workdir = Path(tempfile.mkdtemp(prefix="coach-bench-", dir=args.dir))
    try:
        dialogue_path = write_dialogues(workdir / "dialogues")
        loaded = load_dialogue_file(dialogue_path)
        catalog = load_catalog(workdir / "dialogues")
        if catalog.problems:
            raise SystemExit("\n".join(str(p) for p in catalog.problems))
        scripts = record_scripts(catalog, workdir, VARIANTS)
        lengths = sorted({len(s.turns) for s in scripts})
        asking = sum(1 for s in loaded.dialogue.steps.values() if "prompt" in type(s).model_fields)
        dialogue_info = (
            f"dialogue: {len(loaded.dialogue.steps)} steps ({asking} questions, branches), "
            f"{VARIANTS} answer scripts of {'/'.join(map(str, lengths))} answer turns each; "
            f"blocks of {BLOCK} engine / floor turns interleaved"
        )
        results: list[SizeResult] = []
        last_driver: EngineDriver | None = None
        for n, size in enumerate(sizes):
            result, _engine, driver = measure_size(size, turns, scripts, catalog, workdir, n + 1)
            results.append(result)
            if last_driver is not None:
                last_driver.engine.store.close()
            last_driver = driver
            print(
                f"  measured {size:,} stored messages: engine "
                f"{us(statistics.median(result.warm)):.0f} µs, floor "
                f"{us(statistics.median(result.floor)):.0f} µs",
                file=sys.stderr,
                flush=True,
            )
        SEND_TIMER.uninstall()
        print(report(results, dialogue_info, environment(workdir), time.perf_counter() - started))
        if args.profile and last_driver is not None:
            print(profile_warm(last_driver, min(turns, 1000)))
        if last_driver is not None:
            last_driver.engine.store.close()
    finally:
        if args.keep:
            print(f"databases kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
