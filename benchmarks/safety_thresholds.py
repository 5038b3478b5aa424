"""What `model.alert_at` and `model.danger_at` trade, measured on sentences the model never
learned from: each file written apart (apart_*.yaml) and each set of ordinary answers
(ordinary_*.yaml) is held out in turn, a model is trained on all the other files, and every
pair of settings screens the held-out file. Prints, per pair: danger sentences stopped as
danger, concern sentences met with any alert, and ordinary sentences alarmed.

The rules have been widened from every file here, so recall is higher than on new text
(README "Safety" has first-sight figures); what this shows is how the settings move the
three figures against each other.

    .venv/bin/python benchmarks/safety_thresholds.py                  # ~5 minutes
    .venv/bin/python benchmarks/safety_thresholds.py --alert 0.7 0.8 --danger 0.9
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.loader import load_catalog  # noqa: E402
from bot.safety import SafetyDetector  # noqa: E402
from bot.safety_eval import load_corpus  # noqa: E402
from bot.safety_training import train_files  # noqa: E402


@dataclass
class Tally:
    danger: int = 0
    danger_of: int = 0
    concern: int = 0
    concern_of: int = 0
    alarmed: int = 0
    ordinary_of: int = 0

    def row(self, alert_at: float, danger_at: float) -> str:
        def share(n: int, of: int) -> str:
            return f"{n / of:6.1%} ({n}/{of})" if of else "-"

        return (
            f"{alert_at:>8} {danger_at:>9}   {share(self.danger, self.danger_of):>16}   "
            f"{share(self.concern, self.concern_of):>16}   "
            f"{share(self.alarmed, self.ordinary_of):>16}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alert", type=float, nargs="+", default=[0.65, 0.7, 0.75, 0.8, 0.85])
    parser.add_argument("--danger", type=float, nargs="+", default=[0.85, 0.9, 0.95])
    args = parser.parse_args()
    config = load_catalog(REPO / "dialogues").require_safety()
    levels = {c.id: c.level for c in config.categories}
    files = sorted((REPO / "tests" / "safety").glob("*.yaml"))
    held_out = [p for p in files if p.stem.startswith(("apart_", "ordinary_"))]
    pairs = [(a, d) for a in args.alert for d in args.danger if d >= a]
    tallies = {pair: Tally() for pair in pairs}
    for path in held_out:
        model = train_files(config, [p for p in files if p != path], REPO)
        examples = load_corpus(path)
        for (alert_at, danger_at), tally in tallies.items():
            detector = SafetyDetector(config, model=model)
            detector._alert_at, detector._danger_at = alert_at, danger_at
            for example in examples:
                alert = detector.screen(example.text).alert
                level = levels.get(example.expect)
                if level == "danger":
                    tally.danger_of += 1
                    tally.danger += alert is not None and alert.level == "danger"
                elif level == "concern":
                    tally.concern_of += 1
                    tally.concern += alert is not None
                elif example.expect == "none":
                    tally.ordinary_of += 1
                    tally.alarmed += alert is not None
        print(f"held out {path.name}", file=sys.stderr, flush=True)
    print(f"{len(held_out)} files held out in turn, each screened by a model trained on the rest")
    print(
        f"{'alert_at':>8} {'danger_at':>9}   {'danger stopped':>16}   {'concern alerted':>16}   "
        f"{'ordinary alarmed':>16}"
    )
    for (alert_at, danger_at), tally in tallies.items():
        print(tally.row(alert_at, danger_at))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
