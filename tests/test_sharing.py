"""Sharing with a coach, by consent only: what a coach may see is what a coachee shared and
has not taken back, and nothing else (the store's one read fails closed)."""

from __future__ import annotations

from storage.sharing import hash_token, new_token, token_matches
from storage.store import ConversationRow, Store

ALICE, BOB = "terminal:alice", "terminal:bob"
T0 = "2026-11-23T09:00:00+00:00"
T1 = "2026-11-24T09:00:00+00:00"
T2 = "2026-11-25T09:00:00+00:00"


def conversation(store: Store, user: str, started: str, **extra: object) -> int:
    store.ensure_user(user, "terminal", None, started)
    row = ConversationRow(
        0, user, "diagnose", 1, "d", "role", "completed", None, {}, [], 1, None, started, started
    )
    for name, value in extra.items():
        setattr(row, name, value)
    return store.create_conversation(row)


def coach(store: Store, name: str) -> int:
    return store.add_coach(name, hash_token(new_token()), T0)


def visible(store: Store, coach_id: int) -> list[int]:
    return [c.conversation_id for c in store.shared_conversations_for(coach_id)]


# == the store: what a coach may see ==============================================================


def test_a_coach_sees_nothing_that_was_not_shared_with_them(store: Store) -> None:
    with store.transaction():
        chris, dana = coach(store, "Chris"), coach(store, "Dana")
        mine = conversation(store, ALICE, T0)
        conversation(store, BOB, T0)
        store.share(ALICE, chris, mine, T1)

    assert visible(store, chris) == [mine]
    assert visible(store, dana) == []  # another coach: nothing
    assert visible(store, 999) == []  # no such coach: nothing


def test_a_revoked_share_shows_nothing_at_once(store: Store) -> None:
    with store.transaction():
        chris = coach(store, "Chris")
        mine = conversation(store, ALICE, T0)
        store.share(ALICE, chris, mine, T1)
        store.share(ALICE, chris, None, T1)
        later = conversation(store, ALICE, T2)
    assert visible(store, chris) == [later, mine]

    with store.transaction():
        assert store.revoke_shares(ALICE, None, T2) == 2

    assert visible(store, chris) == []


def test_a_future_share_covers_only_conversations_begun_after_it(store: Store) -> None:
    with store.transaction():
        chris = coach(store, "Chris")
        before = conversation(store, ALICE, T0)
        store.share(ALICE, chris, None, T1)
        after = conversation(store, ALICE, T2)
        conversation(store, ALICE, T2, status="discarded")
        conversation(store, ALICE, T2, follow_up_of=1)  # a check-in
        conversation(store, BOB, T2)  # someone else's, begun after Alice's share

    assert visible(store, chris) == [after]
    assert before not in visible(store, chris)


def test_a_user_can_only_revoke_and_correct_their_own(store: Store) -> None:
    with store.transaction():
        chris = coach(store, "Chris")
        alices = conversation(store, ALICE, T0)
        bobs = conversation(store, BOB, T0)
        store.share(ALICE, chris, alices, T1)
        store.share(BOB, chris, bobs, T1)
        (bobs_share,) = store.shares_of(BOB)
        assert store.revoke_shares(ALICE, [bobs_share.id], T2) == 0
        store.set_shared_summary(ALICE, bobs, "Alice writes over Bob's", T2)
        store.set_shared_summary(BOB, bobs, "Bob's own words", T2)

    assert sorted(visible(store, chris)) == [alices, bobs]
    summaries = {c.conversation_id: c.summary for c in store.shared_conversations_for(chris)}
    assert summaries == {alices: None, bobs: "Bob's own words"}


def test_sharing_twice_keeps_one_share(store: Store) -> None:
    with store.transaction():
        chris = coach(store, "Chris")
        mine = conversation(store, ALICE, T0)
        assert store.share(ALICE, chris, mine, T1) is True
        assert store.share(ALICE, chris, mine, T2) is False
    assert len(store.shares_of(ALICE)) == 1


def test_forgetting_a_coachee_removes_their_shares_and_removing_a_coach_theirs(
    store: Store,
) -> None:
    with store.transaction():
        chris, dana = coach(store, "Chris"), coach(store, "Dana")
        mine = conversation(store, ALICE, T0)
        bobs = conversation(store, BOB, T0)
        store.share(ALICE, chris, mine, T1)
        store.share(BOB, chris, bobs, T1)
        store.share(BOB, dana, bobs, T1)
    store.erase_user(ALICE)
    assert visible(store, chris) == [bobs]

    with store.transaction():
        store.remove_coach(chris)
    assert [s.coach_name for s in store.shares_of(BOB)] == ["Dana"]


def test_a_token_is_stored_only_as_a_hash_and_checked_against_it(store: Store) -> None:
    token = new_token()
    with store.transaction():
        store.add_coach("Chris", hash_token(token), T0)
    stored = store.db.execute("SELECT token_hash FROM coaches").fetchone()[0]

    assert token not in stored
    assert token_matches(token, stored)
    assert not token_matches(token + "x", stored)
    assert not token_matches(token, "garbage")
    assert store.coach_for_token("chris", token) is not None
    assert store.coach_for_token("Chris", new_token()) is None
    assert store.coach_for_token("Dana", token) is None
