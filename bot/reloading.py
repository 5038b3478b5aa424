"""Reloads the dialogue files while the coach runs, so an admin's edit needs no restart.

A thread watches the folder (watchfiles, which uses the operating system's notifications) and
asks the engine to reload when a YAML file changes. The engine keeps the last good version of
anything that no longer loads, so a half-saved or broken file never leaves the coach without
its safety screen or a dialogue.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

from watchfiles import watch

log = logging.getLogger("coach.reload")


class Reloadable(Protocol):
    def reload(self, directory: Path) -> list[str]: ...


def _is_yaml(_change: object, path: str) -> bool:
    return path.endswith((".yaml", ".yml"))


class DialogueWatcher(threading.Thread):
    """Reloads `engine` from `directory` whenever a dialogue or safety file there changes."""

    def __init__(self, engine: Reloadable, directory: Path, *, debounce_ms: int = 400) -> None:
        super().__init__(name="coach-dialogue-watcher", daemon=True)
        self.engine = engine
        self.directory = directory
        self.debounce_ms = debounce_ms
        self._halt = threading.Event()
        #: Set after each reload (for tests and for a clean shutdown to wait on).
        self.reloaded = threading.Event()

    def run(self) -> None:
        try:
            for _changes in watch(
                self.directory,
                watch_filter=_is_yaml,
                stop_event=self._halt,
                debounce=self.debounce_ms,
                rust_timeout=500,
                yield_on_timeout=False,
            ):
                problems = self.engine.reload(self.directory)
                log.info(
                    "dialogues reloaded (%d problem(s) kept at their last good version)",
                    len(problems),
                )
                self.reloaded.set()
        except Exception as exc:  # a watcher that dies must not take the coach with it
            log.error("dialogue watcher stopped: %s", type(exc).__name__)

    def stop(self) -> None:
        self._halt.set()
