"""`coach transcripts`: a coach lists, shows and exports in the terminal what is shared with
them, by the review page's own rule and exports; the same refusals, in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_support import ADMIN_TOKEN, ALICE, CHRIS_TOKEN, DANA_TOKEN, NOW, Seeded, seed

from bot.cli import main
from storage.store import Store

DIALOGUES = str(Path(__file__).resolve().parent.parent / "dialogues")


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return seed(store)


def run(
    args: list[str], db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    token: str = CHRIS_TOKEN,
) -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.setenv("COACH_TOKEN", token)
    code = main(["transcripts", *args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_coach_lists_shows_and_exports_only_what_is_shared_with_them(
    seeded: Seeded, db_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    code, out, _ = run(["list", "--coach", "Chris Lee"], db_path, capsys, monkeypatch)
    assert code == 0
    assert [line.split("\t")[:2] for line in out.splitlines()[1:]] == [
        [str(seeded.shared), "Alice"]
    ]

    show = ["show", str(seeded.shared), "--coach", "chris lee", "--dialogues", DIALOGUES]
    code, out, _ = run(show, db_path, capsys, monkeypatch)
    assert code == 0 and "My corrected summary" in out and "SAFETY WORDS" not in out

    as_json = ["export", str(seeded.shared), "--format", "json", "--coach", "Chris Lee",
               "--dialogues", DIALOGUES]  # fmt: skip
    code, out, _ = run(as_json, db_path, capsys, monkeypatch)
    assert code == 0 and json.loads(out)["conversation_id"] == seeded.shared

    for other in (seeded.private, seeded.bob_shared, 999):
        code, out, err = run(
            ["show", str(other), "--coach", "Chris Lee", "--dialogues", DIALOGUES],
            db_path, capsys, monkeypatch,
        )  # fmt: skip
        assert code == 2 and out == "" and "lanternfish" not in err
        assert err.startswith(f"coach: Conversation {other} is not shared with Chris Lee")


def test_an_unshare_is_seen_on_the_next_command(
    seeded: Seeded, store: Store, db_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with store.transaction():
        store.revoke_shares(ALICE, None, NOW)
    code, out, _ = run(["list", "--coach", "Chris Lee"], db_path, capsys, monkeypatch)
    assert code == 0 and out.strip() == "Nothing is shared with you."
    show = ["show", str(seeded.shared), "--coach", "Chris Lee", "--dialogues", DIALOGUES]
    assert run(show, db_path, capsys, monkeypatch)[0] == 2


@pytest.mark.parametrize(
    ("name", "token"),
    [("Chris Lee", "wrong"), ("Chris Lee", DANA_TOKEN), ("Dana", CHRIS_TOKEN), ("Ada", "")],
)
def test_a_token_that_is_not_the_coachs_gets_one_line_and_nothing_else(
    seeded: Seeded, db_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, name: str, token: str,
) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, out, err = run(["list", "--coach", name], db_path, capsys, monkeypatch, token)
    assert code == 2 and out == "" and len(err.splitlines()) == 1


def test_an_admin_lists_nothing(
    seeded: Seeded, store: Store, db_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with store.transaction():
        store.share(ALICE, seeded.admin, seeded.shared, NOW)
    code, out, _ = run(["list", "--coach", "Ada"], db_path, capsys, monkeypatch, ADMIN_TOKEN)
    assert code == 0 and out.strip() == "Nothing is shared with you."
