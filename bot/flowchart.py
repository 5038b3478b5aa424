"""A dialogue's flow as a picture: Graphviz DOT drawn from the dialogue, rendered to SVG by
Graphviz's `dot` (Debian's `graphviz` package; `make test` installs it when missing).

Drawn from the dialogue as written (not the machine), so a file that does not validate can
be drawn too and its strays seen: every step, each way out labelled with its condition
(`when:`, a choice's value) or "otherwise", the steps that recommend or commit marked, ends
drawn as ends, and steps no path from the start reaches in another colour.
"""

from __future__ import annotations

import shutil
import subprocess

from bot.errors import CoachError
from bot.flow import reachable, ways_out
from bot.schema import Dialogue, Step

#: Seconds `dot` may take: the shipped dialogues take well under one.
DOT_TIMEOUT = 30
UNREACHABLE_COLOUR = "#f4c7c3"
ADVICE_COLOUR = "#fff2b3"
_ASKING = {"text", "choice", "scale", "yesno", "date", "commit", "recall"}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node(step_id: str, step: Step, stray: bool) -> str:
    title = step.title or step_id
    label = title if title == step_id else f"{title}\n({step_id})"
    attrs = {"label": _quoted(label)}
    if step.kind == "end":
        attrs["shape"] = "doublecircle" if len(label) < 12 else "box"
        attrs["peripheries"] = "2"
    elif step.kind in ("recommend", "commit"):
        attrs["label"] = _quoted(f"★ {step.kind}: {label}")
        attrs["shape"] = "box"
        attrs["style"] = '"rounded,filled,bold"'
        attrs["fillcolor"] = _quoted(ADVICE_COLOUR)
    elif step.kind in _ASKING:
        attrs["shape"] = "box"
        attrs["style"] = '"rounded"'
    else:
        attrs["shape"] = "note"
    if stray:
        attrs["style"] = '"filled,dashed"'
        attrs["fillcolor"] = _quoted(UNREACHABLE_COLOUR)
        attrs["tooltip"] = _quoted("no path from the start reaches this step")
    return f"  {step_id} [{', '.join(f'{k}={v}' for k, v in attrs.items())}];"


def dot_source(dialogue: Dialogue) -> str:
    """The DOT text of a dialogue's flow."""
    reached = reachable(dialogue)
    lines = [
        f"digraph {_quoted(dialogue.id)} {{",
        "  rankdir=TB;",
        f"  label={_quoted(f'{dialogue.title} (v{dialogue.version})')}; labelloc=t;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        "  __start [shape=point, width=0.15];",
        f"  __start -> {dialogue.start_step};",
    ]
    for step_id, step in dialogue.steps.items():
        lines.append(_node(step_id, step, step_id not in reached))
    for step_id, step in dialogue.steps.items():
        for way in ways_out(step_id, step):
            if way.target not in dialogue.steps:
                continue  # validate names it; nothing to draw an arrow to
            attrs = f" [label={_quoted(way.label)}]" if way.label else ""
            lines.append(f"  {step_id} -> {way.target}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(source: str) -> bytes:
    """SVG from DOT through Graphviz's `dot`; CoachError saying how to install it if missing."""
    dot = shutil.which("dot")
    if dot is None:
        raise CoachError(
            "Drawing an SVG needs Graphviz's `dot`, which is not installed: install Debian's "
            "`graphviz` package (`apt-get install graphviz`; `make graphviz` does it as root), "
            "or use `--format mermaid` (the default), which needs nothing."
        )
    try:
        done = subprocess.run(
            [dot, "-Tsvg"], input=source.encode(), capture_output=True, timeout=DOT_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise CoachError(f"Graphviz's `dot` took over {DOT_TIMEOUT} s and was stopped") from None
    if done.returncode != 0:
        raise CoachError(f"Graphviz's `dot` failed: {done.stderr.decode(errors='replace')}")
    return done.stdout
