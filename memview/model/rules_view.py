"""Rules for A's side of the view: open, size, MAP_FD, UNMAP_FD, GET_VIEWFD, closing the control fd."""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.algebra import (
    MASK,
    Bit,
    Word,
    any_bits,
    cond,
    has_bits,
    merge,
    replace,
    subset,
    update_at,
    without_bits,
)
from memview.model.constants import (
    F_SEAL_FUTURE_WRITE,
    F_SEAL_SHRINK,
    F_SEAL_WRITE,
    LOFF_LIMIT,
    MODE_RO,
    MODE_RW,
    PERM_ALL,
    PERM_R,
    PERM_W,
    Errno,
    FdKind,
    ObjKind,
)
from memview.model.context import Ctx, Result
from memview.model.ops import Op
from memview.model.queries import alloc_fd, fd_at, obj_at, proc_at
from memview.model.revocation import last_page, revoke
from memview.model.slots import any_overlap, insert, reshape
from memview.model.state import Fd, Range, State, empty_range
from memview.model.updates import with_fd


def view_open(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    has_fd, fd = alloc_fd(ctx, state, op.proc)

    def opened() -> Result:
        view = replace(state.view, exists=alg.bit(True), control_open=alg.bit(True))
        entry = Fd(alg.word(FdKind.CONTROL), alg.word(0), alg.word(MODE_RW))
        return with_fd(ctx, replace(state, view=view), op.proc, fd, entry), ctx.ok(fd)

    # The model holds one view; a second open meets the model's bound like a full file table.
    return ctx.guarded(state, [(state.view.exists, Errno.ENFILE), (alg.not_(has_fd), Errno.EMFILE)], opened)


def control_checks(ctx: Ctx, state: State, op: Op) -> tuple[list[tuple[Bit, int]], Fd]:
    """EBADF for a closed fd, ENOTTY for anything but the control fd: the view fd has no ioctls."""
    alg = ctx.alg
    is_open, entry = fd_at(ctx, proc_at(ctx, state, op.proc), op.args[0])
    not_control = alg.not_(alg.eq(entry.kind, alg.word(FdKind.CONTROL)))
    if ctx.design.is_("view-fd-ioctl", "accept"):
        not_control = alg.and_(not_control, alg.not_(alg.eq(entry.kind, alg.word(FdKind.VIEW))))
    return [(alg.not_(is_open), Errno.EBADF), (not_control, Errno.ENOTTY)], entry


def set_size(ctx: Ctx, state: State, size: Word) -> Result:
    """The view's size changes; pages beyond a smaller size lose their ranges (or EBUSY)."""
    alg = ctx.alg
    new_end = ctx.page(size)
    beyond = any_overlap(alg, state.view.ranges, new_end, last_page(ctx))

    def resize() -> Result:
        _, ranges = reshape(alg, state.view.ranges, new_end, last_page(ctx), empty_range(alg), None)
        view = replace(state.view, size=size, ranges=ranges)
        shrunk = replace(state, view=view)
        shrinking = alg.ult(size, state.view.size)
        zap = not ctx.design.is_("shrink-zap", "keep")
        revoked = cond(alg, shrinking, lambda: revoke(ctx, shrunk, new_end, last_page(ctx), zap), lambda: shrunk)
        return revoked, ctx.ok()

    checks: list[tuple[Bit, int]] = [
        (alg.not_(ctx.aligned(size)), Errno.EINVAL),
        (alg.not_(alg.ult(size, alg.word(LOFF_LIMIT))), Errno.EINVAL),
    ]
    if ctx.design.is_("shrink", "ebusy"):
        checks.append((beyond, Errno.EBUSY))
    return ctx.guarded(state, checks, resize)


def view_set_size(ctx: Ctx, state: State, op: Op) -> Result:
    checks, _ = control_checks(ctx, state, op)
    if ctx.design.is_("sizing", "inode"):
        checks.append((ctx.alg.bit(True), Errno.ENOTTY))
    return ctx.guarded(state, checks, lambda: set_size(ctx, state, op.args[1]))


@dataclass(frozen=True)
class Grant:
    """MAP_FD's permission checks, split by when they apply, and the permissions granted."""

    flag_checks: list[tuple[Bit, int]]  # the flags themselves: before the span checks
    access_checks: list[tuple[Bit, int]]  # against the backing fd's mode and seals: after them
    perms: Word


def granted_perms(ctx: Ctx, perms: Word, mode: Word, seals: Word) -> Grant:
    alg = ctx.alg
    flag_checks: list[tuple[Bit, int]] = [(alg.not_(subset(alg, perms, alg.word(PERM_ALL))), Errno.EINVAL)]
    no_flags = alg.eq(perms, alg.word(0))
    if ctx.design.is_("empty-perms", "einval"):
        flag_checks.append((no_flags, Errno.EINVAL))
    else:
        perms = alg.ite(no_flags, alg.word(PERM_R | PERM_W), perms)
    write_only = alg.and_(has_bits(alg, perms, alg.word(PERM_W)), alg.not_(has_bits(alg, perms, alg.word(PERM_R))))
    if ctx.design.is_("write-only", "einval"):
        flag_checks.append((write_only, Errno.EINVAL))
    else:
        perms = alg.ite(write_only, alg.bor(perms, alg.word(PERM_R)), perms)
    wants_write = has_bits(alg, perms, alg.word(PERM_W))
    sealed = any_bits(alg, seals, alg.word(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
    if ctx.design.is_("map-perm", "refuse"):
        access_checks: list[tuple[Bit, int]] = []
        if not ctx.design.mutated("map-fd-ignores-mode"):
            access_checks.append((alg.and_(wants_write, alg.not_(has_bits(alg, mode, alg.word(PERM_W)))), Errno.EACCES))
        if not ctx.design.mutated("map-fd-ignores-seals"):
            access_checks.append((alg.and_(wants_write, sealed), Errno.EPERM))
        return Grant(flag_checks, access_checks, perms)
    masked = alg.band(perms, alg.bor(mode, alg.word(MASK ^ PERM_W)))
    masked = alg.ite(sealed, without_bits(alg, masked, PERM_W), masked)
    return Grant(flag_checks, [], masked)


def span_checks(ctx: Ctx, offset: Word, size: Word, limit: Word) -> list[tuple[Bit, int]]:
    """Page alignment, no zero size, no wrap-around, and the span inside [0, limit)."""
    alg = ctx.alg
    return [
        (alg.eq(size, alg.word(0)), Errno.EINVAL),
        (alg.not_(alg.and_(ctx.aligned(offset), ctx.aligned(size))), Errno.EINVAL),
        (alg.add_overflows(offset, size), Errno.EINVAL),
        (alg.ult(limit, alg.add(offset, size)), Errno.EINVAL),
    ]


def view_map_fd(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    _, src, fd_offset, size, mem_offset, perms = op.args
    checks, _ = control_checks(ctx, state, op)
    proc = proc_at(ctx, state, op.proc)
    src_open, src_entry = fd_at(ctx, proc, src)
    obj = obj_at(ctx, state, src_entry.obj)
    grant = granted_perms(ctx, perms, src_entry.mode, obj.seals)
    checks += grant.flag_checks
    checks += span_checks(ctx, mem_offset, size, state.view.size)
    checks += [
        (alg.not_(ctx.aligned(fd_offset)), Errno.EINVAL),
        (alg.add_overflows(fd_offset, size), Errno.EINVAL),
        (alg.not_(alg.ult(alg.add(fd_offset, size), alg.word(LOFF_LIMIT))), Errno.EINVAL),
        (alg.not_(src_open), Errno.EBADF),
        (alg.not_(alg.eq(src_entry.kind, alg.word(FdKind.BACKING))), Errno.EINVAL),
    ]
    checks += grant.access_checks
    if ctx.design.is_("truncation", "require-seal"):
        shrinkable = alg.or_(alg.not_(alg.eq(obj.kind, alg.word(ObjKind.MEMFD))),
                             alg.not_(has_bits(alg, obj.seals, alg.word(F_SEAL_SHRINK))))
        checks.append((shrinkable, Errno.EPERM))
    lo, hi = ctx.page(mem_offset), ctx.page(alg.add(mem_offset, size))
    overlapping = any_overlap(alg, state.view.ranges, lo, hi)
    replaces = ctx.design.is_("overlap", "replace")
    if not replaces:
        checks.append((overlapping, Errno.EEXIST))
    delta = alg.sub(ctx.page(fd_offset), lo)
    new_range = Range(alg.bit(True), lo, hi, src_entry.obj, delta, grant.perms)
    ranges = state.view.ranges
    carved_ok: Bit = alg.bit(True)
    if replaces:
        carved_ok, ranges = reshape(alg, ranges, lo, hi, empty_range(alg), None)
    carved = ranges
    inserted, ranges = insert(alg, ranges, new_range, alg.bit(True))
    if replaces and ctx.design.mutated("replace-leaves-hole"):
        ranges = merge(alg, overlapping, carved, ranges)
    checks.append((alg.not_(alg.and_(carved_ok, inserted)), Errno.ENOSPC))

    def mapped() -> Result:
        new_state = replace(state, view=replace(state.view, ranges=ranges))
        if replaces:
            # Replaced pages must not keep the old translation; the model's step is atomic, so no
            # process can observe the moment between the old range and the new one.
            new_state = cond(alg, overlapping, lambda: revoke(ctx, new_state, lo, hi), lambda: new_state)
        revoked = alg.store_range(new_state.revoked, lo, hi, alg.word(0))
        return replace(new_state, revoked=revoked), ctx.ok()

    return ctx.guarded(state, checks, mapped)


def view_unmap_fd(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    _, mem_offset, size = op.args[:3]
    checks, _ = control_checks(ctx, state, op)
    checks += span_checks(ctx, mem_offset, size, state.view.size)
    lo, hi = ctx.page(mem_offset), ctx.page(alg.add(mem_offset, size))
    if ctx.design.is_("unmap-span", "exact"):
        exact = alg.or_(*(alg.and_(r.used, alg.eq(r.lo, lo), alg.eq(r.hi, hi)) for r in state.view.ranges))
        checks.append((alg.not_(exact), Errno.EINVAL))
    ok, ranges = reshape(alg, state.view.ranges, lo, hi, empty_range(alg), None,
                         right_keeps_start=ctx.design.mutated("unmap-split-shifts-offset"))
    checks.append((alg.not_(ok), Errno.ENOMEM))

    def unmapped() -> Result:
        new_state = replace(state, view=replace(state.view, ranges=ranges))
        return revoke(ctx, new_state, lo, hi), ctx.ok()

    return ctx.guarded(state, checks, unmapped)


def view_get_viewfd(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    mode = op.args[1]
    checks, _ = control_checks(ctx, state, op)
    valid_mode = alg.or_(alg.eq(mode, alg.word(MODE_RO)), alg.eq(mode, alg.word(MODE_RW)))
    has_fd, fd = alloc_fd(ctx, state, op.proc)
    checks += [(alg.not_(valid_mode), Errno.EINVAL), (alg.not_(has_fd), Errno.EMFILE)]
    granted_mode = alg.word(MODE_RW) if ctx.design.mutated("viewfd-always-rw") else mode
    entry = Fd(alg.word(FdKind.VIEW), alg.word(0), granted_mode)
    return ctx.guarded(state, checks, lambda: (with_fd(ctx, state, op.proc, fd, entry), ctx.ok(fd)))


def control_closed(ctx: Ctx, state: State) -> State:
    """After the control fd's close: the layout stays, or everything is revoked."""
    alg = ctx.alg
    view = replace(state.view, control_open=alg.bit(False))
    closed = replace(state, view=view)
    if ctx.design.is_("control-close", "keep") and not ctx.design.mutated("control-close-revokes"):
        return closed
    cleared = replace(view, ranges=tuple(empty_range(alg) for _ in view.ranges))
    return revoke(ctx, replace(closed, view=cleared), alg.word(0), last_page(ctx))


def revoke_writable(ctx: Ctx, state: State, obj: Word) -> State:
    """Take away every writable range over obj (the seal-write=revoke design's F_SEAL_WRITE)."""
    alg = ctx.alg
    for i, rng in enumerate(state.view.ranges):
        hit = alg.and_(rng.used, alg.eq(rng.obj, obj), has_bits(alg, rng.perms, alg.word(PERM_W)))
        view = state.view
        cleared = replace(view, ranges=update_at(alg, view.ranges, alg.word(i), empty_range(alg)))
        after = revoke(ctx, replace(state, view=cleared), rng.lo, rng.hi)
        state = merge(alg, hit, after, state)
    return state
