"""`remember:` in a dialogue file: an answer kept and offered back next time ("Still …?"),
declared in YAML and nowhere in Python. The README's example runs; a mistake in the
declaration is reported as `file:line:col`, like any other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.loader import load_catalog
from bot.turns import Reply, UserInput
from storage.store import Store
from tests.conftest import FakeClock, copy_safety
from tests.test_dialogue_files import at, broken, load_error, problem_at
from tests.test_readme import example_yaml

USER = "terminal:a"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "who_decides.yaml").write_text(example_yaml("example-remember"), encoding="utf-8")
    copy_safety(folder)
    catalog = load_catalog(folder)
    assert [str(p) for p in catalog.problems] == []
    return Engine(Store(tmp_path / "c.db"), catalog, clock=FakeClock())


def say(engine: Engine, text: str) -> Reply:
    return engine.handle(USER, UserInput(text))


def test_the_readme_example_offers_back_what_it_remembers(engine: Engine) -> None:
    engine.open(USER)
    say(engine, "start who_decides")
    say(engine, "A resident")
    say(engine, "The housing board")
    say(engine, "A board")
    engine.clock.advance(days=2)  # type: ignore[attr-defined]

    assert say(engine, "start who_decides").messages[-1].text == "Still a resident?"
    offered = say(engine, "yes")
    assert offered.messages[-1].text == (
        "Last time, Monday 23 November 2026, it was the housing board. Still them?"
    )
    assert [c.label for c in offered.awaits.choices] == ["Yes, still them", "Someone else now"]
    done = say(engine, "yes")  # what kind of body they are is taken without asking

    assert "Thank you." in done.text
    last = engine.store.conversations_of(USER)[-1]
    assert (last.status, last.slots["body"], last.slots["_about"]) == (
        "completed",
        "board",
        "the housing board",
    )

    say(engine, "start who_decides")
    say(engine, "yes")
    afresh = say(engine, "Someone else now")
    assert "Who decides this?" in afresh.text
    asked = say(engine, "The mayor")
    assert asked.messages[-1].text == "What kind of body is the mayor?"


def test_remember_on_a_step_that_asks_nothing_is_located(tmp_path: Path) -> None:
    path, text = broken(
        tmp_path, '    text: "Stopping', '    remember: {scope: person}\n    text: "Stopping'
    )
    message = load_error(path)
    problem = problem_at(message, at(path, text, "remember:"))
    assert "a `end` step has no answer to remember" in problem


@pytest.mark.parametrize(
    ("declared", "needle", "expected"),
    [
        ("remember: {scope: person}", "remember:", "give a `prompt`"),
        ("remember: {scope: person, ask: false}", "false}", "only a situation's details"),
        ("remember: {scope: forever, prompt: Still?}", "forever", "'person' or 'situation'"),
        ("remember: {scope: person, prompt: 'Still {{ x'}", "'Still {{", "template error"),
        (
            "remember: {scope: situation, ask: false, prompt: Still?}",
            "Still?}",
            "taken without asking has no `prompt`",
        ),
    ],
)
def test_a_mistaken_remember_is_located_and_says_what_is_expected(
    tmp_path: Path, declared: str, needle: str, expected: str
) -> None:
    path, text = broken(tmp_path, "    slot: name\n", f"    slot: name\n    {declared}\n")
    message = load_error(path)
    problem = problem_at(message, at(path, text, needle))
    assert expected in problem
