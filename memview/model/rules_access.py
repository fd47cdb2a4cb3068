"""The rule for a load, store or instruction fetch through a mapping of the view.

The order of checks follows Linux's fault path: the architecture checks the mapping (no mapping:
SEGV_MAPERR; protection: SEGV_ACCERR) before the driver's fault handler runs, and the driver then
decides from its layout (past the view's size, no range, range permissions, past the backing
object's end). A translation the process already cached is used without asking the layout again,
which is exactly why revocation must drop those translations.

What varies between designs and mutations (the kind of mapping, the cached translation, the
permissions the access is judged by) is worked out once, by `access_target`, so `access` reads as
the checks in fault order and then the effect.
"""

from __future__ import annotations

from typing import NamedTuple

from memview.model.algebra import Bit, Word, cond, first_match, has_bits, merge, replace
from memview.model.constants import PERM_ALL, PERM_R, PERM_W, PERM_X, VMA_PRIVATE, Errno, SiCode, Signal
from memview.model.context import Ctx, Result
from memview.model.design import FAULT_SIGNALS
from memview.model.encodings import cache_translation, cached_entry
from memview.model.ops import Op
from memview.model.queries import Place, backing_page, combined_protection, obj_at, place_of, proc_at, range_at
from memview.model.state import Obj, Obs, Proc, State
from memview.model.updates import with_obj, with_proc


class AccessTarget(NamedTuple):
    """Where one access lands and what serves it, for the whole fault path (a named tuple: every
    access builds one, and a frozen dataclass costs several times more to build)."""

    place: Place
    through_view: Bit  # a mapping of the view, not of a raw backing fd (delivery=raw-fds)
    cached: Bit  # a translation the process cached serves it, not the layout
    prot: Word  # the mapping's protection
    perms: Word  # what may be done there: the cached translation's, the range's, or anything (raw)
    obj_index: Word
    obj: Obj
    backing_page: Word
    backing_byte: Word


def access_target(ctx: Ctx, state: State, proc: Proc, addr: Word) -> AccessTarget:
    alg = ctx.alg
    place = place_of(ctx, state, proc, addr)
    if ctx.design.mutated("range-end-inclusive"):
        place = stretched_to_next_page(ctx, state, place)
    entry = cached_entry(alg, proc, place.view_page)
    entry_perms = alg.word(PERM_ALL) if ctx.design.mutated("mprotect-upgrades-ptes") else entry.perms
    perms = alg.ite(entry.valid, entry_perms, place.rng.perms)
    # A raw backing fd's mapping is the kernel's alone: no driver fault handler, no cached
    # translation of the view; the mapping's prot and the object's size decide (mmap(2)).
    through_view = alg.not_(place.raw)
    cached = alg.and_(entry.valid, through_view)
    obj_index = alg.ite(cached, entry.obj, place.rng.obj)
    page = alg.ite(cached, entry.page, backing_page(ctx, place.rng, place.view_page))
    return AccessTarget(place=place, through_view=through_view, cached=cached,
                        prot=alg.band(place.vma.attrs, alg.word(PERM_ALL)),
                        perms=alg.ite(place.raw, alg.word(PERM_ALL), perms), obj_index=obj_index,
                        obj=obj_at(ctx, state, obj_index), backing_page=page,
                        backing_byte=alg.add(ctx.byte_of(page), ctx.in_page(addr)))


def stretched_to_next_page(ctx: Ctx, state: State, place: Place) -> Place:
    """The range-end-inclusive mutation's lookup: a page no range covers, just past a range's end,
    is taken as that range's."""
    alg = ctx.alg
    before, rng = range_at(ctx, state, alg.sub(place.view_page, alg.word(1)))
    stretched = alg.and_(alg.not_(place.configured), before, alg.eq(rng.hi, place.view_page))
    return replace(place, configured=alg.or_(place.configured, stretched), rng=merge(alg, stretched, rng, place.rng))


def allowed(ctx: Ctx, target: AccessTarget, kind: Word) -> Bit:
    """The combined protection of the mapping and the permissions grants the kind."""
    alg = ctx.alg
    perms = target.perms
    if ctx.design.mutated("exec-checked-as-read"):
        perms = alg.ite(has_bits(alg, perms, alg.word(PERM_R)), alg.bor(perms, alg.word(PERM_X)), perms)
    return has_bits(alg, combined_protection(ctx, target.prot, perms), kind)


def protection_denies(ctx: Ctx, target: AccessTarget, kind: Word, granted: Bit) -> Bit:
    """The architecture's check of the page's protection (SEGV_ACCERR)."""
    alg = ctx.alg
    by_prot = alg.not_(has_bits(alg, target.prot, kind))
    if not ctx.design.is_("perm-combine", "or"):
        return by_prot
    # perm-combine=or: a view page is mapped with the combined protection, so that is what the
    # architecture checks; a raw mapping keeps its own.
    return alg.ite(target.through_view, alg.not_(granted), by_prot)


def past_end(ctx: Ctx, target: AccessTarget) -> Bit:
    alg = ctx.alg
    beyond = alg.not_(alg.ult(ctx.byte_of(target.backing_page), target.obj.size))
    if ctx.design.mutated("stale-page-after-truncate"):
        return alg.and_(alg.not_(target.cached), beyond)
    return beyond


def fault_signal(ctx: Ctx, decision: str) -> Obs:
    """The signal a design names for an unconfigured page or a denied access."""
    signo, code = FAULT_SIGNALS[decision, ctx.design[decision]]
    return ctx.signal(signo, code)


def denied_signal(ctx: Ctx) -> Obs:
    if ctx.design.mutated("denied-raises-sigbus"):
        return ctx.signal(Signal.SIGBUS, SiCode.BUS_ADRERR)
    return fault_signal(ctx, "denied")


def access(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, kind = op.args[:2]
    proc = proc_at(ctx, state, op.proc)
    target = access_target(ctx, state, proc, addr)
    place, may = target.place, allowed(ctx, target, kind)
    beyond_view = alg.not_(alg.ult(place.view_page, ctx.page(state.view.size)))
    unconfigured = alg.and_(alg.not_(target.cached), alg.not_(place.configured))

    def sig(signo: Signal, code: int) -> Result:
        return state, ctx.signal(signo, code)

    return first_match(alg, [
        # Not an access at all: traces may give a raw kind to try this; no real access has another kind.
        (alg.not_(alg.or_(*(alg.eq(kind, alg.word(k)) for k in (PERM_R, PERM_W, PERM_X)))),
         lambda: (state, ctx.errno(Errno.EINVAL))),
        # The architecture: a mapping at the address, then its protection.
        (alg.not_(place.mapped), lambda: sig(Signal.SIGSEGV, SiCode.SEGV_MAPERR)),
        (protection_denies(ctx, target, kind, may), lambda: sig(Signal.SIGSEGV, SiCode.SEGV_ACCERR)),
        # The driver's fault handler (a raw mapping has none): the view's size, its layout.
        (alg.and_(target.through_view, beyond_view), lambda: sig(Signal.SIGBUS, SiCode.BUS_ADRERR)),
        (alg.and_(target.through_view, unconfigured), lambda: (state, fault_signal(ctx, "unconfigured"))),
        # A's permissions, combined with the mapping's protection.
        (alg.not_(may), lambda: (state, denied_signal(ctx))),
        # mmap(2): only pages wholly past the end fault; the rest of the last page is accessible.
        (past_end(ctx, target), lambda: sig(Signal.SIGBUS, SiCode.BUS_ADRERR)),
    ], lambda: performed(ctx, state, op, proc, target))


def performed(ctx: Ctx, state: State, op: Op, proc: Proc, target: AccessTarget) -> Result:
    """The access's effect: the fault's translation cached, then the byte read or written."""
    alg = ctx.alg
    kind, byte = op.args[1], op.args[2]
    place = target.place
    private = has_bits(alg, place.vma.attrs, alg.word(VMA_PRIVATE))
    is_write = alg.eq(kind, alg.word(PERM_W))
    # A cached translation is used as it is; a raw mapping's faults are the kernel's, not the view's.
    keeps_cache = alg.or_(target.cached, alg.not_(target.through_view))
    after_fault = with_proc(ctx, state, op.proc, **cache_translation(
        alg, proc, place.view_page, target.perms, target.obj_index, target.backing_page, unless=keeps_cache))
    read_value = alg.ite(place.private_copy, alg.select(proc.cow_data, place.view_byte),
                         alg.select(target.obj.data, target.backing_byte))

    def write_shared() -> State:
        return with_obj(ctx, after_fault, target.obj_index, data=alg.store(target.obj.data, target.backing_byte, byte))

    def write_private() -> State:
        return written_privately(ctx, after_fault, op.proc, proc, target, byte)

    def written() -> Result:
        return cond(alg, private, write_private, write_shared), ctx.ok(0)

    return cond(alg, is_write, written, lambda: (after_fault, ctx.ok(read_value)))


def written_privately(ctx: Ctx, state: State, index: Word, proc: Proc, target: AccessTarget, byte: Word) -> State:
    """A write to a private mapping: the first copies the whole backing page, then writes the copy."""
    alg = ctx.alg
    place = target.place
    page_lo = ctx.byte_of(place.view_page)
    page_hi = alg.add(page_lo, alg.word(ctx.config.page_size))
    shift = alg.sub(ctx.byte_of(target.backing_page), page_lo)
    copied = alg.paste(proc.cow_data, page_lo, page_hi, target.obj.data, shift)
    cow_data = merge(alg, place.private_copy, proc.cow_data, copied)
    return with_proc(ctx, state, index, cow=alg.store(proc.cow, place.view_page, alg.word(1)),
                     cow_data=alg.store(cow_data, place.view_byte, byte))
