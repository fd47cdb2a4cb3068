"""The symbolic instance of the algebra: z3 bit-vectors of width 64, Bools and tables.

A table (a map from words to words) is a `SymTable`: a function from a key term to the value term
at that key, built from the table it was updated from. Reading a table at a key unfolds its update
history into an if-then-else chain over that key, so every formula stays quantifier-free bit-vector
logic, which z3 decides completely and incrementally. (z3 arrays with lambda range updates, the
obvious encoding, make z3 answer "unknown (incomplete theory array)" from two unrolled steps on.)
A range update costs the same at any size, so a 16 GiB view costs the same as a 4-page one.

Equality of two tables is decided at a fresh witness key: `table_eq(a, b)` is `a[w] == b[w]` for a
new constant w. That is exact wherever table equality occurs positively, as in every property:
the engines search for a property's negation, where w is the key at which the tables differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

from memview.model.algebra import MASK, WIDTH, Bit, Table, Word, replace
from memview.model.interval_map import KEY_LIMIT, IntervalMap

WORD_SORT = z3.BitVecSort(WIDTH)


class SymTable:
    """A table as a function of its key, memoised per key term (z3 shares equal terms)."""

    __slots__ = ("_memo", "_read")

    def __init__(self, read: Callable[[Word], Word]) -> None:
        self._read = read
        self._memo: dict[int, tuple[Word, Word]] = {}

    def at(self, key: Word) -> Word:
        ident = key.get_id()
        hit = self._memo.get(ident)
        if hit is None:
            # The key is kept alive with its value so that its id cannot be reused.
            hit = (key, self._read(key))
            self._memo[ident] = hit
        return hit[1]

    @staticmethod
    def constant(value: Word) -> SymTable:
        return SymTable(lambda _key: value)

    @staticmethod
    def function(name: str) -> SymTable:
        """An arbitrary table: an uninterpreted function, as the induction engine's pre-state holds."""
        f = z3.Function(name, WORD_SORT, WORD_SORT)
        return SymTable(lambda key: f(key))


def _inside(key: Word, lo: Word, hi: Word) -> Bit:
    return SYMBOLIC.and_(SYMBOLIC.ule(lo, key), SYMBOLIC.ult(key, hi))


class Z3Algebra:
    symbolic = True

    def word(self, value: int) -> Word:
        return z3.BitVecVal(value, WIDTH)

    def bit(self, value: bool) -> Bit:
        return z3.BoolVal(value)

    # Connectives and arithmetic fold constant operands, so that a step from a partly concrete state
    # (a lifted post-prefix state, a case split on the opcode and process) builds only the terms
    # that depend on something open.

    def and_(self, *xs: Bit) -> Bit:
        if any(z3.is_false(x) for x in xs):
            return z3.BoolVal(False)
        rest = [x for x in xs if not z3.is_true(x)]
        return rest[0] if len(rest) == 1 else z3.And(*rest) if rest else z3.BoolVal(True)

    def or_(self, *xs: Bit) -> Bit:
        if any(z3.is_true(x) for x in xs):
            return z3.BoolVal(True)
        rest = [x for x in xs if not z3.is_false(x)]
        return rest[0] if len(rest) == 1 else z3.Or(*rest) if rest else z3.BoolVal(False)

    def not_(self, x: Bit) -> Bit:
        if z3.is_true(x) or z3.is_false(x):
            return z3.BoolVal(z3.is_false(x))
        return z3.Not(x)

    def ite(self, c: Bit, a: Any, b: Any) -> Any:
        if z3.is_true(c) or a is b:
            return a
        if z3.is_false(c):
            return b
        if isinstance(a, SymTable):
            return SymTable(lambda key: z3.If(c, a.at(key), b.at(key)))
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
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            x, y = a.as_long(), b.as_long()
            return z3.BitVecVal((x + y) & MASK, WIDTH)
        return a + b

    def sub(self, a: Word, b: Word) -> Word:
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            x, y = a.as_long(), b.as_long()
            return z3.BitVecVal((x - y) & MASK, WIDTH)
        return a - b

    def band(self, a: Word, b: Word) -> Word:
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            x, y = a.as_long(), b.as_long()
            return z3.BitVecVal(x & y, WIDTH)
        return a & b

    def bor(self, a: Word, b: Word) -> Word:
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            x, y = a.as_long(), b.as_long()
            return z3.BitVecVal(x | y, WIDTH)
        return a | b

    def shl(self, a: Word, n: int) -> Word:
        if z3.is_bv_value(a):
            return z3.BitVecVal((a.as_long() << n) & MASK, WIDTH)
        return a << n

    def lshr(self, a: Word, n: int) -> Word:
        if z3.is_bv_value(a):
            return z3.BitVecVal(a.as_long() >> n, WIDTH)
        return z3.LShR(a, n)

    def eq(self, a: Word, b: Word) -> Bit:
        if isinstance(a, SymTable):
            return self.table_eq(a, b)
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            return z3.BoolVal(a.as_long() == b.as_long())
        return a == b

    def ult(self, a: Word, b: Word) -> Bit:
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            return z3.BoolVal(a.as_long() < b.as_long())
        return z3.ULT(a, b)

    def ule(self, a: Word, b: Word) -> Bit:
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            return z3.BoolVal(a.as_long() <= b.as_long())
        return z3.ULE(a, b)

    def add_overflows(self, a: Word, b: Word) -> Bit:
        return self.ult(self.add(a, b), a)

    def table(self, default: int) -> Table:
        return SymTable.constant(z3.BitVecVal(default, WIDTH))

    def select(self, m: Table, key: Word) -> Word:
        return m.at(key)

    def store(self, m: Table, key: Word, value: Word) -> Table:
        return SymTable(lambda k: self.ite(self.eq(k, key), value, m.at(k)))

    def store_range(self, m: Table, lo: Word, hi: Word, value: Word) -> Table:
        return SymTable(lambda k: self.ite(_inside(k, lo, hi), value, m.at(k)))

    def paste(self, dst: Table, lo: Word, hi: Word, src: Table, shift: Word) -> Table:
        return SymTable(lambda k: self.ite(_inside(k, lo, hi), src.at(self.add(k, shift)), dst.at(k)))

    def table_eq(self, a: Table, b: Table) -> Bit:
        if a is b:
            return z3.BoolVal(True)
        witness = z3.FreshConst(WORD_SORT, "key")
        return a.at(witness) == b.at(witness)


def lift_table(m: IntervalMap) -> Table:
    """An IntervalMap as a SymTable with the same value at every key."""
    items = m.items()
    bounds = [(start, items[i + 1][0] if i + 1 < len(items) else KEY_LIMIT, value)
              for i, (start, value) in enumerate(items)]

    def read(key: Word) -> Word:
        if z3.is_bv_value(key):
            return z3.BitVecVal(m.get(key.as_long()), WIDTH)
        term: Word = z3.BitVecVal(bounds[0][2], WIDTH)
        for start, end, value in bounds[1:]:
            upper = z3.BoolVal(True) if end == KEY_LIMIT else z3.ULT(key, z3.BitVecVal(end, WIDTH))
            term = z3.If(z3.And(z3.ULE(z3.BitVecVal(start, WIDTH), key), upper), z3.BitVecVal(value, WIDTH), term)
        return term

    return SymTable(read)


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
