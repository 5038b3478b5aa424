"""What the review page costs on a big store: 10,000 conversations and 1,000,000 messages, of
which one coach may see 500 (shared by 50 coachees, one of them 400 messages long).

Each request goes through the whole Starlette app in this process (the access check reading what
is shared now, the query, the Jinja2 page), as `coach review` answers it, less the socket:
- the inbox (100 newest of the 500),
- a search across the 500's transcripts (a word in about one message in fifty), as the
  form sends it (the whole page) and as htmx asks for it while the coach types (the results),
- the page of the 400-message conversation (its first 100 messages, chart, steps, notes),
- its whole Markdown export (all 400 messages).

Target: each p99 under 50 ms.

    .venv/bin/python benchmarks/review.py            # the full size, 200 requests of each
    .venv/bin/python benchmarks/review.py --quick    # a tenth of the size, a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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

import httpx2  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from turns import environment, p99  # noqa: E402

from bot.loader import load_catalog  # noqa: E402
from bot.review.app import create_app  # noqa: E402
from bot.review.server import settle_memory  # noqa: E402
from storage.sharing import hash_token, token_lookup  # noqa: E402
from storage.store import Store  # noqa: E402

TOKEN = "bench-coach-token-0123456789"
TARGET_MS = 50.0
LONG = 400
WORDS = [
    "council",
    "budget",
    "library",
    "board",
    "trust",
    "funding",
    "chair",
    "meeting",
    "staff",
    "volunteers",
    "residents",
    "petition",
    "councillor",
    "officer",
    "report",
    "consultation",
    "deadline",
    "partners",
    "evidence",
]
SLOTS = json.dumps(
    {"other_party": "the council", "_about": "the council", "their_resources": 5,
     "my_resources": 2, "their_expertise": 4, "my_expertise": 3, "their_importance": 4,
     "my_importance": 2, "their_position": 5, "my_position": 1}
)  # fmt: skip


def build(db: Path, conversations: int, messages: int, visible: int, seed: int = 7) -> int:
    """The store: `conversations` among 2,000 people, `messages` spread over them, and
    `visible` of them (50 coachees' worth) shared with one coach. The long one's id."""
    store = Store(db)
    with store.transaction():
        coach = store.add_coach("Bench", hash_token(TOKEN), "2026-01-01", token_lookup(TOKEN))
    store.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    people = [f"terminal:p{i}" for i in range(2000)]
    conn.executemany(
        "INSERT INTO users (id, channel, created_at, name) VALUES (?, 'terminal', ?, ?)",
        [(p, "2026-01-01", f"Person {i}") for i, p in enumerate(people)],
    )
    sharers = people[:50]
    # The shares first, so the index trigger takes the sharers' messages as they are written.
    each = visible // len(sharers)
    owners = [sharers[i // each] for i in range(visible)] + [
        rng.choice(people[50:]) for _ in range(conversations - visible)
    ]
    rows = []
    for i, owner in enumerate(owners):
        day = 1 + i % 300
        when = f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T10:00:00+00:00"
        rows.append((i + 1, owner, "diagnose", 5, "end", "completed", SLOTS, "[]", 12, when,
                     when, when))  # fmt: skip
    conn.executemany(
        "INSERT INTO conversations (id, user_id, dialogue, dialogue_version, state, status, "
        "slots, history, turn, started_at, updated_at, completed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO shares (user_id, coach_id, scope, conversation_id, created_at) "
        "VALUES (?, ?, 'conversation', ?, '2026-01-01')",
        [(owners[i], coach, i + 1) for i in range(visible)],
    )
    long_id = 1
    counts = [LONG] + [0] * (conversations - 1)
    for _ in range(messages - LONG):
        counts[rng.randrange(1, conversations)] += 1
    seq: dict[str, int] = {}
    batch: list[tuple[object, ...]] = []
    for cid, count in enumerate(counts, start=1):
        owner = owners[cid - 1]
        for k in range(count):
            seq[owner] = seq.get(owner, 0) + 1
            text = " ".join(rng.choice(WORDS) for _ in range(12))
            if rng.random() < 0.02:
                text += " lanternfish"
            batch.append((owner, cid, seq[owner], "user" if k % 2 else "bot", text,
                          f"2026-06-01T10:{k // 60 % 60:02d}:{k % 60:02d}+00:00"))  # fmt: skip
        if len(batch) > 50_000:
            _insert(conn, batch)
    _insert(conn, batch)
    conn.execute("COMMIT")
    conn.close()
    return long_id


def _insert(conn: sqlite3.Connection, batch: list[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO messages (user_id, conversation_id, seq, sender, text, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        batch,
    )
    batch.clear()


def measure(db: Path, long_id: int, requests: int) -> dict[str, list[float]]:
    store = Store(db)
    app = create_app(store, load_catalog(REPO / "dialogues"))
    settle_memory()  # as `coach review` does once the app is built
    try:
        return asyncio.run(_timed(app, long_id, requests))
    finally:
        store.close()


async def _timed(app: Starlette, long_id: int, requests: int) -> dict[str, list[float]]:
    """The requests straight into the app on this event loop, as uvicorn hands them over
    (Starlette's TestClient would add hops between threads to each)."""
    transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        page = (await client.get("/login")).text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        login = await client.post("/login", data={"token": TOKEN, "csrf_token": csrf})
        assert login.status_code == 303
        paths = {
            "inbox (100 of 500)": "/",
            "search 'lanternfish'": "/?q=lanternfish",
            "search as you type (htmx)": "/?q=lanternfish&htmx",
            f"conversation page ({LONG} messages)": f"/c/{long_id}",
            f"Markdown export ({LONG} messages)": f"/c/{long_id}/export.md",
        }
        htmx = {"HX-Request": "true"}
        timings: dict[str, list[float]] = {name: [] for name in paths}
        for url in paths.values():  # warm up
            assert (await client.get(url)).status_code == 200, url
        for _ in range(requests):
            for name, url in paths.items():
                headers = htmx if url.endswith("&htmx") else None
                start = time.perf_counter_ns()
                answer = await client.get(url, headers=headers)
                timings[name].append((time.perf_counter_ns() - start) / 1e6)
                assert answer.status_code == 200
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    conversations, messages, requests = 10_000 // scale, 1_000_000 // scale, 200 // scale
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "review.db"
        start = time.perf_counter()
        long_id = build(db, conversations, messages, 500)
        built = time.perf_counter() - start
        print(f"built {conversations:,} conversations, {messages:,} messages "
              f"({db.stat().st_size / 1e6:.0f} MB) in {built:.0f} s")  # fmt: skip
        timings = measure(db, long_id, requests)
        for line in environment(Path(folder)):
            print(line)
    print(f"{'request':<36} {'median ms':>10} {'p99 ms':>8}  target p99 < {TARGET_MS:.0f} ms")
    failed = False
    for name, values in timings.items():
        worst = p99([int(v * 1000) for v in values]) / 1000
        failed |= worst >= TARGET_MS
        verdict = "ok" if worst < TARGET_MS else "OVER"
        print(f"{name:<36} {statistics.median(values):>10.1f} {worst:>8.1f}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
