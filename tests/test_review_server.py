"""`coach review` end to end: a real server on 127.0.0.1 and a free port, spoken to over
HTTP as a browser would (cookies, forms, CSRF tokens), then stopped."""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_server import HOST, Browserless, ReviewProcess, free_port, started
from review_support import ADMIN_TOKEN, ALICE, CHRIS_TOKEN, NOW, csrf_of

from bot.cli import main
from storage.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewProcess]:
    process = started(tmp_path_factory.mktemp("review"))
    yield process
    process.stop()


def signed_in(server: ReviewProcess, token: str = CHRIS_TOKEN) -> Browserless:
    client = Browserless(server.base)
    _, _, page = client.request("/login")
    form = {"token": token, "csrf_token": csrf_of(page)}
    status, headers, _ = client.request("/login", form)
    assert status == 303, headers
    return client


def test_it_listens_on_loopback_only(server: ReviewProcess) -> None:
    outside = [
        info[4][0]
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not info[4][0].startswith("127.")
    ]
    for address in outside:
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(1)
            s.connect((address, server.port))
    with socket.create_connection((HOST, server.port), timeout=2):
        pass


def test_anonymous_is_sent_to_login_and_every_answer_has_the_headers(
    server: ReviewProcess,
) -> None:
    client = Browserless(server.base)
    for path in ("/", "/c/1", "/inbox.csv", "/c/1/export.md", "/c/1/export.json", "/notes"):
        status, headers, body = client.request(path)
        assert status == 303 and headers["Location"].endswith("/login"), path
        assert "library" not in body
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert client.request("/c/1/notes", {"text": "x"})[0] == 403


def test_a_coach_logs_in_reads_annotates_exports_and_logs_out(server: ReviewProcess) -> None:
    client = signed_in(server)
    status, _, inbox = client.request("/")
    assert status == 200 and "/c/1" in inbox and "/c/2" not in inbox
    status, _, page = client.request("/c/1")
    assert status == 200 and "My corrected summary" in page
    token = csrf_of(page)
    assert client.request("/c/1/notes", {"text": "over the wire"})[0] == 400  # no CSRF token
    assert client.request("/c/1/notes", {"text": "over the wire", "csrf_token": token})[0] == 303
    assert "over the wire" in client.request("/c/1/export.md")[2]
    status, headers, body = client.request("/inbox.csv")
    assert headers["Content-Type"].startswith("text/csv") and body.count("\r\n") == 2
    assert client.request("/c/2")[0] == 404
    assert client.request("/logout", {"csrf_token": token})[0] == 303
    assert client.request("/")[0] == 303


def test_notes_on_a_message_the_notes_page_json_and_saved_filters_over_the_wire(
    server: ReviewProcess,
) -> None:
    client = signed_in(server)
    status, _, page = client.request("/c/1?note_on=2")
    assert status == 200 and 'name="seq" value="2"' in page
    form = {"text": "pinned note", "seq": "2", "csrf_token": csrf_of(page)}
    assert client.request("/c/1/notes", form)[0] == 303
    status, _, notes = client.request(f"/notes?coachee={ALICE}")
    assert status == 200 and "pinned note" in notes and "message 2" in notes
    assert client.request("/notes?coachee=terminal:bob")[0] == 404
    status, headers, body = client.request("/c/1/export.json")
    assert headers["Content-Type"].startswith("application/json")
    kept = json.loads(body)["private_notes"]["notes"]
    assert ("pinned note", 2) in [(n["text"], n["message_seq"]) for n in kept]
    assert client.request("/c/2/export.json")[0] == 404
    saved = {"name": "Mine", "dialogue": "diagnose", "csrf_token": csrf_of(page)}
    assert client.request("/filters", saved)[0] == 303
    assert "?dialogue=diagnose" in client.request("/")[2]


def test_an_admin_gets_figures_over_the_wire_and_no_conversation(server: ReviewProcess) -> None:
    admin = signed_in(server, ADMIN_TOKEN)
    status, headers, page = admin.request("/admin")
    assert status == 200 and "Conversations per dialogue" in page and "lanternfish" not in page
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert admin.request("/c/1")[0] == 404
    assert admin.request("/c/1/export.json")[0] == 404
    assert signed_in(server).request("/admin")[0] == 404


def test_an_unshare_in_the_store_is_seen_on_the_next_request(
    server: ReviewProcess, tmp_path: Path
) -> None:
    client = signed_in(server)
    assert client.request("/c/1")[0] == 200
    store = Store(server.db)
    try:
        with store.transaction():
            store.revoke_shares(ALICE, None, NOW)
        assert client.request("/c/1")[0] == 404
        assert "/c/1" not in client.request("/")[2]
        with store.transaction():
            store.share(ALICE, 1, 1, NOW)
    finally:
        store.close()
    assert client.request("/c/1")[0] == 200


def test_garbage_on_the_socket_gets_a_4xx(server: ReviewProcess) -> None:
    for raw in (b"NONSENSE\r\n\r\n", b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
                b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Content-Type: multipart/form-data\r\n\r\nhello"):  # fmt: skip
        with socket.create_connection((HOST, server.port), timeout=5) as s:
            s.sendall(raw)
            first = s.recv(100).split(b"\r\n")[0]
        assert first.split(b" ")[1].startswith(b"4"), (raw, first)


def test_a_mistyped_db_gets_one_line_and_no_new_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.db"
    assert main(["review", "--db", str(missing), "--port", "8400"]) == 2
    assert "There is no conversation store" in capsys.readouterr().err
    assert not missing.exists()


def test_a_restart_keeps_coaches_signed_in_with_a_key_only_its_owner_can_read(
    tmp_path: Path,
) -> None:
    process = started(tmp_path)
    try:
        client = signed_in(process)
        assert client.request("/")[0] == 200
        process.stop()
        process.start()
        assert client.request("/")[0] == 200, "a restart signed the coach out"
    finally:
        process.stop()
    key_file = tmp_path / "coach.db.review-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) == 64 and key not in process.stderr()


def test_a_key_file_others_can_read_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "coach.db"
    Store(db).close()
    key_file = tmp_path / "coach.db.review-key"
    key_file.write_text("a" * 64)
    key_file.chmod(0o644)
    assert main(["review", "--db", str(db), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "can be read by others" in err and "chmod 600" in err and "a" * 64 not in err


def test_no_forwarded_address_dodges_the_login_limit_and_searches_stay_out_of_the_log(
    tmp_path: Path,
) -> None:
    """uvicorn ignores X-Forwarded-For (else each wrong token could claim a new address)
    and keeps no access log (a search's words are in its URL); SIGTERM stops it cleanly."""
    process = started(tmp_path)
    try:
        reader = signed_in(process)
        status, _, page = reader.request("/?q=lanternfish")
        assert status == 200 and "<mark>lanternfish</mark>" in page
        client = Browserless(process.base)
        for n in range(5):
            _, _, page = client.request("/login")
            form = {"token": f"wrong-{n}", "csrf_token": csrf_of(page)}
            forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
            assert client.request("/login", form, headers=forwarded)[0] == 401
        _, _, page = client.request("/login")
        form = {"token": CHRIS_TOKEN, "csrf_token": csrf_of(page)}
        assert client.request("/login", form, headers={"X-Forwarded-For": "198.51.100.7"})[0] == 429
    finally:
        process.stop()
    assert process.returncode == 0, process.stderr()
    assert "lanternfish" not in process.stderr() and "GET /" not in process.stderr()
