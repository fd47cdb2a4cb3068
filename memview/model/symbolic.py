"""The symbolic instance of the algebra: z3 bit-vectors of width 64, Bools and arrays.

Range updates are z3 lambdas, so a 16 GiB view costs the same as a 4-page one: nothing is
enumerated. `lift` turns concrete values (including IntervalMaps) into terms, which is how the
agreement test and the engines start from a concrete initial state.
"""

from __future__ import annotations

from typing import Any

import z3

from memview.model.algebra import WIDTH, Bit, Table, Word, replace
from memview.model.interval_map import KEY_LIMIT, IntervalMap

WORD_SORT = z3.BitVecSort(WIDTH)


class Z3Algebra:
    symbolic = True

    def __init__(self) -> None:
        self._key = z3.BitVec("key", WIDTH)

    def word(self, value: int) -> Word:
        return z3.BitVecVal(value, WIDTH)

    def bit(self, value: bool) -> Bit:
        return z3.BoolVal(value)

    def and_(self, *xs: Bit) -> Bit:
        return z3.And(*xs) if xs else z3.BoolVal(True)

    def or_(self, *xs: Bit) -> Bit:
        return z3.Or(*xs) if xs else z3.BoolVal(False)

    def not_(self, x: Bit) -> Bit:
        return z3.Not(x)

    def ite(self, c: Bit, a: Any, b: Any) -> Any:
        return z3.If(c, a, b)

    def decided(self, c: Bit) -> bool | None:
        # Only literal constants are decided; anything else stays a term so that the merged
        # (both-branch) encoding is what the engines and the agreement test exercise.
        if z3.is_true(c):
            return True
        if z3.is_false(c):
            return False
        return None

    def add(self, a: Word, b: Word) -> Word:
        return a + b

    def sub(self, a: Word, b: Word) -> Word:
        return a - b

    def band(self, a: Word, b: Word) -> Word:
        return a & b

    def bor(self, a: Word, b: Word) -> Word:
        return a | b

    def shl(self, a: Word, n: int) -> Word:
        return a << n

    def lshr(self, a: Word, n: int) -> Word:
        return z3.LShR(a, n)

    def eq(self, a: Word, b: Word) -> Bit:
        return a == b

    def ult(self, a: Word, b: Word) -> Bit:
        return z3.ULT(a, b)

    def ule(self, a: Word, b: Word) -> Bit:
        return z3.ULE(a, b)

    def add_overflows(self, a: Word, b: Word) -> Bit:
        return z3.ULT(a + b, a)

    def table(self, default: int) -> Table:
        return z3.K(WORD_SORT, z3.BitVecVal(default, WIDTH))

    def select(self, m: Table, key: Word) -> Word:
        return z3.Select(m, key)

    def store(self, m: Table, key: Word, value: Word) -> Table:
        return z3.Store(m, key, value)

    def store_range(self, m: Table, lo: Word, hi: Word, value: Word) -> Table:
        k = self._key
        return z3.Lambda([k], z3.If(z3.And(z3.ULE(lo, k), z3.ULT(k, hi)), value, z3.Select(m, k)))

    def paste(self, dst: Table, lo: Word, hi: Word, src: Table, shift: Word) -> Table:
        k = self._key
        inside = z3.And(z3.ULE(lo, k), z3.ULT(k, hi))
        return z3.Lambda([k], z3.If(inside, z3.Select(src, k + shift), z3.Select(dst, k)))

    def table_eq(self, a: Table, b: Table) -> Bit:
        return a == b


def lift_table(m: IntervalMap) -> Table:
    """An IntervalMap as a z3 array term with the same value at every key."""
    items = m.items()
    term: Any = z3.K(WORD_SORT, z3.BitVecVal(items[0][1], WIDTH))
    k = z3.BitVec("key", WIDTH)
    for i, (start, value) in enumerate(items[1:], start=1):
        end = items[i + 1][0] if i + 1 < len(items) else KEY_LIMIT
        if end - start == 1:
            term = z3.Store(term, z3.BitVecVal(start, WIDTH), z3.BitVecVal(value, WIDTH))
            continue
        upper = z3.BoolVal(True) if end == KEY_LIMIT else z3.ULT(k, z3.BitVecVal(end, WIDTH))
        inside = z3.And(z3.ULE(z3.BitVecVal(start, WIDTH), k), upper)
        term = z3.Lambda([k], z3.If(inside, z3.BitVecVal(value, WIDTH), z3.Select(term, k)))
    return term


SYMBOLIC = Z3Algebra()


def lift(value: Any) -> Any:
    """A concrete record (State, Obs, Op, ...) with every leaf turned into a z3 constant."""
    import dataclasses

    if isinstance(value, bool):
        return z3.BoolVal(value)
    if isinstance(value, int):
        return z3.BitVecVal(value, WIDTH)
    if isinstance(value, IntervalMap):
        return lift_table(value)
    if isinstance(value, tuple):
        return tuple(lift(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: lift(getattr(value, f.name)) for f in dataclasses.fields(value)})
    raise TypeError(f"cannot lift {type(value).__name__}")
