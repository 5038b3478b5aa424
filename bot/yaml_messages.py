"""The YAML reader's errors as sentences an admin can act on, at the place to fix.

ruamel says what its parser expected (`expected <block end>, but found '<block mapping
start>'`, `mapping values are not allowed here`); an admin needs what they wrote that it
could not read: a line not lined up with the keys around it, a `: ` inside a text without
quotes, a template that starts with `{{`, quotes that end before the value does, a bracket
never closed. Each is told with what to write instead, taken from their own line.
"""

from __future__ import annotations

import re
from typing import Any

#: `key: value` or `- key: value` on one line: the key part (with its indent) and the value.
_KEY_VALUE = re.compile(r"^(?P<key>\s*(?:-\s+)?[^\s:#'\"{\[-][^:#]*?:)[ \t]+(?P<value>\S.*?)\s*$")
#: Longest value quoted back in full in a suggestion.
_SHOWN = 50


def yaml_problem(exc: Any, text: str) -> tuple[Any, str]:
    """The mark to point at and what to say for a ruamel MarkedYAMLError on `text`."""
    mark = exc.problem_mark or exc.context_mark
    what: str = exc.problem or "the YAML could not be read"
    lines = text.splitlines()
    line = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
    if "quoted scalar" in (exc.context or "") and exc.context_mark is not None:
        return (
            exc.context_mark,
            "a quoted text starts here and is never closed (add the closing quote)",
        )
    duplicate = re.search(r'duplicate key "([^"]+)"', str(exc))
    if duplicate:
        return mark, f"the key '{duplicate.group(1)}' appears twice in the same mapping"
    if "'\\t'" in what:
        return mark, "a tab: YAML lines are indented with spaces only (replace the tab by spaces)"
    if "cannot start any token" in what:
        return mark, what + " (put the value in quotes, e.g. a pattern that starts with @)"
    if what.startswith("found undefined alias"):
        return mark, (
            "a value that starts with `*` is read as a reference to an `&anchor`: "
            + _quote_it(line, "put the whole value in quotes")
        )
    if what == "mapping values are not allowed here":
        return mark, _colon(line, mark.column, _above(lines, mark.line))
    if what.startswith("expected <block end>"):
        return mark, _block_end(what, line, mark.column, _above(lines, mark.line))
    if "'<stream end>'" in what and "flow" in (exc.context or ""):
        return mark, (
            "the file ends inside a `[` or `{` that is never closed: close it with `]` or `}`"
        )
    flow = re.match(r"expected ',' or '([\]}])'", what)
    if flow and exc.context_mark is not None:
        opened = exc.context_mark
        closer = flow.group(1)
        opener = "[" if closer == "]" else "{"
        return mark, (
            f"the `{opener}` at line {opened.line + 1}, column {opened.column + 1} is not "
            f"closed with `{closer}` before this (or a value inside it holds `:` or `,`: "
            "put that value in quotes)"
        )
    return mark, what


def _colon(line: str, column: int, above: str | None) -> str:
    """A `:` read as a new key inside a value: a text holding `: `, a line indented more
    than the key above it (so it continues that key's value), or a key above written
    without a space after its `:` (so it is text, and this line continues it)."""
    before = line[:column]
    if re.search(r":[ \t]", before):
        return "a `: ` inside a text starts a new key: " + _quote_it(
            line, "put the whole value in quotes"
        )
    key = line.strip().split(":", 1)[0]
    if above is not None and _indent(line) <= _indent(above):
        glued = re.match(r"^\s*(?:-\s+)?([^\s:#]+):(\S.*)$", above)
        if glued and not re.search(r":[ \t]", above):
            return (
                f"the line above has no space after `{glued[1]}:`, so it is read as text "
                f"and this line as more of it: write `{glued[1]}: {glued[2]}`"
            )
    return (
        f"`{key}:` is indented more than the key above it, so it reads as part of that "
        f"key's value: line it up with the keys it belongs with"
    )


def _block_end(what: str, line: str, column: int, above: str | None) -> str:
    """A line that does not fit the block it is in: text after a quoted value, a value that
    starts with `{` or `[` and is text, or an indent that lines up with nothing above."""
    if "'<scalar>'" in what:
        before = line[:column].rstrip()
        if before.endswith(("'", '"')):
            return "the value's quotes end before the value does: " + _quote_it(
                line, "put quotes around all of it"
            )
        found = _KEY_VALUE.match(line)
        if found and found["value"][0] in "{[":
            return (
                f"a value that starts with `{found['value'][0]}` is read as a "
                + ("mapping" if found["value"][0] == "{" else "list")
                + ": "
                + _quote_it(line, "if it is text (a template), put the whole value in quotes")
            )
    if "found '-'" in what:
        told = (
            f"a list item (`- `) at column {column + 1}, where a key was expected: indent "
            "it like the other items of its list"
        )
    else:
        told = f"this line is indented to column {column + 1}, which lines up with nothing above it"
    if above is not None:
        told += f" (the line above starts at column {_indent(above) + 1})"
    return told if "found '-'" in what else told + ": line it up with the keys it belongs with"


def _above(lines: list[str], at: int) -> str | None:
    """The nearest line above `at` that holds more than a comment."""
    return next(
        (
            prev
            for prev in reversed(lines[:at])
            if prev.strip() and not prev.lstrip().startswith("#")
        ),
        None,
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _quote_it(line: str, advice: str) -> str:
    """`advice`, with the line rewritten that way when it is a `key: value` line."""
    found = _KEY_VALUE.match(line)
    if found is None:
        return advice
    value = found["value"]
    if '"' in value or "\\" in value:
        quoted = "'" + value.replace("'", "''") + "'"
    else:
        quoted = '"' + value + '"'
    if len(quoted) > _SHOWN:
        quoted = quoted[: _SHOWN - 1] + "…" + quoted[-1]
    return f"{advice}, as in {found['key'].strip()} {quoted}"
