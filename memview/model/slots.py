"""Bounded tables of intervals (view ranges, process mappings): lookup, coverage and reshaping.

Views and address spaces are both tables of disjoint [lo, hi) slots. Splitting a slot when part of
it is unmapped or re-protected is the same operation for both, written here once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from memview.model.algebra import (
    Algebra,
    Bit,
    Word,
    in_range,
    merge,
    overlap,
    replace,
    umax,
    umin,
)
from memview.model.state import Range, Vma

S = TypeVar("S", Range, Vma)


def find(alg: Algebra, slots: Sequence[S], key: Word, empty: S) -> tuple[Bit, S]:
    """The used slot holding key (slots are disjoint, so there is at most one)."""
    if not alg.symbolic:
        for slot in slots:
            if slot.used and slot.lo <= key < slot.hi:
                return True, slot
        return False, empty
    found = alg.bit(False)
    result = empty
    for slot in reversed(slots):
        hit = alg.and_(slot.used, in_range(alg, key, slot.lo, slot.hi))
        result = merge(alg, hit, slot, result)
        found = alg.or_(hit, found)
    return found, result


def any_overlap(alg: Algebra, slots: Sequence[S], lo: Word, hi: Word, pred: Callable[[S], Bit] | None = None) -> Bit:
    return alg.or_(
        *(
            alg.and_(s.used, overlap(alg, s.lo, s.hi, lo, hi), pred(s) if pred else alg.bit(True))
            for s in slots
        )
    )


def covered(alg: Algebra, slots: Sequence[S], lo: Word, hi: Word, pred: Callable[[S], Bit] | None = None) -> Bit:
    """Every key of [lo, hi) lies in a used slot satisfying pred (disjointness makes a sum exact)."""
    total = alg.word(0)
    for s in slots:
        a = umax(alg, lo, s.lo)
        b = umin(alg, hi, s.hi)
        counts = alg.and_(s.used, alg.ult(a, b), pred(s) if pred else alg.bit(True))
        total = alg.add(total, alg.ite(counts, alg.sub(b, a), alg.word(0)))
    return alg.eq(total, alg.sub(hi, lo))


def clip(slot: S, lo: Word, hi: Word) -> S:
    return replace(slot, lo=lo, hi=hi)


def insert(alg: Algebra, slots: tuple[S, ...], piece: S, present: Bit) -> tuple[Bit, tuple[S, ...]]:
    """Put piece into the first unused slot if present; ok is false when none was free."""
    placed = alg.bit(False)
    out = []
    for slot in slots:
        take = alg.and_(present, alg.not_(placed), alg.not_(slot.used))
        out.append(merge(alg, take, piece, slot))
        placed = alg.or_(placed, take)
    return alg.or_(alg.not_(present), placed), tuple(out)


def reshape(
    alg: Algebra,
    slots: tuple[S, ...],
    lo: Word,
    hi: Word,
    empty: S,
    middle: Callable[[S], S] | None,
    right_keeps_start: bool = False,
) -> tuple[Bit, tuple[S, ...]]:
    """Cut [lo, hi) out of every slot; middle, if given, transforms the cut-out part in place.

    Returns ok = false when the pieces a split leaves need more slots than are free (the caller
    maps that to ENOSPC/ENOMEM, as Linux does when a split exceeds max_map_count).
    right_keeps_start is the unmap-split-shifts-offset mutation: the piece right of the cut starts
    where the whole slot started in its object (its delta moved back by the pages cut away).
    """
    out: list[S] = []
    extras: list[tuple[S, Bit]] = []
    for s in slots:
        hit = alg.and_(s.used, overlap(alg, s.lo, s.hi, lo, hi))
        has_left = alg.and_(hit, alg.ult(s.lo, lo))
        has_right = alg.and_(hit, alg.ult(hi, s.hi))
        left = clip(s, s.lo, lo)
        right = clip(s, hi, s.hi)
        if right_keeps_start:
            right = replace(right, delta=alg.sub(s.delta, alg.sub(hi, s.lo)))
        if middle is not None:
            in_place = middle(clip(s, umax(alg, s.lo, lo), umin(alg, s.hi, hi)))
            extras += [(left, has_left), (right, has_right)]
        else:
            in_place = merge(alg, has_left, left, merge(alg, has_right, right, empty))
            extras.append((right, alg.and_(has_left, has_right)))
        out.append(merge(alg, hit, in_place, s))
    ok = alg.bit(True)
    table = tuple(out)
    for piece, present in extras:
        placed, table = insert(alg, table, piece, present)
        ok = alg.and_(ok, placed)
    return ok, table
