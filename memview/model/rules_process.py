"""Rules for any process's own calls: ioctl, send, close, mmap, munmap, mprotect, mseal, fork."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from memview.model.algebra import (
    MASK,
    Bit,
    Word,
    any_bits,
    cond,
    has_bits,
    overlap,
    subset,
    umax,
    umin,
    update_at,
)
from memview.model.constants import (
    PERM_ALL,
    PERM_W,
    USER_VA_END,
    VMA_MAYWRITE,
    VMA_PRIVATE,
    VMA_SEALED,
    Errno,
    FdKind,
    MapFlag,
)
from memview.model.context import Ctx, Result
from memview.model.ops import Op
from memview.model.queries import fd_at, first_free, proc_at, proc_valid
from memview.model.rules_view import alloc_fd, control_closed, with_fd
from memview.model.slots import any_overlap, covered, insert, reshape
from memview.model.state import Proc, State, Vma, empty_fd, empty_vma


def with_proc(ctx: Ctx, state: State, index: Word, proc: Proc) -> State:
    return dataclasses.replace(state, procs=update_at(ctx.alg, state.procs, index, proc))


def ioctl(ctx: Ctx, state: State, op: Op) -> Result:
    # No command number outside MEMVIEW_* means anything on these files: ENOTTY (ioctl(2)).
    is_open, _ = fd_at(ctx, proc_at(ctx, state, op.proc), op.args[0])
    return ctx.guarded(state, [(ctx.alg.not_(is_open), Errno.EBADF)], lambda: (state, ctx.errno(Errno.ENOTTY)))


def send(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    fd, to = op.args[0], op.args[1]
    is_open, entry = fd_at(ctx, proc_at(ctx, state, op.proc), fd)
    has_fd, new_fd = alloc_fd(ctx, state, to)
    checks = [
        (alg.not_(is_open), Errno.EBADF),
        (alg.not_(proc_valid(ctx, state, to)), Errno.ESRCH),
        # The seed passes only view fds; raw-fd passing is today's practice, judged elsewhere.
        (alg.not_(alg.eq(entry.kind, alg.word(FdKind.VIEW))), Errno.EINVAL),
        (alg.not_(has_fd), Errno.EMFILE),
    ]
    return ctx.guarded(state, checks, lambda: (with_fd(ctx, state, to, new_fd, entry), ctx.ok(new_fd)))


def close(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    is_open, entry = fd_at(ctx, proc_at(ctx, state, op.proc), op.args[0])

    def closed() -> Result:
        after = with_fd(ctx, state, op.proc, op.args[0], empty_fd(alg))
        is_control = alg.eq(entry.kind, alg.word(FdKind.CONTROL))
        return cond(alg, is_control, lambda: control_closed(ctx, after), lambda: after), ctx.ok()

    return ctx.guarded(state, [(alg.not_(is_open), Errno.EBADF)], closed)


def length_pages(ctx: Ctx, length: Word) -> tuple[Bit, Word]:
    """(overflows, pages) for a byte length rounded up to pages."""
    alg = ctx.alg
    overflows = alg.add_overflows(length, alg.word(ctx.config.page_size - 1))
    return overflows, ctx.pages_up(length)


def perms_cover(ctx: Ctx, state: State, view_lo: Word, view_hi: Word, prot: Word) -> Bit:
    """A's ranges grant at least prot on every view page of [view_lo, view_hi)."""
    return covered(ctx.alg, state.view.ranges, view_lo, view_hi, lambda r: subset(ctx.alg, prot, r.perms))


def mmap(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    fd, length, prot, flags, offset = op.args[:5]
    proc = proc_at(ctx, state, op.proc)
    is_open, entry = fd_at(ctx, proc, fd)
    private = alg.eq(flags, alg.word(MapFlag.PRIVATE))
    valid_flags = alg.or_(private, alg.eq(flags, alg.word(MapFlag.SHARED)))
    overflows, pages = length_pages(ctx, length)
    view_lo = ctx.page(offset)
    view_hi = alg.add(view_lo, pages)
    lo = proc.next_page
    hi = alg.add(lo, pages)
    checks: list[tuple[Bit, int]] = [
        (alg.eq(length, alg.word(0)), Errno.EINVAL),
        (alg.not_(valid_flags), Errno.EINVAL),
        (alg.not_(subset(alg, prot, alg.word(PERM_ALL))), Errno.EINVAL),
        (alg.not_(ctx.aligned(offset)), Errno.EINVAL),
        (overflows, Errno.ENOMEM),
        (alg.add_overflows(view_lo, pages), Errno.EOVERFLOW),
        (alg.not_(is_open), Errno.EBADF),
        (alg.not_(alg.eq(entry.kind, alg.word(FdKind.VIEW))), Errno.ENODEV),
    ]
    if ctx.design.is_("private", "einval"):
        checks.append((private, Errno.EINVAL))
    wants_shared_write = alg.and_(alg.not_(private), has_bits(alg, prot, alg.word(PERM_W)))
    checks.append((alg.and_(wants_shared_write, alg.not_(has_bits(alg, entry.mode, alg.word(PERM_W)))), Errno.EACCES))
    if ctx.design.is_("beyond-size", "einval"):
        checks.append((alg.ult(ctx.page(state.view.size), view_hi), Errno.EINVAL))
    if ctx.design.is_("mprotect", "strict"):
        checks.append((alg.not_(perms_cover(ctx, state, view_lo, view_hi, prot)), Errno.EACCES))
    checks.append((alg.ult(alg.word(USER_VA_END >> ctx.config.page_shift), hi), Errno.ENOMEM))
    maywrite = alg.or_(private, has_bits(alg, entry.mode, alg.word(PERM_W)))
    attrs = alg.bor(prot, alg.bor(alg.ite(maywrite, alg.word(VMA_MAYWRITE), alg.word(0)),
                                  alg.ite(private, alg.word(VMA_PRIVATE), alg.word(0))))
    vma = Vma(alg.bit(True), lo, hi, alg.sub(view_lo, lo), attrs)
    placed, vmas = insert(alg, proc.vmas, vma, alg.bit(True))
    checks.append((alg.not_(placed), Errno.ENOMEM))

    def mapped() -> Result:
        # A guard page after each mapping keeps neighbouring mappings apart, as the model never
        # needs to merge them.
        new_proc = dataclasses.replace(proc, vmas=vmas, next_page=alg.add(hi, alg.word(1)))
        return with_proc(ctx, state, op.proc, new_proc), ctx.ok(ctx.byte_of(lo))

    return ctx.guarded(state, checks, mapped)


def sealed_in(ctx: Ctx, proc: Proc, lo: Word, hi: Word) -> Bit:
    return any_overlap(ctx.alg, proc.vmas, lo, hi, lambda v: any_bits(ctx.alg, v.attrs, ctx.alg.word(VMA_SEALED)))


def span(ctx: Ctx, addr: Word, length: Word) -> tuple[list[tuple[Bit, int]], Word, Word]:
    """Checks shared by munmap, mprotect and mseal: alignment and wrap-around, then [lo, hi)."""
    alg = ctx.alg
    overflows, pages = length_pages(ctx, length)
    lo = ctx.page(addr)
    hi = alg.add(lo, pages)
    checks: list[tuple[Bit, int]] = [
        (alg.not_(ctx.aligned(addr)), Errno.EINVAL),
        (alg.or_(overflows, alg.add_overflows(lo, pages)), Errno.ENOMEM),
    ]
    return checks, lo, hi


def reshaped(ctx: Ctx, state: State, op: Op, proc: Proc, lo: Word, hi: Word,
             middle: Callable[[Vma], Vma] | None, checks: list[tuple[Bit, int]]) -> Result:
    ok, vmas = reshape(ctx.alg, proc.vmas, lo, hi, empty_vma(ctx.alg), middle)
    checks.append((ctx.alg.not_(ok), Errno.ENOMEM))
    return ctx.guarded(state, checks,
                       lambda: (with_proc(ctx, state, op.proc, dataclasses.replace(proc, vmas=vmas)), ctx.ok()))


def munmap(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, length = op.args[:2]
    proc = proc_at(ctx, state, op.proc)
    checks, lo, hi = span(ctx, addr, length)
    checks.insert(1, (alg.eq(length, alg.word(0)), Errno.EINVAL))
    checks.append((sealed_in(ctx, proc, lo, hi), Errno.EPERM))
    return reshaped(ctx, state, op, proc, lo, hi, None, checks)


def mprotect(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, length, prot = op.args[:3]
    proc = proc_at(ctx, state, op.proc)
    checks, lo, hi = span(ctx, addr, length)
    checks.insert(1, (alg.not_(subset(alg, prot, alg.word(PERM_ALL))), Errno.EINVAL))
    checks += [
        (alg.not_(covered(alg, proc.vmas, lo, hi)), Errno.ENOMEM),
        (sealed_in(ctx, proc, lo, hi), Errno.EPERM),
    ]
    wants_write = has_bits(alg, prot, alg.word(PERM_W))
    cannot_write = any_overlap(alg, proc.vmas, lo, hi,
                               lambda v: alg.not_(any_bits(alg, v.attrs, alg.word(VMA_MAYWRITE))))
    checks.append((alg.and_(wants_write, cannot_write), Errno.EACCES))
    if ctx.design.is_("mprotect", "strict"):
        beyond = alg.or_(*(
            alg.and_(v.used, overlap(alg, v.lo, v.hi, lo, hi),
                     alg.not_(perms_cover(ctx, state, alg.add(umax(alg, v.lo, lo), v.delta),
                                          alg.add(umin(alg, v.hi, hi), v.delta), prot)))
            for v in proc.vmas
        ))
        checks.append((beyond, Errno.EACCES))

    def protect(v: Vma) -> Vma:
        return dataclasses.replace(v, attrs=alg.bor(alg.band(v.attrs, alg.word(MASK ^ PERM_ALL)), prot))

    empty_length = alg.eq(length, alg.word(0))
    return cond(alg, alg.and_(ctx.aligned(addr), subset(alg, prot, alg.word(PERM_ALL)), empty_length),
                lambda: (state, ctx.ok()),
                lambda: reshaped(ctx, state, op, proc, lo, hi, protect, checks))


def mseal(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, length = op.args[:2]
    proc = proc_at(ctx, state, op.proc)
    checks, lo, hi = span(ctx, addr, length)
    checks.append((alg.not_(covered(alg, proc.vmas, lo, hi)), Errno.ENOMEM))
    if ctx.design.is_("mseal", "refuse"):
        checks.append((alg.bit(True), Errno.EPERM))

    def seal(v: Vma) -> Vma:
        return dataclasses.replace(v, attrs=alg.bor(v.attrs, alg.word(VMA_SEALED)))

    empty_length = alg.eq(length, alg.word(0))
    return cond(alg, alg.and_(ctx.aligned(addr), empty_length), lambda: (state, ctx.ok()),
                lambda: reshaped(ctx, state, op, proc, lo, hi, seal, checks))


def fork(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    parent = proc_at(ctx, state, op.proc)
    has_slot, child = first_free(alg, [alg.not_(p.alive) for p in state.procs])
    # Shared file mappings are not copied page by page at fork: the child faults its own
    # translations in. Private copies are the child's too (copy-on-write of copy-on-write).
    empty = alg.table(0)
    child_proc = dataclasses.replace(parent, alive=alg.bit(True), pte=empty, pte_page=empty)
    return ctx.guarded(state, [(alg.not_(has_slot), Errno.EAGAIN)],
                       lambda: (with_proc(ctx, state, child, child_proc), ctx.ok(child)))
