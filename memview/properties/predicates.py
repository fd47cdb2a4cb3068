"""The executable predicates of the property catalogue, over the algebra.

Each step predicate judges one transition (pre-state, operation, observation, post-state) and is
written against the same algebra as the rules, so explicit search evaluates it on values and the
symbolic engines on z3 terms. Predicates ask memview.model.queries what the layout says; they never
call a rule: a property states what must be true, the rules are what the design does.
"""

from __future__ import annotations

from memview.model.algebra import (
    MASK,
    Bit,
    any_bits,
    equal,
    has_bits,
    merge,
    subset,
    umin,
)
from memview.model.constants import (
    F_SEAL_FUTURE_WRITE,
    F_SEAL_GROW,
    F_SEAL_SHRINK,
    F_SEAL_WRITE,
    PERM_W,
    PERM_X,
    VMA_MAYWRITE,
    VMA_PRIVATE,
    FdKind,
    ObjKind,
    Outcome,
    SiCode,
    Signal,
)
from memview.model.context import Ctx
from memview.model.design import FAULT_SIGNALS
from memview.model.ops import OPS_BY_NAME, Op
from memview.model.queries import (
    Place,
    backing_span,
    fd_at,
    obj_at,
    place_of,
    proc_at,
    range_at,
    readable_bits,
)
from memview.model.state import Obs, State
from memview.properties.two_run import SecondRun


def is_op(ctx: Ctx, op: Op, *names: str) -> Bit:
    alg = ctx.alg
    if isinstance(op.code, int):
        return alg.bit(any(OPS_BY_NAME[n].code == op.code for n in names))
    return alg.or_(*(alg.eq(op.code, alg.word(OPS_BY_NAME[n].code)) for n in names))


def succeeded(ctx: Ctx, obs: Obs) -> Bit:
    return ctx.alg.eq(obs.outcome, ctx.alg.word(Outcome.OK))


def by_client(ctx: Ctx, op: Op) -> Bit:
    return ctx.alg.not_(ctx.alg.eq(op.proc, ctx.alg.word(0)))


def access_place(ctx: Ctx, pre: State, op: Op) -> Place:
    return place_of(ctx, pre, proc_at(ctx, pre, op.proc), op.args[0])


def implies(ctx: Ctx, a: Bit, b: Bit) -> Bit:
    return ctx.alg.or_(ctx.alg.not_(a), b)


def successful_access(ctx: Ctx, op: Op, obs: Obs) -> Bit:
    return ctx.alg.and_(is_op(ctx, op, "access"), succeeded(ctx, obs))


# --- AND ----------------------------------------------------------------------------------------


def and_rule(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    place = access_place(ctx, pre, op)
    kind = op.args[1]
    granted = alg.and_(place.mapped, has_bits(alg, place.vma.attrs, kind), place.configured,
                       has_bits(alg, place.rng.perms, kind))
    return implies(ctx, successful_access(ctx, op, obs), granted)


# --- REVOKE -------------------------------------------------------------------------------------


def revoke(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    place = access_place(ctx, pre, op)
    not_revoked = alg.eq(alg.select(pre.revoked, place.view_page), alg.word(0))
    return implies(ctx, successful_access(ctx, op, obs), alg.and_(place.configured, not_revoked))


# --- XLATE --------------------------------------------------------------------------------------


def xlate(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    place = access_place(ctx, pre, op)
    kind, byte = op.args[1], op.args[2]
    obj_index = place.rng.obj
    backing = obj_at(ctx, pre, obj_index)
    is_write = alg.eq(kind, alg.word(PERM_W))
    private = has_bits(alg, place.vma.attrs, alg.word(VMA_PRIVATE))
    proc = proc_at(ctx, pre, op.proc)
    expected_read = alg.ite(place.private_copy, alg.select(proc.cow_data, place.view_byte),
                            alg.select(backing.data, place.backing_byte))
    read_ok = alg.eq(obs.value, expected_read)
    # A shared write changes exactly that byte of that object; a private write changes no object.
    objects_after = []
    for i, (before, after) in enumerate(zip(pre.objs, post.objs, strict=True)):
        target = alg.and_(alg.not_(private), alg.eq(obj_index, alg.word(i)))
        expected = alg.ite(target, alg.store(before.data, place.backing_byte, byte), before.data)
        objects_after.append(alg.table_eq(after.data, expected))
    write_ok = alg.and_(*objects_after)
    return implies(ctx, successful_access(ctx, op, obs), alg.ite(is_write, write_ok, read_ok))


# --- NOESC --------------------------------------------------------------------------------------


def noesc(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    place = access_place(ctx, pre, op)
    kind = op.args[1]
    shared_write = alg.and_(alg.eq(kind, alg.word(PERM_W)),
                            alg.not_(has_bits(alg, place.vma.attrs, alg.word(VMA_PRIVATE))))
    access_within = alg.and_(
        place.configured,
        has_bits(alg, place.rng.perms, kind),
        implies(ctx, shared_write, has_bits(alg, place.vma.attrs, alg.word(VMA_MAYWRITE))),
    )
    access_ok = implies(ctx, alg.and_(by_client(ctx, op), successful_access(ctx, op, obs)), access_within)
    # No client mapping may carry PROT_WRITE on a shared mapping without VM_MAYWRITE.
    mappings_ok = []
    for index, proc in enumerate(post.procs):
        if index == 0:
            continue
        for vma in proc.vmas:
            writable_shared = alg.and_(vma.used, has_bits(alg, vma.attrs, alg.word(PERM_W)),
                                       alg.not_(has_bits(alg, vma.attrs, alg.word(VMA_PRIVATE))))
            mappings_ok.append(implies(ctx, writable_shared, has_bits(alg, vma.attrs, alg.word(VMA_MAYWRITE))))
    return alg.and_(access_ok, *mappings_ok)


# --- CAP ----------------------------------------------------------------------------------------

# Everything a process could try through a view fd besides mmap, close and passing it on.
THROUGH_VIEW_FD = ("view_set_size", "view_map_fd", "view_unmap_fd", "view_get_viewfd", "ioctl", "pwrite",
                   "ftruncate", "seal", "reopen")


def cap(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    is_open, entry = fd_at(ctx, proc_at(ctx, pre, op.proc), op.args[0])
    through_view = alg.and_(is_op(ctx, op, *THROUGH_VIEW_FD), is_open, alg.eq(entry.kind, alg.word(FdKind.VIEW)))
    refused = alg.and_(alg.eq(obs.outcome, alg.word(Outcome.ERRNO)), equal(alg, pre, post))
    return implies(ctx, through_view, refused)


# --- INTEG --------------------------------------------------------------------------------------


def integ(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    place = access_place(ctx, pre, op)
    through_view = alg.and_(
        is_op(ctx, op, "access"),
        succeeded(ctx, obs),
        alg.eq(op.args[1], alg.word(PERM_W)),
        alg.not_(has_bits(alg, place.vma.attrs, alg.word(VMA_PRIVATE))),
        place.configured,
        has_bits(alg, place.rng.perms, alg.word(PERM_W)),
        alg.eq(alg.select(pre.revoked, place.view_page), alg.word(0)),
    )
    is_open, entry = fd_at(ctx, proc_at(ctx, pre, op.proc), op.args[0])
    through_fd = alg.and_(
        is_op(ctx, op, "pwrite", "ftruncate"),
        succeeded(ctx, obs),
        is_open,
        alg.eq(entry.kind, alg.word(FdKind.BACKING)),
        has_bits(alg, entry.mode, alg.word(PERM_W)),
    )
    clauses = []
    for i, (before, after) in enumerate(zip(pre.objs, post.objs, strict=True)):
        changed = alg.not_(alg.table_eq(before.data, after.data))
        allowed = alg.or_(alg.and_(through_view, alg.eq(place.rng.obj, alg.word(i))),
                          alg.and_(through_fd, alg.eq(entry.obj, alg.word(i))))
        clauses.append(implies(ctx, changed, allowed))
    return alg.and_(*clauses)


# --- MAPCHECK -----------------------------------------------------------------------------------


def mapcheck(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    _, src_entry = fd_at(ctx, proc_at(ctx, pre, op.proc), op.args[1])
    backing = obj_at(ctx, pre, src_entry.obj)
    _, new_range = range_at(ctx, post, ctx.page(op.args[4]))
    write_sealed = any_bits(alg, backing.seals, alg.word(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
    within = alg.and_(
        # Executing needs only read access to the file, as for mmap(2) PROT_EXEC.
        subset(alg, new_range.perms, alg.bor(src_entry.mode, alg.word(PERM_X))),
        implies(ctx, write_sealed, alg.not_(has_bits(alg, new_range.perms, alg.word(PERM_W)))),
    )
    return implies(ctx, alg.and_(is_op(ctx, op, "view_map_fd"), succeeded(ctx, obs)), within)


# --- LIFE ---------------------------------------------------------------------------------------


def life(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    _, entry = fd_at(ctx, proc_at(ctx, pre, op.proc), op.args[0])
    mappings_kept = alg.and_(*(equal(alg, a.vmas, b.vmas) for a, b in zip(pre.procs, post.procs, strict=True)))
    layout_kept = equal(alg, pre.view.ranges, post.view.ranges)
    was_control = alg.eq(entry.kind, alg.word(FdKind.CONTROL))
    all_revoked = alg.and_(*(alg.not_(r.used) for r in post.view.ranges))
    no_new_access = alg.or_(layout_kept, alg.and_(was_control, all_revoked))
    return implies(ctx, is_op(ctx, op, "close"), alg.and_(mappings_kept, no_new_access))


# --- FAULT --------------------------------------------------------------------------------------


def fault(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    place = access_place(ctx, pre, op)
    kind = op.args[1]
    backing = obj_at(ctx, pre, place.rng.obj)

    def named(decision: str) -> Obs:
        return ctx.signal(*FAULT_SIGNALS[decision, ctx.design[decision]])

    sigbus = ctx.signal(Signal.SIGBUS, SiCode.BUS_ADRERR)
    page_start = alg.sub(place.backing_byte, ctx.in_page(place.backing_byte))
    # Only a mapping of the view has a driver behind it; a raw backing fd's mapping (delivery=raw-fds)
    # faults only on its prot and past its object's end, as any mmap(2) of a file.
    def view(cause: Bit) -> Bit:
        return alg.and_(alg.not_(place.raw), cause) if ctx.design.is_("delivery", "raw-fds") else cause

    causes = [
        (alg.not_(place.mapped), ctx.signal(Signal.SIGSEGV, SiCode.SEGV_MAPERR)),
        (alg.not_(has_bits(alg, place.vma.attrs, kind)), ctx.signal(Signal.SIGSEGV, SiCode.SEGV_ACCERR)),
        (view(alg.not_(alg.ult(place.view_page, ctx.page(pre.view.size)))), sigbus),
        (view(alg.not_(place.configured)), named("unconfigured")),
        (view(alg.not_(has_bits(alg, place.rng.perms, kind))), named("denied")),
        (alg.not_(alg.ult(page_start, backing.size)), sigbus),
    ]
    must_fault = alg.or_(*(cause for cause, _ in causes))
    expected = causes[-1][1]
    for cause, signal in reversed(causes[:-1]):
        expected = merge(alg, cause, signal, expected)
    raised = alg.eq(obs.outcome, alg.word(Outcome.SIGNAL))
    right_signal = alg.and_(raised, alg.eq(obs.value, expected.value), alg.eq(obs.code, expected.code))
    # A fault with no cause is as wrong as an access that should have faulted and did not.
    judged = alg.ite(must_fault, right_signal, alg.not_(raised))
    # An errno means no access happened (a dead process, or not a kind of access at all).
    performed = alg.and_(is_op(ctx, op, "access"), alg.not_(alg.eq(obs.outcome, alg.word(Outcome.ERRNO))))
    return implies(ctx, performed, judged)


def equal_below(ctx: Ctx, a: object, b: object, n: object) -> Bit:
    """Two tables agree on every key below n."""
    alg = ctx.alg
    top, zero = alg.word(MASK), alg.word(0)
    return alg.table_eq(alg.paste(b, n, top, a, zero), alg.paste(a, n, top, a, zero))


# --- SEAL ---------------------------------------------------------------------------------------


def seal(ctx: Ctx, pre: State, op: Op, obs: Obs, post: State) -> Bit:
    alg = ctx.alg
    clauses = []
    for before, after in zip(pre.objs, post.objs, strict=True):
        memfd = alg.and_(before.exists, alg.eq(before.kind, alg.word(ObjKind.MEMFD)))
        seals = before.seals
        clauses += [
            # Truncation is governed by SHRINK and GROW, not WRITE: compare the bytes both sizes keep.
            implies(ctx, alg.and_(memfd, has_bits(alg, seals, alg.word(F_SEAL_WRITE))),
                    equal_below(ctx, before.data, after.data, umin(alg, before.size, after.size))),
            implies(ctx, alg.and_(memfd, has_bits(alg, seals, alg.word(F_SEAL_SHRINK))),
                    alg.not_(alg.ult(after.size, before.size))),
            implies(ctx, alg.and_(memfd, has_bits(alg, seals, alg.word(F_SEAL_GROW))),
                    alg.not_(alg.ult(before.size, after.size))),
        ]
    return alg.and_(*clauses)


# --- ISOL (two runs) ----------------------------------------------------------------------------


def readable_spans(ctx: Ctx, state: State, obj_index: int) -> list[tuple[int, int]]:
    """Byte spans of a (concrete) object that some range lets a client load or execute."""
    spans = []
    for rng in state.view.ranges:
        if rng.used and rng.obj == obj_index and rng.perms & readable_bits():
            spans.append(backing_span(ctx, rng))
    return sorted(spans)


def readable_somewhere(ctx: Ctx, state: State, obj_index: int, byte: object) -> Bit:
    """Some range lets a client load or execute this byte of the object: the algebra form of
    readable_spans, for the bmc engine's symbolic perturbation."""
    alg = ctx.alg
    hits = []
    for rng in state.view.ranges:
        lo, hi = backing_span(ctx, rng)
        hits.append(alg.and_(rng.used, alg.eq(rng.obj, alg.word(obj_index)),
                             any_bits(alg, rng.perms, alg.word(readable_bits())),
                             alg.ule(lo, byte), alg.ult(byte, hi)))
    return alg.or_(*hits)


def unreadable_spans(ctx: Ctx, state: State, obj_index: int) -> list[tuple[int, int]]:
    """Byte spans of a (concrete) object that no range lets a client load or execute: the rest of
    its 2**64 offsets."""
    spans = []
    cursor = 0
    for lo, hi in [*readable_spans(ctx, state, obj_index), (1 << 64, 1 << 64)]:
        if cursor < lo:
            spans.append((cursor, min(lo, 1 << 64)))
        cursor = max(cursor, hi)
    return spans


def isol(ctx: Ctx, op: Op, obs_a: Obs, obs_b: Obs) -> Bit:
    """Two runs that differ only in unreadable bytes show a client the same observation."""
    return implies(ctx, by_client(ctx, op), equal(ctx.alg, obs_a, obs_b))


# The value every hidden byte takes in ISOL's concrete second run: any value differs from some
# byte, and 0xA5 differs from the zero of a hole and from every byte the scopes write.
ISOL_SECOND_RUN = SecondRun(hidden_spans=unreadable_spans, visible=readable_somewhere, agree=isol, value=0xA5,
                            clients_only=True)
