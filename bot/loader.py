"""Reads dialogue YAML files and turns every problem into `file:line:col: what was expected`.

YAML is read as YAML 1.2 by ruamel (so `yes`/`no` stay strings, duplicate keys are errors),
validated by the pydantic models in `bot.schema`, and each pydantic error location is mapped
back to the line and column in the file, so an admin can go straight to the mistake.
"""

from __future__ import annotations

import hashlib
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from bot.schema import COLLECT, MAX_STEPS, Dialogue, LocatedProblems, SafetyConfig
from bot.schema_messages import describe, described
from bot.yaml_messages import yaml_problem

SAFETY_FILE = "safety.yaml"
#: Far above any real dialogue (the largest shipped file, safety.yaml, is about 250 kB): a
#: file past it is a mistake, and reading it would hold the coach.
MAX_FILE_BYTES = 2_000_000
#: Values a file may hold once YAML aliases (`*name`) are expanded: a few aliases of aliases
#: expand to billions ("billion laughs"); a real dialogue holds a few thousand.
MAX_VALUES = 200_000
#: Lists and mappings within one another, written with brackets (templates' `{{ }}` count).
MAX_NESTING = 64
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


def validate_document(path: str, text: str, model: type[Model]) -> Model:
    """Parse `text` as YAML and validate it as `model`; raise DialogueError with positions."""
    return validated_lazily(path, text, model)[0]


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
    validated, tree = validated_lazily(path, text, model, context)
    return validated, tree()


def validated_lazily(
    path: str, text: str, model: type[Model], context: dict[str, Any] | None = None
) -> tuple[Model, Callable[[], CommentedMap]]:
    """The validated model, and a way to the YAML tree with positions, read only if asked.

    A file is first read by ruamel's C parser (`ruamel.yaml.clib`, about eight times faster,
    the same YAML 1.2 rules, no positions). Most files are fine, and for them that is all.
    Anything wrong is read again by the round-trip parser, which keeps every line and
    column, so each problem is reported where it is.
    """
    _refuse_deep_nesting(path, text)
    if model is Dialogue:
        _refuse_many_steps(path, text)
    fast = _fast_validated(path, text, model, context)
    if fast is not None:
        return fast, lambda: _yaml().load(text)
    validated, root = _validated_with_positions(path, text, model, context)
    return validated, lambda: root


_STEP_KIND = re.compile(r"^[ \t]+kind[ \t]*:", re.MULTILINE)
_STEPS_KEY = re.compile(r"^steps[ \t]*:", re.MULTILINE)


def _refuse_many_steps(path: str, text: str) -> None:
    """DialogueError, before any YAML is read, for a file with more steps than a dialogue
    may have: every step says its `kind:`, so more `kind:` lines than that is too many
    steps, and reading 10,000 of them only to refuse them would take seconds."""
    kinds = len(_STEP_KIND.findall(text))
    steps = _STEPS_KEY.search(text)
    if kinds <= MAX_STEPS or steps is None:
        return
    line = text.count("\n", 0, steps.start()) + 1
    raise DialogueError(
        path,
        [
            f"{path}:{line}:1: steps: {kinds:,} steps; a dialogue may have at most "
            f"{MAX_STEPS:,} (split it into dialogues that lead on to one another with "
            "`next_dialogue`)"
        ],
    )


def _refuse_deep_nesting(path: str, text: str) -> None:
    """DialogueError where brackets (`[`, `{`) nest past MAX_NESTING: the parsers recurse,
    and 20,000 levels take seconds to fail. Brackets in quoted text count too, which a real
    file never stacks so high."""
    depth = 0
    for bracket in _BRACKETS.finditer(text):
        depth = depth + 1 if bracket.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_NESTING:
            start = bracket.start()
            line = text.count("\n", 0, start)
            col = start - (text.rfind("\n", 0, start) + 1)
            raise DialogueError(path, [f"{path}:{line + 1}:{col + 1}: {_TOO_DEEP}"])


_BRACKETS = re.compile(r"[\[\]{}]")


def _fast_yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)  # the C parser when ruamel.yaml.clib is installed
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


def _fast_validated(
    path: str, text: str, model: type[Model], context: dict[str, Any] | None
) -> Model | None:
    """`text` validated as `model` on the fast path, or None to read it again with positions
    (any problem at all: the slow path says what and where)."""
    collected = (context or {}).get(COLLECT)
    own = {**context, COLLECT: []} if context and isinstance(collected, list) else context
    try:
        data = _fast_yaml().load(text)
        if not isinstance(data, dict):
            return None
        validated = model.model_validate(_plain(data, [MAX_VALUES]), context=own)
    except ValidationError as exc:
        _refuse_at_top(path, text, exc)
        return None
    except Exception:
        return None
    if own is not context and own is not None and isinstance(collected, list):
        collected.extend(own[COLLECT])
    return validated


def _refuse_at_top(path: str, text: str, exc: ValidationError) -> None:
    """Raise DialogueError at once when every problem is a top-level key's own (too many
    steps): where such a key is can be read off the text, and reading a huge file again
    with positions would take seconds. Otherwise leave it to the careful reading."""
    problems: list[str] = []
    for error in exc.errors():
        loc = error["loc"]
        if len(loc) != 1 or error["type"] != "value_error":
            return
        found = re.search(rf"^{re.escape(str(loc[0]))}[ \t]*:", text, re.MULTILINE)
        if found is None:
            return
        line = text.count("\n", 0, found.start()) + 1
        problems.append(f"{path}:{line}:1: {describe(error)}")
    raise DialogueError(path, problems)


def _validated_with_positions(
    path: str, text: str, model: type[Model], context: dict[str, Any] | None
) -> tuple[Model, CommentedMap]:
    try:
        root = _yaml().load(text)
    except RecursionError:
        raise DialogueError(path, [f"{path}: {_TOO_DEEP}"]) from None
    except ValueError as exc:  # a number too long to read (Python refuses past 4,300 digits)
        raise DialogueError(path, [_unreadable_value(path, text, exc)]) from None
    except MarkedYAMLError as exc:
        mark, what = yaml_problem(exc, text)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise DialogueError(path, [f"{where}: {what}"]) from None
    except YAMLError as exc:
        raise DialogueError(path, [f"{path}: the YAML could not be read ({exc})"]) from None
    if not isinstance(root, CommentedMap):
        raise DialogueError(path, [f"{path}:1:1: expected a mapping of keys (id:, title:, …)"])
    try:
        plain = _plain(root, [MAX_VALUES])
    except _TooMany as exc:
        raise DialogueError(path, [f"{path}:{exc.line + 1}:{exc.col + 1}: {exc}"]) from None
    except RecursionError:
        raise DialogueError(path, [f"{path}: {_TOO_DEEP}"]) from None
    try:
        return model.model_validate(plain, context=context), root
    except RecursionError:
        raise DialogueError(path, [f"{path}: {_TOO_DEEP}"]) from None
    except ValidationError as exc:
        problems: list[str] = []
        plain_errors = []
        for error in exc.errors():
            located_problems = error.get("ctx", {}).get("error")
            if isinstance(located_problems, LocatedProblems):
                base = tuple(error["loc"])
                problems.extend(
                    located(path, root, (*base, *loc), message)
                    for loc, message in located_problems.problems
                )
            else:
                plain_errors.append(error)
        for told in described(plain_errors):
            line, col = _position(root, told.loc, at_key=told.at_key)
            problems.append(f"{path}:{line + 1}:{col + 1}: {told.message}")
        raise DialogueError(path, problems) from None


_TOO_DEEP = "lists or mappings are nested too deeply to read (a dialogue needs a few levels)"


class _TooMany(ValueError):
    """More values than MAX_VALUES once aliases are expanded; says where it overflowed."""

    def __init__(self, node: Any) -> None:
        self.line = getattr(getattr(node, "lc", None), "line", 0) or 0
        self.col = getattr(getattr(node, "lc", None), "col", 0) or 0
        super().__init__(
            f"the file holds more than {MAX_VALUES:,} values once its aliases (`*name`) are "
            "expanded; repeat less through aliases"
        )


def _unreadable_value(path: str, text: str, exc: ValueError) -> str:
    """Where a value YAML could not turn into Python is (a 5,000-digit number), and why."""
    digits = re.search(r"\d{1000,}", text)
    if digits is None:
        return f"{path}:1:1: a value could not be read ({exc})"
    line = text.count("\n", 0, digits.start())
    col = digits.start() - (text.rfind("\n", 0, digits.start()) + 1)
    return f"{path}:{line + 1}:{col + 1}: a number with {len(digits.group())} digits is too long"


def _plain(node: Any, budget: list[int]) -> Any:
    """Parsed YAML (ruamel's commented containers, or the fast reader's dicts and lists) as
    plain dicts with string keys and lists, for pydantic; `budget` is how many more values
    may be made (an alias is expanded, or walked again, each time it is named: counted)."""
    if isinstance(node, (dict, list)):
        budget[0] -= len(node)
        if budget[0] < 0:
            raise _TooMany(node)
    if isinstance(node, dict):
        return {str(k): _plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, budget) for v in node]
    return node


def read_source(path: Path) -> str:
    """A dialogue or configuration file's text; DialogueError if it is not a regular file
    (a FIFO or a device would block the reader for ever), is too large, or is not UTF-8.
    FileNotFoundError passes through for the callers that treat it apart."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise DialogueError(
                str(path), [f"{path}: not a regular file (a dialogue must be a .yaml file)"]
            )
        if info.st_size > MAX_FILE_BYTES:
            raise DialogueError(
                str(path),
                [
                    f"{path}:1:1: the file is {info.st_size / 1e6:.1f} MB; a dialogue file may "
                    f"be at most {MAX_FILE_BYTES / 1e6:.0f} MB (split it into several dialogues)"
                ],
            )
        with path.open("rb") as handle:  # at most the limit, even if it grew since
            return handle.read(MAX_FILE_BYTES + 1).decode("utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(str(path), [f"{path}: cannot be read ({exc})"]) from None


def load_dialogue_file(path: Path) -> LoadedDialogue:
    """Load and validate one dialogue file."""
    try:
        text = read_source(path)
    except FileNotFoundError as exc:
        raise DialogueError(str(path), [f"{path}: cannot be read ({exc})"]) from None
    return load_dialogue_text(path, text)


def load_for_drawing(path: Path) -> Dialogue:
    """A dialogue file that fits the schema, even if its steps do not connect (a `next` to
    no step, a stranded step): enough to draw, so the problem can be seen. DialogueError
    when it does not fit the schema at all."""
    try:
        text = read_source(path)
    except FileNotFoundError as exc:
        raise DialogueError(str(path), [f"{path}: cannot be read ({exc})"]) from None
    return validated_lazily(str(path), text, Dialogue, {COLLECT: []})[0]


def load_dialogue_text(path: Path, text: str) -> LoadedDialogue:
    """Load and validate a dialogue from its YAML `text` (a file's, or a stored version's);
    `path` names it in messages."""
    references: list[tuple[Loc, str]] = []
    dialogue, tree = validated_lazily(str(path), text, Dialogue, {COLLECT: references})
    found = flow_problems(dialogue)
    wrong = [*references, *((p.loc, p.message) for p in found if p.severity == "error")]
    if wrong:
        root = tree()
        wrong.sort(key=lambda problem: _position(root, problem[0]))  # top to bottom
        errors = [located(str(path), root, loc, message) for loc, message in wrong]
        raise DialogueError(str(path), errors)
    warned = [p for p in found if p.severity == "warning"]
    positions = tree() if warned else None
    warnings = tuple(located(str(path), positions, p.loc, p.message) for p in warned)
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
    by_id: dict[str, list[LoadedDialogue]] = {}
    for path in dialogue_files(directory):
        try:
            loaded = load_dialogue_file(path)
        except DialogueError as exc:
            catalog.problems.append(exc)
            continue
        by_id.setdefault(loaded.dialogue.id, []).append(loaded)
    for dialogue_id, files in by_id.items():
        kept = _owner(dialogue_id, files)
        catalog.dialogues[dialogue_id] = kept
        catalog.problems.extend(
            _id_taken(other, kept, by_id) for other in files if other is not kept
        )
    _check_across(catalog)
    try:
        catalog.safety = load_safety(directory / SAFETY_FILE)
    except DialogueError as exc:
        catalog.safety_problem = exc
        catalog.problems.append(exc)
    return catalog


def _owner(dialogue_id: str, files: list[LoadedDialogue]) -> LoadedDialogue:
    """Of files with one id, the one named after it (`own_power.yaml` for `own_power`):
    a copy made to start a new dialogue keeps the id until it is changed, and must not take
    the place of the dialogue it was copied from. Else the first by name."""
    named = [f for f in files if Path(f.path).stem == dialogue_id]
    return named[0] if named else files[0]


def _id_taken(
    loaded: LoadedDialogue, kept: LoadedDialogue, by_id: Mapping[str, object]
) -> DialogueError:
    """The file that gives up an id another file holds, at its `id:` line."""
    dialogue_id = loaded.dialogue.id
    found = re.search(r"^id:[ \t]*", loaded.source, re.MULTILINE)
    line, col = (
        (loaded.source.count("\n", 0, found.start()) + 1, found.end() - found.start() + 1)
        if found
        else (1, 1)
    )
    stem = Path(loaded.path).stem
    such_as = (
        f" (such as '{stem}', after the file's name)"
        if re.fullmatch(r"[a-z][a-z0-9_]*", stem) and stem not in by_id
        else ""
    )
    return DialogueError(
        loaded.path,
        [
            f"{loaded.path}:{line}:{col}: id: '{dialogue_id}' is already the id of "
            f"{kept.path}; give this dialogue an id of its own{such_as}, so each keeps "
            "its conversations"
        ],
    )


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


def load_safety(path: Path, *, with_model: bool = True) -> SafetyConfig:
    """Load and validate safety.yaml; DialogueError naming file:line:col if it is unusable.

    Safety fails closed: a missing or unreadable file is an error like an invalid one, and
    so is the model file it names (`with_model=False` only to train that model).
    """
    try:
        text = read_source(path)
    except FileNotFoundError:
        raise DialogueError(
            str(path), [f"{path}: missing; without it no message can be screened for safety"]
        ) from None
    config = validate_document(str(path), text, SafetyConfig)
    if config.model is not None and with_model:
        from bot.safety_model import LinearScreen, load_model

        config._trained = LinearScreen(load_model(path.parent / config.model.file))
    return config
