"""Shared fixtures: a fresh database per test, and a `chat` that talks to the engine like a user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine import Engine, EngineSettings
from bot.loader import Catalog, load_catalog
from bot.turns import Reply, UserInput
from storage.store import Store
from tests.fakes.slack_api import FakeSlackAPI

REPO = Path(__file__).resolve().parent.parent
DIALOGUES = REPO / "dialogues"
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def copy_safety(folder: Path) -> None:
    """The shipped safety screen into a test's dialogue folder: safety.yaml and the model
    file it names (without it the coach will not start, by design)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("safety.yaml", "safety_model.json"):
        shutil.copy(DIALOGUES / name, folder / name)


class FakeClock:
    """A clock tests move by hand, so idle gaps and due dates need no waiting."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


#: Answers that any question of each kind accepts, to walk quickly to a step under test.
QUICK = {"choice": "1", "scale": "3", "yesno": "yes", "text": "some words", "date": "in 2 weeks"}


class Chat:
    """Drives the engine as one user would: `open()`, then `say(...)` and read the replies."""

    def __init__(self, engine: Engine, user: str = "terminal:alice") -> None:
        self.engine = engine
        self.user = user
        self.last: Reply | None = None

    def open(self) -> Reply:
        self.last = self.engine.open(self.user)
        return self.last

    def say(self, text: str, *, ref: str | None = None, delivery_id: str | None = None) -> Reply:
        self.last = self.engine.handle(self.user, UserInput(text, ref=ref, delivery_id=delivery_id))
        return self.last

    def answer_until(self, state: str, limit: int = 60) -> None:
        """Answer whatever is asked, by the kind of answer awaited, until `state` is asked."""
        for _ in range(limit):
            if self.state == state:
                return
            kind = self.last.awaits.kind if self.last else "none"
            assert kind in QUICK, f"stuck at {self.state!r}, awaiting {kind!r}: {self.text}"
            self.say(QUICK[kind])
        raise AssertionError(f"never reached {state!r}; stuck at {self.state!r}")

    @property
    def text(self) -> str:
        return self.last.text if self.last else ""

    @property
    def awaits(self) -> str:
        return self.last.awaits.kind if self.last else "none"

    @property
    def state(self) -> str | None:
        row = self.engine.store.current_conversation(self.user)
        return row.state if row else None


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "coach.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    loaded = load_catalog(DIALOGUES)
    assert not loaded.problems, [str(p) for p in loaded.problems]
    return loaded


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(store: Store, catalog: Catalog, clock: FakeClock) -> Engine:
    return Engine(store, catalog, settings=EngineSettings(), clock=clock)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)


@pytest.fixture
def fake() -> Iterator[FakeSlackAPI]:
    """Slack's Web API, faked on 127.0.0.1 for one test (tests/fakes/slack_api.py)."""
    api = FakeSlackAPI().start(poll_interval=0.02)
    yield api
    api.stop()
