"""Slack's documented limits on Block Kit, and blocks fitted within them before sending.

Slack refuses a whole message or view when one field is too long (`invalid_blocks`,
`invalid_arguments`), so one long "other party" would cost the user the Home tab. Every
payload the coach builds goes through `fitted`, which cuts each text to its limit (with
"…", never inside an escape such as `&amp;`); `problems` lists what still breaks a limit,
for tests and for a last check before sending. slack_sdk's models check some of these
limits but not all (not a context element's text, nor the blocks of a message), hence the
table here.

Sources: api.slack.com/reference/block-kit/blocks, /block-elements and
/composition-objects; api.slack.com/reference/surfaces/views; chat.postMessage's docs.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
#: The most characters of a text object, by the block or element that holds it.
TEXT_LIMITS = {
    "section": 3000,
    "context": 3000,
    "header": 150,
    "button": 75,
    "datepicker": 150,  # its placeholder
}
FIELD_LIMIT = 2000  # each of a section's `fields`
SECTION_FIELDS = 10
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
VALUE_LIMIT = 2000
ID_LIMIT = 255
#: Identifiers and values, with their most characters.
ID_FIELDS = {"value": VALUE_LIMIT, "block_id": ID_LIMIT, "action_id": ID_LIMIT}


def cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters: cut with "…" if longer, and never inside one of
    mrkdwn's escapes (a cut "&am" would show as such)."""
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    entity = kept.rfind("&", max(0, len(kept) - 5))
    if entity != -1 and ";" not in kept[entity:]:
        kept = kept[:entity]
    return kept + "…"


def _text_items(block: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """(text object, its limit) for every text a person reads in a block."""
    kind = block.get("type", "")
    found: list[tuple[dict[str, Any], int]] = []
    if isinstance(block.get("text"), dict) and kind in TEXT_LIMITS:
        found.append((block["text"], TEXT_LIMITS[kind]))
    for field in block.get("fields") or ():
        found.append((field, FIELD_LIMIT))
    elements = list(block.get("elements") or ())
    if isinstance(block.get("accessory"), dict):
        elements.append(block["accessory"])
    for element in elements:
        if kind == "context":
            found.append((element, TEXT_LIMITS["context"]))
        elif isinstance(element.get("text"), dict):
            found.append((element["text"], TEXT_LIMITS.get(element.get("type", ""), 75)))
        if isinstance(element.get("placeholder"), dict):
            found.append((element["placeholder"], TEXT_LIMITS["datepicker"]))
    return [(item, limit) for item, limit in found if isinstance(item.get("text"), str)]


def fitted(blocks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of `blocks` with every text cut to its limit; the blocks given are unchanged."""
    result = copy.deepcopy(list(blocks))
    for block in result:
        for item, limit in _text_items(block):
            item["text"] = cut(item["text"], limit)
    return result


def problems(blocks: Sequence[dict[str, Any]], *, max_blocks: int) -> list[str]:
    """Every way `blocks` break one of Slack's limits, where (empty when Slack takes them)."""
    found: list[str] = []
    if len(blocks) > max_blocks:
        found.append(f"{len(blocks)} blocks (at most {max_blocks})")
    for n, block in enumerate(blocks):
        where = f"block {n} ({block.get('type')})"
        for item, limit in _text_items(block):
            if len(item["text"]) > limit:
                found.append(f"{where}: a text of {len(item['text'])} characters (at most {limit})")
        counts = {"actions": ACTIONS_ELEMENTS, "context": CONTEXT_ELEMENTS}
        elements = block.get("elements") or ()
        if len(elements) > counts.get(block.get("type", ""), len(elements)):
            found.append(f"{where}: {len(elements)} elements")
        if len(block.get("fields") or ()) > SECTION_FIELDS:
            found.append(f"{where}: more than {SECTION_FIELDS} fields")
        for element in [block, *elements, block.get("accessory") or {}]:
            for key, limit in (
                ("value", VALUE_LIMIT),
                ("block_id", ID_LIMIT),
                ("action_id", ID_LIMIT),
            ):
                if len(str(element.get(key) or "")) > limit:
                    found.append(f"{where}: a {key} over {limit} characters")
    return found
