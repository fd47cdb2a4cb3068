"""The algebra every rule of the semantics is written over.

A rule never touches Python ints, bools or z3 terms directly: it asks an `Algebra` for constants,
connectives, 64-bit arithmetic and map updates. `ConcreteAlgebra` (memview.model.concrete) answers
with plain values, `Z3Algebra` (memview.model.symbolic) with z3 terms, so one rule serves the
reference backend, explicit search and replay as well as bounded model checking and proofs.

Terms are typed `Any` on purpose: a word is an int or a z3 BitVecRef, a bit a bool or a z3 BoolRef,
a table an IntervalMap or a z3 array, and only the instance knows which.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

Word = Any
Bit = Any
Table = Any

T = TypeVar("T")

WIDTH = 64
MASK = (1 << WIDTH) - 1


class Algebra(Protocol):
    """Operations a rule may use; both instances implement all of them."""

    symbolic: bool

    # constants and connectives
    def word(self, value: int) -> Word: ...
    def bit(self, value: bool) -> Bit: ...
    def and_(self, *xs: Bit) -> Bit: ...
    def or_(self, *xs: Bit) -> Bit: ...
    def not_(self, x: Bit) -> Bit: ...
    def ite(self, c: Bit, a: Any, b: Any) -> Any: ...
    def decided(self, c: Bit) -> bool | None: ...

    # 64-bit arithmetic (unsigned, wrapping)
    def add(self, a: Word, b: Word) -> Word: ...
    def sub(self, a: Word, b: Word) -> Word: ...
    def band(self, a: Word, b: Word) -> Word: ...
    def bor(self, a: Word, b: Word) -> Word: ...
    def shl(self, a: Word, n: int) -> Word: ...
    def lshr(self, a: Word, n: int) -> Word: ...
    def eq(self, a: Word, b: Word) -> Bit: ...
    def ult(self, a: Word, b: Word) -> Bit: ...
    def ule(self, a: Word, b: Word) -> Bit: ...
    def add_overflows(self, a: Word, b: Word) -> Bit: ...

    # maps from words to words with range update
    def table(self, default: int) -> Table: ...
    def select(self, m: Table, key: Word) -> Word: ...
    def store(self, m: Table, key: Word, value: Word) -> Table: ...
    def store_range(self, m: Table, lo: Word, hi: Word, value: Word) -> Table: ...
    def paste(self, dst: Table, lo: Word, hi: Word, src: Table, shift: Word) -> Table: ...
    def table_eq(self, a: Table, b: Table) -> Bit: ...


# Structural helpers shared by every rule. They are written against the protocol, so they too
# exist once for both instances.


def merge(alg: Algebra, c: Bit, a: T, b: T) -> T:
    """If-then-else over whole records: dataclasses, tuples and leaves alike."""
    if a is b:
        return a
    decided = alg.decided(c)
    if decided is not None:
        return a if decided else b
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        fields = {
            f.name: merge(alg, c, getattr(a, f.name), getattr(b, f.name))
            for f in dataclasses.fields(a)
        }
        return replace(a, **fields)
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        return type(a)(merge(alg, c, x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (str, type(None))):
        assert a == b, f"cannot merge static values {a!r} and {b!r}"
        return a
    result: T = alg.ite(c, a, b)
    return result


def cond(alg: Algebra, c: Bit, then: Callable[[], T], otherwise: Callable[[], T]) -> T:
    """Lazy if-then-else: a concrete (or constant) condition evaluates one branch only."""
    decided = alg.decided(c)
    if decided is not None:
        return then() if decided else otherwise()
    return merge(alg, c, then(), otherwise())


def merge_cases(alg: Algebra, cases: Sequence[tuple[Bit, T]], default: T) -> T:
    """A multi-way if-then-else over records whose guards exclude one another.

    A leaf gets one if-then-else per case that changed it; a case whose sub-record is the very
    object of the default drops out at that level. Merging results pairwise instead would give
    every changed leaf one if-then-else per case, changed or not.
    """
    live = [(c, v) for c, v in cases if v is not default]
    if not live:
        return default
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        fields = {
            f.name: merge_cases(alg, [(c, getattr(v, f.name)) for c, v in live], getattr(default, f.name))
            for f in dataclasses.fields(default)
        }
        return replace(default, **fields)
    if isinstance(default, tuple):
        items = [merge_cases(alg, [(c, v[i]) for c, v in live], item) for i, item in enumerate(default)]  # type: ignore[index]
        return type(default)(items)
    result: T = default
    for c, v in reversed(live):
        result = merge(alg, c, v, result)
    return result


def first_match(alg: Algebra, cases: Sequence[tuple[Bit, Callable[[], T]]], default: Callable[[], T]) -> T:
    """The result of the first case whose guard holds, else default: an if/elif chain.

    Concrete guards evaluate lazily, one branch only. Symbolic guards are made exclusive and all
    branches merged at once (merge_cases), so a leaf only the default changes costs one
    if-then-else, not one per case.
    """
    exclusive: list[tuple[Bit, T]] = []
    earlier = alg.bit(False)
    for guard, then in cases:
        decided = alg.decided(guard)
        if decided is True:
            value = then()
            return value if not exclusive else merge_cases(alg, exclusive, value)
        if decided is False:
            continue
        exclusive.append((alg.and_(guard, alg.not_(earlier)), then()))
        earlier = alg.or_(earlier, guard)
    return default() if not exclusive else merge_cases(alg, exclusive, default())


def replace(record: T, **changes: Any) -> T:
    """A copy of a frozen dataclass record with some fields changed.

    The same as dataclasses.replace for the model's plain records (no __post_init__, no slots), at
    a fraction of the cost: the explicit engines rebuild records on every step.
    """
    new = object.__new__(type(record))
    new.__dict__.update(record.__dict__)
    new.__dict__.update(changes)
    return new


def pick(alg: Algebra, items: Sequence[T], index: Word) -> T:
    """items[index] for a possibly symbolic index (out of range gives the last item)."""
    if not alg.symbolic:
        return items[index] if index < len(items) else items[-1]
    result = items[-1]
    for i in range(len(items) - 2, -1, -1):
        result = merge(alg, alg.eq(index, alg.word(i)), items[i], result)
    return result


def update_at(alg: Algebra, items: tuple[T, ...], index: Word, new: T) -> tuple[T, ...]:
    """items with items[index] replaced by new, for a possibly symbolic index."""
    if not alg.symbolic:
        return tuple(new if i == index else old for i, old in enumerate(items))
    return tuple(merge(alg, alg.eq(index, alg.word(i)), new, old) for i, old in enumerate(items))


def equal(alg: Algebra, a: Any, b: Any) -> Bit:
    """Structural equality of records, tuples and leaves (tables included)."""
    if a is b:
        return alg.bit(True)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return alg.and_(*(equal(alg, getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)))
    if isinstance(a, tuple):
        return alg.and_(*(equal(alg, x, y) for x, y in zip(a, b, strict=True)))
    return alg.eq(a, b)


def update_fields_at(alg: Algebra, items: tuple[T, ...], index: Word, **changes: Any) -> tuple[T, ...]:
    """items with some fields of items[index] changed.

    Only the changed fields are merged: every other field stays the very object it was, so a
    symbolic index costs one if-then-else per changed leaf rather than one per leaf of the record.
    """
    if not alg.symbolic:
        return tuple(replace(item, **changes) if i == index else item for i, item in enumerate(items))
    return tuple(
        merge(alg, alg.eq(index, alg.word(i)), replace(item, **changes), item) for i, item in enumerate(items)
    )


def has_bits(alg: Algebra, word: Word, bits: Word) -> Bit:
    """All of bits are set in word."""
    return alg.eq(alg.band(word, bits), bits)


def any_bits(alg: Algebra, word: Word, bits: Word) -> Bit:
    return alg.not_(alg.eq(alg.band(word, bits), alg.word(0)))


def without_bits(alg: Algebra, word: Word, bits: int) -> Word:
    return alg.band(word, alg.word(MASK ^ bits))


def subset(alg: Algebra, small: Word, big: Word) -> Bit:
    """Every bit of small is in big."""
    return alg.eq(alg.band(small, big), small)


def in_range(alg: Algebra, x: Word, lo: Word, hi: Word) -> Bit:
    return alg.and_(alg.ule(lo, x), alg.ult(x, hi))


def overlap(alg: Algebra, lo1: Word, hi1: Word, lo2: Word, hi2: Word) -> Bit:
    """[lo1, hi1) and [lo2, hi2) share a key."""
    return alg.and_(alg.ult(lo1, hi2), alg.ult(lo2, hi1), alg.ult(lo1, hi1), alg.ult(lo2, hi2))


def umax(alg: Algebra, a: Word, b: Word) -> Word:
    return alg.ite(alg.ult(a, b), b, a)


def umin(alg: Algebra, a: Word, b: Word) -> Word:
    return alg.ite(alg.ult(a, b), a, b)
