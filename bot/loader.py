"""Reads dialogue YAML files and turns every problem into `file:line:col: what was expected`.

YAML is read as YAML 1.2 by ruamel (so `yes`/`no` stay strings, duplicate keys are errors),
validated by the pydantic models in `bot.schema`, and each pydantic error location is mapped
back to the line and column in the file, so an admin can go straight to the mistake.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from bot.crossrefs import catalog_problems
from bot.errors import DialogueError, SafetyUnavailable, UnknownDialogue
from bot.flow import flow_problems
from bot.schema import COLLECT, Dialogue, LocatedProblems, SafetyConfig

SAFETY_FILE = "safety.yaml"
Model = TypeVar("Model", bound=BaseModel)
Loc = Sequence[str | int]


@dataclass(frozen=True)
class LoadedDialogue:
    """A validated dialogue with where it came from and a digest that names this version."""

    dialogue: Dialogue
    path: str
    digest: str
    #: `file:line:col: …` of what is worth a look but does not stop the file from loading.
    warnings: tuple[str, ...] = ()
    #: The YAML it was loaded from: stored when a conversation starts on this version.
    source: str = field(default="", repr=False)


@dataclass
class Catalog:
    """Every dialogue that loaded, plus the problems of those that did not.

    One broken file never stops the others from loading; its problems are kept so the chat
    and `coach dialogues validate` can name it.
    """

    dialogues: dict[str, LoadedDialogue] = field(default_factory=dict)
    problems: list[DialogueError] = field(default_factory=list)
    safety: SafetyConfig | None = None
    #: Why `safety` is None (also in `problems`): the coach must not run without it.
    safety_problem: DialogueError | None = None
    _listed: tuple[int, list[Dialogue]] | None = field(default=None, repr=False)

    def get(self, dialogue_id: str) -> LoadedDialogue:
        try:
            return self.dialogues[dialogue_id]
        except KeyError:
            known = ", ".join(sorted(self.dialogues)) or "none"
            raise UnknownDialogue(
                f"There is no dialogue called '{dialogue_id}'. Available: {known}."
            ) from None

    def require_safety(self) -> SafetyConfig:
        """The safety configuration, or SafetyUnavailable naming file:line:col of the problem."""
        if self.safety is None:
            raise SafetyUnavailable(str(self.safety_problem) if self.safety_problem else None)
        return self.safety

    def listed(self) -> list[Dialogue]:
        """The dialogues offered in the menu, in a stable order (worked out once)."""
        if self._listed is None or self._listed[0] != len(self.dialogues):
            ordered = sorted(
                (d.dialogue for d in self.dialogues.values() if d.dialogue.listed),
                key=lambda d: (d.id != "diagnose", d.title),
            )
            self._listed = (len(self.dialogues), ordered)
        return self._listed[1]


def default_dialogues_dir() -> Path:
    """Where dialogues come from when no directory is named: ./dialogues, else the shipped set."""
    local = Path("dialogues")
    if local.is_dir() and any(local.glob("*.yaml")):
        return local
    return Path(str(resources.files("dialogues")))


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


def _position(root: Any, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
    """The 0-based (line, col) in the file of the node a pydantic `loc` path points at.

    Walks the ruamel tree; path parts that are not in the file (a union's tag, a missing
    field) are skipped, so the answer is the deepest node that exists.
    """
    node = root
    line = getattr(getattr(root, "lc", None), "line", 0) or 0
    col = getattr(getattr(root, "lc", None), "col", 0) or 0
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            on_value = _is_scalar(node[part]) and not (at_key and part == loc[-1])
            line, col = node.lc.value(part) if on_value else node.lc.key(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            continue
    return line, col


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (CommentedMap, CommentedSeq))


def _describe(error: dict[str, Any]) -> str:
    """A pydantic error as a sentence an admin can act on."""
    loc = ".".join(str(p) for p in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}' (check its spelling; see dialogues/schema.json)"
    if kind == "missing":
        return f"{loc}: required but missing"
    if kind == "union_tag_invalid":
        expected = error.get("ctx", {}).get("expected_tags", "")
        tag = error.get("ctx", {}).get("tag", "")
        return f"{loc}: unknown step kind '{tag}'; expected one of {expected}"
    if kind == "union_tag_not_found":
        return f"{loc}: every step needs a `kind`"
    message = error["msg"].removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


def validate_document(path: str, text: str, model: type[Model]) -> Model:
    """Parse `text` as YAML and validate it as `model`; raise DialogueError with positions."""
    return validated_tree(path, text, model)[0]


def position(root: Any, loc: Loc) -> tuple[int, int]:
    """The 1-based (line, col) of the field at `loc` in the YAML tree `root`."""
    line, col = _position(root, loc)
    return line + 1, col + 1


def load_tree(path: str) -> Any:
    """A YAML file's tree with positions (for files already validated: no errors expected)."""
    return _yaml().load(Path(path).read_text(encoding="utf-8"))


def located(path: str, root: Any, loc: Loc, message: str) -> str:
    """`path:line:col: dotted.loc: message` for the field at `loc` of the YAML tree `root`."""
    line, col = _position(root, loc)
    dotted = ".".join(str(p) for p in loc)
    return f"{path}:{line + 1}:{col + 1}: {dotted}: {message}"


def validated_tree(
    path: str, text: str, model: type[Model], context: dict[str, Any] | None = None
) -> tuple[Model, CommentedMap]:
    """The validated model and the YAML tree it came from (for positions of later checks)."""
    try:
        root = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        what = exc.problem or "the YAML could not be read"
        duplicate = re.search(r'duplicate key "([^"]+)"', str(exc))
        if duplicate:
            what = f"the key '{duplicate.group(1)}' appears twice in the same mapping"
        elif "cannot start any token" in what:
            what += " (put the value in quotes, e.g. a pattern that starts with @)"
        raise DialogueError(path, [f"{where}: {what}"]) from None
    except YAMLError as exc:
        raise DialogueError(path, [f"{path}: the YAML could not be read ({exc})"]) from None
    if not isinstance(root, CommentedMap):
        raise DialogueError(path, [f"{path}:1:1: expected a mapping of keys (id:, title:, …)"])
    try:
        return model.model_validate(_plain(root), context=context), root
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors():
            located_problems = error.get("ctx", {}).get("error")
            if isinstance(located_problems, LocatedProblems):
                base = tuple(error["loc"])
                problems.extend(
                    located(path, root, (*base, *loc), message)
                    for loc, message in located_problems.problems
                )
                continue
            line, col = _position(root, error["loc"], at_key=error["type"] == "extra_forbidden")
            problems.append(f"{path}:{line + 1}:{col + 1}: {_describe(dict(error))}")
        raise DialogueError(path, problems) from None


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists, for pydantic."""
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def load_dialogue_file(path: Path) -> LoadedDialogue:
    """Load and validate one dialogue file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(str(path), [f"{path}: cannot be read ({exc})"]) from None
    return load_dialogue_text(path, text)


def load_for_drawing(path: Path) -> Dialogue:
    """A dialogue file that fits the schema, even if its steps do not connect (a `next` to
    no step, a stranded step): enough to draw, so the problem can be seen. DialogueError
    when it does not fit the schema at all."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(str(path), [f"{path}: cannot be read ({exc})"]) from None
    return validated_tree(str(path), text, Dialogue, {COLLECT: []})[0]


def load_dialogue_text(path: Path, text: str) -> LoadedDialogue:
    """Load and validate a dialogue from its YAML `text` (a file's, or a stored version's);
    `path` names it in messages."""
    references: list[tuple[Loc, str]] = []
    dialogue, root = validated_tree(str(path), text, Dialogue, {COLLECT: references})
    found = flow_problems(dialogue)
    wrong = [*references, *((p.loc, p.message) for p in found if p.severity == "error")]
    wrong.sort(key=lambda problem: _position(root, problem[0]))  # top to bottom
    errors = [located(str(path), root, loc, message) for loc, message in wrong]
    if errors:
        raise DialogueError(str(path), errors)
    warnings = tuple(
        located(str(path), root, p.loc, p.message) for p in found if p.severity == "warning"
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return LoadedDialogue(
        dialogue=dialogue, path=str(path), digest=digest, warnings=warnings, source=text
    )


def dialogue_files(directory: Path) -> Iterable[Path]:
    """The dialogue files in a directory: every *.yaml except the safety configuration."""
    return sorted(p for p in directory.glob("*.yaml") if p.name != SAFETY_FILE)


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load every dialogue in `directory` (and its safety.yaml), keeping going past errors."""
    directory = directory or default_dialogues_dir()
    catalog = Catalog()
    if not directory.is_dir():
        catalog.problems.append(
            DialogueError(str(directory), [f"{directory}: no such directory of dialogues"])
        )
        safety_path = directory / SAFETY_FILE
        catalog.safety_problem = DialogueError(
            str(safety_path), [f"{safety_path}: missing (no such directory {directory})"]
        )
        return catalog
    for path in dialogue_files(directory):
        try:
            loaded = load_dialogue_file(path)
        except DialogueError as exc:
            catalog.problems.append(exc)
            continue
        existing = catalog.dialogues.get(loaded.dialogue.id)
        if existing is not None:
            catalog.problems.append(
                DialogueError(
                    str(path),
                    [f"{path}:1:1: id '{loaded.dialogue.id}' is already used by {existing.path}"],
                )
            )
            continue
        catalog.dialogues[loaded.dialogue.id] = loaded
    _check_across(catalog)
    try:
        catalog.safety = load_safety(directory / SAFETY_FILE)
    except DialogueError as exc:
        catalog.safety_problem = exc
        catalog.problems.append(exc)
    return catalog


def _check_across(catalog: Catalog) -> None:
    """Set aside each dialogue that names another not loaded (`about:`, `next_dialogue`), or
    a field of it that it does not have, with every problem at file:line:col. Setting one
    aside may strand another that names it: repeated until nothing changes."""
    changed = True
    while changed:
        changed = False
        by_id = {key: loaded.dialogue for key, loaded in catalog.dialogues.items()}
        for key, loaded in list(catalog.dialogues.items()):
            found = catalog_problems(loaded.dialogue, by_id)
            if not found:
                continue
            root = load_tree(loaded.path)
            lines = [located(loaded.path, root, loc, message) for loc, message in found]
            catalog.problems.append(DialogueError(loaded.path, lines))
            del catalog.dialogues[key]
            changed = True


def load_safety(path: Path) -> SafetyConfig:
    """Load and validate safety.yaml; DialogueError naming file:line:col if it is unusable.

    Safety fails closed: a missing or unreadable file is an error like an invalid one.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialogueError(
            str(path), [f"{path}: missing; without it no message can be screened for safety"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(str(path), [f"{path}: cannot be read ({exc})"]) from None
    return validate_document(str(path), text, SafetyConfig)
