"""Rules for backing objects: memfd_create, file creation, reopen, ftruncate, pwrite, F_ADD_SEALS."""

from __future__ import annotations

from memview.model.algebra import MASK, Bit, Word, any_bits, cond, has_bits, subset, umin
from memview.model.constants import (
    F_SEAL_EXEC,
    F_SEAL_EXEC_IMPLIES,
    F_SEAL_FUTURE_WRITE,
    F_SEAL_GROW,
    F_SEAL_SEAL,
    F_SEAL_SHRINK,
    F_SEAL_WRITE,
    LOFF_LIMIT,
    MODE_RO,
    MODE_RW,
    PERM_W,
    SEALS_ALL,
    VMA_MAYWRITE,
    VMA_RAW,
    Errno,
    FdKind,
    ObjKind,
)
from memview.model.context import Ctx, Result
from memview.model.encodings import raw_object
from memview.model.ops import Op
from memview.model.queries import alloc_fd, fd_at, first_free, obj_at, proc_at
from memview.model.rules_view import revoke_writable, set_size
from memview.model.state import Fd, Obj, State
from memview.model.updates import with_fd, with_obj


def create(ctx: Ctx, state: State, op: Op, kind: ObjKind, seals: Word) -> Result:
    alg = ctx.alg
    has_obj, index = first_free(alg, [alg.not_(o.exists) for o in state.objs])
    has_fd, fd = alloc_fd(ctx, state, op.proc)

    def created() -> Result:
        created_state = with_obj(ctx, state, index, exists=alg.bit(True), kind=alg.word(kind), size=alg.word(0),
                                 seals=seals, data=alg.table(0))
        entry = Fd(alg.word(FdKind.BACKING), index, alg.word(MODE_RW))
        return with_fd(ctx, created_state, op.proc, fd, entry), ctx.ok(fd)

    # Object slots are never reclaimed: the bound is on objects ever created (ENFILE).
    return ctx.guarded(state, [(alg.not_(has_obj), Errno.ENFILE), (alg.not_(has_fd), Errno.EMFILE)], created)


def memfd_create(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    # memfd_create(2): without MFD_ALLOW_SEALING the memfd starts with F_SEAL_SEAL set.
    seals = alg.ite(alg.eq(op.args[0], alg.word(0)), alg.word(F_SEAL_SEAL), alg.word(0))
    return create(ctx, state, op, ObjKind.MEMFD, seals)


def file_create(ctx: Ctx, state: State, op: Op) -> Result:
    return create(ctx, state, op, ObjKind.FILE, ctx.alg.word(0))


def backing_fd(ctx: Ctx, state: State, op: Op) -> tuple[Bit, Fd, Obj]:
    is_open, entry = fd_at(ctx, proc_at(ctx, state, op.proc), op.args[0])
    return is_open, entry, obj_at(ctx, state, entry.obj)


def reopen(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    is_open, entry, _ = backing_fd(ctx, state, op)
    mode = op.args[1]
    has_fd, fd = alloc_fd(ctx, state, op.proc)
    checks = [
        (alg.not_(is_open), Errno.EBADF),
        (alg.not_(alg.eq(entry.kind, alg.word(FdKind.BACKING))), Errno.EINVAL),
        (alg.not_(alg.or_(alg.eq(mode, alg.word(MODE_RO)), alg.eq(mode, alg.word(MODE_RW)))), Errno.EINVAL),
        (alg.not_(has_fd), Errno.EMFILE),
    ]
    new_entry = Fd(entry.kind, entry.obj, mode)
    return ctx.guarded(state, checks, lambda: (with_fd(ctx, state, op.proc, fd, new_entry), ctx.ok(fd)))


def truncate_backing(ctx: Ctx, state: State, op: Op, entry: Fd, obj: Obj) -> Result:
    alg = ctx.alg
    size = op.args[1]
    shrinking = alg.ult(size, obj.size)
    growing = alg.ult(obj.size, size)
    checks = [
        (alg.not_(has_bits(alg, entry.mode, alg.word(PERM_W))), Errno.EINVAL),
        (alg.and_(shrinking, has_bits(alg, obj.seals, alg.word(F_SEAL_SHRINK))), Errno.EPERM),
        (alg.and_(growing, has_bits(alg, obj.seals, alg.word(F_SEAL_GROW))), Errno.EPERM),
    ]

    def truncated() -> Result:
        # Bytes past the new end are gone, and an extended part reads as zeros (truncate(2)); on a
        # regular file that includes bytes a mapping wrote beyond the old end in its last page.
        # shmem keeps those when a memfd grows (measured on Linux 6.18: shmem_setattr only
        # truncates the page cache when the size does not grow).
        data = alg.store_range(obj.data, umin(alg, size, obj.size), alg.word(MASK), alg.word(0))
        data = alg.ite(alg.and_(growing, is_memfd(ctx, obj)), obj.data, data)
        return with_obj(ctx, state, entry.obj, size=size, data=data), ctx.ok()

    return ctx.guarded(state, checks, truncated)


def is_memfd(ctx: Ctx, obj: Obj) -> Bit:
    return ctx.alg.eq(obj.kind, ctx.alg.word(ObjKind.MEMFD))


def ftruncate(ctx: Ctx, state: State, op: Op) -> Result:
    """ftruncate on the control fd sizes the view (if the design allows), on a backing fd the object."""
    alg = ctx.alg
    is_open, entry, obj = backing_fd(ctx, state, op)
    is_control = alg.eq(entry.kind, alg.word(FdKind.CONTROL))
    is_backing = alg.eq(entry.kind, alg.word(FdKind.BACKING))
    sizing_by_ftruncate = ctx.design.is_("sizing", "inode")

    def on_control() -> Result:
        if sizing_by_ftruncate:
            return set_size(ctx, state, op.args[1])
        return state, ctx.errno(Errno.EINVAL)  # ftruncate(2): EINVAL, not a regular file

    def on_other() -> Result:
        return cond(alg, is_backing, lambda: truncate_backing(ctx, state, op, entry, obj),
                    lambda: (state, ctx.errno(Errno.EINVAL)))

    # do_sys_ftruncate refuses a negative length before it looks the fd up.
    checks = [(alg.not_(alg.ult(op.args[1], alg.word(LOFF_LIMIT))), Errno.EINVAL), (alg.not_(is_open), Errno.EBADF)]
    return ctx.guarded(state, checks, lambda: cond(alg, is_control, on_control, on_other))


def pwrite(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    is_open, entry, obj = backing_fd(ctx, state, op)
    offset, byte = op.args[1], op.args[2]
    end = alg.add(offset, alg.word(1))
    growing = alg.ult(obj.size, end)
    # ksys_pwrite64 refuses a negative offset before it looks the fd up; vfs_write then wants
    # FMODE_WRITE (EBADF) before a file that can be written at all (EINVAL).
    checks = [
        (alg.not_(alg.ult(offset, alg.word(LOFF_LIMIT))), Errno.EINVAL),
        (alg.not_(is_open), Errno.EBADF),
        (alg.not_(has_bits(alg, entry.mode, alg.word(PERM_W))), Errno.EBADF),
        (alg.not_(alg.eq(entry.kind, alg.word(FdKind.BACKING))), Errno.EINVAL),
        (alg.ult(alg.word(0xFF), byte), Errno.EINVAL),
        # rw_verify_area: a negative loff_t, or one the write's end would overflow, is EINVAL.
        (alg.not_(alg.ult(offset, alg.word(LOFF_LIMIT - 1))), Errno.EINVAL),
        (any_bits(alg, obj.seals, alg.word(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)), Errno.EPERM),
        (alg.and_(growing, has_bits(alg, obj.seals, alg.word(F_SEAL_GROW))), Errno.EPERM),
    ]

    def written() -> Result:
        size = alg.ite(growing, end, obj.size)
        # The gap a write past the end of a file leaves reads as zeros (pwrite(2), lseek(2) holes),
        # whatever a mapping may have left in the last page beyond the old end; a memfd keeps those
        # bytes (measured, as for ftruncate).
        zeroed = alg.and_(growing, alg.not_(is_memfd(ctx, obj)))
        data = alg.ite(zeroed, alg.store_range(obj.data, obj.size, alg.word(MASK), alg.word(0)), obj.data)
        return with_obj(ctx, state, entry.obj, size=size, data=alg.store(data, offset, byte)), ctx.ok(1)

    return ctx.guarded(state, checks, written)


def seal(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    is_open, entry, obj = backing_fd(ctx, state, op)
    requested = op.args[1]
    implied = alg.ite(has_bits(alg, requested, alg.word(F_SEAL_EXEC)), alg.word(F_SEAL_EXEC_IMPLIES), alg.word(0))
    seals = alg.bor(requested, implied)
    adds_write = has_bits(alg, seals, alg.word(F_SEAL_WRITE))
    writable_range = alg.or_(
        *(
            alg.and_(r.used, alg.eq(r.obj, entry.obj), has_bits(alg, r.perms, alg.word(PERM_W)))
            for r in state.view.ranges
        )
    )
    # memfd_add_seals' order: FMODE_WRITE, unknown seals, a file that cannot be sealed, F_SEAL_SEAL.
    checks = [
        (alg.not_(is_open), Errno.EBADF),
        (alg.not_(has_bits(alg, entry.mode, alg.word(PERM_W))), Errno.EPERM),
        (alg.not_(subset(alg, requested, alg.word(SEALS_ALL))), Errno.EINVAL),
        (alg.not_(alg.eq(entry.kind, alg.word(FdKind.BACKING))), Errno.EINVAL),
        (alg.not_(alg.eq(obj.kind, alg.word(ObjKind.MEMFD))), Errno.EINVAL),
        (has_bits(alg, obj.seals, alg.word(F_SEAL_SEAL)), Errno.EPERM),
    ]
    if ctx.design.is_("delivery", "raw-fds"):
        # memfd_add_seals: F_SEAL_WRITE is EBUSY while a shared mapping that may write exists, and
        # a client's raw mapping is one; no driver stands between it and the kernel.
        raw_writable = alg.or_(*(
            alg.and_(v.used, has_bits(alg, v.attrs, alg.word(VMA_RAW | VMA_MAYWRITE)),
                     alg.eq(raw_object(alg, v), entry.obj))
            for p in state.procs for v in p.vmas
        ))
        checks.append((alg.and_(adds_write, raw_writable), Errno.EBUSY))
    revoke_first = ctx.design.is_("seal-write", "revoke")
    if not revoke_first and not ctx.design.mutated("seal-write-ignores-view"):
        checks.append((alg.and_(adds_write, writable_range), Errno.EBUSY))

    def sealed() -> Result:
        base = state
        if revoke_first:
            base = cond(alg, alg.and_(adds_write, writable_range), lambda: revoke_writable(ctx, state, entry.obj),
                        lambda: state)
        current = obj_at(ctx, base, entry.obj)
        return with_obj(ctx, base, entry.obj, seals=alg.bor(current.seals, seals)), ctx.ok()

    return ctx.guarded(state, checks, sealed)
