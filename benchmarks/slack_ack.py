"""How fast `coach slack` (HTTP mode) acknowledges Slack's events, next to a bare Bolt app.

Slack retries an event it has not seen acknowledged within 3 seconds, so the coach answers
each request at once and runs the turn after. This measures that acknowledgement, and how
many turns per second then complete, for two servers started side by side on loopback:

* coach: `coach slack` as a subprocess (gunicorn, 1 worker x 8 gthread threads) on a fresh
  SQLite file;
* bare:  `benchmarks/bare_bolt_app.py`, a Bolt app that keeps each event with one durable
  SQLite insert before its ack and whose one listener posts "ok", under the same gunicorn
  settings: the floor of Bolt + gunicorn + one fsync + the Web API round trip.

Both post their replies to one fake Slack Web API (tests/fakes/slack_api.py) in a separate
process, which notes when each turn's reply arrives. Every event is a signed DM
("hello") with its own event_id and its own DM channel (so each turn is counted once), from
a rotating set of users. The load is sent over keep-alive http.client connections:

* open loop at 100, 250 and 500 events/s: each event is sent at its scheduled time whatever
  the replies do (a pool of senders); latency is measured from the scheduled time, so a
  server that falls behind is charged for the wait (no coordinated omission);
* closed loop: 200 senders each with one request in flight, a bounded number of events.

For each phase and app: ack latency p50/p99/max (ms), turns completed per second (replies
counted at the fake), errors (non-200 or failed requests), and coach/bare ratios. Each phase
waits (bounded) for its turns to finish before the next one starts. The whole run stops by
itself within --budget seconds (180 by default).

    .venv/bin/python benchmarks/slack_ack.py            # 5 s per rate, 2000 closed-loop events
    .venv/bin/python benchmarks/slack_ack.py --quick    # 2 s per rate, 600 closed-loop events

Everything binds and connects to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import math
import multiprocessing as mp
import os
import platform
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot import messages  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.slack_support import BOT_TOKEN, SIGNING_SECRET, dm_event, signed_headers  # noqa: E402

HOST = "127.0.0.1"
RATES = (100, 250, 500)
TARGET_RATE = 250
TARGET_P99_MS = 50.0
TARGET_RATIO = 1.5
CLOSED_IN_FLIGHT = 200
OPEN_SENDERS = 64
USERS = 400  # the rotating set of users each app hears from
START_TIMEOUT = 30.0
DRAIN_MAX = 30.0  # at most this long after a phase's last ack for its turns to finish
#: The bare app's whole reply. The coach's reply to "hello" is one post ending with its menu
#: (after a greeting on first contact).
BARE_REPLY = "ok"
APPS = ("bare", "coach")


# == the fake Web API, in its own process ====================================================


def is_whole_reply(params: dict[str, Any]) -> bool:
    """A chat.postMessage that completes a turn: "ok", or a post whose last section is the menu."""
    if params.get("text") == BARE_REPLY:
        return True
    blocks = params.get("blocks")
    sections = [b for b in blocks if b.get("type") == "section"] if isinstance(blocks, list) else []
    return bool(sections) and sections[-1].get("text", {}).get("text") == messages.MENU


class TimedFakeSlackAPI(FakeSlackAPI):
    """The test fake, also noting when each channel got its turn's whole reply."""

    def __init__(self) -> None:
        super().__init__()
        self.done: dict[str, float] = {}

    def _record(self, method: str, params: dict[str, Any]) -> None:
        if method == "chat.postMessage" and is_whole_reply(params):
            with self._lock:
                self.done.setdefault(str(params.get("channel")), time.monotonic())
        super()._record(method, params)


def fake_main(conn: Connection) -> None:
    """Serve the fake until told to stop; answer how many turns of a phase are done."""
    fake = TimedFakeSlackAPI().start()
    conn.send(fake.base_url)
    while True:
        request = conn.recv()
        if request[0] == "stop":
            break
        if request[0] == "done":
            prefix = request[1]
            with fake._lock:
                times = [t for ch, t in fake.done.items() if ch.startswith(prefix)]
            conn.send((len(times), max(times, default=None)))
    fake.stop()


class FakeProcess:
    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=fake_main, args=(child,), daemon=True)
        self.proc.start()
        if not self.conn.poll(START_TIMEOUT):
            raise SystemExit("the fake Web API did not start")
        self.base_url: str = self.conn.recv()
        self._lock = threading.Lock()

    def done(self, prefix: str) -> tuple[int, float | None]:
        with self._lock:
            self.conn.send(("done", prefix))
            return self.conn.recv()  # type: ignore[no-any-return]

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)


# == the two servers =========================================================================


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def post_once(port: int, body: bytes, headers: dict[str, str], timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Server:
    """A subprocess serving /slack/events on 127.0.0.1; its output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path):
        self.name = name
        self.port = port
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited at start:\n{log.read_text(errors='replace')}")
            try:
                if post_once(port, b"{}", {"content-type": "application/json"}, 1.0) == 401:
                    return  # the worker is up: unsigned requests are refused
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise SystemExit(f"{name} did not serve in {START_TIMEOUT}s:\n{log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def start_servers(api_url: str, workdir: Path) -> dict[str, Server]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "COACH_FOLLOWUP_SECONDS": "60",
    }
    env.pop("SLACK_APP_TOKEN", None)
    servers: dict[str, Server] = {}
    try:
        port = free_port()
        servers["bare"] = Server(
            "bare",
            [
                sys.executable,
                *("-m", "gunicorn", "--chdir", str(REPO / "benchmarks")),
                *("--worker-class", "gthread", "--workers", "1", "--threads", "8"),
                *("--timeout", "30", "--graceful-timeout", "10", "--log-level", "warning"),
                *("--bind", f"{HOST}:{port}", "bare_bolt_app:application"),
            ],
            {**env, "BARE_DB": str(workdir / "bare.db")},
            port,
            workdir / "bare.log",
        )
        port = free_port()
        servers["coach"] = Server(
            "coach",
            [
                sys.executable,
                *("-m", "bot.cli", "slack", "--db", str(workdir / "coach.db")),
                *("--host", HOST, "--port", str(port)),
            ],
            env,
            port,
            workdir / "coach.log",
        )
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


# == the load ================================================================================


@dataclass
class Event:
    body: bytes
    headers: dict[str, str]


def make_events(app: str, tag: str, count: int) -> list[Event]:
    """Signed DMs, each with its own event id and DM channel, from a rotating set of users."""
    events = []
    for n in range(count):
        body = dm_event(
            f"U{app[0].upper()}{n % USERS:04d}",
            "hello",
            event_id=f"Ev{tag}X{n}",
            channel=f"D{tag}X{n}",
        )
        events.append(Event(body.encode(), signed_headers(body, json_body=True)))
    return events


class Sender:
    """One keep-alive connection; a request on a connection the server closed is re-sent."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def send(self, event: Event) -> int:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
            try:
                self.conn.request("POST", "/slack/events", body=event.body, headers=event.headers)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Result:
    app: str
    phase: str
    planned: int = 0
    sent: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    completed: int = 0
    last_done: float | None = None
    lag_max_ms: float = 0.0  # how late the open-loop sender started its latest request
    last_ack: float = 0.0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def turns_per_s(self) -> float:
        if not self.completed or self.last_done is None:
            return 0.0
        return self.completed / max(self.last_done - self.started, 1e-9)

    @property
    def acks_per_s(self) -> float:
        return self.sent / max(self.last_ack - self.started, 1e-9) if self.sent else 0.0

    @property
    def all_completed(self) -> bool:
        return self.completed == self.planned == self.sent and self.sent > 0


def open_loop(port: int, events: list[Event], rate: float, result: Result, stop_at: float) -> None:
    """Send event i at start + i/rate, whatever the replies do (none after `stop_at`)."""
    result.planned = len(events)
    work: queue.Queue[tuple[float, Event]] = queue.Queue()
    start = time.monotonic() + 0.1
    for i, event in enumerate(events):
        work.put((start + i / rate, event))
    lock = threading.Lock()
    result.started = start

    def sender() -> None:
        s = Sender(port)
        try:
            while True:
                try:
                    due, event = work.get_nowait()
                except queue.Empty:
                    return
                if due > stop_at:
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                lag = (time.monotonic() - due) * 1000
                try:
                    status = s.send(event)
                    kind = None if status == 200 else f"HTTP {status}"
                except OSError as exc:
                    kind, status = type(exc).__name__, 0
                took = (time.monotonic() - due) * 1000
                with lock:
                    result.sent += 1
                    result.last_ack = time.monotonic()
                    result.lag_max_ms = max(result.lag_max_ms, lag)
                    if kind is None:
                        result.latencies_ms.append(took)
                    else:
                        result.error(kind)
        finally:
            s.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(OPEN_SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if result.sent < result.planned:
        result.errors += result.planned - result.sent
        result.error_kinds["not sent: out of time"] = result.planned - result.sent


def closed_loop(
    port: int, events: list[Event], in_flight: int, result: Result, stop_at: float
) -> None:
    """`in_flight` senders, each sending its next event as soon as the last is acknowledged."""
    result.planned = len(events)
    lock = threading.Lock()
    feed: Iterator[Event] = iter(events)
    result.started = time.monotonic()

    def sender() -> None:
        s = Sender(port)
        try:
            while True:
                with lock:
                    event = next(feed, None)
                if event is None or time.monotonic() > stop_at:
                    return
                t0 = time.monotonic()
                try:
                    status = s.send(event)
                    kind = None if status == 200 else f"HTTP {status}"
                except OSError as exc:
                    kind = type(exc).__name__
                took = (time.monotonic() - t0) * 1000
                with lock:
                    result.sent += 1
                    result.last_ack = time.monotonic()
                    if kind is None:
                        result.latencies_ms.append(took)
                    else:
                        result.error(kind)
        finally:
            s.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if result.sent < result.planned:
        result.errors += result.planned - result.sent
        result.error_kinds["not sent: out of time"] = result.planned - result.sent


def drain(fake: FakeProcess, prefix: str, result: Result, until: float) -> None:
    """Wait (bounded) until every turn of the phase has posted its reply."""
    while True:
        result.completed, result.last_done = fake.done(prefix)
        if result.completed >= result.sent or time.monotonic() >= until:
            return
        time.sleep(0.1)


def warm_up(fake: FakeProcess, servers: dict[str, Server], deadline: float) -> None:
    """Every user says hello once, so each measured turn is of the same kind (a known user
    in the menu says hello: the coach answers with the menu, the bare app with "ok")."""
    for app in APPS:
        result = Result(app, "warm-up")
        tag = f"W{app[0].upper()}"
        closed_loop(servers[app].port, make_events(app, tag, USERS), 50, result, deadline)
        drain(fake, f"D{tag}X", result, min(time.monotonic() + DRAIN_MAX, deadline))
        if result.errors or not result.all_completed:
            raise SystemExit(
                f"warm-up failed for {app}: {result.errors} errors, "
                f"{result.completed}/{result.sent} turns completed"
            )
        took = (result.last_done or result.started) - result.started
        print(f"warm-up {app}: {USERS} first-contact turns completed in {took:.1f} s")


# == the report ==============================================================================


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "n/a"
    return f"{a / b:.2f}x"


def print_phase(phase: str, results: dict[str, Result]) -> None:
    for app in APPS:
        r = results.get(app)
        if r is None:
            print(f"{phase:<20} {app:<6} skipped (out of time)")
            continue
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(r.error_kinds.items()))
        if phase.startswith("open"):
            extra = f"  sender lag max {r.lag_max_ms:.0f} ms"
        else:
            extra = f"  acks/s {r.acks_per_s:.0f}"
        print(
            f"{phase:<20} {app:<6} sent {r.sent:>5}  errors {r.errors:>3}  "
            f"p50 {fmt(r.pct(50)):>7} ms  p99 {fmt(r.pct(99)):>7} ms  "
            f"max {fmt(r.pct(100)):>7} ms  turns/s {r.turns_per_s:>6.1f}  "
            f"completed {r.completed}/{r.sent}{extra}" + (f"  [{kinds}]" if kinds else "")
        )
    coach, bare = results.get("coach"), results.get("bare")
    if coach and bare:
        print(
            f"{phase:<20} {'ratio':<6} coach/bare: p50 {ratio(coach.pct(50), bare.pct(50))}  "
            f"p99 {ratio(coach.pct(99), bare.pct(99))}  max {ratio(coach.pct(100), bare.pct(100))}"
            f"  turns/s {ratio(coach.turns_per_s, bare.turns_per_s)}"
        )


def versions() -> str:
    names = ("slack_bolt", "slack_sdk", "gunicorn")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} ?")
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per rate, 600 closed-loop")
    parser.add_argument("--seconds", type=float, help="seconds per open-loop rate (5)")
    parser.add_argument("--closed", type=int, help="closed-loop events per app (2000)")
    parser.add_argument("--budget", type=float, default=180.0, help="stop after this long")
    args = parser.parse_args(argv)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    closed_count = args.closed or (600 if args.quick else 2000)
    began = time.monotonic()
    deadline = began + args.budget
    gc.disable()  # the senders' own pauses would show up as latency; collected between phases

    print(
        f"slack ack benchmark: {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {versions()}"
    )
    print(
        f"open loop {', '.join(map(str, RATES))} events/s x {seconds:g} s; closed loop "
        f"{CLOSED_IN_FLIGHT} in flight x {closed_count} events; gunicorn 1 worker x 8 gthread "
        f"threads for both; budget {args.budget:g} s"
    )
    phases: list[tuple[str, Any]] = [(f"open {rate}/s", rate) for rate in RATES]
    phases.append((f"closed {CLOSED_IN_FLIGHT} inflight", None))
    table: dict[str, dict[str, Result]] = {}
    out_of_time = False

    fake = FakeProcess()
    workdir = Path(tempfile.mkdtemp(prefix="slack-ack-"))
    servers: dict[str, Server] = {}
    try:
        servers = start_servers(fake.base_url, workdir)
        warm_up(fake, servers, deadline)
        for n, (phase, rate) in enumerate(phases):
            table[phase] = {}
            for app in APPS:  # interleaved per phase, so drift hits both
                count = int(rate * seconds) if rate else closed_count
                # Each phase needs its send time plus some room to finish; else stop here.
                need = (seconds if rate else 3.0) + 5.0
                if time.monotonic() + need > deadline:
                    out_of_time = True
                    break
                tag = f"{app[0].upper()}{n}"
                events = make_events(app, tag, count)
                result = Result(app, phase)
                port = servers[app].port
                gc.collect()
                if rate:
                    open_loop(port, events, rate, result, deadline)
                else:
                    closed_loop(port, events, CLOSED_IN_FLIGHT, result, deadline)
                drain(fake, f"D{tag}X", result, min(time.monotonic() + DRAIN_MAX, deadline))
                table[phase][app] = result
            print_phase(phase, table[phase])
            sys.stdout.flush()
            if out_of_time:
                break
    finally:
        for server in servers.values():
            server.stop()
        fake.stop()

    coach_results = [
        r for results in table.values() for app, r in results.items() if app == "coach"
    ]
    at = table.get(f"open {TARGET_RATE}/s", {})
    coach, bare = at.get("coach"), at.get("bare")
    errors = sum(r.errors for r in coach_results)
    every_turn = all(r.all_completed for r in coach_results)
    p99_ok = bool(coach and coach.pct(99) < TARGET_P99_MS)
    ratio_ok = bool(coach and bare and coach.pct(99) <= TARGET_RATIO * bare.pct(99))
    passed = (
        not out_of_time
        and len(coach_results) == len(phases)
        and errors == 0
        and p99_ok
        and ratio_ok
        and every_turn
    )
    if coach and bare:
        print(
            f"at {TARGET_RATE}/s: coach p99 {fmt(coach.pct(99))} ms (target < {TARGET_P99_MS:g}), "
            f"bare p99 {fmt(bare.pct(99))} ms, ratio {ratio(coach.pct(99), bare.pct(99))} "
            f"(target <= {TARGET_RATIO:g}x); coach errors {errors}; coach turns completed "
            f"{sum(r.completed for r in coach_results)}/{sum(r.sent for r in coach_results)}"
        )
    if out_of_time:
        print(f"stopped early: the {args.budget:g} s budget ran out")
    print(f"total {time.monotonic() - began:.1f} s")
    print(
        f"no errors; at {TARGET_RATE}/s p99 ack < {TARGET_P99_MS:g} ms and within "
        f"{TARGET_RATIO:g}x bare; every turn completed: {'PASS' if passed else 'FAIL'}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
