"""Rules for any process's own calls: ioctl, send, close, mmap, munmap, mprotect, mseal, fork."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from memview.model.algebra import (
    MASK,
    Bit,
    Table,
    Word,
    any_bits,
    cond,
    first_match,
    has_bits,
    merge,
    overlap,
    replace,
    subset,
    umax,
    umin,
)
from memview.model.constants import (
    F_SEAL_FUTURE_WRITE,
    F_SEAL_WRITE,
    LOFF_LIMIT,
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
from memview.model.encodings import raw_attrs
from memview.model.ops import Op
from memview.model.queries import alloc_fd, fd_at, first_free, is_raw, obj_at, proc_at, proc_valid
from memview.model.rules_view import control_closed
from memview.model.slots import any_overlap, covered, insert, reshape
from memview.model.state import Fd, Proc, State, Vma, empty_fd, empty_vma
from memview.model.updates import with_fd, with_proc


def ioctl(ctx: Ctx, state: State, op: Op) -> Result:
    # No command number outside MEMVIEW_* means anything on these files: ENOTTY (ioctl(2)).
    is_open, _ = fd_at(ctx, proc_at(ctx, state, op.proc), op.args[0])
    return ctx.guarded(state, [(ctx.alg.not_(is_open), Errno.EBADF)], lambda: (state, ctx.errno(Errno.ENOTTY)))


def send(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    fd, to = op.args[0], op.args[1]
    is_open, entry = fd_at(ctx, proc_at(ctx, state, op.proc), fd)
    has_fd, new_fd = alloc_fd(ctx, state, to)
    passable = alg.eq(entry.kind, alg.word(FdKind.VIEW))
    if ctx.design.is_("delivery", "raw-fds"):
        passable = alg.or_(passable, alg.eq(entry.kind, alg.word(FdKind.BACKING)))
    checks = [
        (alg.not_(is_open), Errno.EBADF),
        (alg.not_(proc_valid(ctx, state, to)), Errno.ESRCH),
        # The seed passes only view fds; passing raw backing fds is today's practice (delivery=raw-fds).
        (alg.not_(passable), Errno.EINVAL),
        (alg.not_(has_fd), Errno.EMFILE),
    ]
    return ctx.guarded(state, checks, lambda: (with_fd(ctx, state, to, new_fd, entry), ctx.ok(new_fd)))


def close(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    is_open, entry = fd_at(ctx, proc_at(ctx, state, op.proc), op.args[0])

    def closed() -> Result:
        after = with_fd(ctx, state, op.proc, op.args[0], empty_fd(alg))
        # The view's control file is released with its last fd (a forked child may hold a copy).
        still_held = alg.or_(*(alg.eq(f.kind, alg.word(FdKind.CONTROL)) for p in after.procs for f in p.fds))
        last_control = alg.and_(alg.eq(entry.kind, alg.word(FdKind.CONTROL)), alg.not_(still_held))
        return cond(alg, last_control, lambda: control_closed(ctx, after), lambda: after), ctx.ok()

    return ctx.guarded(state, [(alg.not_(is_open), Errno.EBADF)], closed)


def length_pages(ctx: Ctx, length: Word) -> tuple[Bit, Word]:
    """(overflows, pages) for a byte length rounded up to pages."""
    alg = ctx.alg
    overflows = alg.add_overflows(length, alg.word(ctx.config.page_size - 1))
    return overflows, ctx.pages_up(length)


def perms_cover(ctx: Ctx, state: State, view_lo: Word, view_hi: Word, prot: Word) -> Bit:
    """A's ranges grant at least prot on every view page of [view_lo, view_hi)."""
    return covered(ctx.alg, state.view.ranges, view_lo, view_hi, lambda r: subset(ctx.alg, prot, r.perms))


@dataclass(frozen=True)
class MappedFile:
    """What an mmap maps: the view or, under delivery=raw-fds, a client's raw backing fd.

    Only the designs with raw mappings ask the questions that concern them (elsewhere `raw` and
    `write_sealed` are the constant false and `driver` the constant true, which the algebra folds
    away), so the seed's formulas are what they were: the symbolic engines' speed is sensitive to
    their shape.
    """

    is_view: Bit
    raw: Bit  # a client's mapping of a raw backing fd
    driver: Bit  # the driver's mmap hook has a say (not over a raw mapping)
    write_sealed: Bit  # a raw mapping of a memfd sealed against writing


def mapped_file(ctx: Ctx, state: State, op: Op, entry: Fd) -> MappedFile:
    alg = ctx.alg
    is_view = alg.eq(entry.kind, alg.word(FdKind.VIEW))
    if not ctx.design.is_("delivery", "raw-fds"):
        return MappedFile(is_view, alg.bit(False), alg.bit(True), alg.bit(False))
    # A's own mappings of its objects stay out of scope, as under the seed: what is judged is
    # what the fds give the processes A hands them to.
    raw = alg.and_(alg.eq(entry.kind, alg.word(FdKind.BACKING)), alg.not_(alg.eq(op.proc, alg.word(0))))
    sealed = any_bits(alg, obj_at(ctx, state, entry.obj).seals, alg.word(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
    return MappedFile(is_view, raw, is_view, alg.and_(raw, sealed))


def mapping_attrs(ctx: Ctx, file: MappedFile, entry: Fd, prot: Word, private: Bit) -> Word:
    """The new mapping's attribute word: its protection, VM_MAYWRITE, private, and a raw fd's object."""
    alg = ctx.alg
    maywrite = alg.or_(private, alg.and_(has_bits(alg, entry.mode, alg.word(PERM_W)), alg.not_(file.write_sealed)))
    attrs = alg.bor(prot, alg.bor(alg.ite(maywrite, alg.word(VMA_MAYWRITE), alg.word(0)),
                                  alg.ite(private, alg.word(VMA_PRIVATE), alg.word(0))))
    if ctx.design.is_("delivery", "raw-fds"):
        attrs = alg.bor(attrs, alg.ite(file.raw, raw_attrs(alg, entry.obj), alg.word(0)))
    return attrs


def file_mmap_checks(ctx: Ctx, state: State, file: MappedFile, mode: Word, prot: Word, private: Bit,
                     view_lo: Word, view_hi: Word) -> list[tuple[Bit, int]]:
    """The file's own mmap: the driver's hook for the view, the kernel's for a raw backing fd."""
    alg = ctx.alg
    wants_shared_write = alg.and_(alg.not_(private), has_bits(alg, prot, alg.word(PERM_W)))
    mode_denies = alg.and_(wants_shared_write, alg.not_(has_bits(alg, mode, alg.word(PERM_W))))
    if ctx.design.mutated("view-mmap-ignores-open-mode"):
        mode_denies = alg.and_(mode_denies, alg.not_(file.is_view))
    checks: list[tuple[Bit, int]] = [
        # The model keeps B's raw mappings shared: a private one cannot write back or outlive
        # anything a shared one cannot, so it adds no attack (docs/semantics.md).
        (alg.and_(file.raw, private), Errno.EINVAL),
        (alg.not_(alg.or_(file.is_view, file.raw)), Errno.ENODEV),
    ]
    if ctx.design.is_("private", "einval"):
        checks.append((private, Errno.EINVAL))
    checks.append((mode_denies, Errno.EACCES))
    # memfd_create(2): a shared writable mapping of a write-sealed memfd is EPERM; a read-only
    # one loses VM_MAYWRITE, so mprotect cannot add PROT_WRITE later.
    checks.append((alg.and_(file.write_sealed, wants_shared_write), Errno.EPERM))
    if ctx.design.is_("beyond-size", "einval"):
        checks.append((alg.and_(file.driver, alg.ult(ctx.page(state.view.size), view_hi)), Errno.EINVAL))
    if ctx.design.is_("mprotect", "strict"):
        beyond = alg.not_(perms_cover(ctx, state, view_lo, view_hi, prot))
        checks.append((alg.and_(file.driver, beyond), Errno.EACCES))
    return checks


def mmap(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    fd, length, prot, flags, offset = op.args[:5]
    proc = proc_at(ctx, state, op.proc)
    is_open, entry = fd_at(ctx, proc, fd)
    file = mapped_file(ctx, state, op, entry)
    private = alg.eq(flags, alg.word(MapFlag.PRIVATE))
    overflows, pages = length_pages(ctx, length)
    view_lo = ctx.page(offset)
    view_hi = alg.add(view_lo, pages)
    lo = proc.next_page
    hi = alg.add(lo, pages)
    vma = Vma(alg.bit(True), lo, hi, alg.sub(view_lo, lo), mapping_attrs(ctx, file, entry, prot, private))
    placed, vmas = insert(alg, proc.vmas, vma, alg.bit(True))
    checks: list[tuple[Bit, int]] = [
        # x86's sys_mmap checks the offset's alignment, then ksys_mmap_pgoff looks the fd up (EBADF),
        # before do_mmap looks at the length and the file range.
        (alg.not_(ctx.aligned(offset)), Errno.EINVAL),
        (alg.not_(is_open), Errno.EBADF),
        (alg.eq(length, alg.word(0)), Errno.EINVAL),
        (alg.not_(alg.or_(private, alg.eq(flags, alg.word(MapFlag.SHARED)))), Errno.EINVAL),
        (alg.not_(subset(alg, prot, alg.word(PERM_ALL))), Errno.EINVAL),
        (overflows, Errno.ENOMEM),
        # do_mmap: the page offset plus the length must not wrap; then get_unmapped_area must find
        # room (ENOMEM); only then file_mmap_ok: the mapped file range must end below
        # MAX_LFS_FILESIZE (2^63).
        (alg.add_overflows(view_lo, pages), Errno.EOVERFLOW),
        (alg.ult(alg.word(USER_VA_END >> ctx.config.page_shift), hi), Errno.ENOMEM),
        (alg.not_(alg.ult(view_hi, alg.word(LOFF_LIMIT >> ctx.config.page_shift))), Errno.EOVERFLOW),
        *file_mmap_checks(ctx, state, file, entry.mode, prot, private, view_lo, view_hi),
        # The model's bound on each process's mappings (like vm.max_map_count).
        (alg.not_(placed), Errno.ENOMEM),
    ]

    def mapped() -> Result:
        # A guard page after each mapping keeps neighbouring mappings apart, as the model never
        # needs to merge them. A new private mapping starts with no private copies of its own.
        fresh_cow = alg.store_range(proc.cow, view_lo, view_hi, alg.word(0))
        mapped_state = with_proc(ctx, state, op.proc, vmas=vmas, next_page=alg.add(hi, alg.word(1)),
                                 cow=alg.ite(private, fresh_cow, proc.cow))
        return mapped_state, ctx.ok(ctx.byte_of(lo))

    return ctx.guarded(state, checks, mapped)


def sealed_in(ctx: Ctx, proc: Proc, lo: Word, hi: Word) -> Bit:
    return any_overlap(ctx.alg, proc.vmas, lo, hi, lambda v: any_bits(ctx.alg, v.attrs, ctx.alg.word(VMA_SEALED)))


def span(ctx: Ctx, addr: Word, length: Word) -> tuple[Bit, Bit, Word, Word]:
    """(unaligned, wraps, lo, hi) for munmap, mprotect and mseal: [lo, hi) in pages.

    wraps is true when addr + length, rounded up to a page, passes 2^64: each caller maps it to
    the errno its man page gives.
    """
    alg = ctx.alg
    overflows, pages = length_pages(ctx, length)
    lo = ctx.page(addr)
    hi = alg.add(lo, pages)
    wraps = alg.or_(overflows, alg.add_overflows(addr, ctx.byte_of(pages)))
    wraps = alg.and_(wraps, alg.not_(alg.eq(length, alg.word(0))))
    return alg.not_(ctx.aligned(addr)), wraps, lo, hi


def beyond_user_space(ctx: Ctx, hi: Word) -> Bit:
    return ctx.alg.ult(ctx.alg.word(USER_VA_END >> ctx.config.page_shift), hi)


def reshaped(ctx: Ctx, state: State, op: Op, proc: Proc, lo: Word, hi: Word,
             middle: Callable[[Vma], Vma] | None, checks: list[tuple[Bit, int]]) -> Result:
    ok, vmas = reshape(ctx.alg, proc.vmas, lo, hi, empty_vma(ctx.alg), middle)
    checks.append((ctx.alg.not_(ok), Errno.ENOMEM))
    # Private copies die with the private mapping that made them (munmap(2)).
    changes = {"vmas": vmas} if middle is not None else {"vmas": vmas, "cow": dropped_private_copies(ctx, proc, lo, hi)}
    return ctx.guarded(state, checks, lambda: (with_proc(ctx, state, op.proc, **changes), ctx.ok()))


def dropped_private_copies(ctx: Ctx, proc: Proc, lo: Word, hi: Word) -> Table:
    """The process's private-copy table without the copies its private mappings hold in [lo, hi)."""
    alg = ctx.alg
    cow = proc.cow
    for vma in proc.vmas:
        private = alg.and_(vma.used, has_bits(alg, vma.attrs, alg.word(VMA_PRIVATE)),
                           overlap(alg, vma.lo, vma.hi, lo, hi))
        view_lo = alg.add(umax(alg, vma.lo, lo), vma.delta)
        view_hi = alg.add(umin(alg, vma.hi, hi), vma.delta)
        cow = merge(alg, private, alg.store_range(cow, view_lo, view_hi, alg.word(0)), cow)
    return cow


def munmap(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, length = op.args[:2]
    proc = proc_at(ctx, state, op.proc)
    unaligned, wraps, lo, hi = span(ctx, addr, length)
    # munmap(2): EINVAL for an unaligned address, a zero length, or a range "too large".
    checks: list[tuple[Bit, int]] = [
        (unaligned, Errno.EINVAL),
        (alg.eq(length, alg.word(0)), Errno.EINVAL),
        (alg.or_(wraps, beyond_user_space(ctx, hi)), Errno.EINVAL),
        (sealed_in(ctx, proc, lo, hi), Errno.EPERM),
    ]
    return reshaped(ctx, state, op, proc, lo, hi, None, checks)


def mprotect(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, length, prot = op.args[:3]
    proc = proc_at(ctx, state, op.proc)
    unaligned, wraps, lo, hi = span(ctx, addr, length)
    # The order of do_mprotect_pkey: alignment, zero length (success), wrap-around, prot bits.
    checks: list[tuple[Bit, int]] = [
        (wraps, Errno.ENOMEM),
        (alg.not_(subset(alg, prot, alg.word(PERM_ALL))), Errno.EINVAL),
        (alg.not_(covered(alg, proc.vmas, lo, hi)), Errno.ENOMEM),
        (sealed_in(ctx, proc, lo, hi), Errno.EPERM),
    ]
    wants_write = has_bits(alg, prot, alg.word(PERM_W))
    cannot_write = any_overlap(alg, proc.vmas, lo, hi,
                               lambda v: alg.not_(any_bits(alg, v.attrs, alg.word(VMA_MAYWRITE))))
    checks.append((alg.and_(wants_write, cannot_write), Errno.EACCES))
    if ctx.design.is_("mprotect", "strict"):
        beyond = alg.or_(*(
            alg.and_(v.used, *((alg.not_(is_raw(ctx, v)),) if ctx.design.is_("delivery", "raw-fds") else ()),
                     overlap(alg, v.lo, v.hi, lo, hi),
                     alg.not_(perms_cover(ctx, state, alg.add(umax(alg, v.lo, lo), v.delta),
                                          alg.add(umin(alg, v.hi, hi), v.delta), prot)))
            for v in proc.vmas
        ))
        checks.append((beyond, Errno.EACCES))

    def protect(v: Vma) -> Vma:
        return replace(v, attrs=alg.bor(alg.band(v.attrs, alg.word(MASK ^ PERM_ALL)), prot))

    return first_match(alg, [
        (unaligned, lambda: (state, ctx.errno(Errno.EINVAL))),
        (alg.eq(length, alg.word(0)), lambda: (state, ctx.ok())),
    ], lambda: reshaped(ctx, state, op, proc, lo, hi, protect, checks))


def mseal(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    addr, length = op.args[:2]
    proc = proc_at(ctx, state, op.proc)
    unaligned, wraps, lo, hi = span(ctx, addr, length)
    # Documentation/userspace-api/mseal.rst: EINVAL for alignment and overflow, zero length is
    # success, ENOMEM for a range that is not fully mapped.
    checks: list[tuple[Bit, int]] = [
        (wraps, Errno.EINVAL),
        (alg.not_(covered(alg, proc.vmas, lo, hi)), Errno.ENOMEM),
    ]
    if ctx.design.is_("mseal", "refuse"):
        checks.append((alg.bit(True), Errno.EPERM))

    def seal(v: Vma) -> Vma:
        return replace(v, attrs=alg.bor(v.attrs, alg.word(VMA_SEALED)))

    return first_match(alg, [
        (unaligned, lambda: (state, ctx.errno(Errno.EINVAL))),
        (alg.eq(length, alg.word(0)), lambda: (state, ctx.ok())),
    ], lambda: reshaped(ctx, state, op, proc, lo, hi, seal, checks))


def fork(ctx: Ctx, state: State, op: Op) -> Result:
    alg = ctx.alg
    parent = proc_at(ctx, state, op.proc)
    has_slot, child = first_free(alg, [alg.not_(p.alive) for p in state.procs])
    # Shared file mappings are not copied page by page at fork: the child faults its own
    # translations in. Private copies are the child's too (copy-on-write of copy-on-write).
    empty = alg.table(0)
    inherited = {f.name: getattr(parent, f.name) for f in dataclasses.fields(parent)}
    inherited.update(alive=alg.bit(True), pte=empty, pte_page=empty)
    return ctx.guarded(state, [(alg.not_(has_slot), Errno.EAGAIN)],
                       lambda: (with_proc(ctx, state, child, **inherited), ctx.ok(child)))
