"""Reading back what a person typed from Slack's encoding of it (bot/channels/slack/incoming.py)."""

from __future__ import annotations

import pytest

from bot.channels.slack.incoming import typed_text


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("Smith &amp; Jones &lt;Partnership&gt;", "Smith & Jones <Partnership>"),
        ("a &amp;lt; b", "a &lt; b"),  # what was typed as "&lt;" stays so
        ("ask <@U0ABC>", "ask @U0ABC"),
        ("ask <@U0ABC|sam>", "ask @sam"),
        ("in <#C123|general>", "in #general"),
        ("<!here> please", "@here please"),
        ("see <https://example.org>", "see https://example.org"),
        ("see <https://example.org|the report>", "see the report (https://example.org)"),
        ("mail <mailto:a@b.org|a@b.org>", "mail a@b.org (mailto:a@b.org)"),
        ("no encoding at all", "no encoding at all"),
    ],
)
def test_slack_text_is_read_as_it_was_typed(sent: str, typed: str) -> None:
    assert typed_text(sent) == typed
