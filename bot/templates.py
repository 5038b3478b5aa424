"""Templates in dialogue files (`prompt`, `text`, …), rendered by Jinja2's sandbox.

Admins can show slots (`{{ other_party }}`), branch (`{% if … %}`), draw the small text
charts the summaries use (`{{ their_resources | bar }}`) and write dates as people read
them (`{{ due_date | day }}`); nothing can reach Python objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

BAR_WIDTH = 5


class TemplateProblem(ValueError):
    """A template does not parse; the message says where in the template."""


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


class _Blank(ChainableUndefined):
    """An unanswered slot (or a field of one) renders as an em dash, never as an error."""

    def __str__(self) -> str:
        return "—"


_ENV = ImmutableSandboxedEnvironment(
    undefined=_Blank, autoescape=False, trim_blocks=True, lstrip_blocks=True
)
_ENV.filters["bar"] = bar
_ENV.filters["signed"] = signed
_ENV.filters["day"] = day


@lru_cache(maxsize=2048)
def _compiled(source: str) -> Any:
    return _ENV.from_string(source)


def check_template(source: str) -> None:
    """Raise TemplateProblem if `source` would fail to render for any conversation."""
    try:
        _compiled(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error on its line {exc.lineno}: {exc.message}") from None


#: Jinja's globals (`range`, `dict`, …) as a plain dict: a template's own `render` copies
#: them out of a ChainMap on every call, which cost more than the rendering itself.
_GLOBALS = dict(_ENV.globals)


def render(source: str, slots: Mapping[str, Any]) -> str:
    """Render a dialogue template with the conversation's slots; plain text passes through.

    The context is built here (the globals, then the slots, in a fresh dict the template
    cannot reach past) and handed over as is: the same result as `Template.render`, at
    half the cost, and prompts are rendered on every turn.
    """
    if "{" not in source:
        return source.strip()
    context = {**_GLOBALS, **slots}
    return str(_compiled(source).make_module(context, shared=True)).strip()
