"""pydantic's validation errors as sentences an admin can act on.

Admins are not programmers: `steps.ask.text.next.constrained-str: Input should be a valid
string` says nothing they can use. pydantic names its own machinery in an error's path (the
step kind that tagged a union, each member it tried of a union such as `str | list[Branch]`,
`[key]` for a mapping's key) and words messages for Python types. Here those parts of the
path are left out, the alternatives of a union are reduced to the one the file meant (or to
one sentence naming them all), and each message says what the field must be and what was
found instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Loc = tuple[str | int, ...]

#: The parts of a path pydantic adds for a union's members, e.g. `constrained-str`,
#: `list[Branch]`, `function-after[…]`.
_MEMBER = re.compile(
    r"^(constrained-\w+|str|int|float|bool|date|none"
    r"|(list|dict|set|tuple|function-\w+|nullable)\[.*\])$"
)
#: Where a union member's own kind of value is: what a value must be to be that member.
_MEMBER_KINDS: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
    ("list[", list, "a list"),
    ("dict[", dict, "a mapping"),
    ("constrained-str", str, "text"),
    ("str", str, "text"),
    ("int", int, "a whole number"),
    ("float", (int, float), "a number"),
    ("bool", bool, "true or false"),
)
#: A field whose union needs more than "text or a list" to be understood.
_UNION_HINTS = {
    "next": "must be the id of the step that comes next, or a list of branches "
    "(each `- when: …` with `to: …`; no `when` for the default)",
}
#: What a list field holds, for "must be a list …".
_LIST_HINTS = {
    "choices": "of options, each with a `value` and a `label`",
    "ack": "of acknowledgements, each with a `text` (and a `when`)",
    "next": "of branches, each with `to` (and `when`)",
    "recommendations": "of recommendations, each with an `id`, `title`, `text` and `source`",
    "insights": "of insights, each with an `id`, `when`, `text` and `source`",
    "words": "of words or phrases",
    "also": "of other ways of saying it",
    "tests": "of tests, each with a `name` and `turns`",
    "turns": "of turns, each with `say:` (or `open: true`) and `expect:`",
}
#: What one item of a list field is, for an item written as a bare value ("- Yes" among
#: the options, `next: [done]`): the lines it needs.
_ITEM_HINTS = {
    "choices": "an option: `- value: …` with `label: …` on the line below",
    "ack": "an acknowledgement: `- text: …` (with `when: …`)",
    "next": "a branch: `- when: …` with `to: …` on the line below",
    "recommendations": "a recommendation: `- id: …` with `title`, `text`, `idea` and `source`",
    "insights": "an insight: `- id: …` with `when`, `text` and `source`",
    "tests": "a test: `- name: …` with `turns:`",
    "turns": "a turn: `- say: …` (or `open: true`) with `expect:`",
}
_IDENTIFIER = "^[a-z][a-z0-9_]*$"
_STEP_KINDS = frozenset(
    {
        "message",
        "text",
        "choice",
        "scale",
        "yesno",
        "date",
        "summary",
        "recommend",
        "commit",
        "recall",
        "outcome",
        "end",
    }
)


_MAPPING_KINDS = frozenset({"dict_type", "model_type", "model_attributes_type"})


@dataclass(frozen=True)
class Told:
    """One problem to report: where pydantic found it (for the file position: every part of
    the path, which the position lookup walks as far as the file has it) and what to say."""

    loc: Loc
    message: str
    at_key: bool


def described(errors: Iterable[Any]) -> list[Told]:
    """Every error as a sentence, the members of a union that the file did not mean left out
    (a list given to `next` is a list of branches: its problems are a branch's, not that it
    is not a step id), and one sentence where it meant none of them."""
    kept: list[Told] = []
    unions: dict[Loc, list[Any]] = {}
    for error in errors:
        member = _member_at(error["loc"])
        if member is None:
            kept.append(_told(error))
        else:
            unions.setdefault(tuple(error["loc"][:member]), []).append(error)
    for base, alternatives in unions.items():
        kept.extend(_union(base, alternatives))
    return kept


def describe(error: Any) -> str:
    """One error as `dotted.path: what it must be (what was found)`."""
    return _told(error).message


def _member_at(loc: Loc) -> int | None:
    for i, part in enumerate(loc):
        if isinstance(part, str) and _MEMBER.match(part):
            return i
    return None


def _union(base: Loc, alternatives: list[Any]) -> list[Told]:
    """The alternatives of one union: those of the member the value's kind fits (a list for
    `list[…]`); else one sentence saying what the field may be."""
    depth = len(base)
    value_known = [e for e in alternatives if len(e["loc"]) == depth + 1]
    value = value_known[0]["input"] if value_known else None
    meant = [
        e for e in alternatives if len(e["loc"]) > depth + 1 or _fits(str(e["loc"][depth]), value)
    ]
    if meant and (not value_known or any(_fits(str(e["loc"][depth]), value) for e in meant)):
        return [_told(e) for e in meant]
    field = _field(base)
    kinds = sorted({_kind_of(str(e["loc"][depth])) for e in alternatives})
    must = _UNION_HINTS.get(field, "must be " + " or ".join(kinds))
    where = _dotted(base)
    return [Told(base, f"{where}: {must}{_found(value)}", False)]


def _fits(member: str, value: Any) -> bool:
    for prefix, kind, _ in _MEMBER_KINDS:
        if member.startswith(prefix):
            return isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    return False


def _kind_of(member: str) -> str:
    for prefix, _, said in _MEMBER_KINDS:
        if member.startswith(prefix):
            return said
    return member


def _told(error: Any) -> Told:
    loc = tuple(error["loc"])
    kind = error["type"]
    where = _dotted(loc)
    tag = _step_kind(loc)
    if kind == "extra_forbidden":
        message = f"unknown key '{loc[-1]}' (check its spelling; see dialogues/schema.json)"
        return Told(loc, message, True)
    ctx = error.get("ctx") or {}
    value = error.get("input")
    field = _field(loc)
    if kind == "missing":
        needs = f": a `{tag}` step needs `{field}`" if tag and len(loc) == 4 else ""
        return Told(loc, f"{where}: required but missing{needs}", False)
    if kind == "union_tag_invalid":
        said = f"{where}: unknown step kind '{ctx.get('tag', '')}'; expected one of "
        return Told(loc, said + str(ctx.get("expected_tags", "")), False)
    if kind == "union_tag_not_found":
        return Told(loc, f"{where}: every step needs a `kind`", False)
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == _IDENTIFIER:
        return Told(loc, _identifier(loc, where, value), "[key]" in loc)
    readable = _readable(loc)
    item = bool(readable) and isinstance(readable[-1], int) and field in _ITEM_HINTS
    if kind in _MAPPING_KINDS and item and not isinstance(value, (dict, list)):
        needs = f"each item must be {_ITEM_HINTS[field]}"
        if field == "next" and isinstance(value, str):
            needs += f"; for one next step, write `next: {value}` without brackets or `- `"
        return Told(loc, f"{where}: {needs}{_found(value)}", False)
    must = _must(kind, ctx, field)
    if must is None:
        message = str(error["msg"]).removeprefix("Value error, ")
        return Told(loc, f"{where}: {message}" if where else message, False)
    found = "" if kind in ("too_short", "too_long") or value == "" else _found(value)
    if kind == "string_type" and isinstance(value, (int, float, bool)):
        found += "; put it in quotes to make it text"
    return Told(loc, f"{where}: {must}{found}", False)


def _must(kind: str, ctx: dict[str, Any], field: str) -> str | None:
    """What a field must be, for the kinds of error a hand-written file gets."""
    if kind == "string_type":
        return "must be text"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number, such as 2"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind in ("list_type", "tuple_type", "set_type"):
        return " ".join(["must be a list", _LIST_HINTS.get(field, "")]).strip()
    if kind in _MAPPING_KINDS:
        return "must be a mapping of keys, one `key: value` a line indented under it"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return "must be a date written as year-month-day, such as 2026-12-01"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        least, has = ctx.get("min_length", 1), ctx.get("actual_length", 0)
        if field == "steps":
            return "a dialogue needs at least one step"
        return f"needs at least {least} {'item' if least == 1 else 'items'} (it has {has})"
    if kind == "too_long":
        most, has = ctx.get("max_length"), ctx.get("actual_length")
        return f"can have at most {most} items (it has {has})"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        said, key = bounds[kind]
        return f"must be {said} {ctx.get(key)}"
    if kind in ("literal_error", "enum"):
        return f"must be {ctx.get('expected')}"
    return None


def _identifier(loc: Loc, where: str, value: Any) -> str:
    """An id that is not lower-case letters, digits and `_` (a step's key, or an `id:`)."""
    rule = "lower-case letters, digits and _, starting with a letter"
    suggestion = _slug(value) if isinstance(value, str) else ""
    instead = f" (such as '{suggestion}')" if suggestion and suggestion != value else ""
    if "[key]" in loc:
        if value == "":
            return f"{where}: an id is empty (a key with nothing before its `:`); it must be {rule}"
        return f"{where}: the id '{value}' must be {rule}{instead}"
    return f"{where}: '{value}' must be {rule}{instead}"


def _slug(value: str) -> str:
    """'Tiny Check!' as an id could be: 'tiny_check' (nothing when no letter is left)."""
    words = re.findall(r"[a-z0-9]+", value.lower())
    joined = "_".join(words)
    return joined if joined[:1].isalpha() else ""


def _step_kind(loc: Loc) -> str | None:
    """The kind tag pydantic put after a step's id (`steps.ask.text.prompt`), if any."""
    if len(loc) >= 3 and loc[0] == "steps" and loc[2] in _STEP_KINDS:
        return str(loc[2])
    return None


def _readable(loc: Loc) -> list[str | int]:
    """The path as the file has it: no step kind tag, union member or `[key]`."""
    parts = list(loc)
    if _step_kind(loc) is not None:
        del parts[2]
    keyed = "[key]" in parts
    parts = [p for p in parts if not (isinstance(p, str) and (_MEMBER.match(p) or p == "[key]"))]
    if keyed and parts:
        parts.pop()  # the key itself is named in the message
    return parts


def _dotted(loc: Loc) -> str:
    return ".".join(str(p) for p in _readable(loc))


def _field(loc: Loc) -> str:
    names = [p for p in _readable(loc) if isinstance(p, str)]
    return names[-1] if names else ""


def _found(value: Any) -> str:
    """` (found …)`: what the file gave instead, briefly."""
    if value is None:
        return " (it is empty)"
    if isinstance(value, bool):
        return f" (found {str(value).lower()})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f" (found '{shown}')"
    if isinstance(value, (int, float)):
        return f" (found {value})" if len(str(value)) <= 20 else " (found a long number)"
    if isinstance(value, list):
        return " (found a list)"
    if isinstance(value, dict):
        return " (found a mapping of keys)"
    return ""
