"""How a reply becomes Slack messages: one post per turn, split only at Slack's limits.

`blocks.reply_messages` is a pure function, so these tests build replies by hand, bigger
than the dialogues make them, and read the payloads it returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.slack import blocks, limits
from bot.turns import NOTHING, Await, BotMessage, Choice, Reply

TODAY = dt.date(2026, 11, 23)
CONTROLS = ("actions", "context")  # buttons or a date picker, and the date hint


def kinds(payload: dict[str, Any]) -> list[str]:
    return [b["type"] for b in payload["blocks"]]


def sections(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


def choices(count: int) -> tuple[Choice, ...]:
    return tuple(Choice(f"c{n}", f"Choice {n}") for n in range(count))


def test_an_empty_reply_posts_nothing() -> None:
    assert blocks.reply_messages(Reply(), TODAY) == []


def test_the_buttons_move_with_their_question_to_a_new_post() -> None:
    # 49 messages and the question fill 50 blocks; its buttons would be the 51st. They are
    # not split from the question they answer: both start the second post.
    said = [BotMessage(f"Message {n}.") for n in range(49)]
    reply = Reply((*said, BotMessage("Which one?")), Await("choice", choices(3), ref="r"))

    first, last = blocks.reply_messages(reply, TODAY)

    assert kinds(first) == ["section"] * 49
    assert kinds(last) == ["section", "actions"]
    assert sections(last) == ["Which one?"]
    assert (first["text"], last["text"]) == ("Message 0.", "Which one?")


def test_a_message_too_long_for_one_post_is_split_between_its_paragraphs() -> None:
    # Five paragraphs of 2,900 characters: five sections, more text than a post may hold.
    paragraphs = [f"Paragraph {n}. " + "x" * 2886 for n in range(5)]
    reply = Reply((BotMessage("\n\n".join(paragraphs)),), Await("choice", choices(30), ref="r"))

    first, last = blocks.reply_messages(reply, TODAY)

    # 30 buttons make two actions blocks (Slack takes 25 in one): both on the last post.
    assert kinds(first) == ["section"] * 3
    assert kinds(last) == ["section", "section", "actions", "actions"]
    assert sections(first) + sections(last) == paragraphs
    for payload in (first, last):
        assert len(payload["text"]) <= blocks.TEXT_LIMIT
        assert payload["text"].startswith("Paragraph 0. ") and payload["text"].endswith("…")


def test_the_notification_text_is_escaped_and_cut_without_half_an_escape() -> None:
    reply = Reply((BotMessage("Fish & <chips> " * 300), BotMessage("Anything else?")))

    [payload] = blocks.reply_messages(reply, TODAY)

    text = payload["text"]
    assert len(text) <= blocks.TEXT_LIMIT and text.endswith("…")
    assert text.startswith("Fish &amp; &lt;chips&gt; Fish")
    assert "<" not in text and ">" not in text
    assert text.count("&") == text.count("&amp;") + text.count("&lt;") + text.count("&gt;")


def test_an_answered_post_keeps_every_message_and_loses_its_controls() -> None:
    reply = Reply(
        (BotMessage("Noted: Tuesday."), BotMessage("When will you do the next one?")),
        Await("date", ref="r"),
    )
    [payload] = blocks.reply_messages(reply, TODAY)
    assert kinds(payload) == ["section", "section", "actions", "context"]

    answered = blocks.answered_blocks(payload["blocks"], "2026-12-01")

    assert answered[:2] == payload["blocks"][:2]
    assert answered[2:] == [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "✓ *2026-12-01*"}]}
    ]


# -- any reply ----------------------------------------------------------------------------------

paragraph = st.integers(min_value=1, max_value=3200).map(lambda n: ("Tea & <cake> " * 250)[:n])
message = st.builds(
    BotMessage,
    st.lists(paragraph, min_size=0, max_size=4).map("\n\n".join),
    st.integers(min_value=0, max_value=4).map(choices),
)
awaits = st.one_of(
    st.just(NOTHING),
    st.just(Await("date", ref="r")),
    st.integers(min_value=1, max_value=60).map(lambda n: Await("choice", choices(n), ref="r")),
)


@settings(max_examples=150, deadline=None)
@given(messages=st.lists(message, max_size=60), awaits=awaits)
def test_any_reply_is_posted_whole_in_order_within_slacks_limits(
    messages: list[BotMessage], awaits: Await
) -> None:
    reply = Reply(tuple(messages), awaits)

    payloads = blocks.reply_messages(reply, TODAY)
    unlimited = blocks.reply_messages(reply, TODAY, max_blocks=10**9, max_text=10**9)

    assert len(unlimited) <= 1
    whole = unlimited[0]["blocks"] if unlimited else []
    # Nothing lost, nothing repeated, nothing reordered by the split.
    assert [b for p in payloads for b in p["blocks"]] == whole
    # One post whenever one post is allowed.
    if len(whole) <= blocks.MAX_BLOCKS and blocks._text_size(whole) <= blocks.MAX_BLOCKS_TEXT:
        assert len(payloads) == len(unlimited)
    for n, payload in enumerate(payloads):
        assert len(payload["blocks"]) <= blocks.MAX_BLOCKS
        assert blocks._text_size(payload["blocks"]) <= blocks.MAX_BLOCKS_TEXT
        assert len(payload["text"]) <= blocks.TEXT_LIMIT
        assert limits.problems(payload["blocks"], max_blocks=limits.MESSAGE_BLOCKS) == []
        assert "<" not in payload["text"] and ">" not in payload["text"]
        # The controls: only on the last post, all together, at its end.
        shape = kinds(payload)
        controls = [k for k in shape if k in CONTROLS]
        if n < len(payloads) - 1:
            assert controls == []
        else:
            assert shape[len(shape) - len(controls) :] == controls


def test_a_very_long_paragraph_is_never_cut_inside_an_escape() -> None:
    text = ("x" * 2998) + "&&&" + ("y" * 10)
    (post,) = blocks.reply_messages(Reply((BotMessage(text),)), dt.date(2026, 11, 23))
    sections = [b["text"]["text"] for b in post["blocks"] if b["type"] == "section"]
    assert len(sections) == 2
    assert all(len(s) <= blocks.SECTION_LIMIT for s in sections)
    assert sections[0].endswith("x") and sections[1].startswith("&amp;")
    assert "".join(sections) == "x" * 2998 + "&amp;" * 3 + "y" * 10
