"""Strengthening lemmas: state invariants the induction engine proves and then uses.

A step property is rarely inductive on its own: AND holds because a cached translation never
outlives or exceeds its range, REVOKE because a revoked page is unconfigured, and so on. Each
lemma states one such fact about a single state, over the same algebra as the rules, and is
itself proved (all lemmas together, by induction from the initial state) before any property
relies on it. A lemma may speak about one view page, `page`, which is universally quantified: the
engine instantiates it at every page the step reads (a lemma about a byte, at every byte).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from memview.model.algebra import Bit, Word, has_bits, overlap, subset
from memview.model.constants import (
    F_SEAL_WRITE,
    LOFF_LIMIT,
    MODE_RO,
    MODE_RW,
    PERM_ALL,
    PERM_W,
    USER_VA_END,
    VMA_MAYWRITE,
    VMA_PRIVATE,
    FdKind,
)
from memview.model.context import Ctx
from memview.model.encodings import cached_entry, caches
from memview.model.queries import backing_page, obj_at, range_at
from memview.model.state import Range, State, Vma
from memview.properties.predicates import implies

Slot = TypeVar("Slot", Range, Vma)



def disjoint(ctx: Ctx, slots: Sequence[Slot]) -> Bit:
    """Every used slot is non-empty and no two used slots share a page."""
    alg = ctx.alg
    clauses = [implies(ctx, s.used, alg.ult(s.lo, s.hi)) for s in slots]
    for i, a in enumerate(slots):
        for b in slots[i + 1:]:
            clauses.append(alg.not_(alg.and_(a.used, b.used, overlap(alg, a.lo, a.hi, b.lo, b.hi))))
    return alg.and_(*clauses)


def ranges_well_formed(ctx: Ctx, state: State, page: Word) -> Bit:
    alg = ctx.alg
    clauses = [disjoint(ctx, state.view.ranges), alg.ult(state.view.size, alg.word(LOFF_LIMIT))]
    for rng in state.view.ranges:
        clauses.append(implies(ctx, rng.used, alg.and_(
            alg.ule(rng.hi, ctx.page(state.view.size)),
            alg.ult(rng.obj, alg.word(len(state.objs))),
            obj_at(ctx, state, rng.obj).exists,
            subset(alg, rng.perms, alg.word(PERM_ALL)),
        )))
    return alg.and_(*clauses)


def mappings_well_formed(ctx: Ctx, state: State, page: Word) -> Bit:
    alg = ctx.alg
    clauses = []
    for proc in state.procs:
        clauses.append(disjoint(ctx, proc.vmas))
        clauses.append(alg.ule(proc.next_page, alg.word((USER_VA_END >> ctx.config.page_shift) + 1)))
        clauses += [implies(ctx, vma.used, alg.ule(vma.hi, proc.next_page)) for vma in proc.vmas]
    return alg.and_(*clauses)


def fds_name_objects(ctx: Ctx, state: State, page: Word) -> Bit:
    alg = ctx.alg
    clauses = []
    for proc in state.procs:
        for fd in proc.fds:
            backing = alg.eq(fd.kind, alg.word(FdKind.BACKING))
            clauses.append(implies(ctx, backing, alg.and_(alg.ult(fd.obj, alg.word(len(state.objs))),
                                                          obj_at(ctx, state, fd.obj).exists,
                                                          alg.or_(alg.eq(fd.mode, alg.word(MODE_RO)),
                                                                  alg.eq(fd.mode, alg.word(MODE_RW))))))
    return alg.and_(*clauses)


def translations_coherent(ctx: Ctx, state: State, page: Word) -> Bit:
    alg = ctx.alg
    configured, rng = range_at(ctx, state, page)
    backing = backing_page(ctx, rng, page)
    clauses = []
    for proc in state.procs:
        clauses.append(implies(ctx, cached_entry(alg, proc, page).valid, alg.and_(
            configured, caches(alg, proc, page, rng.perms, rng.obj, backing))))
    return alg.and_(*clauses)


def revoked_unconfigured(ctx: Ctx, state: State, page: Word) -> Bit:
    alg = ctx.alg
    configured, _ = range_at(ctx, state, page)
    return implies(ctx, alg.not_(alg.eq(alg.select(state.revoked, page), alg.word(0))), alg.not_(configured))


def writable_ranges_unsealed(ctx: Ctx, state: State, page: Word) -> Bit:
    alg = ctx.alg
    return alg.and_(*(
        implies(ctx, alg.and_(rng.used, has_bits(alg, rng.perms, alg.word(PERM_W))),
                alg.not_(has_bits(alg, obj_at(ctx, state, rng.obj).seals, alg.word(F_SEAL_WRITE))))
        for rng in state.view.ranges
    ))


def shared_writes_maywrite(ctx: Ctx, state: State, page: Word) -> Bit:
    alg = ctx.alg
    clauses = []
    for proc in state.procs:
        for vma in proc.vmas:
            writable_shared = alg.and_(vma.used, has_bits(alg, vma.attrs, alg.word(PERM_W)),
                                       alg.eq(alg.band(vma.attrs, alg.word(VMA_PRIVATE)), alg.word(0)))
            clauses.append(implies(ctx, writable_shared, has_bits(alg, vma.attrs, alg.word(VMA_MAYWRITE))))
    return alg.and_(*clauses)


def unborn_objects_empty(ctx: Ctx, state: State, byte: Word) -> Bit:
    alg = ctx.alg
    return alg.and_(*(implies(ctx, alg.not_(obj.exists), alg.eq(alg.select(obj.data, byte), alg.word(0)))
                      for obj in state.objs))


LemmaPredicate = Callable[[Ctx, State, Word], Bit]


@dataclass(frozen=True)
class Lemma:
    id: str
    sentence: str
    predicate: LemmaPredicate
    keyed: str = "page"  # what the predicate's key argument ranges over: "page" or "byte"


LEMMAS: tuple[Lemma, ...] = (
    Lemma("ranges-wf", "Used ranges of the layout are non-empty, pairwise disjoint, name an existing object "
          "slot, lie inside the view and carry only r, w and x.", ranges_well_formed),
    Lemma("mappings-wf", "Each process's used mappings are non-empty, pairwise disjoint and below its next mmap "
          "address, which stays inside the user address space.", mappings_well_formed),
    Lemma("fds-name-objects", "A backing fd names an existing object slot and is read-only or read-write.",
          fds_name_objects),
    Lemma("unborn-empty", "An object slot not yet created holds only zero bytes.", unborn_objects_empty, "byte"),
    Lemma("pte-coherent", "A cached translation of a view page exists only while a range covers the page, and "
          "carries that range's permissions, object and backing page.", translations_coherent),
    Lemma("revoked-unconfigured", "A page the ghost state marks revoked is covered by no range.",
          revoked_unconfigured),
    Lemma("writable-unsealed", "No writable range maps an object carrying F_SEAL_WRITE.", writable_ranges_unsealed),
    Lemma("maywrite", "Every shared mapping with PROT_WRITE was made through a view fd opened for writing.",
          shared_writes_maywrite),
)

LEMMAS_BY_ID = {lemma.id: lemma for lemma in LEMMAS}

