"""Read-only questions about a state that rules and properties both ask.

These answer "what is" (which fd is this, which range holds this page, what would this address
translate to); they decide nothing. Rules decide outcomes from them; properties judge outcomes
against them.
"""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.algebra import Algebra, Bit, Word, any_bits, merge, pick
from memview.model.constants import PERM_R, PERM_X, VMA_PRIVATE, VMA_RAW, FdKind
from memview.model.context import Ctx
from memview.model.encodings import raw_object
from memview.model.slots import find
from memview.model.state import (
    Fd,
    Obj,
    Proc,
    Range,
    State,
    Vma,
    empty_fd,
    empty_range,
    empty_vma,
)


def proc_valid(ctx: Ctx, state: State, proc: Word) -> Bit:
    alg = ctx.alg
    if not alg.symbolic:
        return proc < len(state.procs) and bool(state.procs[proc].alive)
    return alg.or_(*(alg.and_(alg.eq(proc, alg.word(i)), p.alive) for i, p in enumerate(state.procs)))


def proc_at(ctx: Ctx, state: State, proc: Word) -> Proc:
    return pick(ctx.alg, state.procs, proc)


def fd_at(ctx: Ctx, proc: Proc, fd: Word) -> tuple[Bit, Fd]:
    """(open, entry): open is false for a number past the table or a closed slot (EBADF)."""
    alg = ctx.alg
    in_table = alg.ult(fd, alg.word(len(proc.fds)))
    entry = pick(alg, proc.fds, fd) if proc.fds else empty_fd(alg)
    return alg.and_(in_table, alg.not_(alg.eq(entry.kind, alg.word(FdKind.NONE)))), entry


def obj_at(ctx: Ctx, state: State, index: Word) -> Obj:
    return pick(ctx.alg, state.objs, index)


def first_free(alg: Algebra, free: list[Bit]) -> tuple[Bit, Word]:
    """The lowest index whose flag is set (POSIX gives the lowest free fd)."""
    if not alg.symbolic:
        return next(((True, i) for i, free_here in enumerate(free) if free_here), (False, 0))
    index = alg.word(0)
    for i in range(len(free) - 1, -1, -1):
        index = alg.ite(free[i], alg.word(i), index)
    return alg.or_(*free), index


def alloc_fd(ctx: Ctx, state: State, proc: Word) -> tuple[Bit, Word]:
    """(has a free slot, the lowest free fd) of process `proc`."""
    p = proc_at(ctx, state, proc)
    return first_free(ctx.alg, [ctx.alg.eq(f.kind, ctx.alg.word(FdKind.NONE)) for f in p.fds])


def range_at(ctx: Ctx, state: State, view_page: Word) -> tuple[Bit, Range]:
    return find(ctx.alg, state.view.ranges, view_page, empty_range(ctx.alg))


def vma_at(ctx: Ctx, proc: Proc, page: Word) -> tuple[Bit, Vma]:
    return find(ctx.alg, proc.vmas, page, empty_vma(ctx.alg))


def backing_span(ctx: Ctx, rng: Range) -> tuple[Word, Word]:
    """[fd_offset, fd_offset + size) in bytes: the part of its object a range maps."""
    alg = ctx.alg
    return fd_offset_of(alg, ctx.config.page_shift, rng), ctx.byte_of(alg.add(rng.hi, rng.delta))


def fd_offset_of(alg: Algebra, page_shift: int, rng: Range) -> Word:
    """The byte of its object where a range starts (MAP_FD's fd_offset): a question about the range
    alone, whatever the design."""
    return alg.shl(alg.add(rng.lo, rng.delta), page_shift)


def mapped_pages(alg: Algebra, vma: Vma) -> tuple[Word, Word]:
    """The pages [lo, hi) a mapping shows of what it maps (the view, or a raw fd's object): its
    address pages shifted by its delta, as mmap's offset put them."""
    return alg.add(vma.lo, vma.delta), alg.add(vma.hi, vma.delta)


def backing_page(ctx: Ctx, rng: Range, view_page: Word) -> Word:
    """The backing page a view page translates to under this design's translation rule."""
    alg = ctx.alg
    if ctx.design.is_("translation", "mem-offset"):
        return view_page
    return alg.add(view_page, rng.delta)


@dataclass(frozen=True)
class Place:
    """Where an access at a process address lands, by the current layout."""

    mapped: Bit  # a mapping covers the address
    vma: Vma
    view_page: Word
    view_byte: Word
    configured: Bit  # a range of the layout covers the view page (for a raw mapping: the backing page)
    rng: Range  # that range (for a raw mapping: the object, and every covering range's permissions)
    backing_byte: Word  # in the range's object, by the seed's translation (fd_offset + ...)
    private_copy: Bit  # the process has a private copy of this view page
    raw: Bit  # the mapping is of a raw backing fd (delivery=raw-fds), not of the view


def place_of(ctx: Ctx, state: State, proc: Proc, addr: Word) -> Place:
    alg = ctx.alg
    page = ctx.page(addr)
    mapped, vma = vma_at(ctx, proc, page)
    view_page = alg.add(page, vma.delta)
    view_byte = alg.add(ctx.byte_of(view_page), ctx.in_page(addr))
    configured, rng = range_at(ctx, state, view_page)
    backing_byte = alg.add(ctx.byte_of(alg.add(view_page, rng.delta)), ctx.in_page(addr))
    private_copy = alg.and_(any_bits(alg, vma.attrs, alg.word(VMA_PRIVATE)),
                            alg.eq(alg.select(proc.cow, view_page), alg.word(1)))
    view_place = Place(mapped, vma, view_page, view_byte, configured, rng, backing_byte, private_copy, alg.bit(False))
    if not ctx.design.is_("delivery", "raw-fds"):
        return view_place
    raw = alg.and_(mapped, any_bits(alg, vma.attrs, alg.word(VMA_RAW)))
    if not alg.symbolic and not raw:
        return view_place
    raw_place = place_in_object(ctx, state, vma, page, addr, mapped)
    return merge(alg, raw, raw_place, view_place)


def place_in_object(ctx: Ctx, state: State, vma: Vma, page: Word, addr: Word, mapped: Bit) -> Place:
    """A raw mapping's place: its backing page, judged by the ranges that map that page of its
    object (what A granted there, if anything), whichever view pages they sit at."""
    alg = ctx.alg
    obj = raw_object(alg, vma)
    backing = alg.add(page, vma.delta)
    configured, perms, delta = granted_on(ctx, state, obj, backing)
    # The view page the first covering range shows this backing page at: what A's revocations name.
    view_page = backing if ctx.design.is_("translation", "mem-offset") else alg.sub(backing, delta)
    z = alg.word(0)
    rng = Range(configured, z, z, obj, delta, perms)
    backing_byte = alg.add(ctx.byte_of(backing), ctx.in_page(addr))
    view_byte = alg.add(ctx.byte_of(view_page), ctx.in_page(addr))
    return Place(mapped, vma, view_page, view_byte, configured, rng, backing_byte, alg.bit(False), alg.bit(True))


def granted_on(ctx: Ctx, state: State, obj: Word, backing_page: Word) -> tuple[Bit, Word, Word]:
    """What A's layout grants on a page of an object: whether some used range maps it, the union
    of those ranges' permissions, and the delta of the first of them."""
    alg = ctx.alg
    covering = [alg.and_(r.used, alg.eq(r.obj, obj), range_covers_backing(ctx, r, backing_page))
                for r in state.view.ranges]
    perms = alg.word(0)
    delta = alg.word(0)
    for hit, r in reversed(list(zip(covering, state.view.ranges, strict=True))):
        perms = alg.bor(perms, alg.ite(hit, r.perms, alg.word(0)))
        delta = alg.ite(hit, r.delta, delta)
    return alg.or_(*covering), perms, delta


def range_covers_backing(ctx: Ctx, rng: Range, backing_page: Word) -> Bit:
    """The range maps this page of its object to some view page, under the design's translation."""
    alg = ctx.alg
    if ctx.design.is_("translation", "mem-offset"):
        return alg.and_(alg.ule(rng.lo, backing_page), alg.ult(backing_page, rng.hi))
    offset = alg.sub(backing_page, rng.delta)
    return alg.and_(alg.ule(rng.lo, offset), alg.ult(offset, rng.hi))


def combined_protection(ctx: Ctx, prot: Word, perms: Word) -> Word:
    """What a view page is mapped with: the mapping's protection and A's permissions there,
    combined as the design's perm-combine says (the rule's checks and the linux backend's pages)."""
    if ctx.design.is_("perm-combine", "or"):
        return ctx.alg.bor(prot, perms)
    return ctx.alg.band(prot, perms)


def is_raw(ctx: Ctx, vma: Vma) -> Bit:
    return any_bits(ctx.alg, vma.attrs, ctx.alg.word(VMA_RAW))


def readable_bits() -> int:
    """Kinds of access that return a byte: loads and instruction fetches."""
    return PERM_R | PERM_X
