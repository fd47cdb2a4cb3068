"""Piecewise-constant maps over 64-bit keys: the concrete instance of the algebra's map sort.

A view of 16 GiB has four million pages and a memfd of 32 GiB has 2^35 bytes; storing either
per key would make the seed's literal sizes unusable, so a map is a sorted list of segment starts,
each holding one value up to the next start. Maps are immutable and hashable (explicit search
puts whole states in sets).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator

KEY_LIMIT = 1 << 64


class IntervalMap:
    """A total map from [0, 2^64) to ints, constant on each segment."""

    __slots__ = ("_hash", "_starts", "_values")

    def __init__(self, starts: tuple[int, ...], values: tuple[int, ...]) -> None:
        # Invariant: starts[0] == 0, strictly increasing, adjacent values differ.
        self._starts = starts
        self._values = values
        self._hash: int | None = None

    @staticmethod
    def constant(value: int) -> IntervalMap:
        return IntervalMap((0,), (value,))

    @staticmethod
    def _normalised(starts: list[int], values: list[int]) -> IntervalMap:
        out_s: list[int] = []
        out_v: list[int] = []
        for s, v in zip(starts, values, strict=True):
            if out_s and out_s[-1] == s:
                out_v[-1] = v
                continue
            if out_v and out_v[-1] == v:
                continue
            out_s.append(s)
            out_v.append(v)
        return IntervalMap(tuple(out_s), tuple(out_v))

    def get(self, key: int) -> int:
        return self._values[bisect_right(self._starts, key) - 1]

    def segments(self, lo: int = 0, hi: int = KEY_LIMIT) -> Iterator[tuple[int, int, int]]:
        """(start, end, value) for every segment overlapping [lo, hi), clipped to it."""
        if lo >= hi:
            return
        i = bisect_right(self._starts, lo) - 1
        while i < len(self._starts) and self._starts[i] < hi:
            end = self._starts[i + 1] if i + 1 < len(self._starts) else KEY_LIMIT
            yield max(self._starts[i], lo), min(end, hi), self._values[i]
            i += 1

    def _replace(self, lo: int, hi: int, pieces: list[tuple[int, int]]) -> IntervalMap:
        """Replace [lo, hi) by pieces (start, value) that begin at lo."""
        starts: list[int] = []
        values: list[int] = []
        tail_value = self.get(hi) if hi < KEY_LIMIT else None
        head = bisect_right(self._starts, lo - 1) if lo > 0 else 0
        starts.extend(self._starts[:head])
        values.extend(self._values[:head])
        for s, v in pieces:
            starts.append(s)
            values.append(v)
        if tail_value is not None:
            starts.append(hi)
            values.append(tail_value)
            rest = bisect_right(self._starts, hi)
            starts.extend(self._starts[rest:])
            values.extend(self._values[rest:])
        return IntervalMap._normalised(starts, values)

    def set_range(self, lo: int, hi: int, value: int) -> IntervalMap:
        if lo >= hi:
            return self
        return self._replace(lo, hi, [(lo, value)])

    def store(self, key: int, value: int) -> IntervalMap:
        if self.get(key) == value:
            return self
        return self.set_range(key, key + 1, value)

    def paste(self, lo: int, hi: int, src: IntervalMap, shift: int) -> IntervalMap:
        """self with [lo, hi) taken from src at key + shift (mod 2^64)."""
        if lo >= hi:
            return self
        pieces: list[tuple[int, int]] = []
        src_lo = (lo + shift) % KEY_LIMIT
        length = hi - lo
        first = min(length, KEY_LIMIT - src_lo)
        for s, _, v in src.segments(src_lo, src_lo + first):
            pieces.append((s - src_lo + lo, v))
        if first < length:  # the source range wraps around 2^64
            for s, _, v in src.segments(0, length - first):
                pieces.append((s + first + lo, v))
        return self._replace(lo, hi, pieces)

    def items(self) -> tuple[tuple[int, int], ...]:
        return tuple(zip(self._starts, self._values, strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntervalMap):
            return NotImplemented
        return self._starts == other._starts and self._values == other._values

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._starts, self._values))
        return self._hash

    def __repr__(self) -> str:
        body = ", ".join(f"{s:#x}:{v}" for s, v in self.items())
        return f"IntervalMap({body})"
