"""What `history` costs for someone with 500 past conversations, next to one turn's budget.

A person finishes one real diagnosis through the engine (so their slots, steps and transcript
are what the coach really stores), which is then copied, transcript and all, until they have
500 past conversations with two or three next steps each, among many other people's rows.
Each measured turn is a full `Engine.handle` at the menu: the command, its indexed reads, the
reply, and the durable commit of the user's message and the reply, as any turn.

The floor is the turns benchmark's: bare `sqlite3` on a copy of the same file, same pragmas,
in one BEGIN IMMEDIATE ... COMMIT writing the rows such a turn writes (the message numbering
and the two messages). One turn's budget is the turn benchmark's target: 2.0 floors.

    .venv/bin/python benchmarks/history.py            # 400 turns of each kind
    .venv/bin/python benchmarks/history.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from turns import (  # noqa: E402
    SQL_INSERT_MESSAGE,
    SQL_UPDATE_SEQ,
    TARGET_RATIO,
    environment,
    p99,
    us,
)

from bot.engine import Engine  # noqa: E402
from bot.loader import load_catalog  # noqa: E402
from bot.turns import UserInput  # noqa: E402
from storage.store import Store  # noqa: E402

USER = "terminal:bench-history"
PAST = 500
OTHERS = 4000  # other people, with a few conversations each
FLOOR = "floor"
BLOCK = 20
QUICK = {"choice": "1", "scale": "3", "yesno": "yes", "text": "some words", "date": "in 2 weeks"}
COMMANDS = {
    "history": "history (the newest 10)",
    "history 50": "history 50 (the oldest 10)",
    "show 1": "show 1 (one in full)",
    "steps": "steps",
}


def one_real_diagnosis(engine: Engine) -> None:
    """A whole diagnosis through the engine, answered quickly, ending with three steps."""
    engine.open(USER)
    engine.handle(USER, UserInput("Robin"))
    reply = engine.handle(USER, UserInput("start diagnose"))
    while (row := engine.store.current_conversation(USER)) is not None and row.state != "commit":
        reply = engine.handle(USER, UserInput(QUICK[reply.awaits.kind]))
    for _ in range(3):
        engine.handle(USER, UserInput("1"))
        engine.handle(USER, UserInput("in 3 weeks"))
    assert engine.store.conversations_of(USER)[-1].status == "completed"


def fill(path: Path, seed: int = 11) -> None:
    """Copy the real diagnosis until the person has PAST of them, and add other people."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # filling only: measured connections use FULL
    conn.execute("BEGIN")
    (conv_id,) = conn.execute("SELECT id FROM conversations WHERE user_id = ?", (USER,)).fetchone()
    columns = [c[1] for c in conn.execute("PRAGMA table_info(conversations)") if c[1] != "id"]
    step_columns = [c[1] for c in conn.execute("PRAGMA table_info(next_steps)") if c[1] != "id"]
    conv = conn.execute(
        f"SELECT {', '.join(columns)} FROM conversations WHERE id = ?", (conv_id,)
    ).fetchone()
    steps = conn.execute(
        f"SELECT {', '.join(step_columns)} FROM next_steps WHERE conversation_id = ?", (conv_id,)
    ).fetchall()
    # The conversation's transcript goes with each copy (`show N` may read it), numbered on
    # from each person's last message as the engine numbers them.
    said = conn.execute(
        "SELECT sender, text, state, created_at FROM messages WHERE conversation_id = ? "
        "ORDER BY seq",
        (conv_id,),
    ).fetchall()
    seqs: dict[str, int] = dict(conn.execute("SELECT id, message_seq FROM users"))
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    conv_sql = (
        f"INSERT INTO conversations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    step_sql = (
        f"INSERT INTO next_steps ({', '.join(step_columns)}) "
        f"VALUES ({', '.join('?' * len(step_columns))})"
    )
    i_user, i_completed = columns.index("user_id"), columns.index("completed_at")

    def add(user: str, when: dt.datetime, outcome: str | None) -> None:
        values = list(conv)
        values[i_user] = user
        values[i_completed] = when.isoformat()
        new_id = conn.execute(conv_sql, values).lastrowid
        for step in steps:
            row = list(step)
            row[step_columns.index("conversation_id")] = new_id
            row[step_columns.index("user_id")] = user
            if outcome is not None:
                row[step_columns.index("status")] = "closed"
                row[step_columns.index("outcome")] = outcome
            conn.execute(step_sql, row)
        seq = seqs.get(user, 0)
        conn.executemany(
            "INSERT INTO messages (user_id, conversation_id, seq, sender, text, state, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(user, new_id, seq + n, *message) for n, message in enumerate(said, 1)],
        )
        seqs[user] = seq + len(said)

    for n in range(PAST - 1):
        when = start + dt.timedelta(days=n)
        add(USER, when, rng.choice(("done", "dropped", "partly")))
    for u in range(OTHERS):
        user = f"slack:T1:U{u:06d}"
        conn.execute(
            "INSERT INTO users (id, channel, message_seq, created_at, last_seen_at) "
            "VALUES (?, 'slack', 0, ?, ?)",
            (user, start.isoformat(), start.isoformat()),
        )
        for c in range(rng.randint(1, 5)):
            add(user, start + dt.timedelta(days=c), None)
    conn.executemany(
        "UPDATE users SET message_seq = ? WHERE id = ?", [(q, u) for u, q in seqs.items()]
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


class Floor:
    """The bare durable write of a turn at the menu: the numbering and two messages."""

    def __init__(self, path: Path, reply_text: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("busy_timeout = 5000", "journal_mode = WAL", "synchronous = FULL"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.reply = reply_text

    def turn(self) -> int:
        conn = self.conn
        t0 = time.perf_counter_ns()
        now = dt.datetime.now(dt.UTC).isoformat()
        conn.execute("BEGIN IMMEDIATE")
        (seq,) = conn.execute(SQL_UPDATE_SEQ, (2, now, USER)).fetchone()
        conn.executemany(
            SQL_INSERT_MESSAGE,
            [
                (USER, None, seq - 1, "user", "history", "menu", now),
                (USER, None, seq, "bot", self.reply, "menu", now),
            ],
        )
        conn.execute("COMMIT")
        return time.perf_counter_ns() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=None, help="measured turns of each kind")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args(argv)
    turns = args.turns or (60 if args.quick else 400)
    workdir = Path(tempfile.mkdtemp(prefix="coach-history-"))
    try:
        catalog = load_catalog(REPO / "dialogues")
        path = workdir / "engine.db"
        store = Store(path)
        one_real_diagnosis(Engine(store, catalog))
        store.close()
        t0 = time.perf_counter()
        fill(path)
        filled = time.perf_counter() - t0
        shutil.copyfile(path, workdir / "floor.db")
        # Flush the filling and the copy to disk now: otherwise their writeback lands in the
        # measured fsyncs (as in turns.py).
        os.sync()
        time.sleep(0.2)
        store = Store(path)
        engine = Engine(store, catalog)
        (count,) = store.db.execute(
            "SELECT count(*) FROM conversations WHERE user_id = ?", (USER,)
        ).fetchone()
        (everyone,) = store.db.execute("SELECT count(*) FROM conversations").fetchone()
        reply = engine.handle(USER, UserInput("history"))
        floor = Floor(workdir / "floor.db", reply.text)
        timings: dict[str, list[int]] = {c: [] for c in COMMANDS}
        floors: list[int] = []

        def run(kind: str, count: int, keep: bool) -> None:
            for _ in range(count):
                if kind == FLOOR:
                    took = floor.turn()
                else:
                    t = time.perf_counter_ns()
                    engine.handle(USER, UserInput(kind))
                    took = time.perf_counter_ns() - t
                if keep:
                    (floors if kind == FLOOR else timings[kind]).append(took)

        kinds = [*COMMANDS, FLOOR]
        for kind in kinds:  # warm up: caches, the compiled dialogue, both WAL files grown
            run(kind, BLOCK, keep=False)
        gc.collect()
        for r in range(math.ceil(turns / BLOCK)):  # blocks in turn, so drift hits all alike
            k = r % len(kinds)
            for kind in kinds[k:] + kinds[:k]:
                run(kind, BLOCK, keep=True)
        store.close()
        floor.conn.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    floor_med = statistics.median(floors)
    lines = ["Influence Coach: reading one's own record, per turn (µs), vs the bare durable write"]
    lines += environment(workdir.parent)
    lines.append(
        f"{count} past conversations of this person among {everyone:,} (filled in {filled:.1f}s); "
        f"{turns} turns of each kind, interleaved"
    )
    lines.append("")
    lines.append(f"{'turn':<28} {'median':>8} {'p99':>8} │ {'ratio med':>9} {'p99':>6}")
    lines.append(
        f"{'floor (durable write)':<28} {us(floor_med):>8.0f} {us(p99(floors)):>8.0f} │ "
        f"{1:>9.2f} {1:>6.2f}"
    )
    verdict = True
    for command, label in COMMANDS.items():
        values = timings[command]
        ratio = statistics.median(values) / floor_med
        verdict = verdict and (command != "history" or ratio <= TARGET_RATIO)
        lines.append(
            f"{label:<28} {us(statistics.median(values)):>8.0f} {us(p99(values)):>8.0f} │ "
            f"{ratio:>9.2f} {p99(values) / p99(floors):>6.2f}"
        )
    lines.append("")
    lines.append(
        f"target: `history` median <= {TARGET_RATIO} floors (one turn's budget): "
        f"{'PASS' if verdict else 'FAIL'}"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
