"""`coach review` as a real process on 127.0.0.1 and a free port, for the end-to-end tests,
and a small cookie-keeping HTTP client to talk to it."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from review_support import seed

from storage.store import Store

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class ReviewProcess:
    """`coach review --db DB --port PORT` as a subprocess in its own process group."""

    def __init__(self, db: Path, logs: Path) -> None:
        self.db, self.logs, self.port = db, logs, free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        #: How the last run ended (None while running or never started).
        self.returncode: int | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stderr(self) -> str:
        return self.logs.read_text(errors="replace") if self.logs.exists() else ""

    def start(self) -> None:
        with self.logs.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "review", "--db", str(self.db),
                 "--port", str(self.port)],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"coach review exited with {self.proc.returncode}:\n{self.stderr()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/login")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"coach review did not start in {START_TIMEOUT}s:\n{self.stderr()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            self.returncode = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            self.returncode = proc.wait(timeout=5)


def started(folder: Path) -> ReviewProcess:
    """`coach review` on a store of its own in `folder`, seeded by `review_support.seed`;
    the caller stops it."""
    store = Store(folder / "coach.db")
    seed(store)
    store.close()
    process = ReviewProcess(folder / "coach.db", folder / "review.log")
    process.start()
    return process


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browserless:
    """GET and POST with cookies kept, redirects not followed: (status, headers, body)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(
        self,
        path: str,
        form: dict[str, str] | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, str]:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with self.opener.open(req, timeout=10) as answer:
                return answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.headers, refused.read().decode()
