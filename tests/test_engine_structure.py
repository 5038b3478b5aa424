"""The engine package is built in floors: a module imports only modules on floors below it,
so the import graph of bot/engine/ has no circle. Read from the source with `ast`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.engine

PACKAGE = "bot.engine"
ENGINE_DIR = Path(bot.engine.__file__).parent

#: Top to bottom. A module may import any module on a lower floor, none on its own or above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("__init__",),
    ("commands", "interrupts", "checkins"),
    ("sharing",),
    ("memory",),
    ("menu",),
    ("progress",),
    ("recall",),
    ("turn",),
    ("pinning",),
)
FLOOR_OF = {name: level for level, names in enumerate(FLOORS) for name in names}


def engine_modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ENGINE_DIR).with_suffix("").parts): path
        for path in sorted(ENGINE_DIR.rglob("*.py"))
    }


def engine_imports(source: str, module: str) -> set[str]:
    """The bot.engine modules that `source` (the module `module`) imports, by short name;
    importing a name from the package itself counts as importing `__init__`."""
    found: set[str] = set()

    def add(dotted: str, names: list[str]) -> None:
        if dotted == PACKAGE:
            # `import bot.engine`, or names (a submodule or the package's own) from it.
            found.update(name if name in FLOOR_OF else "__init__" for name in names or [""])
        elif dotted.startswith(PACKAGE + "."):
            found.add(dotted.removeprefix(PACKAGE + ".").split(".")[0])
        elif f"{dotted}.engine" == PACKAGE and "engine" in names:
            found.add("__init__")  # from bot import engine

    for node in ast.walk(ast.parse(source)):  # every import, in functions and TYPE_CHECKING too
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, [])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative to the package the module sits in (bot.engine for all of them).
                parent = PACKAGE.split(".")
                base = ".".join(parent[: len(parent) - (node.level - 1)])
                dotted = f"{base}.{node.module}" if node.module else base
            else:
                dotted = node.module or ""
            add(dotted, [alias.name for alias in node.names])
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    return {
        name: engine_imports(path.read_text(encoding="utf-8"), name)
        for name, path in engine_modules().items()
    }


def test_every_engine_module_has_a_floor() -> None:
    modules = set(engine_modules())
    assert modules - set(FLOOR_OF) == set(), "add the new module to FLOORS"
    assert set(FLOOR_OF) - modules == set(), "a module in FLOORS no longer exists"


@pytest.mark.parametrize("module", sorted(FLOOR_OF))
def test_a_module_imports_only_floors_below_it(module: str) -> None:
    imported = import_graph()[module]
    upwards = sorted(name for name in imported if FLOOR_OF.get(name, -1) <= FLOOR_OF[module])
    assert upwards == [], (
        f"bot/engine/{module}.py (floor {FLOOR_OF[module]}) imports {upwards}, on its own "
        "floor or above: pass what it needs down as an argument, or let the caller decide"
    )


def test_the_engine_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("import cycle in bot/engine: " + " → ".join(cycle))
        if name in done:
            return
        for imported in sorted(graph.get(name, ())):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import bot.engine.menu", {"menu"}),
        ("import bot.engine", {"__init__"}),
        ("from bot import engine", {"__init__"}),
        ("from bot.engine.menu import show_menu", {"menu"}),
        ("from bot.engine import menu, Engine", {"menu", "__init__"}),
        ("from . import progress", {"progress"}),
        ("from .turn import Turn", {"turn"}),
        ("def f():\n    from bot.engine.commands import COMMANDS", {"commands"}),
        ("import bot.turns\nfrom bot import engine_x", set()),
    ],
)
def test_every_form_of_import_is_seen(source: str, expected: set[str]) -> None:
    assert engine_imports(source, "checkins") == expected


def test_the_public_names_stay_importable_from_bot_engine() -> None:
    from bot.engine import (  # noqa: F401
        CHECKIN_DIALOGUE,
        COMMANDS,
        MENU_REF,
        Engine,
        EngineSettings,
        Overview,
        PastDiagnosis,
        utc_now,
    )
