"""The nearest known name to a misspelt one, for messages that say "did you mean …?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the nearest of `known`, or '' when none is near enough
    (difflib's ratio of 0.6: one or two letters wrong, missing or swapped in a short id)."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def slot_hint(name: str, known: Iterable[str], filled_by: Mapping[str, str]) -> str:
    """For a name that is no slot: '; the step 'x' fills 'y'' when it is the id of a step
    whose answer goes into a slot of another name (a slot renamed, or shared by the
    questions of several roles), else the nearest slot, as `did_you_mean`."""
    if name in filled_by:
        return f"; the step '{name}' fills '{filled_by[name]}'"
    return did_you_mean(name, known)
