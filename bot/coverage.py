"""`coach dialogues test --coverage`: what the scripts left untested in each dialogue.

Read off the `Trace` of a script run: each step never reached, `next` link never taken,
recommendation never shown and insight never said, at its line in the dialogue's YAML. An
item a script file explains with `# uncovered: ID: why` (one no scripted conversation can
reach) is listed as explained instead, and such a comment that no longer holds is reported
at its own line.
"""

from __future__ import annotations

from typing import Any

from bot.flow import ways_out
from bot.loader import LoadedDialogue, load_tree, position
from bot.scripts import Trace
from bot.spelling import did_you_mean
from bot.steps import resolve


def coverage(loaded: LoadedDialogue, trace: Trace) -> tuple[list[str], int, int]:
    """What no script exercised in one dialogue, one line each at its YAML position, with
    the count of links taken and of links there are."""
    dialogue = loaded.dialogue
    root = load_tree(loaded.path)
    entered = {resolve(dialogue, s)[0] for s in trace.states.get(dialogue.id, [])}
    taken = {
        (resolve(dialogue, a)[0], resolve(dialogue, b)[0])
        for a, b in trace.links.get(dialogue.id, set())
        if _known(dialogue, a) and _known(dialogue, b)
    }
    missing: list[tuple[tuple[int, int], str]] = []
    links = 0
    for step_id, step in dialogue.steps.items():
        if step_id not in entered:
            missing.append((position(root, ("steps", step_id)), f"step '{step_id}' never reached"))
        for way in ways_out(step_id, step):
            links += 1
            if (step_id, way.target) not in taken:
                missing.append((position(root, way.loc), f"{step_id} → {way.target} never taken"))
    excused = trace.excused.get(dialogue.id, {})
    shown = trace.recommended.get(dialogue.id, set())
    said = trace.insights.get(dialogue.id, set())
    ids: list[tuple[str, list[str], set[str], str]] = [
        ("recommendations", [r.id for r in dialogue.recommendations], shown, "shown"),
        ("insights", [i.id for i in dialogue.insights], said, "said"),
    ]
    for section, items, seen, verb in ids:
        for i, item in enumerate(items):
            if item not in seen:
                why = excused[item][0] if item in excused else None
                told = _unseen(f"{section[:-1]} '{item}'", verb, why)
                missing.append((position(root, (section, i)), told))
    missing.sort()
    untaken = sum("never taken" in m for _, m in missing)
    return (
        [f"{loaded.path}:{line}:{col}: {m}" for (line, col), m in missing]
        + _stale(dialogue, excused, shown | said),
        links - untaken,
        links,
    )


def _stale(dialogue: Any, excused: dict[str, tuple[str, str]], seen: set[str]) -> list[str]:
    """`# uncovered:` comments that no longer hold: the item is shown after all, or is no
    recommendation or insight of the dialogue (misspelt, or since removed)."""
    items = {r.id for r in dialogue.recommendations} | {i.id for i in dialogue.insights}
    stale: list[str] = []
    for item, (_, where) in sorted(excused.items()):
        if item not in items:
            told = f"names no recommendation or insight of {dialogue.id}"
            stale.append(f"{where}: `# uncovered: {item}` {told}" + did_you_mean(item, items))
        elif item in seen:
            told = "but a script shows it: remove the comment"
            stale.append(f"{where}: `# uncovered: {item}` {told}")
    return stale


def _unseen(item: str, verb: str, why: str | None) -> str:
    """What coverage says of an item no script showed: missing, or explained by a script
    file's `# uncovered: ID: why` (one no scripted conversation can reach, say)."""
    return f"{item} never {verb}" if why is None else f"{item} not {verb}, explained: {why}"


def _known(dialogue: Any, state_id: str) -> bool:
    try:
        resolve(dialogue, state_id)
    except KeyError:
        return False
    return True
