"""A fake of Slack's Socket Mode: a real WebSocket server on 127.0.0.1, and a fake Web API
whose `apps.connections.open` hands out its ws:// URL.

The app calls `apps.connections.open` with its app-level token, connects to the URL it gets,
receives a `hello`, and from then on gets envelopes ({"envelope_id", "type", "payload", ...})
that it must acknowledge by sending {"envelope_id": ...} back. `send_event` and
`send_interactive` deliver envelopes as Slack does; `acks` keeps every acknowledgement, and
`wait_for_ack` blocks until one has arrived (bounded).

slack_sdk's builtin client speaks plain `ws://` to any port but 443, and builds its request
line from the URL's path and query, so the URL keeps Slack's shape: /link/?ticket=...
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.fakes.slack_api import FakeSlackAPI

APP_ID = "A1"


class FakeSocketModeServer:
    def __init__(self, *, send_hello: bool = True) -> None:
        self.send_hello = send_hello
        #: Every JSON message the app sent, in arrival order (acks and anything else).
        self.received: list[dict[str, Any]] = []
        #: Paths (with query) the app connected to, one per WebSocket connection.
        self.connects: list[str] = []
        self._open: list[ServerConnection] = []
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self.server: Server = serve(
            self._serve_one,
            "127.0.0.1",
            0,
            compression=None,  # Slack's endpoint doesn't negotiate it; nor does the client
            logger=None,
        )
        self.port = int(self.server.socket.getsockname()[1])
        self.url = f"ws://127.0.0.1:{self.port}/link/?ticket=fake-ticket&app_id={APP_ID}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeSocketModeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=5)

    # -- one connection --------------------------------------------------------------------

    def _serve_one(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        with self._lock:
            self.connects.append(path)
            self._open.append(ws)
            self._lock.notify_all()
        try:
            if self.send_hello:
                ws.send(
                    json.dumps(
                        {
                            "type": "hello",
                            "num_connections": len(self._open),
                            "debug_info": {
                                "host": "fake-socket-mode",
                                "approximate_connection_time": 3600,
                            },
                            "connection_info": {"app_id": APP_ID},
                        }
                    )
                )
            for raw in ws:
                try:
                    message = json.loads(raw)
                except (TypeError, ValueError):
                    message = {"unparsed": raw}
                with self._lock:
                    self.received.append(message)
                    self._lock.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if ws in self._open:
                    self._open.remove(ws)
                self._lock.notify_all()

    # -- what tests do ------------------------------------------------------------------------

    @property
    def connected(self) -> int:
        with self._lock:
            return len(self._open)

    def wait_connected(self, timeout: float = 10.0) -> None:
        self._wait(lambda: bool(self._open), timeout, "a Socket Mode connection")

    def send(self, envelope: dict[str, Any]) -> str:
        """Send one envelope over the newest open connection; returns its envelope_id."""
        with self._lock:
            if not self._open:
                raise AssertionError("no Socket Mode connection is open")
            ws = self._open[-1]
        ws.send(json.dumps(envelope))
        return str(envelope.get("envelope_id", ""))

    def new_envelope_id(self) -> str:
        return f"env-{next(self._ids)}-{time.monotonic_ns()}"

    def send_event(
        self,
        body: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """An Events API delivery: `body` is the event_callback body, as in HTTP mode."""
        return self.send(
            {
                "envelope_id": envelope_id or self.new_envelope_id(),
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
                "payload": body,
            }
        )

    def send_interactive(self, payload: dict[str, Any], *, envelope_id: str | None = None) -> str:
        """A block_actions (or other interactivity) payload, as a dict, not form-encoded."""
        return self.send(
            {
                "envelope_id": envelope_id or self.new_envelope_id(),
                "type": "interactive",
                "accepts_response_payload": False,
                "payload": payload,
            }
        )

    @property
    def acks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.received if "envelope_id" in m]

    def acks_of(self, envelope_id: str) -> list[dict[str, Any]]:
        return [a for a in self.acks if a.get("envelope_id") == envelope_id]

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        return self.wait_for_acks(envelope_id, 1, timeout)[0]

    def wait_for_acks(
        self, envelope_id: str, count: int, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        self._wait(
            lambda: sum(m.get("envelope_id") == envelope_id for m in self.received) >= count,
            timeout,
            f"{count} ack(s) of {envelope_id}",
        )
        return self.acks_of(envelope_id)

    def _wait(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {what} within {timeout}s; connects={self.connects}, "
                        f"received={self.received}"
                    )
                self._lock.wait(left)


class SocketModeSlackAPI(FakeSlackAPI):
    """The fake Web API, answering `apps.connections.open` with the fake server's URL."""

    def __init__(self, socket_url: str) -> None:
        super().__init__()
        self.socket_url = socket_url

    def _answer(self, method: str, params: dict[str, Any], token: str = "") -> dict[str, Any]:
        if method == "apps.connections.open" and method not in self.failures:
            return {"ok": True, "url": self.socket_url}
        return super()._answer(method, params, token)

    def tokens_for(self, method: str) -> list[str]:
        """The token each call of a method was made with, in arrival order."""
        with self._lock:
            return [token for m, token, _ in self.authed if m == method]
