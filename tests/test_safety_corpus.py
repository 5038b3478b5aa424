"""The safety screen on the labelled corpus in tests/safety/corpus.yaml: per category, it must
catch at least 90% of the sentences that should raise it and raise it on at most 5% of those
that should not (the figures and every mistake: `coach dialogues safety-eval`).

tests/safety/probes.yaml (sentences written after tuning, to find where the rule families
fell short) is held to the same floor, so idiom that was quietened stays quiet; so is
tests/safety/holdout.yaml (written apart from the rules; measured in aggregate while the
rules were widened, then its misses read once), so a change that loses what it hears fails.
So are the sets written apart (apart_*.yaml: first measured unseen, README "Safety") and the
ordinary answers people give the coach (ordinary_*.yaml), which must raise nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.loader import load_catalog
from bot.safety_eval import Report, detector_classifier, evaluate, format_report, load_corpus
from tests.conftest import DIALOGUES

CORPUS = Path(__file__).resolve().parent / "safety" / "corpus.yaml"
MIN_RECALL = 0.90
MAX_FALSE_ALARMS = 0.05


#: Every labelled file: the corpus, probes, holdout, the sets written apart (apart_*.yaml)
#: and ordinary answers (ordinary_*.yaml), through the rules and the model together.
ALL = sorted(CORPUS.parent.glob("*.yaml"))


@pytest.fixture(scope="module", params=ALL, ids=[p.stem for p in ALL])
def report(request: pytest.FixtureRequest) -> Report:
    config = load_catalog(DIALOGUES).require_safety()
    return evaluate(load_corpus(request.param), detector_classifier(config), config)


def test_the_corpus_is_large_and_spread_over_every_category() -> None:
    config = load_catalog(DIALOGUES).require_safety()
    counts = Counter(e.expect for e in load_corpus(CORPUS))
    levels = {c.id: c.level for c in config.categories}
    triggers = sum(n for label, n in counts.items() if levels.get(label) in ("danger", "concern"))
    assert sum(counts.values()) >= 250
    assert triggers >= 120 and counts["none"] >= 100 and counts["legal"] >= 30
    assert set(levels) <= set(counts), "every category has sentences"


def test_the_detector_catches_and_spares_enough_in_every_category(report: Report) -> None:
    problems = report.below(MIN_RECALL, MAX_FALSE_ALARMS)
    assert not problems, "\n".join(problems) + "\n\n" + format_report(report)


def test_the_report_lists_each_category_and_level(report: Report) -> None:
    config = load_catalog(DIALOGUES).require_safety()
    assert [row.id for row in report.categories] == [c.id for c in config.categories]
    assert [row.id for row in report.levels] == ["level danger", "level concern", "level note"]
    text = format_report(report)
    assert "self_harm" in text and "level note" in text
