"""The README's example dialogue loads, compiles and runs: documentation that cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

from bot.engine import Engine
from bot.loader import load_catalog
from bot.safety_patterns import Reader, compile_pattern
from bot.turns import UserInput
from storage.store import Store
from tests.conftest import copy_safety

README = Path(__file__).resolve().parent.parent / "README.md"
SAFETY = README.parent / "dialogues" / "safety.yaml"


def example_yaml(name: str = "example-dialogue") -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert match, f"the README lost its {name}"
    return match.group(1)


def test_readme_example_runs_both_branches(tmp_path: Path) -> None:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "quick_check.yaml").write_text(example_yaml(), encoding="utf-8")
    copy_safety(folder)
    catalog = load_catalog(folder)
    assert list(catalog.dialogues) == ["quick_check"]
    assert catalog.problems == []

    engine = Engine(Store(tmp_path / "c.db"), catalog)
    engine.open("terminal:a")
    asked = engine.handle("terminal:a", UserInput("start quick_check"))
    assert "Which meeting is coming up?" in asked.text
    reply = engine.handle("terminal:a", UserInput("the partnership board"))
    assert "draft the minutes or the actions of the partnership board" in reply.text
    assert reply.awaits.kind == "yesno"
    done = engine.handle("terminal:a", UserInput("yes"))
    assert "point of power" in done.text
    assert "Good luck with the partnership board" in done.text

    engine.open("terminal:b")
    engine.handle("terminal:b", UserInput("start quick_check"))
    engine.handle("terminal:b", UserInput("the trust's board"))
    scale = engine.handle("terminal:b", UserInput("no"))
    assert scale.awaits.kind == "scale" and (scale.awaits.min, scale.awaits.max) == (1, 5)


def test_readme_example_of_answers_in_own_words_runs(tmp_path: Path) -> None:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "allies_check.yaml").write_text(example_yaml("example-choices"), encoding="utf-8")
    copy_safety(folder)
    catalog = load_catalog(folder)
    assert list(catalog.dialogues) == ["allies_check"]
    assert [str(p) for p in catalog.problems if "safety" not in str(p)] == []

    engine = Engine(Store(tmp_path / "c.db"), catalog)
    engine.open("terminal:a")
    engine.handle("terminal:a", UserInput("start allies_check"))
    asked = engine.handle("terminal:a", UserInput("the vicar and our councillor"))
    assert "Would you share the lead with faith groups and elected representatives?" in asked.text
    done = engine.handle("terminal:a", UserInput("yes, if they agree the ask first"))
    assert 'You said: "yes, if they agree the ask first". Good luck.' in done.text

    engine.open("terminal:b")
    engine.handle("terminal:b", UserInput("start allies_check"))
    alone = engine.handle("terminal:b", UserInput("nobody yet"))
    assert "Then the first step is one ally." in alone.text


def test_readme_reading_example_names_acknowledges_and_reads(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example-reading[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert match, "the README lost its reading example"
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "who_decides.yaml").write_text(match.group(1), encoding="utf-8")
    copy_safety(folder)
    catalog = load_catalog(folder)
    assert [str(p) for p in catalog.problems if "safety" not in str(p)] == []

    engine = Engine(Store(tmp_path / "c.db"), catalog)
    engine.open("terminal:a")
    engine.handle("terminal:a", UserInput("start who_decides"))
    long = "Honestly I don't even know. The trust board, I suppose, they meet in public"
    named = engine.handle("terminal:a", UserInput(long))
    assert "Thank you, that helps." in named.text
    assert "What shall I call them — 'the trust board'?" in named.text
    asked = engine.handle("terminal:a", UserInput("yes"))
    assert "Are you in the room when the trust board decide?" in asked.text
    acked = engine.handle("terminal:a", UserInput("no"))
    assert "Then we'll look for ways in from outside." in acked.text
    engine.handle("terminal:a", UserInput("5"))
    read = engine.handle("terminal:a", UserInput("1"))
    assert f'In your words: "{long}"' in read.text
    assert "What I notice:\n• The gap is wide (5 to 1). (Huxham and Beech (2008))" in read.text
    assert "1. Ask a question at the public meeting" in read.text
    assert "Speak first" not in read.text
    assert "Good luck with the trust board." in read.text


def test_readme_safety_patterns_find_their_examples() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example-safety-patterns[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert match, "the README lost its example safety patterns"
    reader = Reader()
    lines = [line for line in match.group(1).splitlines() if line.startswith("- ")]
    assert len(lines) >= 6
    for line in lines:
        pattern, _, rest = line[2:].partition("#")
        example = re.search(r'"([^"]+)"', rest)
        assert example, line
        compiled = compile_pattern(pattern.strip(), {"target": ["me", "us", "her", "him"]})
        chunks, _ = reader.read(example.group(1))
        assert compiled.regex.search(reader.line(chunks)), line


def test_readme_looking_back_example_runs_after_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "quick_check.yaml").write_text(example_yaml(), encoding="utf-8")
    (folder / "meeting_again.yaml").write_text(
        example_yaml("example-looking-back"), encoding="utf-8"
    )
    copy_safety(folder)
    catalog = load_catalog(folder)
    assert catalog.problems == []

    engine = Engine(Store(tmp_path / "c.db"), catalog)
    engine.open("terminal:a")
    nothing = engine.handle("terminal:a", UserInput("start meeting_again"))
    assert "Prepare for a meeting first" in nothing.text
    engine.handle("terminal:a", UserInput("start quick_check"))
    engine.handle("terminal:a", UserInput("the partnership board"))
    engine.handle("terminal:a", UserInput("no"))
    engine.handle("terminal:a", UserInput("2"))

    asked = engine.handle("terminal:a", UserInput("start meeting_again"))
    assert "Which meeting shall we look back on?" in asked.text
    assert asked.awaits.choices[0].label.startswith("the partnership board (")
    rated = engine.handle("terminal:a", UserInput("yes"))
    assert "(Then: 2)" in rated.text
    done = engine.handle("terminal:a", UserInput("4"))
    assert "Up from 2. Something worked." in done.text
    assert "I've kept this beside the partnership board, from " in done.text
