"""The rule for a load, store or instruction fetch through a mapping of the view.

The order of checks follows Linux's fault path: the architecture checks the mapping (no mapping:
SEGV_MAPERR; protection: SEGV_ACCERR) before the driver's fault handler runs, and the driver then
decides from its layout (past the view's size, no range, range permissions, past the backing
object's end). A translation the process already cached is used without asking the layout again,
which is exactly why revocation must drop those translations.
"""

from __future__ import annotations

from memview.model.algebra import Bit, Word, cond, has_bits, merge, replace
from memview.model.constants import (
    OBJ_SHIFT,
    PERM_ALL,
    PERM_R,
    PERM_W,
    PERM_X,
    PTE_VALID,
    VMA_PRIVATE,
    Errno,
    SiCode,
    Signal,
)
from memview.model.context import Ctx, Result
from memview.model.design import FAULT_SIGNALS
from memview.model.ops import Op
from memview.model.queries import Place, backing_page, obj_at, place_of, proc_at, range_at
from memview.model.state import Obs, State
from memview.model.updates import with_obj, with_proc


def cached_translation(ctx: Ctx, perms: Word, obj_index: Word) -> Word:
    """The PTE a fault caches: valid, the permissions granted, and the object slot."""
    alg = ctx.alg
    return alg.bor(alg.word(PTE_VALID), alg.bor(perms, alg.shl(obj_index, OBJ_SHIFT)))


def fault_signal(ctx: Ctx, decision: str) -> Obs:
    """The signal a design names for an unconfigured page or a denied access."""
    signo, code = FAULT_SIGNALS[decision, ctx.design[decision]]
    return ctx.signal(signo, code)


def denied_signal(ctx: Ctx) -> Obs:
    if ctx.design.mutated("denied-raises-sigbus"):
        return ctx.signal(Signal.SIGBUS, SiCode.BUS_ADRERR)
    return fault_signal(ctx, "denied")


def stretched_to_next_page(ctx: Ctx, state: State, place: Place) -> Place:
    """The range-end-inclusive mutation's lookup: a page no range covers, just past a range's end,
    is taken as that range's."""
    alg = ctx.alg
    before, rng = range_at(ctx, state, alg.sub(place.view_page, alg.word(1)))
    stretched = alg.and_(alg.not_(place.configured), before, alg.eq(rng.hi, place.view_page))
    return replace(place, configured=alg.or_(place.configured, stretched), rng=merge(alg, stretched, rng, place.rng))


def combined(ctx: Ctx, prot: Word, perms: Word) -> Word:
    if ctx.design.is_("perm-combine", "or"):
        return ctx.alg.bor(prot, perms)
    return ctx.alg.band(prot, perms)


def access(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, kind, byte = op.args[:3]
    proc = proc_at(ctx, state, op.proc)
    place = place_of(ctx, state, proc, addr)
    if ctx.design.mutated("range-end-inclusive"):
        place = stretched_to_next_page(ctx, state, place)
    vpage = place.view_page
    prot = alg.band(place.vma.attrs, alg.word(PERM_ALL))
    pte = alg.select(proc.pte, vpage)
    cached = has_bits(alg, pte, alg.word(PTE_VALID))
    pte_perms = alg.band(pte, alg.word(PERM_ALL))
    if ctx.design.mutated("mprotect-upgrades-ptes"):
        pte_perms = alg.word(PERM_ALL)
    perms = alg.ite(cached, pte_perms, place.rng.perms)
    through_view = alg.bit(True)
    raw_fds = ctx.design.is_("delivery", "raw-fds")
    if raw_fds:
        # A raw backing fd's mapping is the kernel's alone: no driver fault handler, no cached
        # translation of the view; the mapping's prot and the object's size decide (mmap(2)).
        through_view = alg.not_(place.raw)
        cached = alg.and_(cached, through_view)
        perms = alg.ite(place.raw, alg.word(PERM_ALL), perms)
    obj_index = alg.ite(cached, alg.lshr(pte, OBJ_SHIFT), place.rng.obj)
    bpage = alg.ite(cached, alg.select(proc.pte_page, vpage), backing_page(ctx, place.rng, vpage))
    bbyte = alg.add(ctx.byte_of(bpage), ctx.in_page(addr))
    obj = obj_at(ctx, state, obj_index)
    checked_perms = perms
    if ctx.design.mutated("exec-checked-as-read"):
        checked_perms = alg.ite(has_bits(alg, perms, alg.word(PERM_R)), alg.bor(perms, alg.word(PERM_X)), perms)
    allowed = has_bits(alg, combined(ctx, prot, checked_perms), kind)
    valid_kind = alg.or_(*(alg.eq(kind, alg.word(k)) for k in (PERM_R, PERM_W, PERM_X)))
    vma_denied = alg.not_(has_bits(alg, prot, kind))
    if ctx.design.is_("perm-combine", "or"):
        vma_denied = alg.ite(through_view, alg.not_(allowed), vma_denied) if raw_fds else alg.not_(allowed)
    beyond_view = alg.not_(alg.ult(vpage, ctx.page(state.view.size)))
    unconfigured = alg.and_(alg.not_(cached), alg.not_(place.configured))
    if raw_fds:
        beyond_view, unconfigured = alg.and_(through_view, beyond_view), alg.and_(through_view, unconfigured)

    past_end = alg.not_(alg.ult(ctx.byte_of(bpage), obj.size))
    if ctx.design.mutated("stale-page-after-truncate"):
        past_end = alg.and_(alg.not_(cached), past_end)

    def sig(signo: Signal, code: int) -> Result:
        return state, ctx.signal(signo, code)

    cases: list[tuple[Bit, object]] = [
        # Not an access at all: traces may give a raw kind to try this; no real access has another kind.
        (alg.not_(valid_kind), lambda: (state, ctx.errno(Errno.EINVAL))),
        (alg.not_(place.mapped), lambda: sig(Signal.SIGSEGV, SiCode.SEGV_MAPERR)),
        (vma_denied, lambda: sig(Signal.SIGSEGV, SiCode.SEGV_ACCERR)),
        (beyond_view, lambda: sig(Signal.SIGBUS, SiCode.BUS_ADRERR)),
        (unconfigured, lambda: (state, fault_signal(ctx, "unconfigured"))),
        (alg.not_(allowed), lambda: (state, denied_signal(ctx))),
        # mmap(2): only pages wholly past the end fault; the rest of the last page is accessible.
        (past_end, lambda: sig(Signal.SIGBUS, SiCode.BUS_ADRERR)),
    ]

    def succeeded() -> Result:
        private = has_bits(alg, place.vma.attrs, alg.word(VMA_PRIVATE))
        is_write = alg.eq(kind, alg.word(PERM_W))
        new_pte = cached_translation(ctx, perms, obj_index)
        keeps_ptes = alg.or_(cached, alg.not_(through_view)) if raw_fds else cached
        after_fault = with_proc(
            ctx, state, op.proc,
            pte=alg.ite(keeps_ptes, proc.pte, alg.store(proc.pte, vpage, new_pte)),
            pte_page=alg.ite(keeps_ptes, proc.pte_page, alg.store(proc.pte_page, vpage, bpage)),
        )
        read_value = alg.ite(place.private_copy, alg.select(proc.cow_data, place.view_byte),
                             alg.select(obj.data, bbyte))

        def write_shared() -> State:
            return with_obj(ctx, after_fault, obj_index, data=alg.store(obj.data, bbyte, byte))

        def write_private() -> State:
            # First write to a private page copies the whole backing page, then writes the copy.
            page_lo = ctx.byte_of(vpage)
            page_hi = alg.add(page_lo, alg.word(ctx.config.page_size))
            shift = alg.sub(ctx.byte_of(bpage), page_lo)
            copied = alg.paste(proc.cow_data, page_lo, page_hi, obj.data, shift)
            cow_data = merge(alg, place.private_copy, proc.cow_data, copied)
            return with_proc(ctx, after_fault, op.proc, cow=alg.store(proc.cow, vpage, alg.word(1)),
                             cow_data=alg.store(cow_data, place.view_byte, byte))

        def written() -> Result:
            return cond(alg, private, write_private, write_shared), ctx.ok(0)

        return cond(alg, is_write, written, lambda: (after_fault, ctx.ok(read_value)))

    from memview.model.algebra import first_match

    return first_match(alg, cases, succeeded)  # type: ignore[arg-type]
