"""Sharing with a coach, by consent only: what a coach may see is what a coachee shared and
has not taken back, and nothing else (the store's one read fails closed)."""

from __future__ import annotations

from bot import messages
from storage.sharing import (
    SharedConversation,
    hash_token,
    new_token,
    token_lookup,
    token_matches,
)
from storage.store import ConversationRow, Store
from tests.conftest import Chat
from tests.test_memory import MENU_LABELS, SITUATION, finish_diagnose, labels

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
    token, dana_token = new_token(), new_token()
    with store.transaction():
        store.add_coach("Chris", hash_token(token), T0, token_lookup(token))
        store.add_coach("Dana", hash_token(dana_token), T0, token_lookup(dana_token))
    stored = store.db.execute("SELECT token_hash, token_lookup FROM coaches").fetchall()

    assert not any(token in column for row in stored for column in row)
    assert token_matches(token, stored[0][0])
    assert not token_matches(token + "x", stored[0][0])
    assert not token_matches(token, "garbage")
    found, other = store.coach_for_token(token), store.coach_for_token(dana_token)
    assert found is not None and found.name == "Chris"
    assert other is not None and other.name == "Dana"
    assert store.coach_for_token(new_token()) is None


def test_a_coach_added_before_lookups_were_kept_still_logs_in_by_token(store: Store) -> None:
    token = new_token()
    with store.transaction():
        store.add_coach("Chris", hash_token(token), T0)  # no lookup, as rows before m009
        store.add_coach("Dana", hash_token(new_token()), T0, token_lookup("x"))
    found = store.coach_for_token(token)
    assert found is not None and found.name == "Chris"
    assert store.coach_for_token("x") is None  # the lookup finds Dana; her hash says no


# == the coachee, in the chat =====================================================================


def add_coach(chat: Chat, name: str = "Chris") -> int:
    with chat.engine.store.transaction():
        return coach(chat.engine.store, name)


def seen_by(chat: Chat, coach_id: int) -> list[SharedConversation]:
    return chat.engine.store.shared_conversations_for(coach_id)


def test_sharing_the_last_conversation_shows_what_the_coach_reads_first(chat: Chat) -> None:
    chris = add_coach(chat)
    add_coach(chat, "Dana")
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)

    reply = chat.say("share")
    assert messages.SHARE_WHICH_COACH in reply.text
    assert labels(chat) == ["Chris", "Dana"]
    assert seen_by(chat, chris) == []  # asking is not sharing

    reply = chat.say("chris")
    assert "What would you like to share with Chris?" in reply.text
    assert labels(chat)[-2:] == [messages.SHARE_FUTURE_LABEL, messages.SHARE_CANCEL_LABEL]

    reply = chat.say("1")
    assert "This is what Chris will read first:" in reply.text
    assert "Here's your diagnosis, in your words." in reply.text  # the reading `show 1` gives
    assert SITUATION in reply.text
    assert seen_by(chat, chris) == []  # not before they say yes

    reply = chat.say("yes")
    assert "Shared with Chris" in reply.text
    assert "Diagnose a power situation" in reply.text
    (shown,) = seen_by(chat, chris)
    assert shown.summary is None  # the coach reads the summary as it was said
    assert labels(chat) == MENU_LABELS

    reply = chat.say("shared")
    assert "1. Chris: the conversation of 23 November · Diagnose a power situation" in reply.text


def test_the_conversation_to_share_can_be_named_in_words(chat: Chat) -> None:
    add_coach(chat)
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    chat.say("share")
    chat.say("Chris")

    reply = chat.say("the diagnosis")

    assert "This is what Chris will read first:" in reply.text  # then asked to confirm


def test_a_corrected_summary_is_kept_apart_and_the_transcript_untouched(chat: Chat) -> None:
    chris = add_coach(chat)
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    transcript = [m["text"] for m in chat.engine.store.messages_of(chat.user)]
    slots = chat.engine.store.conversations_of(chat.user)[-1].slots

    chat.say("share")
    chat.say("Chris")
    chat.say("this one")
    reply = chat.say("correct")
    assert "Write the summary as you'd like Chris to read it first" in reply.text
    assert chat.awaits == "text"

    reply = chat.say("The county council holds the money; I want a seat at the board.")

    assert "Shared with Chris" in reply.text
    assert "Chris will read your summary first." in reply.text
    (shown,) = seen_by(chat, chris)
    assert shown.summary == "The county council holds the money; I want a seat at the board."
    after = [m["text"] for m in chat.engine.store.messages_of(chat.user)]
    assert after[: len(transcript)] == transcript  # nothing said before was changed
    assert chat.engine.store.conversations_of(chat.user)[-1].slots == slots


def test_sharing_all_future_conversations_leaves_the_past_private(chat: Chat) -> None:
    chris = add_coach(chat)
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)

    chat.say("share")
    chat.say("1")
    reply = chat.say("all the conversations I start from now on")
    assert "From now on, each conversation you start is shared with Chris" in reply.text
    assert seen_by(chat, chris) == []

    chat.engine.clock.advance(days=1)  # type: ignore[attr-defined]
    chat.say("start diagnose")
    chat.say("1")
    newest = chat.engine.store.current_conversation(chat.user)
    assert newest is not None
    assert [c.conversation_id for c in seen_by(chat, chris)] == [newest.id]


def test_unshare_takes_it_back_at_once(chat: Chat) -> None:
    chris = add_coach(chat)
    dana = add_coach(chat, "Dana")
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    for who in ("Chris", "Dana"):
        chat.say("share")
        chat.say(who)
        chat.say("1")
        chat.say("yes")
    assert len(seen_by(chat, chris)) == len(seen_by(chat, dana)) == 1

    reply = chat.say("unshare")
    assert "1. Chris" in reply.text and "2. Dana" in reply.text
    reply = chat.say("unshare 1")
    assert "Chris can no longer see the conversation of 23 November" in reply.text
    assert seen_by(chat, chris) == []
    assert len(seen_by(chat, dana)) == 1

    reply = chat.say("unshare all")
    assert messages.UNSHARE_ALL_DONE in reply.text
    assert seen_by(chat, dana) == []
    assert messages.SHARED_NONE in chat.say("shared").text


def test_cancelling_shares_nothing(chat: Chat) -> None:
    chris = add_coach(chat)
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    chat.say("share")
    chat.say("Chris")
    chat.say("1")

    reply = chat.say("cancel")

    assert messages.SHARE_CANCELLED in reply.text
    assert seen_by(chat, chris) == []
    assert chat.engine.store.shares_of(chat.user) == []
    assert labels(chat) == MENU_LABELS


def test_share_in_the_middle_of_a_dialogue_sets_it_aside_and_it_can_be_carried_on(
    chat: Chat,
) -> None:
    chris = add_coach(chat)
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")
    chat.say("1")
    chat.say(SITUATION)

    chat.say("share")
    chat.say("Chris")
    reply = chat.say("this")
    assert SITUATION in reply.text  # the answers so far
    reply = chat.say("1")  # "Yes, share it as it is"

    assert "Shared with Chris" in reply.text
    assert len(seen_by(chat, chris)) == 1
    assert labels(chat)[0] == "Carry on: Diagnose a power situation"
    reply = chat.say("1")
    assert "Who do you most need to influence here?" in reply.text


def test_with_no_coach_share_says_so_and_asks_nothing(chat: Chat) -> None:
    chat.open()
    chat.say("Sam")

    reply = chat.say("share")

    assert messages.SHARE_NO_COACHES in reply.text
    assert labels(chat) == MENU_LABELS


def test_share_never_goes_past_a_safety_question(chat: Chat) -> None:
    chris = add_coach(chat)
    chat.open()
    chat.say("Sam")
    finish_diagnose(chat)
    chat.say("I'm being bullied at work")
    question = chat.engine.safety.config.concern_ask

    reply = chat.say("share")

    assert messages.SHARE_AFTER_SAFETY in reply.text
    assert reply.messages[-1].text == question  # the safety question, asked again
    assert messages.SHARE_WHICH_COACH not in reply.text
    assert chat.engine.store.user_pending(chat.user) == asked_pending(chat)
    chat.say("1")  # and then they can carry on as usual
    assert seen_by(chat, chris) == []


def asked_pending(chat: Chat) -> str | None:
    pending = chat.engine.store.user_pending(chat.user)
    assert pending is not None and pending.startswith("concern:"), pending
    return pending


def test_a_share_under_way_in_the_middle_of_a_dialogue_does_not_skip_its_safety_question(
    chat: Chat,
) -> None:
    add_coach(chat)
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")
    chat.say("1")
    chat.say("My manager shouts at me and I'm being bullied at work")
    question = chat.engine.safety.config.concern_ask

    reply = chat.say("share")

    assert reply.messages[-1].text == question
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None and row.pending is not None and row.pending.startswith("concern:")


def test_a_share_left_unanswered_is_not_picked_up_in_a_later_chat(chat: Chat) -> None:
    chris = add_coach(chat)
    chat.open()
    chat.say("Sam")
    chat.say("start diagnose")
    chat.say("1")
    chat.say(SITUATION)
    chat.say("share")  # which coach? …and they close the chat

    reply = chat.open()

    assert "Who do you most need to influence here?" in reply.text  # carried on
    assert chat.engine.store.user_pending(chat.user) is None
    chat.say("menu")
    reply = chat.say("1")  # at the menu "1" is the menu's, not a coach
    assert seen_by(chat, chris) == []
    assert messages.SHARE_WHAT.split("?")[0].format(coach="Chris") not in reply.text
