"""What screening one message costs: today's screen (dialogues/safety.yaml v2, its rules and
its trained model) against the old phrase screen it replaced and against its rules alone, on a
typical 150-character answer, a 600-character paragraph and a 4,000-character message.

Every message is screened on every turn, so this sits inside the turn benchmark's budget
(`benchmarks/turns.py`). The old screen is kept here as the baseline: its code as it was in
bot/safety.py, and its phrases in benchmarks/safety_v1.yaml. Messages are ordinary coaching
talk (the common case: most raise nothing); a second row shows messages that do raise a
signal, and a third the new screen with its word cache emptied before each call (the cost
of words it has never seen).

    .venv/bin/python benchmarks/safety_speed.py
    .venv/bin/python benchmarks/safety_speed.py --quick
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot import safety_patterns  # noqa: E402
from bot.loader import load_safety  # noqa: E402
from bot.safety import SafetyDetector  # noqa: E402

ORDINARY = [
    "The council's cabinet member for adult social care decides our funding every March.",
    "I'd say they hold most of the cards: the budget, the data and the contract.",
    "We run the only lunch club in the ward and the residents rely on us.",
    "The partnership board meets quarterly and the trust sets the agenda.",
    "Honestly I think the officers like us but the councillors don't know we exist.",
    "Our volunteers know the families better than anyone at the hub.",
    "The commissioner asked for an outcomes framework by the end of the month.",
    "We could bring the tenants' association and the food bank in with us.",
    "I want to speak first on the item about the day centre at the next meeting.",
    "Their mandate comes from the integrated care board, not from residents.",
    "Last year the consultation was online only, and most of our members missed it.",
    "I'd rate our influence as a two, maybe a three on a good day.",
]
SIGNALS = [
    "He shouted at me in front of the whole board and I felt really threatened.",
    "We're thinking about a judicial review of the closure decision.",
    "Some days I don't see the point of any of it anymore.",
    "They keep mocking my accent in meetings and everyone laughs.",
]


def message(pool: list[str], length: int, rng: random.Random) -> str:
    """Sentences from `pool`, in random order, cut at `length` characters."""
    text = ""
    while len(text) < length:
        text += rng.choice(pool) + " "
    return text[:length]


# -- the old screen, as bot/safety.py had it before safety.yaml v2 ------------------------

_OLD_WORD = re.compile(r"\w+")


def _old_normal(text: str) -> str:
    return text.replace("’", "'").lower()


def _old_pattern(phrase: str) -> str:
    phrase = _old_normal(phrase.strip())
    prefix = phrase.endswith("*")
    words = re.escape(phrase.rstrip("*").strip()).replace(r"\ ", r"\s+")
    return words + ("" if prefix else r"(?!\w)")


class OldDetector:
    """The phrase screen: each category's phrases as one regex, run when a key word appears."""

    def __init__(self, path: Path) -> None:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        self._screens: list[tuple[str, re.Pattern[str], frozenset[str]]] = []
        for category in data["categories"]:
            phrases = [_old_normal(p.strip()) for p in category["phrases"]]
            joined = "|".join(_old_pattern(p) for p in phrases)
            keys = {max(_OLD_WORD.findall(p.rstrip("*")), key=len) for p in phrases}
            self._screens.append(
                (category["id"], re.compile(rf"(?<!\w)(?:{joined})"), frozenset(keys))
            )
        self._any_key = frozenset().union(*(keys for _, _, keys in self._screens))

    def detect(self, text: str) -> str | None:
        normal = _old_normal(text)
        words = set(_OLD_WORD.findall(normal))
        if self._any_key.isdisjoint(words):
            return None
        for category_id, pattern, keys in self._screens:
            if not keys.isdisjoint(words) and pattern.search(normal):
                return category_id
        return None


# -- measuring -----------------------------------------------------------------------------


def measure(screen: Callable[[str], object], texts: list[str], rounds: int) -> list[float]:
    """Microseconds per call, each text screened `rounds` times, after one warm-up pass."""
    for text in texts:
        screen(text)
    timings: list[float] = []
    gc.disable()
    try:
        for _ in range(rounds):
            for text in texts:
                start = time.perf_counter_ns()
                screen(text)
                timings.append((time.perf_counter_ns() - start) / 1000)
    finally:
        gc.enable()
    return timings


def summary(timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{statistics.median(ordered):9.1f} {p99:9.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    args = parser.parse_args()
    rounds = 20 if args.quick else 200
    rng = random.Random(9)

    config = load_safety(REPO / "dialogues" / "safety.yaml")
    new = SafetyDetector(config)
    rules = SafetyDetector(config, model=None)
    old = OldDetector(REPO / "benchmarks" / "safety_v1.yaml")

    def new_cold(text: str) -> object:
        new.reader._pieces.clear()  # what a message of never-seen words costs
        new.reader._stems.clear()
        new.reader._sequences.clear()
        safety_patterns._stems.clear()
        return new.screen(text)

    print(f"{'message':<18} {'screen':<18} {'median µs':>9} {'p99 µs':>9}")
    for length in (150, 600, 4000):
        n = max(5, 60 * 150 // length)
        ordinary = [message(ORDINARY, length, rng) for _ in range(n)]
        mixed = [message(ORDINARY + SIGNALS, length, rng) for _ in range(n)]
        rows = [
            ("old (v1 phrases)", old.detect, ordinary),
            ("rules alone", rules.screen, ordinary),
            ("new", new.screen, ordinary),
            ("new, with signals", new.screen, mixed),
            ("new, cold words", new_cold, ordinary),
        ]
        for name, screen, texts in rows:
            slow = name == "new, cold words"
            timings = measure(screen, texts, max(2, rounds // 10) if slow else rounds)
            print(f"{length:>5,} characters   {name:<18} {summary(timings)}")
    print("targets: new median ≤ 25 µs at 150 characters, ≤ 1,500 µs at 4,000 characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
