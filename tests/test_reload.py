"""Dialogue files edited while the coach runs are picked up, and an edit that breaks a file
keeps the last good version: never a coach without its safety screen, never a lost dialogue."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.loader import load_catalog
from bot.reloading import DialogueWatcher
from bot.turns import UserInput
from storage.store import Store
from tests.conftest import DIALOGUES, FakeClock

CRISIS = "I want to kill myself"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, copy)
    return copy


@pytest.fixture
def engine(folder: Path, store: Store, clock: FakeClock) -> Engine:
    return Engine(store, load_catalog(folder), clock=clock)


def say(engine: Engine, text: str, user: str = "terminal:ana") -> str:
    return engine.handle(user, UserInput(text)).text


def menu_labels(engine: Engine) -> list[str]:
    return [c.label for c in engine.open("terminal:ana").messages[-1].choices]


def test_a_broken_safety_file_on_reload_keeps_the_last_good_screen(
    engine: Engine, folder: Path
) -> None:
    (folder / "safety.yaml").write_text("version: 2\ncategories: [\n", encoding="utf-8")

    problems = engine.reload(folder)

    assert any("safety.yaml:" in p for p in problems)  # file:line:col for the admin
    engine.open("terminal:ana")
    assert "Samaritans" in say(engine, CRISIS)


def test_a_deleted_safety_file_on_reload_keeps_the_last_good_screen(
    engine: Engine, folder: Path
) -> None:
    (folder / "safety.yaml").unlink()

    engine.reload(folder)

    engine.open("terminal:ana")
    assert "Samaritans" in say(engine, CRISIS)


def test_a_broken_dialogue_file_on_reload_keeps_its_last_good_version(
    engine: Engine, folder: Path
) -> None:
    (folder / "own_power.yaml").write_text("id: own_power\nsteps: {\n", encoding="utf-8")

    problems = engine.reload(folder)

    assert any("own_power.yaml:" in p for p in problems)
    engine.open("terminal:ana")
    assert "power you hold" in say(engine, "start own_power")


def test_a_good_edit_is_used_at_the_next_turn(engine: Engine, folder: Path) -> None:
    path = folder / "diagnose.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("title: Diagnose a power situation", "title: Map a power situation", 1),
        encoding="utf-8",
    )

    assert engine.reload(folder) == []

    assert "Map a power situation" in menu_labels(engine)


@pytest.mark.slow
def test_the_watcher_reloads_when_a_file_is_saved(engine: Engine, folder: Path) -> None:
    watcher = DialogueWatcher(engine, folder, debounce_ms=50)
    watcher.start()
    try:
        time.sleep(0.5)  # let the watch begin
        path = folder / "diagnose.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("title: Diagnose a power situation", "title: Map it", 1))
        assert watcher.reloaded.wait(10), "no reload after the file was saved"
    finally:
        watcher.stop()
        watcher.join(5)
    assert "Map it" in menu_labels(engine)
