"""One user's turns run one at a time, while different users run in parallel.

The order itself comes from the database: each delivery gets its inbox id when it is received,
before it is acknowledged, and whoever holds a user's lock runs all of that user's waiting
deliveries in inbox order. So two messages sent together are answered in the order they
arrived, whichever listener thread gets there first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class UserLocks:
    """A lock per user, made on demand and forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]  # memory stays flat however many people write
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)
