"""The concrete instance of the algebra: Python ints (mod 2^64), bools and IntervalMaps."""

from __future__ import annotations

from typing import Any

from memview.model.algebra import MASK, Bit, Table, Word
from memview.model.interval_map import IntervalMap


class ConcreteAlgebra:
    symbolic = False

    def word(self, value: int) -> Word:
        return value & MASK

    def bit(self, value: bool) -> Bit:
        return bool(value)

    def and_(self, *xs: Bit) -> Bit:
        return all(xs)

    def or_(self, *xs: Bit) -> Bit:
        return any(xs)

    def not_(self, x: Bit) -> Bit:
        return not x

    def ite(self, c: Bit, a: Any, b: Any) -> Any:
        return a if c else b

    def decided(self, c: Bit) -> bool | None:
        return bool(c)

    def add(self, a: Word, b: Word) -> Word:
        return (a + b) & MASK

    def sub(self, a: Word, b: Word) -> Word:
        return (a - b) & MASK

    def band(self, a: Word, b: Word) -> Word:
        return a & b

    def bor(self, a: Word, b: Word) -> Word:
        return a | b

    def shl(self, a: Word, n: int) -> Word:
        return (a << n) & MASK

    def lshr(self, a: Word, n: int) -> Word:
        return a >> n

    def eq(self, a: Word, b: Word) -> Bit:
        return a == b

    def ult(self, a: Word, b: Word) -> Bit:
        return a < b

    def ule(self, a: Word, b: Word) -> Bit:
        return a <= b

    def add_overflows(self, a: Word, b: Word) -> Bit:
        return a + b > MASK

    def table(self, default: int) -> Table:
        return IntervalMap.constant(default)

    def select(self, m: Table, key: Word) -> Word:
        return m.get(key)

    def store(self, m: Table, key: Word, value: Word) -> Table:
        return m.store(key, value)

    def store_range(self, m: Table, lo: Word, hi: Word, value: Word) -> Table:
        return m.set_range(lo, hi, value)

    def paste(self, dst: Table, lo: Word, hi: Word, src: Table, shift: Word) -> Table:
        return dst.paste(lo, hi, src, shift)

    def table_eq(self, a: Table, b: Table) -> Bit:
        return bool(a == b)


CONCRETE = ConcreteAlgebra()
