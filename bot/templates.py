"""Templates in dialogue files (`prompt`, `text`, …), rendered by Jinja2's sandbox.

Admins can show slots (`{{ other_party }}`), branch (`{% if … %}`), draw the small text
charts the summaries use (`{{ their_resources | bar }}`), write dates as people read them
(`{{ due_date | day }}`) and names as they read mid-sentence (`{{ other_party | mid }}`), say
what the user wrote back to them (`{{ learned | reflect }}`: I → you), and compare numbers
(`max(…)`, `{{ gaps | largest | join_and }}`); nothing can reach Python objects. A tag on a
line of its own leaves no trace, and one that ends a line of text keeps that line's break.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from numbers import Real
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.errors import TemplateTooCostly
from bot.naming import mid
from bot.reflecting import reflect

BAR_WIDTH = 5
#: A rendered message longer than this is a mistake in the file (a long summary is ~3,000).
MAX_OUTPUT_CHARS = 50_000
#: Time one template may take to render; a real one takes well under a millisecond.
MAX_RENDER_SECONDS = 0.5
#: The largest number a template may multiply a text or list by, or raise to a power.
MAX_FACTOR = 1_000
#: Loops within loops a template may have (the shipped ones go two deep).
MAX_LOOP_DEPTH = 2


class TemplateProblem(ValueError):
    """A template does not parse, or asks for what no template may; the message says what."""


def bar(value: Any, top: int = BAR_WIDTH) -> str:
    """A fixed-width bar for a rating: 3 of 5 → ■■■□□ (unrated → ·····)."""
    if isinstance(value, Undefined):
        return "·" * top
    try:
        n = max(0, min(int(value), top))
    except (TypeError, ValueError):
        return "·" * top
    return "■" * n + "□" * (top - n)


def signed(value: Any) -> str:
    """A difference with its sign, so +2 and -2 read differently in a chart."""
    if isinstance(value, Undefined):
        return "?"
    try:
        n = int(value)
    except (TypeError, ValueError):
        return "?"
    return f"+{n}" if n > 0 else str(n)


def day(value: Any) -> str:
    """An ISO date as people read it: 2026-12-04 → Friday 4 December 2026."""
    try:
        when = dt.date.fromisoformat(str(value))
    except ValueError:
        return "—" if isinstance(value, Undefined) else str(value)
    return f"{when:%A} {when.day} {when:%B %Y}"


def _numbers(values: Any) -> list[Any]:
    """The numbers among `values` (flattening one list), leaving out unanswered slots."""
    found: list[Any] = []
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        found.extend(v for v in items if isinstance(v, Real) and not isinstance(v, bool))
    return found


def largest_of(*values: Any) -> Any:
    """`max(a, b, …)` in a template: the largest number given; blank when none is answered."""
    numbers = _numbers(values)
    return max(numbers) if numbers else _Blank(name="max")


def smallest_of(*values: Any) -> Any:
    """`min(a, b, …)` in a template: the smallest number given; blank when none is answered."""
    numbers = _numbers(values)
    return min(numbers) if numbers else _Blank(name="min")


def absolute(value: Any) -> Any:
    """`abs(x)` in a template; blank when x is not a number."""
    numbers = _numbers([value])
    return abs(numbers[0]) if numbers else _Blank(name="abs")


def _keys_at(table: Any, pick: Any) -> list[str]:
    if not isinstance(table, Mapping):
        return []
    numbers = {k: v for k, v in table.items() if _numbers([v])}
    if not numbers:
        return []
    best = pick(numbers.values())
    return [str(k) for k, v in numbers.items() if v == best]


def largest(table: Any) -> list[str]:
    """The keys of a dict holding its largest number, in the dict's order (several on a tie):
    `{'resources': 3, 'position': 3, 'expertise': 1} | largest` → ['resources', 'position']."""
    return _keys_at(table, max)


def smallest(table: Any) -> list[str]:
    """The keys of a dict holding its smallest number, in the dict's order."""
    return _keys_at(table, min)


def join_and(values: Any) -> str:
    """A list as a sentence says it: ['a', 'b', 'c'] → "a, b and c"."""
    if isinstance(values, (str, Undefined)):
        return str(values)
    items = [str(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


_INNER_QUOTE = re.compile(r'"([^"\n]*)"')
_LONE_OPENING = re.compile(r'"(?=\w)')


def quoted(value: Any) -> str:
    """Words to quote mid-sentence, without the full stop they ended on: `"{{ x | quoted }}".
    Then…` reads `"they nod along". Then…`, not `"they nod along.". Then…`. Quotes inside
    become single ones, as a quote within a quote is written: `"Ask them what ‘independence’
    would mean"`, not `"Ask them what "independence" would mean"`."""
    text = str(value).rstrip()
    text = text[:-1] if text.endswith(".") and not text.endswith("...") else text
    if '"' not in text:
        return text
    return _LONE_OPENING.sub("‘", _INNER_QUOTE.sub("‘\\1’", text)).replace('"', "’")


class _Blank(ChainableUndefined):
    """An unanswered slot (or a field of one) renders as an em dash, never as an error."""

    def __str__(self) -> str:
        return "—"


class _Deadline(threading.local):
    """When the render under way on this thread must stop (0: no render under way)."""

    at = 0.0


_DEADLINE = _Deadline()


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no Python insides, no changing values) with a bound on cost.

    `*` and `**` are intercepted, so they are not folded at compile time (Jinja would work
    out `'x' * 300000000` while compiling) and are refused past MAX_FACTOR; every call and
    operator checks the render's deadline, so loops of calls cannot run for ever.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_deadline()
        if operator == "**" and (not _small(right) or not _small(left)):
            raise SecurityError(f"`**` is limited to numbers up to {MAX_FACTOR}")
        if operator == "*" and not (_small(left) or _small(right)):
            raise SecurityError(f"`*` is limited to factors up to {MAX_FACTOR}")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        return super().call(__context, __obj, *args, **kwargs)


def _small(value: Any) -> bool:
    return isinstance(value, (int, float)) and abs(value) <= MAX_FACTOR


def _check_deadline() -> None:
    if _DEADLINE.at and time.monotonic() > _DEADLINE.at:
        raise TemplateTooCostly(f"took longer than {MAX_RENDER_SECONDS} s to render")


_ENV = _BoundedSandbox(undefined=_Blank, autoescape=False, trim_blocks=True, lstrip_blocks=True)
for _name in ("lipsum", "cycler", "joiner"):  # no use in a message, and ways in
    _ENV.globals.pop(_name, None)
#: Reads templates exactly as written (no trimming), to see which tag ends which line.
_AS_WRITTEN = _ENV.overlay(trim_blocks=False, lstrip_blocks=False)
_TAG_ENDS = {"block_end", "comment_end", "raw_end"}
_ENV.filters["bar"] = bar
_ENV.filters["signed"] = signed
_ENV.filters["day"] = day
_ENV.filters["mid"] = mid
_ENV.filters["reflect"] = reflect
_ENV.filters["largest"] = largest
_ENV.filters["smallest"] = smallest
_ENV.filters["join_and"] = join_and
_ENV.filters["quoted"] = quoted
_ENV.globals.update(max=largest_of, min=smallest_of, abs=absolute)


def keep_line_breaks(source: str) -> str:
    """`source` with `trim_blocks` kept to lines that hold only tags.

    Jinja's `trim_blocks` drops the newline after every block tag, which is right for a tag
    on a line of its own (`{% if … %}`) but glues two lines together when a tag ends a line
    of text: `Label: {{ x }}{% if note %}: "{{ note }}"{% endif %}⏎Next label` rendered as
    `…"Next label`. Such a tag gets Jinja's `+` (`{% endif +%}`), which keeps its newline,
    so templates are written the natural way. Only `+` is added, so line numbers hold.
    """
    if "%}" not in source and "#}" not in source:
        return source
    try:
        tokens = list(_AS_WRITTEN.lexer.tokeniter(source, None))
    except TemplateSyntaxError:
        return source  # compiling it will say what is wrong, and where
    out: list[str] = []
    has_text = False  # the line so far holds shown text, or a {{ … }}
    hidden = 0  # inside a macro or a `set` block: their text is kept for later, not shown here
    tag: list[str] = []  # the names in the block tag being read
    for n, (_, kind, value) in enumerate(tokens):
        if kind == "data":
            lines = value.split("\n")
            if len(lines) > 1:
                has_text = False
            has_text = has_text or (not hidden and bool(lines[-1].strip()))
        elif kind == "variable_begin" and not hidden:
            has_text = True
        elif kind == "block_begin":
            tag = []
        elif kind in ("name", "operator"):
            tag.append(value)
        if kind == "block_end" and tag:
            if tag[0] == "macro" or (tag[0] == "set" and "=" not in tag):
                hidden += 1
            elif tag[0] in ("endmacro", "endset") and hidden:
                hidden -= 1
        if (
            kind in _TAG_ENDS
            and has_text
            and not hidden
            and not value.endswith(("-%}", "+%}", "-#}", "+#}"))
            and n + 1 < len(tokens)
            and tokens[n + 1][1] == "data"
            and tokens[n + 1][2].startswith("\n")
        ):
            value = f"{value[:-2]}+{value[-2:]}"
        out.append(value)
    return "".join(out)


@lru_cache(maxsize=2048)
def _compiled(source: str) -> Any:
    template = _ENV.from_string(keep_line_breaks(source))
    # Jinja keeps a template's globals (`range`, `dict`, …) in a ChainMap and copies them
    # out of it on every render, which cost more than rendering a prompt. They never change
    # here, so each template keeps a plain copy.
    template.globals = dict(template.globals)
    return template


@lru_cache(maxsize=2048)
def _parsed(source: str) -> nodes.Template:
    """A template's syntax tree, parsed once for every check that reads it (read only)."""
    return _ENV.parse(keep_line_breaks(source))


def check_template(source: str) -> None:
    """Raise TemplateProblem if `source` would fail to render for any conversation, or asks
    for what no template may (another file, Python's insides, a huge product).

    Parsed, not compiled: turning a template into Python is most of what loading a dialogue
    cost, and is done when it is first rendered. The one mistake only compiling would catch,
    a filter or test that does not exist, is looked for here.
    """
    if "{" not in source:  # plain text, said as it is
        return
    try:
        tree = _parsed(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error on its line {exc.lineno}: {exc.message}") from None
    for used in tree.find_all((nodes.Filter, nodes.Test)):
        kind, known = (
            ("filter", _ENV.filters) if isinstance(used, nodes.Filter) else ("test", _ENV.tests)
        )
        if used.name not in known:
            _refuse(used, f"No {kind} named '{used.name}'.")
    _check_nodes(tree)


def _check_nodes(tree: nodes.Template) -> None:
    """What a template may never do, whatever the slots hold, with the line it is on."""
    for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        _refuse(node, "a template cannot include, import or extend another (write the text here)")
    for read in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = (
            read.attr
            if isinstance(read, nodes.Getattr)
            else getattr(getattr(read, "arg", None), "value", "")
        )
        if isinstance(name, str) and name.startswith("_"):
            _refuse(
                read,
                f"'{name}' cannot be read (names starting with _ are Python's insides, "
                "not a slot's fields)",
            )
    for const in tree.find_all(nodes.Const):
        if isinstance(const.value, int) and abs(const.value) > 10**9:
            _refuse(const, f"the number {const.value:.3g} is too large for a message")
    for power in tree.find_all(nodes.Pow):
        _refuse(power, "`**` is not allowed in a template")
    for product in tree.find_all(nodes.Mul):
        sides = (product.left, product.right)
        if any(isinstance(n, nodes.Const) and _big(n.value) for n in sides):
            _refuse(product, f"`*` by more than {MAX_FACTOR} would make a message too long")
    for call in tree.find_all(nodes.Call):
        _check_call(call)
    for macro in tree.find_all(nodes.Macro):
        for inner in macro.find_all(nodes.Call):
            if isinstance(inner.node, nodes.Name) and inner.node.name == macro.name:
                _refuse(inner, f"the macro '{macro.name}' calls itself, which would never end")
    for loop in tree.find_all(nodes.For):
        if _loop_depth(loop) > MAX_LOOP_DEPTH:
            _refuse(
                loop,
                f"loops nested more than {MAX_LOOP_DEPTH} deep (a message lists a few things)",
            )


def _check_call(call: nodes.Call) -> None:
    callee = call.node
    huge = any(isinstance(a, nodes.Const) and _big(a.value) for a in call.args)
    if isinstance(callee, nodes.Name) and callee.name == "range" and huge:
        _refuse(call, f"`range` is limited to {MAX_FACTOR} (a message lists a few things)")
    if isinstance(callee, nodes.Getattr) and callee.attr in ("format", "format_map"):
        _refuse(
            call,
            f"`.{callee.attr}` is not allowed in a template (write {{{{ … }}}} where the "
            "value goes)",
        )


def _refuse(node: nodes.Node, why: str) -> None:
    raise TemplateProblem(f"template error on its line {node.lineno}: {why}")


def _loop_depth(loop: nodes.For) -> int:
    inner = [_loop_depth(n) for n in loop.find_all(nodes.For)]
    return 1 + max(inner, default=0)


def _big(value: Any) -> bool:
    return isinstance(value, (int, float)) and abs(value) > MAX_FACTOR


def fields_used(source: str, name: str) -> frozenset[str]:
    """The fields of the slot `name` a (checked) template reads: `{{ then.date }}` and
    `{{ then['date'] }}` both read `date` of `then`."""
    found: set[str] = set()
    if "{" not in source:
        return frozenset()
    tree = _parsed(source)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        base = getattr(node, "node", None)
        if not (isinstance(base, nodes.Name) and base.name == name):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node, nodes.Getitem):
            key = node.arg.value if isinstance(node.arg, nodes.Const) else None
            if isinstance(key, str):
                found.add(key)
    return frozenset(found)


@lru_cache(maxsize=2048)
def template_names(source: str) -> frozenset[str]:
    """The names a template reads from outside itself (slots, helpers): not those it sets
    with `{% set %}`, a `for` loop or a macro's arguments anywhere in it (Jinja's own
    `find_undeclared_variables` counts a name set inside an `if` as read from outside)."""
    if "{" not in source:
        return frozenset()
    tree = _parsed(source)
    own = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    return frozenset(meta.find_undeclared_variables(tree) - own)


def render(source: str, slots: Mapping[str, Any]) -> str:
    """Render a dialogue template with the conversation's slots; plain text passes through.

    Bounded whatever the file says (a file can reach a running coach by reload without
    being validated the same day): TemplateTooCostly past MAX_OUTPUT_CHARS, past
    MAX_RENDER_SECONDS, or on what the sandbox refuses, so the engine ends the turn with a
    message instead of holding the store.
    """
    if "{" not in source:
        return source.strip()
    if _DEADLINE.at:  # a template rendered from within another's render (a filter)
        return str(_compiled(source).render(slots)).strip()
    _DEADLINE.at = time.monotonic() + MAX_RENDER_SECONDS
    parts: list[str] = []
    size = 0
    try:
        for part in _compiled(source).generate(slots):
            size += len(part)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateTooCostly(f"would be longer than {MAX_OUTPUT_CHARS:,} characters")
            _check_deadline()
            parts.append(part)
    except SecurityError as exc:
        raise TemplateTooCostly(str(exc)) from None
    except RecursionError:
        raise TemplateTooCostly("calls itself without end") from None
    finally:
        _DEADLINE.at = 0.0
    return "".join(parts).strip()
