"""How well the safety screen hears what it should, and leaves alone what it should not.

Runs each corpus (YAML: `sentences: [{text, expect}]`, default tests/safety/corpus.yaml)
through the detector built from dialogues/safety.yaml, and prints recall and false alarms
per category and level, then every sentence it got wrong. `coach dialogues safety-eval`
prints the same for admins.

    .venv/bin/python benchmarks/safety_eval.py
    .venv/bin/python benchmarks/safety_eval.py --corpus tests/safety/corpus.yaml --corpus more.yaml
    .venv/bin/python benchmarks/safety_eval.py --no-mistakes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.loader import load_safety  # noqa: E402
from bot.safety_eval import detector_classifier, evaluate, format_report, load_corpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        action="append",
        type=Path,
        help="a labelled corpus (repeatable; default tests/safety/corpus.yaml)",
    )
    parser.add_argument(
        "--safety", type=Path, default=REPO / "dialogues" / "safety.yaml", help="safety.yaml"
    )
    parser.add_argument("--no-mistakes", action="store_true", help="only the table")
    args = parser.parse_args()
    config = load_safety(args.safety)
    classify = detector_classifier(config)
    for path in args.corpus or [REPO / "tests" / "safety" / "corpus.yaml"]:
        print(f"== {path} (through the detector)")
        report = evaluate(load_corpus(path), classify, config)
        print(format_report(report, mistakes=not args.no_mistakes))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
