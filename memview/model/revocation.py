"""Revocation: the one place that takes view pages away from every process.

UNMAP_FD, shrinking the view, closing the control fd (in the design that revokes) and F_SEAL_WRITE
(in the design that revokes) all end here, so "no access succeeds after revocation returns" rests
on one function.
"""

from __future__ import annotations

from memview.model.algebra import Word, any_bits, merge, overlap, replace, umax, umin
from memview.model.constants import VMA_PRIVATE, VMA_RAW, VMA_SEALED
from memview.model.context import Ctx
from memview.model.state import Proc, State


def last_page(ctx: Ctx) -> Word:
    """The page holding byte 2^64 - 1. A range ends at most at (2^64 - 1) >> page_shift, so
    [page, last_page) covers every page a range or a mapping can hold."""
    return ctx.alg.word((1 << (64 - ctx.config.page_shift)) - 1)


def _zap(ctx: Ctx, proc: Proc, lo: Word, hi: Word) -> Proc:
    """Drop the process's cached translations and private copies of view pages [lo, hi)."""
    alg = ctx.alg
    zero = alg.word(0)
    pte = alg.store_range(proc.pte, lo, hi, zero)
    cow = alg.store_range(proc.cow, lo, hi, zero)
    # What the dropped entries pointed at is cleared too, so equal states look equal.
    pte_page = alg.store_range(proc.pte_page, lo, hi, zero)
    cow_data = alg.store_range(proc.cow_data, ctx.byte_of(lo), ctx.byte_of(hi), zero)
    private_kept = ctx.design.mutated("private-pages-survive-revocation")
    if ctx.design.is_("mseal", "allow") or private_kept:
        # A sealed mapping cannot be replaced (mseal(2)), so its pages keep what they had.
        for vma in proc.vmas:
            kept_bits = (VMA_SEALED if ctx.design.is_("mseal", "allow") else 0) | (VMA_PRIVATE if private_kept else 0)
            # A raw mapping's pages are not view pages (delivery=raw-fds): nothing of the view to keep.
            sealed = alg.and_(vma.used, any_bits(alg, vma.attrs, alg.word(kept_bits)))
            if ctx.design.is_("delivery", "raw-fds"):
                sealed = alg.and_(sealed, alg.not_(any_bits(alg, vma.attrs, alg.word(VMA_RAW))))
            view_lo = alg.add(vma.lo, vma.delta)
            view_hi = alg.add(vma.hi, vma.delta)
            keep_lo, keep_hi = umax(alg, lo, view_lo), umin(alg, hi, view_hi)
            keep = alg.and_(sealed, overlap(alg, lo, hi, view_lo, view_hi))
            pte = merge(alg, keep, alg.paste(pte, keep_lo, keep_hi, proc.pte, zero), pte)
            cow = merge(alg, keep, alg.paste(cow, keep_lo, keep_hi, proc.cow, zero), cow)
            pte_page = merge(alg, keep, alg.paste(pte_page, keep_lo, keep_hi, proc.pte_page, zero), pte_page)
            cow_data = merge(alg, keep, alg.paste(cow_data, ctx.byte_of(keep_lo), ctx.byte_of(keep_hi),
                                                  proc.cow_data, zero), cow_data)
    return replace(proc, pte=pte, cow=cow, pte_page=pte_page, cow_data=cow_data)


def revoke(ctx: Ctx, state: State, lo: Word, hi: Word, zap: bool = True) -> State:
    """View pages [lo, hi) are no longer accessible to anyone, forked children included.

    zap=False is only for the broken shrink-zap=keep design: the ghost state still records the
    revocation, so REVOKE can see what the design failed to do.
    """
    procs = state.procs
    if zap and not ctx.design.is_("revocation", "skip"):
        # Process slots past A and the clients belong to forked children.
        zapped = len(procs) if not ctx.design.is_("revocation", "skip-children") else 1 + ctx.config.clients
        if ctx.design.mutated("revoke-first-client-only"):
            zapped = 2
        zap_hi = ctx.alg.sub(hi, ctx.alg.word(1)) if ctx.design.mutated("revoke-misses-last-page") else hi
        procs = tuple(_zap(ctx, p, lo, zap_hi) if i < zapped else p for i, p in enumerate(procs))
    revoked = ctx.alg.store_range(state.revoked, lo, hi, ctx.alg.word(1))
    return replace(state, procs=procs, revoked=revoked)
