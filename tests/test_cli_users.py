"""`coach users`: admins add, list, remove coaches and rotate their tokens. A token is printed
once and stored only as a hash; mistakes get one line and a non-zero exit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from test_cli_commands import assert_one_line_error, coach

from storage.store import Store


def token_of(stdout: str) -> str:
    lines = stdout.strip().splitlines()
    assert len(lines) == 2, stdout
    return lines[1]


def test_add_coach_prints_a_token_once_that_only_its_hash_is_kept_of(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"

    done = coach("users", "add-coach", "Chris Lee", "--db", str(db))

    assert done.returncode == 0, done.stderr
    assert "Added coach Chris Lee" in done.stdout
    token = token_of(done.stdout)
    assert len(token) >= 40
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT token_hash FROM coaches").fetchone()
    assert token not in stored
    assert token.encode() not in db.read_bytes()
    store = Store(db)
    try:
        assert store.coach_for_token(token) is not None
    finally:
        store.close()

    listed = coach("users", "list", "--db", str(db))
    assert listed.returncode == 0
    assert listed.stdout.startswith("Chris Lee\tcoach\tadded ")
    assert token not in listed.stdout


def test_a_duplicate_name_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    assert coach("users", "add-coach", "Chris", "--db", str(db)).returncode == 0

    line = assert_one_line_error(coach("users", "add-coach", "chris", "--db", str(db)), "chris")

    assert "already a coach" in line


def test_rotating_a_token_makes_the_old_one_stop_working(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    old = token_of(coach("users", "add-coach", "Chris", "--db", str(db)).stdout)

    done = coach("users", "rotate-token", "Chris", "--db", str(db))

    assert done.returncode == 0, done.stderr
    new = token_of(done.stdout)
    assert new != old
    store = Store(db)
    try:
        assert store.coach_for_token(old) is None
        assert store.coach_for_token(new) is not None
    finally:
        store.close()


def test_removing_a_coach_removes_every_share_with_them(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    coach("users", "add-coach", "Chris", "--db", str(db))
    store = Store(db)
    try:
        now = "2026-11-23T09:00:00+00:00"
        with store.transaction():
            store.ensure_user("terminal:alice", "terminal", "alice", now)
            found = store.coach_named("Chris")
            assert found is not None
            store.share("terminal:alice", found.id, None, now)
    finally:
        store.close()

    done = coach("users", "remove", "Chris", "--db", str(db))

    assert done.returncode == 0, done.stderr
    listed = coach("users", "list", "--db", str(db))
    assert "No coaches yet" in listed.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM shares").fetchone() == (0,)


def test_an_unknown_coach_is_named_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    coach("users", "add-coach", "Chris", "--db", str(db))

    for action in ("remove", "rotate-token"):
        line = assert_one_line_error(coach("users", action, "Dana", "--db", str(db)), "Dana")
        assert "no coach called" in line


def test_listing_or_removing_on_a_store_that_does_not_exist_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nope.db"

    assert_one_line_error(coach("users", "list", "--db", str(missing)), str(missing))
    assert_one_line_error(coach("users", "remove", "Chris", "--db", str(missing)))
    assert not missing.exists()


def test_an_admin_is_added_listed_as_one_and_offered_to_nobody_to_share_with(
    tmp_path: Path,
) -> None:
    db = tmp_path / "coach.db"
    done = coach("users", "add-admin", "Ada", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Added admin Ada")
    assert coach("users", "add-coach", "Chris", "--db", str(db)).returncode == 0
    assert coach("users", "add-coach", "ada", "--db", str(db)).returncode != 0  # name taken

    listed = coach("users", "list", "--db", str(db)).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["Ada", "admin"], ["Chris", "coach"]]
    store = Store(db)
    try:
        assert [c.name for c in store.coaches()] == ["Chris"]
        found = store.coach_for_token(token_of(done.stdout))
        assert found is not None and found.role == "admin"
    finally:
        store.close()
