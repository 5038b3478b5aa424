"""Sets of slot names as bits of one integer, for the flow checks' "set by now" analysis.

Which slots some path can have filled on entering each step is worked out for every step;
as Python sets that is a copy of up to every slot at every step, quadratic in the size of
the file (10,000 steps took minutes). As bits of an integer, a union is one machine-level
operation over a few hundred bytes, so `coach dialogues validate` stays linear in practice.
"""

from __future__ import annotations

from collections.abc import Iterable


class SlotIndex:
    """Gives each slot name its bit; names it has not seen get the next one."""

    def __init__(self) -> None:
        self._bits: dict[str, int] = {}

    def bit(self, name: str) -> int:
        found = self._bits.get(name)
        if found is None:
            found = self._bits[name] = 1 << len(self._bits)
        return found

    def of(self, names: Iterable[str]) -> SlotSet:
        mask = 0
        for name in names:
            mask |= self.bit(name)
        return SlotSet(self, mask)


class SlotSet:
    """An immutable set of slot names over a SlotIndex: `|`, `in`, `<=`, and `names - it`."""

    __slots__ = ("index", "mask")

    def __init__(self, index: SlotIndex, mask: int = 0) -> None:
        self.index = index
        self.mask = mask

    def __or__(self, other: SlotSet | Iterable[str]) -> SlotSet:
        extra = other.mask if isinstance(other, SlotSet) else self.index.of(other).mask
        return SlotSet(self.index, self.mask | extra)

    __ror__ = __or__

    def __le__(self, other: SlotSet) -> bool:
        return self.mask & ~other.mask == 0

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.mask & self.index.bit(name))

    def __rsub__(self, names: Iterable[str]) -> set[str]:
        """`names - it`: the names it does not hold."""
        return {name for name in names if name not in self}

    def __bool__(self) -> bool:
        return bool(self.mask)
