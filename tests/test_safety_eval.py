"""The safety evaluation counts what admins need: recall at the right level, false alarms, the
legal note, and the sentences it got wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.loader import load_catalog
from bot.safety import SafetyDetector, SafetySignal, Screening
from bot.safety_eval import CorpusError, Example, evaluate, format_report, load_corpus
from bot.schema import SafetyConfig
from tests.conftest import DIALOGUES


@pytest.fixture(scope="module")
def config() -> SafetyConfig:
    return load_catalog(DIALOGUES).require_safety()


def signal(config: SafetyConfig, category_id: str) -> SafetySignal:
    return SafetySignal(next(c for c in config.categories if c.id == category_id), "rule")


def test_levels_count_a_more_serious_alert_as_caught_and_a_milder_one_as_missed(
    config: SafetyConfig,
) -> None:
    answers = {
        "a": Screening(signal(config, "self_harm")),  # concern label, danger alert: caught
        "b": Screening(signal(config, "hostility")),  # danger label, concern alert: too mild
        "c": Screening(None, (signal(config, "legal"),)),  # legal noted
        "d": Screening(signal(config, "violence"), (signal(config, "legal"),)),  # legal alerted
        "e": Screening(signal(config, "bullying")),  # none: a false alarm
        "f": Screening(None, (signal(config, "legal"),)),  # none: a false note
    }
    corpus = [
        Example("a", "distress"),
        Example("b", "violence"),
        Example("c", "legal"),
        Example("d", "legal"),
        Example("e", "none"),
        Example("f", "none"),
    ]
    report = evaluate(corpus, lambda text: answers[text], config)
    rows = {row.id: row for row in [*report.categories, *report.levels]}
    assert (rows["distress"].recall.hits, rows["distress"].right.hits) == (1, 0)
    assert rows["violence"].recall.hits == 0
    assert (rows["legal"].recall.hits, rows["legal"].recall.total) == (2, 2)
    assert rows["legal"].wrong_alerts is not None and rows["legal"].wrong_alerts.hits == 1
    assert (rows["legal"].false_alarms.hits, rows["legal"].false_alarms.total) == (1, 2)
    assert (rows["bullying"].false_alarms.hits, rows["bullying"].false_alarms.total) == (1, 4)
    assert (rows["violence"].false_alarms.hits, rows["violence"].false_alarms.total) == (1, 4)
    kinds = sorted(m.kind for m in report.mistakes)
    assert kinds == ["alert on a note", "false alarm", "false note", "other category", "too mild"]
    text = format_report(report)
    assert "too mild" in text and "'b'" in text
    assert any("violence: recall" in p for p in report.below(0.9, 0.05))


def test_an_unknown_label_is_refused(config: SafetyConfig) -> None:
    detector = SafetyDetector(config)
    with pytest.raises(CorpusError, match="harassment"):
        evaluate([Example("x", "harassment")], detector.screen, config)


def test_a_corpus_file_must_have_sentences(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("sentences:\n  - text: hello\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="sentence 1 needs"):
        load_corpus(bad)
    with pytest.raises(CorpusError, match="cannot be read"):
        load_corpus(tmp_path / "missing.yaml")


def test_the_cli_prints_the_table_and_fails_below_the_floor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "c.yaml"
    corpus.write_text(
        "sentences:\n"
        "  - {text: I want to kill myself, expect: self_harm}\n"
        "  - {text: the cuts will kill the service, expect: none}\n",
        encoding="utf-8",
    )
    assert main(["dialogues", "safety-eval", "--dialogues", str(DIALOGUES), str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "self_harm" in out and "2 sentences" in out

    corpus.write_text(
        "sentences:\n  - {text: the weather is nice, expect: self_harm}\n", encoding="utf-8"
    )
    assert main(["dialogues", "safety-eval", "--dialogues", str(DIALOGUES), str(corpus)]) == 1
    out = capsys.readouterr().out
    assert "missed" in out and "the weather is nice" in out
