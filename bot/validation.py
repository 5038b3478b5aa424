"""`coach dialogues validate`: every problem of every file at once, as `file:line:col:
severity: message` lines (or JSON, for editors and CI).

It checks what the coach loads — each dialogue (schema, flow, templates, conditions), the
dialogues together (`about:`, `next_dialogue`), `safety.yaml` and the review rubric — with
the same loader the coach uses, so a file that validates is a file that loads; and the
conversation scripts beside them (`tests/*.yaml`), read and checked against the dialogues
as `coach dialogues test` would before running them. One more check is the admins' own
record, not the coach's: `versions.lock` beside the dialogues holds each dialogue's
`version` with a hash of its content, so a file whose content changed while its `version`
did not gets a warning (a conversation in progress is pinned to a version; two different
contents under one number would be confused). `coach dialogues lock` records the current
versions once an edit is ready.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.errors import CoachError, DialogueError
from bot.loader import (
    SAFETY_FILE,
    Catalog,
    LoadedDialogue,
    load_catalog,
    load_dialogue_file,
    load_safety,
    load_tree,
    position,
)
from bot.review.rubric import DEFAULT_RUBRIC, load_rubric
from bot.scripts import SCRIPTS_DIR, check_script, script_files

Severity = Literal["error", "warning"]
#: The admins' record of each dialogue's version and content, beside the dialogue files.
LOCK_FILE = "versions.lock"
_WHERE = re.compile(r"(\d+):(\d+): (.*)", re.DOTALL)


@dataclass(frozen=True)
class Diagnostic:
    """One problem at one place in one file."""

    file: str
    line: int
    col: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"


@dataclass
class Report:
    """What `validate` found: the diagnostics, and a line for each file that loaded."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)

    def text(self) -> str:
        lines = [*self.loaded, *(str(d) for d in self.diagnostics)]
        lines.append(f"{self.errors} error(s), {self.warnings} warning(s)")
        return "\n".join(lines)

    def json(self) -> str:
        return json.dumps(
            {
                "errors": self.errors,
                "warnings": self.warnings,
                "diagnostics": [asdict(d) for d in self.diagnostics],
            },
            indent=2,
            ensure_ascii=False,
        )


def diagnostics(path: str, problems: Iterable[str], severity: Severity) -> list[Diagnostic]:
    """The loader's `path:line:col: message` lines as diagnostics (a line without a position,
    such as a file that cannot be read, is put at 1:1)."""
    found = []
    for problem in problems:
        rest = problem.removeprefix(f"{path}:").lstrip()
        match = _WHERE.fullmatch(rest)
        if match:
            line, col, message = int(match.group(1)), int(match.group(2)), match.group(3)
        else:
            line, col, message = 1, 1, rest
        found.append(Diagnostic(path, line, col, severity, message))
    return found


def _from_error(exc: DialogueError) -> list[Diagnostic]:
    return diagnostics(exc.path, exc.problems, "error")


def content_hash(loaded: LoadedDialogue) -> str:
    """A hash of what the dialogue says (its validated model), not of how the file is laid
    out: comments, quoting and blank lines do not change it, nor does a new optional field
    of the schema that the file does not use (only values other than the default count)."""
    dumped = loaded.dialogue.model_dump_json(exclude={"version"}, exclude_defaults=True)
    return "sha256:" + hashlib.sha256(dumped.encode()).hexdigest()


def read_lock(directory: Path) -> dict[str, Any]:
    path = directory / LOCK_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CoachError(
            f"{path}: cannot be read ({exc}); `coach dialogues lock` rewrites it"
        ) from None
    return data if isinstance(data, dict) else {}


def write_lock(directory: Path, dialogues: Iterable[LoadedDialogue]) -> Path:
    """Record each dialogue's version and content hash (kept in the repository)."""
    path = directory / LOCK_FILE
    record = {
        d.dialogue.id: {"version": d.dialogue.version, "content": content_hash(d)}
        for d in sorted(dialogues, key=lambda d: d.dialogue.id)
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def _version_position(path: str) -> tuple[int, int]:
    text = Path(path).read_text(encoding="utf-8")
    match = re.search(r"^version:[ \t]*", text, re.MULTILINE)
    if match is None:
        return 1, 1
    return text.count("\n", 0, match.start()) + 1, match.end() - match.start() + 1


def version_warnings(loaded: LoadedDialogue, lock: dict[str, Any]) -> list[Diagnostic]:
    """A warning when the content changed but the `version` recorded for it did not."""
    recorded = lock.get(loaded.dialogue.id)
    if not isinstance(recorded, dict) or recorded.get("version") != loaded.dialogue.version:
        return []
    if recorded.get("content") == content_hash(loaded):
        return []
    line, col = _version_position(loaded.path)
    version = loaded.dialogue.version
    return [
        Diagnostic(
            loaded.path,
            line,
            col,
            "warning",
            f"version: the content changed since version {version} was recorded in "
            f"{LOCK_FILE}; raise it to {version + 1} (then run `coach dialogues lock`)",
        )
    ]


def _loaded_line(loaded: LoadedDialogue) -> str:
    d = loaded.dialogue
    return (
        f"ok   {loaded.path}: {d.id} v{d.version}, {len(d.steps)} steps, "
        f"{len(d.recommendations)} recommendations"
    )


def _check_dialogues(catalog: Catalog, report: Report) -> None:
    from bot.compiler import compile_dialogue

    locks: dict[Path, dict[str, Any]] = {}
    for loaded in catalog.dialogues.values():
        try:
            compile_dialogue(loaded)
        except DialogueError as exc:
            report.diagnostics.extend(_from_error(exc))
            continue
        report.loaded.append(_loaded_line(loaded))
        report.diagnostics.extend(diagnostics(loaded.path, loaded.warnings, "warning"))
        directory = Path(loaded.path).parent
        if directory not in locks:
            locks[directory] = read_lock(directory)
        report.diagnostics.extend(version_warnings(loaded, locks[directory]))
    for problem in catalog.problems:
        report.diagnostics.extend(_from_error(problem))
    report.diagnostics.extend(menu_warnings(catalog))


def menu_warnings(catalog: Catalog) -> list[Diagnostic]:
    """Dialogues of the menu that it cannot tell apart: one title, or `also:` phrases two of
    them claim (a copy made to start a new dialogue keeps the original's). Said once in
    each file, for each other dialogue, with the phrases shared."""
    listed = [d for d in catalog.dialogues.values() if d.dialogue.listed]
    found: list[Diagnostic] = []
    for loaded in listed:
        mine = {_plain(p): p for p in loaded.dialogue.also}
        tree = None
        for other in listed:
            if other is loaded:
                continue
            theirs = {_plain(p) for p in other.dialogue.also}
            shared = [mine[p] for p in mine if p in theirs]
            told: list[tuple[str, str]] = []
            if _plain(loaded.dialogue.title) == _plain(other.dialogue.title):
                told.append(
                    (
                        "title",
                        f"'{loaded.dialogue.title}' is also the title of {other.dialogue.id} "
                        f"({other.path}): the menu would offer two the same",
                    )
                )
            if shared:
                more = ", …" if len(shared) > 5 else ""
                told.append(
                    (
                        "also",
                        f"{len(shared)} phrase(s) are also {other.dialogue.id}'s "
                        f"({', '.join(repr(p) for p in shared[:5])}{more}): said at the menu, "
                        "they cannot tell the two apart; keep each in one dialogue",
                    )
                )
            for key, message in told:
                tree = tree if tree is not None else load_tree(loaded.path)
                line, col = position(tree, (key,))
                found.append(Diagnostic(loaded.path, line, col, "warning", f"{key}: {message}"))
    return found


def _plain(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def _check_config(path: Path, report: Report, *, rubric: bool) -> None:
    try:
        if rubric:
            load_rubric(path)
        else:
            load_safety(path)
    except DialogueError as exc:
        report.diagnostics.extend(_from_error(exc))
    except CoachError as exc:  # cannot be read at all
        report.diagnostics.append(Diagnostic(str(path), 1, 1, "error", str(exc)))
    else:
        report.loaded.append(f"ok   {path}")


def _check_scripts(paths: Sequence[Path], catalog: Catalog, report: Report) -> None:
    """Each conversation script read and checked against the dialogues, not run: what
    `coach dialogues test` would refuse before running a test."""
    for path in paths:
        try:
            scripts, _ = check_script(path, catalog)
        except DialogueError as exc:
            report.diagnostics.extend(_from_error(exc))
        else:
            unchecked = " (names not checked until the dialogues load)" if catalog.problems else ""
            report.loaded.append(
                f"ok   {path}: {len(scripts.tests)} test(s) of {scripts.dialogue}{unchecked}"
            )


def _is_script(path: Path) -> bool:
    """A conversation script (or their folder): what sits in a dialogue folder's `tests/`."""
    return (path if path.is_dir() else path.parent).name == SCRIPTS_DIR


def validate(
    paths: Sequence[Path], directory: Path, rubric: Path | None = DEFAULT_RUBRIC
) -> Report:
    """Check the named files (or folders), or the whole `directory` with `rubric` when none
    is named; every problem of every file, errors and warnings, in one report. A folder's
    conversation scripts (`tests/*.yaml`) are checked against its dialogues; a script named
    on its own, against those of `directory`, as `coach dialogues test` runs it."""
    report = Report()
    scripts = [p for p in paths if _is_script(p)]
    paths = [p for p in paths if not _is_script(p)]
    folders = [p for p in paths if p.is_dir()] or ([] if paths or scripts else [directory])
    for folder in folders:
        catalog = load_catalog(folder)  # its safety.yaml too
        _check_dialogues(catalog, report)
        if catalog.safety is not None:
            report.loaded.append(f"ok   {folder / SAFETY_FILE}")
        _check_scripts(script_files([], folder), catalog, report)
    if scripts:
        _check_scripts(script_files(scripts, directory), load_catalog(directory), report)
    files = [p for p in paths if not p.is_dir()]
    singles = Catalog()
    for path in files:
        if path.name == SAFETY_FILE or path.name.endswith("rubric.yaml"):
            _check_config(path, report, rubric=path.name != SAFETY_FILE)
            continue
        try:
            loaded = load_dialogue_file(path)
        except DialogueError as exc:
            singles.problems.append(exc)
        else:
            singles.dialogues[str(path)] = loaded
    _check_dialogues(singles, report)
    if not paths and not scripts and rubric is not None:
        _check_config(rubric, report, rubric=True)
    report.diagnostics.sort(key=lambda d: (d.file, d.line, d.col))
    return report
