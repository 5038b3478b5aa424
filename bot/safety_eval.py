"""Measures a safety screen on labelled sentences: recall and false alarms per category and level.

Admins run it after editing `dialogues/safety.yaml` (`coach dialogues safety-eval`); the
corpus test and `benchmarks/safety_eval.py` use the same figures. A corpus is YAML:
`sentences: [{text: ..., expect: <category id or none>}]`.

- A sentence labelled with a danger or concern category is *caught* when the screen raises an
  alert at least as serious as its label's level (danger > concern); "right category" says
  how often the alert was that very category.
- A *false alarm* of a category is a sentence that should raise no alert (`none`, or a note
  category such as `legal`) but raised that category.
- For a note category: how often its sentences get the note, how often they wrongly raise an
  alert, and how often `none` sentences get the note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.errors import CoachError
from bot.safety import SafetyDetector, Screening
from bot.schema import SafetyConfig

Classifier = Callable[[str], Screening]
NONE = "none"
_RANK = {"danger": 0, "concern": 1, "note": 2}


class CorpusError(CoachError):
    """A corpus file is missing, unreadable, or labels a sentence with an unknown category."""


@dataclass(frozen=True)
class Example:
    text: str
    expect: str


def load_corpus(path: Path) -> list[Example]:
    """The labelled sentences of one corpus file."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise CorpusError(f"{path}: cannot be read as a safety corpus ({exc})") from None
    rows = data.get("sentences") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise CorpusError(f"{path}: expected `sentences:`, a list of {{text, expect}}")
    examples = []
    for i, row in enumerate(rows):
        if not (isinstance(row, dict) and isinstance(row.get("text"), str) and row.get("expect")):
            raise CorpusError(f"{path}: sentence {i + 1} needs `text` and `expect`")
        examples.append(Example(row["text"], str(row["expect"])))
    return examples


def detector_classifier(config: SafetyConfig) -> Classifier:
    """The screen as the engine's detector runs it, on one message at a time."""
    return SafetyDetector(config).screen


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    def __str__(self) -> str:
        if not self.total:
            return "-"
        return f"{100 * self.hits / self.total:5.1f}% ({self.hits}/{self.total})"


@dataclass(frozen=True)
class CategoryRow:
    """One category's figures. For a note category, `recall` is how often it was noted."""

    id: str
    level: str
    recall: Rate
    right: Rate  # alert of this very category (danger, concern) / noted and no alert (note)
    false_alarms: Rate
    wrong_alerts: Rate | None = None  # note categories: their sentences raised an alert


@dataclass(frozen=True)
class Mistake:
    kind: str
    expect: str
    got: str
    text: str


@dataclass
class Report:
    size: int
    categories: list[CategoryRow] = field(default_factory=list)
    levels: list[CategoryRow] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)

    def below(self, min_recall: float, max_false_alarms: float) -> list[str]:
        """Each category or level whose figures miss these floors, as a sentence."""
        problems = []
        for row in [*self.categories, *self.levels]:
            recall, false = row.recall.value, row.false_alarms.value
            if recall is not None and recall < min_recall:
                problems.append(f"{row.id}: recall {row.recall} is below {min_recall:.0%}")
            if false is not None and false > max_false_alarms:
                problems.append(
                    f"{row.id}: false alarms {row.false_alarms} above {max_false_alarms:.0%}"
                )
            wrong = row.wrong_alerts.value if row.wrong_alerts else None
            if wrong is not None and wrong > max_false_alarms:
                problems.append(
                    f"{row.id}: its sentences raised an alert {row.wrong_alerts}, "
                    f"above {max_false_alarms:.0%}"
                )
        return problems


def _describe(screening: Screening) -> str:
    parts = []
    if screening.alert:
        parts.append(f"{screening.alert.category.id} (rule: {screening.alert.rule})")
    parts.extend(f"note {n.category.id} (rule: {n.rule})" for n in screening.notes)
    return "; ".join(parts) or "nothing"


def evaluate(corpus: Sequence[Example], classify: Classifier, config: SafetyConfig) -> Report:
    """Run every sentence through `classify` and count what it caught and what it set off."""
    levels = {c.id: c.level for c in config.categories}
    unknown = sorted({e.expect for e in corpus if e.expect != NONE and e.expect not in levels})
    if unknown:
        raise CorpusError(
            f"the corpus uses labels safety.yaml has no category for: {', '.join(unknown)}"
        )
    results = [(e, classify(e.text)) for e in corpus]

    def is_trigger(label: str) -> bool:
        return label != NONE and levels[label] != "note"

    calm = [(e, s) for e, s in results if not is_trigger(e.expect)]
    none = [(e, s) for e, s in results if e.expect == NONE]
    report = Report(size=len(corpus))

    def caught(label: str, screening: Screening) -> bool:
        alert = screening.alert
        return alert is not None and _RANK[alert.category.level] <= _RANK[levels[label]]

    for category in config.categories:
        own = [(e, s) for e, s in results if e.expect == category.id]
        if category.level == "note":
            noted = [s for _, s in own if any(n.category.id == category.id for n in s.notes)]
            report.categories.append(
                CategoryRow(
                    category.id,
                    category.level,
                    recall=Rate(len(noted), len(own)),
                    right=Rate(sum(1 for s in noted if s.alert is None), len(own)),
                    false_alarms=Rate(
                        sum(
                            1 for _, s in none if any(n.category.id == category.id for n in s.notes)
                        ),
                        len(none),
                    ),
                    wrong_alerts=Rate(sum(1 for _, s in own if s.alert is not None), len(own)),
                )
            )
            continue
        report.categories.append(
            CategoryRow(
                category.id,
                category.level,
                recall=Rate(sum(1 for e, s in own if caught(e.expect, s)), len(own)),
                right=Rate(
                    sum(1 for _, s in own if s.alert and s.alert.category.id == category.id),
                    len(own),
                ),
                false_alarms=Rate(
                    sum(1 for _, s in calm if s.alert and s.alert.category.id == category.id),
                    len(calm),
                ),
            )
        )

    for level in ("danger", "concern"):
        own = [(e, s) for e, s in results if is_trigger(e.expect) and levels[e.expect] == level]
        report.levels.append(
            CategoryRow(
                f"level {level}",
                level,
                recall=Rate(sum(1 for e, s in own if caught(e.expect, s)), len(own)),
                right=Rate(
                    sum(1 for _, s in own if s.alert and s.alert.category.level == level), len(own)
                ),
                false_alarms=Rate(
                    sum(1 for _, s in calm if s.alert and s.alert.category.level == level),
                    len(calm),
                ),
            )
        )
    notes = [(e, s) for e, s in results if e.expect != NONE and levels[e.expect] == "note"]
    report.levels.append(
        CategoryRow(
            "level note",
            "note",
            recall=Rate(sum(1 for _, s in notes if s.notes), len(notes)),
            right=Rate(sum(1 for _, s in notes if s.notes and not s.alert), len(notes)),
            false_alarms=Rate(sum(1 for _, s in none if s.notes), len(none)),
            wrong_alerts=Rate(sum(1 for _, s in notes if s.alert), len(notes)),
        )
    )
    report.mistakes = list(_mistakes(results, levels, caught))
    return report


def _mistakes(
    results: Iterable[tuple[Example, Screening]],
    levels: Mapping[str, str],
    caught: Callable[[str, Screening], bool],
) -> Iterable[Mistake]:
    for example, screening in results:
        label, got = example.expect, _describe(screening)
        alert = screening.alert
        if label == NONE:
            if alert:
                yield Mistake("false alarm", label, got, example.text)
            elif screening.notes:
                yield Mistake("false note", label, got, example.text)
        elif levels[label] == "note":
            if alert:
                yield Mistake("alert on a note", label, got, example.text)
            elif not any(n.category.id == label for n in screening.notes):
                yield Mistake("no note", label, got, example.text)
        elif not caught(label, screening):
            kind = "too mild" if alert else "missed"
            yield Mistake(kind, label, got, example.text)
        elif alert and alert.category.id != label:
            yield Mistake("other category", label, got, example.text)


def format_report(report: Report, *, mistakes: bool = True) -> str:
    """The figures as a table, then (optionally) every sentence the screen got wrong."""
    lines = [
        f"{report.size} sentences",
        f"{'category':<20} {'level':<8} {'recall':>16} {'right category':>16} "
        f"{'false alarms':>16} {'note → alert':>14}",
    ]
    for row in [*report.categories, *report.levels]:
        wrong = str(row.wrong_alerts) if row.wrong_alerts else ""
        lines.append(
            f"{row.id:<20} {row.level:<8} {row.recall!s:>16} {row.right!s:>16} "
            f"{row.false_alarms!s:>16} {wrong:>14}".rstrip()
        )
    lines.append(
        "recall: caught at its level or more serious (for a note: noted); false alarms: "
        "sentences that should raise no alert (for a note: `none` ones) that raised it"
    )
    if mistakes:
        order = ["missed", "too mild", "no note", "false alarm", "alert on a note", "false note"]
        order.append("other category")
        shown = sorted(report.mistakes, key=lambda m: (order.index(m.kind), m.expect))
        if shown:
            lines.append("")
            lines.append("what it got wrong (and alerts of another category, for information):")
        for m in shown:
            lines.append(f"  {m.kind:<15} expect {m.expect:<17} got {m.got}")
            lines.append(f"      {m.text!r}")
    return "\n".join(lines)
