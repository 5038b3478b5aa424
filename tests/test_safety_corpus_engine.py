"""The labelled corpus through the real engine, as a user would type each sentence at a
question: what the coach says and records must catch at least 90% of each category and raise
it on at most 5% of the sentences that should not (the detector alone: test_safety_corpus)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.loader import Catalog
from bot.safety import SafetySignal, Screening
from bot.safety_eval import Report, evaluate, format_report, load_corpus
from bot.turns import UserInput
from storage.store import Store

SAFETY = Path(__file__).resolve().parent / "safety"
MIN_RECALL = 0.90
MAX_FALSE_ALARMS = 0.05


def engine_classifier(engine: Engine, catalog: Catalog) -> Callable[[str], Screening]:
    """Each sentence from a new user, typed at the first question of a diagnosis; what was
    raised is read from what the coach recorded, and checked against what it said."""
    assert catalog.safety is not None
    by_id = {c.id: c for c in catalog.safety.categories}
    users = itertools.count(1)

    def classify(text: str) -> Screening:
        user = f"terminal:corpus{next(users)}"
        engine.handle(user, UserInput("start diagnose"))
        reply = engine.handle(user, UserInput(text))
        alert = None
        notes = []
        for event in engine.store.safety_events_of(user):
            category = by_id[event["category"]]
            if event["level"] == "note":
                notes.append(SafetySignal(category))
                assert category.message.strip() in reply.text
            else:
                alert = SafetySignal(category)
                if category.level == "danger":
                    assert category.message.strip() in reply.text
                else:  # the acknowledgement, of oneself or the one that fits either
                    acks = [a.strip() for a in (category.ack, category.ack_self) if a]
                    assert any(ack in reply.text for ack in acks), reply.text
                assert reply.awaits.kind == "choice"  # carry on / stop, or are you safe?
        return Screening(alert, tuple(notes))

    return classify


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    from bot.loader import load_catalog
    from tests.conftest import DIALOGUES

    catalog = load_catalog(DIALOGUES)
    store = Store(tmp_path_factory.mktemp("corpus") / "coach.db")
    try:
        engine = Engine(store, catalog)
        examples = load_corpus(SAFETY / "corpus.yaml")
        return evaluate(examples, engine_classifier(engine, catalog), catalog.require_safety())
    finally:
        store.close()


@pytest.mark.slow
def test_the_engine_catches_and_spares_enough_in_every_category(report: Report) -> None:
    problems = report.below(MIN_RECALL, MAX_FALSE_ALARMS)
    assert not problems, "\n".join(problems) + "\n\n" + format_report(report)
