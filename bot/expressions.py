"""The small, safe condition language used in `when:` fields of dialogue files.

Admins write Python-like expressions over slot names (`their_resources - my_resources >= 2
and other_kind == 'professional'`; `'position' in power_kinds` for a `multiple` choice). The
records the engine fills are read by field (`then.my_position`, a past conversation's answer;
`step.idea`) and any list by position (`recent_outcomes[0]`). Each is checked against an
allowlist of syntax when the file loads, then evaluated by simpleeval: no `eval`, no calls
except a few named helpers, and a field is only ever an item of the slot's data, never a
Python attribute.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from simpleeval import EvalWithCompoundTypes

from bot.spelling import slot_hint

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": lambda value: len(value) if value is not None else 0,
    "lower": lambda value: str(value or "").lower(),
    "contains": lambda text, word: str(word).lower() in str(text or "").lower(),
    "any_of": lambda value, options: _any_of(value, options),
}


def _any_of(value: Any, options: Any) -> bool:
    """Whether the answer is one of `options`; for a several-answers slot, whether any is."""
    if isinstance(value, (list, tuple)):
        return any(v in options for v in value)
    return value in options


_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Call,
    ast.Attribute,
    ast.Subscript,
)

#: Numbers compared without arithmetic everywhere: `max(their_position - my_position,
#: their_resources - my_resources) >= 2`, `abs(their_expertise - my_expertise) <= 1`.
FUNCTIONS.update({"max": max, "min": min, "abs": abs})


#: Slots the engine fills with a record, whose fields a condition may read with a dot
#: (`then.my_position`, `step.idea`). Any slot's items may be read by position or name
#: (`recent_outcomes[0]`, `then['my_position']`).
RECORDS: frozenset[str] = frozenset({"then", "step"})


class ExpressionError(ValueError):
    """An expression uses syntax or names the condition language does not allow."""


_CONSTANTS = frozenset({"True", "False", "None", "true", "false", "none"})


def check_expression(
    source: str, known_names: Iterable[str], filled_by: Mapping[str, str] | None = None
) -> None:
    """Raise ExpressionError naming the first problem in `source`, or return quietly.

    Checks syntax, the allowlist of constructs, calls only to named helpers, and that every
    bare name is a known slot or builtin, so a typo fails when the file loads, not mid-chat.
    """
    try:
        tree = ast.parse(" ".join(source.split()), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"'{source}' is not a valid condition ({exc.msg})") from None
    known = set(known_names) | _CONSTANTS
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(
                f"'{source}' uses {type(node).__name__}, which conditions do not allow "
                "(use slot names, quotes, numbers, comparisons, and/or/not, in, + and -)"
            )
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(
                    f"'{source}' calls something other than {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords:
                raise ExpressionError(f"'{source}': helpers take no keyword arguments")
        elif isinstance(node, ast.Name) and node.id not in known and node.id not in FUNCTIONS:
            raise ExpressionError(
                f"'{source}' names '{node.id}', which is not a slot of this dialogue"
                + slot_hint(node.id, known - _CONSTANTS, filled_by or {})
            )
        elif isinstance(node, ast.Attribute):
            root = _root(node)
            if root is not None and root not in known:
                raise ExpressionError(
                    f"'{source}' names '{root}', which is not a slot of this dialogue"
                )
            if root not in RECORDS:
                raise ExpressionError(
                    f"'{source}': only the fields of {' and '.join(sorted(RECORDS))} can be "
                    "read with `.`"
                )
            if node.attr.startswith("_"):
                raise ExpressionError(f"'{source}': fields starting with _ cannot be read")
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if not (isinstance(key, ast.Constant) and type(key.value) in (int, str)):
                raise ExpressionError(
                    f"'{source}': use a number or a quoted name in [ ], such as "
                    "recent_outcomes[0] or then['my_position']"
                )


def _root(node: ast.AST) -> str | None:
    """The slot a chain of fields and items starts from (`then` in `then.steps[0].title`)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


_local = threading.local()


def _evaluator() -> EvalWithCompoundTypes:
    """One evaluator per thread: building one costs more than evaluating a condition, and
    conditions are shared by every conversation and thread."""
    evaluator = getattr(_local, "evaluator", None)
    if evaluator is None:
        # simpleeval adds its own helpers to the dict it is given: hand it a copy.
        evaluator = _local.evaluator = EvalWithCompoundTypes(functions=dict(FUNCTIONS))
    return evaluator


class _FieldsAsItems(ast.NodeTransformer):
    """`then.my_position` is evaluated as `then['my_position']`: a record slot's field is an
    item of its data, so no Python attribute (a dict's methods) can ever be reached."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        value = self.visit(node.value)
        return ast.copy_location(
            ast.Subscript(value=value, slice=ast.Constant(node.attr), ctx=ast.Load()), node
        )


class Condition:
    """A checked expression, ready to evaluate against a conversation's slots.

    A condition that fails at run time (a slot not yet answered compared with a number, a
    field a record does not have, a position past the end of a list) counts as false rather
    than breaking the conversation.
    """

    def __init__(self, source: str) -> None:
        # Folded YAML can keep line breaks; a condition is one line whatever its layout.
        self.source = " ".join(source.split())
        self._tree = _FieldsAsItems().visit(EvalWithCompoundTypes().parse(self.source))

    def __call__(self, slots: Mapping[str, Any]) -> bool:
        evaluator = _evaluator()
        evaluator.names = {"true": True, "false": False, "none": None, **slots}
        try:
            return bool(evaluator.eval(self.source, previously_parsed=self._tree))
        except Exception:
            return False

    def __repr__(self) -> str:
        return f"Condition({self.source!r})"


def fields_read(source: str, slot: str) -> frozenset[str]:
    """The fields of `slot` a (checked) condition reads: `then.my_position` and
    `then['my_position']` both read `my_position` of `then`."""
    tree = ast.parse(" ".join(source.split()), mode="eval")
    found: set[str] = set()
    for node in ast.walk(tree):
        base = getattr(node, "value", None)
        if not (isinstance(base, ast.Name) and base.id == slot):
            continue
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Subscript):
            key = getattr(node.slice, "value", None)
            if isinstance(node.slice, ast.Constant) and isinstance(key, str):
                found.add(key)
    return frozenset(found)


def names_in(source: str) -> frozenset[str]:
    """The bare names a (checked) condition reads: which slots it is about."""
    tree = ast.parse(" ".join(source.split()), mode="eval")
    return frozenset(
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS
    )
