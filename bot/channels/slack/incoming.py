"""What a person typed in Slack, read back from Slack's encoding of it.

Slack sends message text HTML-encoded (`&`, `<` and `>` arrive as `&amp;`, `&lt;` and
`&gt;`) with mentions, channel links and URLs in angle brackets (`<@U123>`,
`<#C123|general>`, `<https://example.org|the report>`). The coach stores and reads the words
as the person wrote them, so "Smith & Jones" is never shown back as "Smith &amp;amp; Jones"
and the encoding does not count towards the length limit. Outgoing text is escaped once,
by `blocks.escape`.
"""

from __future__ import annotations

import re

#: One of Slack's angle-bracket forms: what is inside, and its label after `|` if any.
_SPECIAL = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _readable(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):  # a person: their label if Slack sent one
        return f"@{label}" if label else target
    if target.startswith("#"):  # a channel
        return f"#{label}" if label else target
    if target.startswith("!"):  # @here, @channel, dates and user groups
        special = target[1:].split("^")[0]
        return label or f"@{special}"
    if label and label != target:  # a link with its own text
        return f"{label} ({target})"
    return target


def typed_text(encoded: str) -> str:
    """The text as the person typed it, from Slack's encoding of it."""
    text = _SPECIAL.sub(_readable, encoded)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
