"""The README's example dialogue loads, compiles and runs: documentation that cannot rot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.engine import Engine
from bot.loader import load_catalog
from bot.safety_patterns import Reader, compile_pattern
from bot.turns import UserInput
from storage.store import Store

README = Path(__file__).resolve().parent.parent / "README.md"
SAFETY = README.parent / "dialogues" / "safety.yaml"


def example_yaml() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example-dialogue[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert match, "the README lost its example dialogue"
    return match.group(1)


def test_readme_example_runs_both_branches(tmp_path: Path) -> None:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "quick_check.yaml").write_text(example_yaml(), encoding="utf-8")
    shutil.copy(SAFETY, folder / "safety.yaml")  # the coach will not run without it
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
