"""`coach dialogues status`, `history` and `diff`: what a running coach serves, which
versions of a dialogue conversations ran on, and what changed between two of them.

Status is worked out from the folder with the same loader a running coach reloads with (its
watcher reloads on every save), so what loads here is what it serves, and a file refused
here is one it refused too: it keeps serving the last good version it had. History and
diff read `dialogue_versions` and the conversations' counts, never what anyone said.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from bot.errors import CoachError, DialogueError
from bot.loader import SAFETY_FILE, dialogue_files, load_catalog
from storage.store import Store


class UnknownVersion(CoachError):
    """A version named on the command line that is not stored for that dialogue."""


def status_lines(directory: Path) -> tuple[list[str], int]:
    """What is live and what is refused, with each refusal's file:line:col; and how many
    files are refused."""
    catalog = load_catalog(directory)
    lines: list[str] = []
    for loaded in sorted(catalog.dialogues.values(), key=lambda d: d.path):
        d = loaded.dialogue
        lines.append(f"live     {d.id} v{d.version} ({loaded.digest})  {loaded.path}")
    if catalog.safety is not None:
        lines.append(f"live     safety screen  {directory / SAFETY_FILE}")
    refused = sorted(catalog.problems, key=lambda p: p.path)
    for problem in refused:
        lines.append(
            f"REFUSED  {problem.path}: a running coach keeps serving its last good version"
        )
        lines.extend(f"  {line}" for line in _problem_lines(problem))
    if not any(True for _ in dialogue_files(directory)):
        lines.append(f"no dialogue files in {directory}")
    return lines, len(refused)


def _problem_lines(problem: DialogueError) -> list[str]:
    return str(problem).splitlines() or [problem.path]


@dataclass(frozen=True)
class VersionUse:
    """One version of a dialogue and how many conversations ran, or are running, on it."""

    version: int
    digest: str
    first_used: str
    last_active: str
    conversations: int
    in_progress: int
    stored: bool


def history(store: Store, dialogue: str) -> list[VersionUse]:
    """Each version conversations ran on (or that was stored), oldest first."""
    uses: dict[str, VersionUse] = {}
    for digest, version, first in store.versions_of(dialogue):
        uses[digest] = VersionUse(version, digest, first, first, 0, 0, True)
    for digest, version, count, live, first, last in store.conversations_by_version(dialogue):
        known = uses.get(digest)
        uses[digest] = VersionUse(
            version=known.version if known else version,
            digest=digest,
            first_used=min(known.first_used, first) if known else first,
            last_active=last,
            conversations=count,
            in_progress=live,
            stored=known is not None,
        )
    return sorted(uses.values(), key=lambda u: (u.first_used, u.version))


def history_lines(store: Store, dialogue: str) -> list[str]:
    uses = history(store, dialogue)
    if not uses:
        return [f"no conversation has run on a version of '{dialogue}' yet"]
    lines = []
    for use in uses:
        source = "" if use.stored else "  (source not stored: it ran before versions were kept)"
        lines.append(
            f"v{use.version}  {use.digest or '-':12}  first used {use.first_used[:10]}"
            f"  last active {use.last_active[:10]}  {use.conversations} conversation(s),"
            f" {use.in_progress} in progress{source}"
        )
    return lines


def _source(store: Store, dialogue: str, wanted: str) -> tuple[str, str]:
    """The stored source of `wanted` (a version number, `v6`, or a digest or its start),
    with a label for the diff."""
    stored = store.versions_of(dialogue)
    name = wanted.removeprefix("v")
    if name.isdigit():
        matches = [(d, v) for d, v, _ in stored if v == int(name)]
    else:
        matches = [(d, v) for d, v, _ in stored if d.startswith(wanted)]
    listed = ", ".join(f"v{v} ({d})" for d, v, _ in stored) or "none"
    if not matches:
        raise UnknownVersion(
            f"'{dialogue}' has no stored version '{wanted}'. Stored: {listed} "
            "(see `coach dialogues history`)."
        )
    if len(matches) > 1:
        raise UnknownVersion(
            f"'{dialogue}' v{name} was stored with different content more than once: "
            f"name one by its digest ({', '.join(d for d, _ in matches)})."
        )
    digest, version = matches[0]
    source = store.dialogue_source(dialogue, digest)
    assert source is not None  # listed by versions_of
    return source, f"{dialogue} v{version} ({digest})"


def diff_lines(store: Store, dialogue: str, old: str, new: str) -> list[str]:
    """A unified diff of two stored versions' YAML sources (empty when they are the same)."""
    before, before_label = _source(store, dialogue, old)
    after, after_label = _source(store, dialogue, new)
    return list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=before_label,
            tofile=after_label,
            lineterm="",
        )
    )
