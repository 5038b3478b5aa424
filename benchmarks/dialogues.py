"""What reading the dialogues costs an admin and a coach starting up: load, validate and
compile every shipped dialogue (what `coach dialogues validate`, a start and each reload
do); the same for a synthetic dialogue of 500 steps; and running every shipped script
(`coach dialogues test`). Medians of several runs, each from cold caches (parsed templates,
compiled machines), in this process (interpreter start-up and imports not counted).

Targets (issue 13): under 200 ms for the shipped dialogues, under 1 s for 500 steps.

    .venv/bin/python benchmarks/dialogues.py
    .venv/bin/python benchmarks/dialogues.py --quick
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot import compiler, templates  # noqa: E402
from bot.compiler import compile_dialogue  # noqa: E402
from bot.loader import (  # noqa: E402
    SAFETY_FILE,
    dialogue_files,
    load_catalog,
    load_dialogue_file,
    load_safety,
)
from bot.scripts import Trace, run_file, script_files  # noqa: E402
from bot.validation import validate  # noqa: E402

DIALOGUES = REPO / "dialogues"


def cold() -> None:
    """Forget what earlier runs parsed and compiled, as a fresh process would."""
    templates._compiled.cache_clear()
    templates._parsed.cache_clear()
    templates.template_names.cache_clear()
    compiler._CACHE.clear()


def shipped() -> None:
    """The dialogue files alone (the safety screen is its own row)."""
    for path in dialogue_files(DIALOGUES):
        compile_dialogue(load_dialogue_file(path))


def safety_screen() -> None:
    load_safety(DIALOGUES / SAFETY_FILE)


def validate_shipped() -> None:
    report = validate([], DIALOGUES)
    assert not report.errors, report.text()


def synthetic(steps: int) -> str:
    """A dialogue of `steps` steps shaped like the shipped ones: questions of each kind, a
    template naming earlier answers, branches with conditions, and an end."""
    lines = [
        "id: synthetic",
        "title: A long synthetic dialogue",
        "version: 1",
        "description: For benchmarks/dialogues.py.",
        "steps:",
    ]
    for i in range(steps - 1):
        nxt = f"s{i + 1}"
        kind = ("text", "choice", "scale")[i % 3]
        lines += [f"  s{i}:", f"    kind: {kind}", f"    slot: a{i}"]
        if i and i % 3 != 1:
            lines.append(f'    prompt: "Step {i}: after {{{{ a{i - 1} }}}}, what now?"')
        else:
            lines.append(f"    prompt: Step {i}, what now?")
        if kind == "choice":
            lines += [
                "    choices:",
                "      - {value: one, label: One}",
                "      - {value: two, label: Two}",
            ]
            lines += ["    next:", f"      - when: a{i} == 'one'", f"        to: {nxt}"]
            lines.append(f"      - to: {nxt}")
        else:
            lines.append(f"    next: {nxt}")
    lines += [f"  s{steps - 1}:", "    kind: end", '    text: "Done, {{ a0 }}."']
    return "\n".join(lines) + "\n"


def run_scripts() -> None:
    catalog = load_catalog(DIALOGUES)
    trace = Trace(catalog)
    for path in script_files([], DIALOGUES):
        failures, _ = run_file(path, catalog, trace)
        assert not failures, failures


def median_ms(work: Callable[[], None], runs: int) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        cold()
        gc.collect()
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args()
    runs = 3 if args.quick else 9
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "synthetic.yaml"
        path.write_text(synthetic(500), encoding="utf-8")

        def long_one() -> None:
            compile_dialogue(load_dialogue_file(path))

        rows = [
            ("load + compile the 4 shipped dialogues", shipped, 200.0),
            ("load safety.yaml (1,138 patterns)", safety_screen, None),
            ("validate the shipped folder (+ safety, rubric)", validate_shipped, None),
            ("load + compile a 500-step dialogue", long_one, 1000.0),
            ("run every shipped script", run_scripts, None),
        ]
        print(f"{'':48} {'median':>9} {'min':>9} {'max':>9}  target")
        for name, work, target in rows:
            median, low, high = median_ms(work, min(runs, 3) if work is run_scripts else runs)
            verdict = (
                ""
                if target is None
                else f"< {target:.0f} ms " + ("ok" if median < target else "OVER")
            )
            print(f"{name:48} {median:7.0f}ms {low:7.0f}ms {high:7.0f}ms  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
