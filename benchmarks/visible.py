"""What making control characters visible costs each message the bot shows.

`BotMessage` and `Choice` pass their text through `bot.text.visible`; this prints that cost
for a typical 300-character prompt, clean and with a control in it, next to building the
message object at all:

    python benchmarks/visible.py
"""

from __future__ import annotations

import dataclasses
import timeit
from collections.abc import Callable

from bot.text import visible
from bot.turns import BotMessage, Choice

PROMPT = (
    "Power is the ability to influence, control or resist what others do.\n"
    "Between you and the county council's commissioning team, what kind of power matters "
    "most here? (It may well be yours.) Think of the meeting where it is decided, who writes "
    "the papers, and who is in the room when the budget is agreed — and who isn't.\n"
)[:300]
PROMPT = PROMPT.ljust(300, ".")
ACCENTED = PROMPT.replace("council", "conseil régional")[:300]
DIRTY = PROMPT[:280] + "\x1b]0;pwned\x07\u202e"
NUMBER = 200_000


@dataclasses.dataclass(frozen=True)
class _Bare:
    """BotMessage as it was, without the check: the floor."""

    text: str
    choices: tuple[Choice, ...] = ()


def per_call(stmt: Callable[[], object], number: int = NUMBER) -> float:
    """Best of 7 runs, in nanoseconds per call."""
    return min(timeit.repeat(stmt, number=number, repeat=7)) / number * 1e9


def main() -> None:
    cases: list[tuple[str, Callable[[], object], int]] = [
        ("visible(), 300-char prompt, clean ASCII", lambda: visible(PROMPT), NUMBER),
        ("visible(), 300-char prompt, clean accented", lambda: visible(ACCENTED), NUMBER),
        ("visible(), 300-char prompt, with controls", lambda: visible(DIRTY), NUMBER // 10),
        ("visible(), a short label", lambda: visible("Expertise"), NUMBER),
    ]
    for name, stmt, number in cases:
        print(f"{name:<45}{per_call(stmt, number):7.0f} ns")
    bare = per_call(lambda: _Bare(PROMPT))
    checked = per_call(lambda: BotMessage(PROMPT))
    print(f"{'a frozen message object, no check':<45}{bare:7.0f} ns")
    print(f"{'BotMessage(300-char prompt), with the check':<45}{checked:7.0f} ns")


if __name__ == "__main__":
    main()
