"""Keeps each user's turns in the order their requests arrived, while users run in parallel.

Bolt acknowledges a request and then runs its listener on a thread pool, where two messages
from one user could overtake each other. A ticket is taken in arrival order (in a middleware,
on the request's own thread); the listener waits until every earlier ticket of that user is
done. A ticket whose listener never runs is skipped after `patience` seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TurnOrder:
    def __init__(self, patience: float = 30.0) -> None:
        self.patience = patience
        self._lock = threading.Condition()
        self._issued: dict[str, int] = {}
        self._serving: dict[str, int] = {}

    def ticket(self, key: str) -> int:
        """The next place in the user's queue, taken when the request arrives."""
        with self._lock:
            number = self._issued.get(key, 0)
            self._issued[key] = number + 1
            self._serving.setdefault(key, 0)
            return number

    @contextmanager
    def turn(self, key: str, ticket: int | None) -> Iterator[None]:
        """Wait for the user's earlier tickets, run the body, then let the next one go."""
        if ticket is None:
            yield
            return
        with self._lock:
            self._lock.wait_for(lambda: self._serving.get(key, 0) >= ticket, self.patience)
        try:
            yield
        finally:
            with self._lock:
                self._serving[key] = max(self._serving.get(key, 0), ticket + 1)
                if self._serving[key] >= self._issued.get(key, 0):
                    # Nothing queued for this user: forget them, memory stays flat.
                    self._issued.pop(key, None)
                    self._serving.pop(key, None)
                self._lock.notify_all()
