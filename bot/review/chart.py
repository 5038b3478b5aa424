"""The asymmetry as a small inline SVG: the other party's rating and the coachee's on each of
the four dimensions (1 to 5), side by side; for a revisit, a second one of *then* (the
ratings of the conversation it looked back on, kept in its own `then` slot, so it shows
nothing from a conversation that was not shared). Numbers and fixed labels only: nothing a
person typed goes into it."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

DIMENSIONS = ("resources", "expertise", "importance", "position")
BAR, GAP, LABEL, UNIT = 12, 14, 90, 40


def ratings(slots: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(dimension, theirs, the coachee's) for each dimension rated both ways, 1 to 5."""
    found = []
    for name in DIMENSIONS:
        theirs, mine = slots.get(f"their_{name}"), slots.get(f"my_{name}")
        if isinstance(theirs, int) and isinstance(mine, int) and _rating(theirs) and _rating(mine):
            found.append((name, theirs, mine))
    return found


def _rating(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


def then_slots(slots: dict[str, Any]) -> dict[str, Any] | None:
    """The ratings a revisit looked back on (its `then` slot), or None if it is not one."""
    then = slots.get("then")
    return then if isinstance(then, dict) and ratings(then) else None


def asymmetry_svg(slots: dict[str, Any], key: str = "now") -> Markup | None:
    """The chart, or None when the asymmetry was not rated. `key` tells two charts on one
    page apart ("now", "then")."""
    rows = ratings(slots)
    if not rows:
        return None
    row_height = 2 * BAR + GAP
    width, height = LABEL + 5 * UNIT + 30, len(rows) * row_height + 24
    parts = [
        Markup(
            '<svg class="asymmetry {key}" xmlns="http://www.w3.org/2000/svg" role="img" '
            'width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-labelledby="asym-{key}">'
            '<title id="asym-{key}">The asymmetry ({key}): theirs and the coachee\'s, 1 to 5'
            "</title>"
        ).format(w=width, h=height, key=key)
    ]
    for i, (name, theirs, mine) in enumerate(rows):
        y = i * row_height
        parts.append(
            Markup(
                '<text class="dim" x="0" y="{ty}">{name}</text>'
                '<rect class="theirs" x="{x}" y="{y1}" width="{w1}" height="{b}">'
                "<title>Theirs: {theirs}</title></rect>"
                '<text class="value" x="{v1}" y="{t1}">{theirs}</text>'
                '<rect class="mine" x="{x}" y="{y2}" width="{w2}" height="{b}">'
                "<title>The coachee's: {mine}</title></rect>"
                '<text class="value" x="{v2}" y="{t2}">{mine}</text>'
            ).format(
                name=name.capitalize(),
                ty=y + BAR + 4,
                x=LABEL,
                y1=y,
                y2=y + BAR,
                b=BAR - 1,
                w1=theirs * UNIT,
                w2=mine * UNIT,
                v1=LABEL + theirs * UNIT + 4,
                v2=LABEL + mine * UNIT + 4,
                t1=y + BAR - 2,
                t2=y + 2 * BAR - 2,
                theirs=theirs,
                mine=mine,
            )
        )
    legend_y = len(rows) * row_height + 12
    parts.append(
        Markup(
            '<rect class="theirs" x="{x}" y="{y}" width="10" height="10"/>'
            '<text class="legend" x="{x2}" y="{t}">theirs</text>'
            '<rect class="mine" x="{x3}" y="{y}" width="10" height="10"/>'
            '<text class="legend" x="{x4}" y="{t}">the coachee\'s</text></svg>'
        ).format(x=LABEL, y=legend_y, x2=LABEL + 14, t=legend_y + 9, x3=LABEL + 70, x4=LABEL + 84)
    )
    return Markup("").join(parts)
