"""Broken and hostile dialogue files: each gets its precise message within 2 s, never a
traceback, never a hang; and a template that reaches a running coach anyway (by reload,
without validation) ends its own turn with a clear message.

The small files are under tests/validate/hostile/, each ending with the `# expect:` lines
it must get (test_validate.py checks those too). Files too large or too strange to ship
(20 MB, 20,000 levels of brackets, 10,000 steps, a FIFO, bytes that are not UTF-8) are made
here. The 2 s is of this process's CPU time, a bound on a hang, not a speed measurement
(that is benchmarks/); the wall-clock bound is looser, as other work shares the machine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import templates
from bot.cli import main
from bot.engine import Engine
from bot.loader import load_catalog
from bot.turns import UserInput
from tests.conftest import copy_safety

HERE = Path(__file__).resolve().parent
HOSTILE = sorted((HERE / "validate" / "hostile").glob("*.yaml"))
DIALOGUES = HERE.parent / "dialogues"
HEAD = "id: tiny\ntitle: Tiny check\nversion: 1\ndescription: A tiny dialogue.\nsteps:\n"
END = "  done:\n    kind: end\n    text: Bye.\n"
BOUND_SECONDS = 2.0
WALL_SECONDS = 15.0


def validated(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, float]:
    started, cpu = time.monotonic(), time.process_time()
    code = main(["dialogues", "validate", str(path)])
    assert time.monotonic() - started < WALL_SECONDS
    took = time.process_time() - cpu
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, took


def test_the_corpus_is_at_least_forty_files() -> None:
    assert len(HOSTILE) + len(MADE) >= 40


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_each_hostile_file_gets_its_messages_quickly(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    wanted = [f"{path}:{line.removeprefix('# expect: ')}" for line in lines if "# expect: " in line]
    code, out, took = validated(capsys, path)
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith(f"{path}:")] == wanted
    assert took < BOUND_SECONDS


def _big(path: Path) -> None:
    path.write_text(HEAD + "  done:\n    kind: end\n    text: " + "x" * 20_000_000 + "\n")


def _deep(path: Path) -> None:
    path.write_text(HEAD.replace("A tiny dialogue.", "[" * 20_000 + "]" * 20_000) + END)


def _deep_mappings(path: Path) -> None:
    path.write_text(HEAD.replace("A tiny dialogue.", "{a: " * 20_000 + "1" + "}" * 20_000) + END)


def _many_steps(path: Path) -> None:
    steps = "".join(
        f"  s{i}:\n    kind: text\n    prompt: Question {i}?\n    slot: a{i}\n    next: s{i + 1}\n"
        for i in range(10_000)
    )
    path.write_text(HEAD + steps + "  s10000:\n    kind: end\n    text: Bye.\n")


def _fifo(path: Path) -> None:
    os.mkfifo(path)  # reading it would wait for ever for a writer


def _not_utf8(path: Path) -> None:
    path.write_bytes(HEAD.encode() + b"  done:\n    kind: end\n    text: \xff\xfe\n")


def _directory(path: Path) -> None:
    path.mkdir()


MADE: dict[str, tuple[Callable[[Path], None], str]] = {
    "20 MB": (_big, ":1:1: error: the file is 20.0 MB; a dialogue file may be at most 2 MB"),
    "nested 20,000 deep": (_deep, ":4:78: error: lists or mappings are nested too deeply"),
    "mappings 20,000 deep": (_deep_mappings, ":4:270: error: lists or mappings are nested"),
    "10,000 steps": (
        _many_steps,
        ":5:1: error: steps: 10,001 steps; a dialogue may have at most 1,000",
    ),
    "a FIFO": (_fifo, ":1:1: error: not a regular file"),
    "not UTF-8": (_not_utf8, ":1:1: error: cannot be read ('utf-8' codec can't decode"),
}


@pytest.mark.parametrize("name", MADE)
def test_each_file_too_strange_to_ship_gets_its_message_quickly(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, message = MADE[name]
    path = tmp_path / "hostile.yaml"
    make(path)
    code, out, took = validated(capsys, path)
    assert code == 1
    assert f"{path}{message}" in out
    assert out.splitlines()[-1] == "1 error(s), 0 warning(s)"
    assert took < BOUND_SECONDS


# -- a template that reaches a running coach ----------------------------------------------

COSTLY = {
    "too long": "{% for a in range(1000) %}{% for b in range(1000) %}"
    "{% for c in range(1000) %}x{% endfor %}{% endfor %}{% endfor %}",
    "too slow": "{% for a in range(1000) %}{% for b in range(1000) %}"
    "{% for c in range(2) %}{% endfor %}{% endfor %}{% endfor %}",
    "300 MB of text": "{{ 'x' * 300000000 }}",
    "a huge power": "{{ 9 ** 9 ** 9 }}",
    "a macro calling itself": "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}",
}


@pytest.mark.parametrize("name", COSTLY)
def test_a_costly_template_that_reaches_a_running_coach_ends_its_own_turn(
    name: str,
    tmp_path: Path,
    store: Any,
    clock: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Validation refuses each of these, but a file can reach a running coach without it
    (an edit picked up by reload): rendering is bounded in time and size, so the turn ends
    with a message, nothing is stored, and the user can go elsewhere."""
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(
        HEAD
        + "  ask:\n    kind: text\n    prompt: What is it called?\n    slot: name\n"
        + "    next: shown\n"
        + f'  shown:\n    kind: message\n    text: "{COSTLY[name]}"\n    next: done\n'
        + END,
        encoding="utf-8",
    )
    copy_safety(folder)
    monkeypatch.setattr(templates, "_check_nodes", lambda tree: None)
    catalog = load_catalog(folder)
    assert not catalog.problems
    engine = Engine(store, catalog, clock=clock)
    engine.open("terminal:nora")
    engine.handle("terminal:nora", UserInput("Tiny check"))
    stored = len(store.messages_of("terminal:nora"))

    started, cpu = time.monotonic(), time.process_time()
    reply = engine.handle("terminal:nora", UserInput("the widget"))

    assert time.process_time() - cpu < BOUND_SECONDS
    assert time.monotonic() - started < WALL_SECONDS
    assert reply.failed
    assert "a message in the dialogue asks for far more than any message needs" in reply.text
    assert "Traceback" not in reply.text and "the widget" not in caplog.text
    assert "turn not saved: a template" in caplog.text
    assert len(store.messages_of("terminal:nora")) == stored
    menu = engine.handle("terminal:nora", UserInput("menu")).text
    assert "What would you like to do" in menu
