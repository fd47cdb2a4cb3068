"""Every variant of every decision (docs/semantics.md §4), told apart by a concrete scenario.

SCENARIOS pairs each decision with action sequences that give different observations or states
under each of its variants; one parametrized test runs every (decision, variant) pair against its
literal expectation, another checks that a scenario's expectations differ between every two
variants, and test_every_variant_has_a_scenario fails when DECISIONS gains a decision or variant
that SCENARIOS does not cover. Detailed tests below follow the §4 text of single variants
(replace, control-close with a forked child, map-perm mask, private cow, truncation sigbus, mseal
allow, seal-write revoke).

Sizes are small: page_size 4096, a view of 4 pages, memfds of 4 pages whose page k holds byte
0x11 + k at its first byte (so a read of page k's first byte shows "ok 17" + k). A's control fd
is 0 and its first memfd 1; a client's first view fd is 0. Process 0 is A, 1 and 2 are B1 and
B2, 3 is the fork slot. Sim, standard() and this numbering are shared with test_errnos.py in
scenario.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from scenario import (
    ACCERR,
    B1,
    B2,
    BASE,
    BFD,
    CHILD,
    CTL,
    MAPERR,
    MEMFD,
    OK,
    SIGBUS,
    A,
    P,
    Sim,
    first_byte,
    standard,
)

from memview.model.config import Config
from memview.model.constants import (
    F_SEAL_SEAL,
    F_SEAL_WRITE,
    PERM_R,
    PERM_W,
    PERM_X,
    VMA_SEALED,
    FdKind,
)
from memview.model.design import DECISIONS, DECISIONS_BY_NAME, SEED

RW = PERM_R | PERM_W
NEG1 = (1 << 64) - 1  # a range delta of -1 page
OK_BASE = f"ok {BASE:#x}"


def ok_addr(page: int) -> str:
    return f"ok {BASE + page * P:#x}"


def ok_byte(page: int) -> str:
    return f"ok {first_byte(page)}"


# ------------------------------------------------------------------------------------ scenarios


def sizing(v: str) -> tuple[object, ...]:
    """§4.1: the size ioctl and ftruncate on the control fd."""
    s = Sim({"sizing": v})
    s.ok("view_open")
    return (s.run("view_set_size", fd=CTL, size=4 * P), s.run("ftruncate", fd=CTL, size=8 * P),
            s.state.view.size)


def overlap(v: str) -> tuple[object, ...]:
    """§4.2: B1 caches page 1 of memfd A, then A maps memfd B's page 0 over view page 1."""
    s = standard({"overlap": v})
    other = s.memfd(1)
    assert s.map_fd(MEMFD, 0, 2) == OK
    assert s.mmap(B1) == OK_BASE
    first = s.read(B1, BASE + P)
    got = s.map_fd(other, 1, 1, fd_page=0)
    return (first, got, s.read(B1, BASE + P), s.read(B1, BASE), s.ranges())


def overlap_slots(v: str) -> tuple[object, ...]:
    """§2.3 check 19: under replace, free slots are counted after carving; Config(ranges=1)."""
    s = standard({"overlap": v}, Config(ranges=1))
    assert s.map_fd(MEMFD, 0, 3) == OK
    exact = s.map_fd(MEMFD, 0, 3, perms="r")  # the same span: carving frees the only slot
    inner = s.map_fd(MEMFD, 1, 1, perms="r")  # would leave two pieces and the new range
    return exact, inner, s.ranges()


def unmap_span(v: str) -> tuple[object, ...]:
    """§4.3: UNMAP_FD of the middle of a range, then of a hole."""
    s = standard({"unmap-span": v})
    assert s.map_fd(MEMFD, 0, 3) == OK
    assert s.mmap(B1) == OK_BASE
    assert [s.read(B1, BASE + k * P) for k in range(3)] == [ok_byte(0), ok_byte(1), ok_byte(2)]
    middle = s.run("view_unmap_fd", fd=CTL, mem_offset=P, size=P)
    reads = tuple(s.read(B1, BASE + k * P) for k in range(3))
    hole = s.run("view_unmap_fd", fd=CTL, mem_offset=3 * P, size=P)
    revoked_hole = s.state.revoked.get(3)
    return middle, reads, hole, revoked_hole, s.ranges()


def unconfigured(v: str) -> tuple[object, ...]:
    """§4.4: an uncached page inside the view with no range; past the view size check 3 comes first;
    a cached page that UNMAP_FD revoked is uncached again."""
    s = standard({"unconfigured": v})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1, 8, prot="rwx") == OK_BASE  # [beyond-size=allow]
    hole = (s.read(B1, BASE + 2 * P), s.write(B1, BASE + 2 * P + 5, 1), s.exec_(B1, BASE + 3 * P + 4095))
    past = s.read(B1, BASE + 5 * P)
    cached = s.read(B1, BASE)
    assert s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=P) == OK
    return hole, past, cached, s.read(B1, BASE)


def denied(v: str) -> tuple[object, ...]:
    """§4.5: range perms refuse what the vma's prot allows; a vma refusal is SEGV_ACCERR always."""
    s = standard({"denied": v})
    assert s.map_fd(MEMFD, 0, 1, perms="r") == OK
    assert s.map_fd(MEMFD, 1, 1, perms="rw") == OK
    assert s.mmap(B1, 2, prot="rwx") == OK_BASE
    write_ro = s.write(B1, BASE, 0x66)
    exec_rw = s.exec_(B1, BASE + P)
    read_ro = s.read(B1, BASE)  # caches page 0 with perms r
    write_cached = s.write(B1, BASE, 0x66)
    assert s.mmap(B1, 2, prot="r") == ok_addr(3)
    vma_refuses = s.write(B1, BASE + 3 * P + P, 0x66)  # prot r, range rw: check 2
    return write_ro, exec_rw, read_ro, write_cached, vma_refuses, s.data(0, 0)


def mprotect(v: str) -> tuple[object, ...]:
    """§4.6: mmap/mprotect above A's perms, and over a hole (even PROT_NONE)."""
    s = standard({"mprotect": v}, Config(vmas=6))
    assert s.map_fd(MEMFD, 0, 1, perms="r") == OK
    assert s.map_fd(MEMFD, 1, 1, perms="rw") == OK
    first = s.mmap(B1, 2, prot="r")
    raise_all = s.run("mprotect", B1, addr=BASE, length=2 * P, prot="rw")
    raise_rw_page = s.run("mprotect", B1, addr=BASE + P, length=P, prot="rw")
    map_rw = s.mmap(B1, 2, prot="rw")
    map_hole_none = s.mmap(B1, 1, prot="", offset=2)
    map_r_hole = s.mmap(B1, 3, prot="r")
    return first, raise_all, raise_rw_page, map_rw, map_hole_none, map_r_hole


def empty_perms(v: str) -> tuple[object, ...]:
    """§4.7: MAP_FD with perms 0, through an O_RDWR and an O_RDONLY fd."""
    s = standard({"empty-perms": v})
    ro = s.ok("reopen", fd=MEMFD, mode="ro")
    rw_fd = s.map_fd(MEMFD, 0, 1, perms="")
    ro_fd = s.map_fd(ro, 1, 1, perms="")
    return rw_fd, ro_fd, s.ranges()


def write_only(v: str) -> tuple[object, ...]:
    """§4.8: MAP_FD with W but not R (and W|X); X alone is accepted in both variants."""
    s = standard({"write-only": v})
    w = s.map_fd(MEMFD, 0, 1, perms="w")
    wx = s.map_fd(MEMFD, 1, 1, perms="wx")
    x = s.map_fd(MEMFD, 2, 1, perms="x")
    assert s.mmap(B1, 1, prot="rw") == OK_BASE
    return w, wx, x, s.read(B1, BASE), s.ranges()


def shrink(v: str) -> tuple[object, ...]:
    """§4.9: set_size below a mapped range (cut at page 2), then grow back."""
    s = standard({"shrink": v})
    assert s.map_fd(MEMFD, 1, 2) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.read(B1, BASE + 2 * P) == ok_byte(2)
    down = s.set_size(2)
    after_down = (s.read(B1, BASE + P), s.read(B1, BASE + 2 * P), s.state.view.size, s.ranges())
    up = s.set_size(4)
    return down, after_down, up, s.read(B1, BASE + 2 * P), s.state.revoked.get(3)


def control_close(v: str) -> tuple[object, ...]:
    """§4.10: close of the last control fd."""
    s = standard({"control-close": v})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.read(B1, BASE) == ok_byte(0)
    closed = s.run("close", fd=CTL)
    return (closed, s.read(B1, BASE), s.write(B1, BASE + 3, 0x66), s.ranges(),
            s.state.view.control_open, s.run("view_open"))


def control_close_forked(v: str) -> tuple[object, ...]:
    """§4.10 / §2.8: a forked child of A holds a copy of the control fd; only the last close acts,
    and until then the child has full control."""
    s = standard({"control-close": v})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.ok("fork", A) == CHILD
    a_close = s.run("close", fd=CTL)
    after_a = (s.read(B1, BASE), s.state.view.control_open, s.map_fd(MEMFD, 1, 1, proc=CHILD),
               s.read(B1, BASE + P))
    child_close = s.run("close", CHILD, fd=CTL)
    after_child = (s.read(B1, BASE), s.read(B1, BASE + P), s.state.view.control_open, len(s.ranges()))
    return a_close, after_a, child_close, after_child


def map_perm(v: str) -> tuple[object, ...]:
    """§4.11: W through an O_RDONLY fd, and over F_SEAL_WRITE / F_SEAL_FUTURE_WRITE memfds."""
    s = standard({"map-perm": v}, Config(objects=3))
    ro = s.ok("reopen", fd=MEMFD, mode="ro")
    sealed = s.memfd(4)
    s.ok("seal", fd=sealed, seals=["write"])
    future = s.memfd(4)
    s.ok("seal", fd=future, seals=["future-write"])
    got = (s.map_fd(ro, 0, 1, perms="rwx"), s.map_fd(sealed, 1, 1, perms="rw"), s.map_fd(future, 2, 1, perms="rw"),
           s.map_fd(ro, 3, 1, perms="rx"))
    assert s.mmap(B1, prot="rwx") == OK_BASE
    return got, s.ranges(), s.write(B1, BASE, 0x66), s.read(B1, BASE)


def private(v: str) -> tuple[object, ...]:
    """§4.12: MAP_PRIVATE, also through an O_RDONLY view fd (needs no O_RDWR)."""
    s = standard({"private": v})
    assert s.map_fd(MEMFD, 0, 1) == OK
    ro_fd = s.ok("view_get_viewfd", fd=CTL, mode="ro")
    got = s.mmap(B1, 1, flags="private")
    got_ro = s.mmap(A, 1, prot="rw", flags="private", fd=ro_fd)
    return got, got_ro, s.write(B1, BASE, 0x66), s.data(0, 0)


def beyond_size(v: str) -> tuple[object, ...]:
    """§4.13: mapping past the view's size; it works once the view grows and a range covers it."""
    s = standard({"beyond-size": v})
    assert s.map_fd(MEMFD, 0, 1) == OK
    over = s.mmap(B1, 6)
    past_only = s.mmap(B2, 1, offset=4)
    inside = s.mmap(B2, 4)
    late = (s.read(B1, BASE + 5 * P), s.set_size(8), s.map_fd(MEMFD, 5, 1, fd_page=1), s.read(B1, BASE + 5 * P))
    return over, past_only, inside, late


def truncation(v: str) -> tuple[object, ...]:
    """§4.14: MAP_FD of memfds with and without F_SEAL_SHRINK and of a regular file."""
    s = standard({"truncation": v}, Config(objects=4))
    unsealable = s.memfd(4, sealing=False)
    shrink_sealed = s.memfd(4)
    s.ok("seal", fd=shrink_sealed, seals=["shrink"])
    regular = s.ok("file_create")
    s.ok("ftruncate", fd=regular, size=4 * P)
    return (s.map_fd(MEMFD, 0, 1), s.map_fd(unsealable, 1, 1), s.map_fd(shrink_sealed, 2, 1),
            s.map_fd(regular, 3, 1, perms="r"), len(s.ranges()))


def seal_write(v: str) -> tuple[object, ...]:
    """§4.15: F_SEAL_WRITE with a writable range (and a read-only one) over the memfd."""
    s = standard({"seal-write": v})
    assert s.map_fd(MEMFD, 0, 1, perms="rw") == OK
    assert s.map_fd(MEMFD, 1, 1, perms="r") == OK
    assert s.mmap(B1) == OK_BASE
    assert s.write(B1, BASE, 0x55) == OK
    assert s.read(B1, BASE + P) == ok_byte(1)
    sealed = s.run("seal", fd=MEMFD, seals=["write"])
    return (sealed, s.read(B1, BASE), s.read(B1, BASE + P), s.state.objs[0].seals, s.ranges(),
            s.run("pwrite", fd=MEMFD, offset=0, byte=1), s.state.revoked.get(0))


def mseal(v: str) -> tuple[object, ...]:
    """§4.16: mseal, then UNMAP_FD: a page faulted in before survives under allow."""
    s = standard({"mseal": v})
    assert s.map_fd(MEMFD, 0, 2) == OK
    assert s.mmap(B1, 2) == OK_BASE
    assert s.read(B1, BASE) == ok_byte(0)
    sealed = s.run("mseal", B1, addr=BASE, length=2 * P)
    unmapped = s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=2 * P)
    return (sealed, unmapped, s.read(B1, BASE), s.read(B1, BASE + P), s.run("munmap", B1, addr=BASE, length=P),
            s.run("mprotect", B1, addr=BASE, length=P, prot="r"))


def delivery(v: str) -> tuple[object, ...]:
    """§4.17: A passes its raw memfd; B1 maps page 2 of it (no range shows it), raises the mapping
    to rwx and writes; A's UNMAP_FD of view page 0 then leaves that mapping as it was."""
    s = standard({"delivery": v}, mapped=1)
    sent = s.run("send", fd=MEMFD, to=B1)
    mapped = s.run("mmap", B1, fd=1, length=P, prot="r", flags="shared", offset=2 * P)
    protected = s.run("mprotect", B1, addr=BASE, length=P, prot="rwx")
    written = s.write(B1, BASE, 0x66)
    unmapped = s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=P)
    private = s.run("mmap", B1, fd=1, length=P, prot="r", flags="private", offset=0)
    return sent, mapped, protected, written, unmapped, s.read(B1, BASE), s.data(0, 2 * P), private


def revocation(v: str) -> tuple[object, ...]:
    """§4.18 (broken): cached translations of B1 and of its forked child after UNMAP_FD."""
    s = standard({"revocation": v})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.ok("fork", B1) == CHILD
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.read(CHILD, BASE) == ok_byte(0)
    assert s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=P) == OK
    return (s.read(B1, BASE), s.write(B1, BASE, 0x66), s.data(0, 0), s.cached(B1, 0), s.state.revoked.get(0),
            s.read(CHILD, BASE))


def shrink_zap(v: str) -> tuple[object, ...]:
    """§4.21 (broken): a cached translation beyond a smaller view size, once the view grows back
    (until then the size check faults first)."""
    s = standard({"shrink-zap": v})
    assert s.map_fd(MEMFD, 0, 3) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.read(B1, BASE + 2 * P) == ok_byte(2)
    down = s.set_size(2)
    beyond = s.read(B1, BASE + 2 * P)
    up = s.set_size(4)
    return down, beyond, up, s.read(B1, BASE + 2 * P), s.ranges(), s.state.revoked.get(2)


def view_fd_ioctl(v: str) -> tuple[object, ...]:
    """§4.22 (broken): B1 maps, resizes and unmaps through the view fd A gave it."""
    s = standard({"view-fd-ioctl": v})
    mapped = s.run("view_map_fd", B1, fd=BFD, src=BFD, fd_offset=0, size=P, mem_offset=0, perms="rw")
    sized = s.run("view_set_size", B1, fd=BFD, size=2 * P)
    unmapped = s.run("view_unmap_fd", B1, fd=BFD, mem_offset=0, size=P)
    return mapped, sized, unmapped, s.state.view.size


def perm_combine(v: str) -> tuple[object, ...]:
    """§4.19 (broken): prot r over a rw range, prot w over an r range."""
    s = standard({"perm-combine": v})
    assert s.map_fd(MEMFD, 0, 1, perms="rw") == OK
    assert s.map_fd(MEMFD, 1, 1, perms="r") == OK
    assert s.mmap(B1, 2, prot="r") == OK_BASE
    assert s.mmap(B1, 2, prot="w") == ok_addr(3)
    return (s.write(B1, BASE, 0x66), s.data(0, 0), s.read(B1, BASE + 4 * P), s.exec_(B1, BASE + 4 * P),
            s.read(B1, BASE + 3 * P))


def translation(v: str) -> tuple[object, ...]:
    """§4.20 (broken): fd_offset 2P at mem_offset 0, and fd_offset 0 at mem_offset 3P."""
    s = standard({"translation": v})
    assert s.map_fd(MEMFD, 0, 1, perms="r", fd_page=2) == OK
    assert s.map_fd(MEMFD, 3, 1, perms="r", fd_page=0) == OK
    assert s.mmap(B1) == OK_BASE
    return s.read(B1, BASE), s.read(B1, BASE + 3 * P), s.ranges()


@dataclass(frozen=True)
class Scenario:
    decision: str
    run: Callable[[str], tuple[object, ...]]
    expected: dict[str, tuple[object, ...]]  # variant -> what run(variant) returns


SCENARIOS: list[Scenario] = [
    Scenario("sizing", sizing, {
        "ioctl": ("ok 0", "EINVAL", 4 * P),
        "inode": ("ENOTTY", "ok 0", 8 * P),
    }),
    Scenario("overlap", overlap, {
        "eexist": (ok_byte(1), "EEXIST", ok_byte(1), ok_byte(0), [(0, 2, 0, 0, RW)]),
        # other = object 1, its page 0 holds 0x11: view page 1 now shows it, and the cached
        # translation of memfd page 1 is gone.
        "replace": (ok_byte(1), "ok 0", ok_byte(0), ok_byte(0), [(0, 1, 0, 0, RW), (1, 2, 1, NEG1, RW)]),
    }),
    Scenario("overlap", overlap_slots, {
        "eexist": ("EEXIST", "EEXIST", [(0, 3, 0, 0, RW)]),
        "replace": ("ok 0", "ENOSPC", [(0, 3, 0, 0, PERM_R)]),
    }),
    Scenario("unmap-span", unmap_span, {
        "split": ("ok 0", (ok_byte(0), SIGBUS, ok_byte(2)), "ok 0", 1, [(0, 1, 0, 0, RW), (2, 3, 0, 0, RW)]),
        "exact": ("EINVAL", (ok_byte(0), ok_byte(1), ok_byte(2)), "EINVAL", 0, [(0, 3, 0, 0, RW)]),
    }),
    Scenario("unconfigured", unconfigured, {
        "sigbus": ((SIGBUS, SIGBUS, SIGBUS), SIGBUS, ok_byte(0), SIGBUS),
        "sigsegv": ((MAPERR, MAPERR, MAPERR), SIGBUS, ok_byte(0), MAPERR),
    }),
    Scenario("denied", denied, {
        "sigsegv": (ACCERR, ACCERR, ok_byte(0), ACCERR, ACCERR, 0x11),
        "sigsegv-maperr": (MAPERR, MAPERR, ok_byte(0), MAPERR, ACCERR, 0x11),
        "sigbus": (SIGBUS, SIGBUS, ok_byte(0), SIGBUS, ACCERR, 0x11),
    }),
    Scenario("mprotect", mprotect, {
        "lax": (OK_BASE, "ok 0", "ok 0", ok_addr(3), ok_addr(6), ok_addr(8)),
        "strict": (OK_BASE, "EACCES", "ok 0", "EACCES", "EACCES", "EACCES"),
    }),
    Scenario("empty-perms", empty_perms, {
        "read-write": ("ok 0", "EACCES", [(0, 1, 0, 0, RW)]),
        "einval": ("EINVAL", "EINVAL", []),
    }),
    Scenario("write-only", write_only, {
        "einval": ("EINVAL", "EINVAL", "ok 0", SIGBUS, [(2, 3, 0, 0, PERM_X)]),
        "as-rw": ("ok 0", "ok 0", "ok 0", ok_byte(0),
                  [(0, 1, 0, 0, RW), (1, 2, 0, 0, RW | PERM_X), (2, 3, 0, 0, PERM_X)]),
    }),
    Scenario("shrink", shrink, {
        "revoke": ("ok 0", (ok_byte(1), SIGBUS, 2 * P, [(1, 2, 0, 0, RW)]), "ok 0", SIGBUS, 1),
        "ebusy": ("EBUSY", (ok_byte(1), ok_byte(2), 4 * P, [(1, 3, 0, 0, RW)]), "ok 0", ok_byte(2), 0),
    }),
    Scenario("control-close", control_close, {
        "keep": ("ok 0", ok_byte(0), "ok 0", [(0, 1, 0, 0, RW)], False, "ENFILE"),
        "revoke": ("ok 0", SIGBUS, SIGBUS, [], False, "ENFILE"),
    }),
    Scenario("control-close", control_close_forked, {
        "keep": ("ok 0", (ok_byte(0), True, "ok 0", ok_byte(1)), "ok 0", (ok_byte(0), ok_byte(1), False, 2)),
        "revoke": ("ok 0", (ok_byte(0), True, "ok 0", ok_byte(1)), "ok 0", (SIGBUS, SIGBUS, False, 0)),
    }),
    Scenario("map-perm", map_perm, {
        "refuse": (("EACCES", "EPERM", "EPERM", "ok 0"), [(3, 4, 0, 0, PERM_R | PERM_X)], SIGBUS, SIGBUS),
        "mask": (("ok 0", "ok 0", "ok 0", "ok 0"),
                 [(0, 1, 0, 0, PERM_R | PERM_X), (1, 2, 1, 0, PERM_R), (2, 3, 2, 0, PERM_R),
                  (3, 4, 0, 0, PERM_R | PERM_X)],
                 ACCERR, ok_byte(0)),
    }),
    Scenario("private", private, {
        "einval": ("EINVAL", "EINVAL", MAPERR, 0x11),
        "cow": (OK_BASE, OK_BASE, "ok 0", 0x11),
    }),
    Scenario("beyond-size", beyond_size, {
        "allow": (OK_BASE, OK_BASE, ok_addr(2), (SIGBUS, "ok 0", "ok 0", ok_byte(1))),
        "einval": ("EINVAL", "EINVAL", OK_BASE, (MAPERR, "ok 0", "ok 0", MAPERR)),
    }),
    Scenario("truncation", truncation, {
        "sigbus": ("ok 0", "ok 0", "ok 0", "ok 0", 4),
        "require-seal": ("EPERM", "EPERM", "ok 0", "EPERM", 1),
    }),
    Scenario("seal-write", seal_write, {
        "ebusy": ("EBUSY", "ok 85", ok_byte(1), 0, [(0, 1, 0, 0, RW), (1, 2, 0, 0, PERM_R)], "ok 1", 0),
        "revoke": ("ok 0", SIGBUS, ok_byte(1), F_SEAL_WRITE, [(1, 2, 0, 0, PERM_R)], "EPERM", 1),
    }),
    Scenario("mseal", mseal, {
        "refuse": ("EPERM", "ok 0", SIGBUS, SIGBUS, "ok 0", "ENOMEM"),
        "allow": ("ok 0", "ok 0", ok_byte(0), SIGBUS, "EPERM", "EPERM"),
    }),
    Scenario("delivery", delivery, {
        "view-fd": ("EINVAL", "EBADF", "ENOMEM", MAPERR, "ok 0", MAPERR, 0x13, "EBADF"),
        "raw-fds": ("ok 1", OK_BASE, "ok 0", "ok 0", "ok 0", "ok 102", 0x66, "EINVAL"),
    }),
    Scenario("revocation", revocation, {
        "zap": (SIGBUS, SIGBUS, 0x11, False, 1, SIGBUS),
        "skip": (ok_byte(0), "ok 0", 0x66, True, 1, "ok 102"),
        "skip-children": (SIGBUS, SIGBUS, 0x11, False, 1, ok_byte(0)),
    }),
    Scenario("shrink-zap", shrink_zap, {
        "zap": (OK, SIGBUS, OK, SIGBUS, [(0, 2, 0, 0, RW)], 1),
        "keep": (OK, SIGBUS, OK, ok_byte(2), [(0, 2, 0, 0, RW)], 1),
    }),
    Scenario("view-fd-ioctl", view_fd_ioctl, {
        "enotty": ("ENOTTY", "ENOTTY", "ENOTTY", 4 * P),
        "accept": ("EINVAL", OK, OK, 2 * P),
    }),
    Scenario("perm-combine", perm_combine, {
        "and": (ACCERR, 0x11, ACCERR, ACCERR, ACCERR),
        "or": ("ok 0", 0x66, ok_byte(1), ACCERR, "ok 102"),
    }),
    Scenario("translation", translation, {
        "fd-offset": (ok_byte(2), ok_byte(0), [(0, 1, 0, 2, PERM_R), (3, 4, 0, NEG1 - 2, PERM_R)]),
        "mem-offset": (ok_byte(0), ok_byte(3), [(0, 1, 0, 2, PERM_R), (3, 4, 0, NEG1 - 2, PERM_R)]),
    }),
]

PAIRS = [(sc, variant) for sc in SCENARIOS for variant in sc.expected]


@pytest.mark.parametrize(("sc", "variant"), PAIRS,
                         ids=[f"{sc.decision}={v}-{sc.run.__name__}" for sc, v in PAIRS])
def test_variant(sc: Scenario, variant: str) -> None:
    assert sc.run(variant) == sc.expected[variant]


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda sc: sc.run.__name__)
def test_scenario_distinguishes_every_variant(sc: Scenario) -> None:
    variants = DECISIONS_BY_NAME[sc.decision].variants
    assert set(sc.expected) == set(variants)
    for a, b in itertools.combinations(sc.expected, 2):
        assert sc.expected[a] != sc.expected[b], (sc.decision, a, b)


def test_every_variant_has_a_scenario() -> None:
    covered = {(sc.decision, v) for sc in SCENARIOS for v in sc.expected}
    required = {(d.name, v) for d in DECISIONS for v in d.variants}
    assert required - covered == set()
    assert covered - required == set()


def test_scenarios_change_only_their_decision() -> None:
    """Each scenario's design differs from the seed in its own decision only (defaults elsewhere)."""
    for d in DECISIONS:
        for v in d.variants:
            design = SEED.with_choices("t", {d.name: v})
            assert {k for k, x in design.decisions().items() if x != SEED[k]} == ({d.name} if v != d.default else set())


# ------------------------------------------------------------------------------- detailed tests


def test_overlap_replace_is_atomic_and_splits() -> None:
    """§2.3 effect under [overlap=replace]: the overlapped part is cut out (the old range split in
    two), the new range goes in, [lo, hi) is revoked in the same step, and `revoked` is cleared."""
    s = standard({"overlap": "replace"})
    other = s.memfd(4)  # object 1
    assert s.map_fd(MEMFD, 0, 3) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.mmap(B2) == OK_BASE
    for proc in (B1, B2):
        for k in range(3):
            assert s.read(proc, BASE + k * P) == ok_byte(k)
    assert s.map_fd(other, 1, 1, perms="r", fd_page=3) == OK
    # No hole: every page of [0, 3) is covered by a range right after the step.
    assert s.ranges() == [(0, 1, 0, 0, RW), (1, 2, 1, 2, PERM_R), (2, 3, 0, 0, RW)]
    assert s.state.revoked.get(1) == 0
    for proc in (B1, B2):
        # The old translation of view page 1 is dropped; pages 0 and 2 keep theirs.
        assert (s.cached(proc, 0), s.cached(proc, 1), s.cached(proc, 2)) == (True, False, True)
    # The new content (other's page 3), with the new perms.
    assert s.read(B1, BASE + P) == ok_byte(3)
    assert s.write(B1, BASE + P, 0x66) == ACCERR
    assert s.read(B2, BASE + P) == ok_byte(3)
    assert s.read(B1, BASE) == ok_byte(0) and s.read(B1, BASE + 2 * P) == ok_byte(2)
    assert s.write(B1, BASE + 2 * P + 1, 0x67) == OK
    assert s.data(0, 2 * P + 1) == 0x67
    # Without overlap nothing is revoked: a cached translation elsewhere stays.
    assert s.map_fd(other, 3, 1, perms="r", fd_page=0) == OK
    assert s.cached(B1, 0) and s.cached(B1, 2)


def test_overlap_replace_with_no_overlap_revokes_nothing_but_clears_revoked() -> None:
    s = standard({"overlap": "replace"})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.run("view_unmap_fd", fd=CTL, mem_offset=P, size=P) == OK  # a hole: still "revoked"
    assert s.state.revoked.get(1) == 1
    assert s.map_fd(MEMFD, 1, 1) == OK
    assert s.state.revoked.get(1) == 0


@pytest.mark.parametrize("variant", ["keep", "revoke"])
def test_control_close_in_child_first(variant: str) -> None:
    """§2.8: the last close may happen in A after the child's: whichever process drops the last
    copy runs the effect."""
    s = standard({"control-close": variant})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.ok("fork", A) == CHILD
    assert s.run("close", CHILD, fd=CTL) == OK
    assert s.state.view.control_open
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.map_fd(MEMFD, 1, 1) == OK  # A still has control
    assert s.run("close", fd=CTL) == OK
    assert not s.state.view.control_open
    expected = (ok_byte(0), ok_byte(1), 2) if variant == "keep" else (SIGBUS, SIGBUS, 0)
    assert (s.read(B1, BASE), s.read(B1, BASE + P), len(s.ranges())) == expected
    # No control fd is left anywhere; the layout can no longer change.
    assert not any(f.kind == FdKind.CONTROL for p in s.state.procs for f in p.fds)
    assert s.run("reopen", fd=MEMFD, mode="rw") == "ok 0"  # the lowest free slot is 0 again
    assert s.run("view_open") == "ENFILE"


@pytest.mark.parametrize("variant", ["keep", "revoke"])
def test_control_close_of_a_view_fd_is_not_a_control_close(variant: str) -> None:
    s = standard({"control-close": variant})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.run("close", fd=2) == OK  # A's view fd
    assert s.run("close", B1, fd=BFD) == OK
    assert s.state.view.control_open
    assert s.read(B1, BASE) == ok_byte(0)
    assert len(s.ranges()) == 1


def test_map_perm_mask_grants_visible_in_ranges() -> None:
    """§4.11 mask: granted = perms with W kept only if the mode has W and no write seal; R and X
    pass through. With [empty-perms=read-write], perms 0 is masked like R|W."""
    s = standard({"map-perm": "mask"}, Config(objects=3, ranges=6))
    ro = s.ok("reopen", fd=MEMFD, mode="ro")
    sealed = s.memfd(4)  # object 1
    s.ok("seal", fd=sealed, seals=["future-write"])
    assert s.map_fd(ro, 0, 1, perms="") == OK
    assert s.map_fd(ro, 1, 1, perms="wx") == "EINVAL"  # [write-only=einval] comes first
    assert s.map_fd(ro, 1, 1, perms="x") == OK
    assert s.map_fd(sealed, 2, 1, perms="rwx") == OK
    assert s.map_fd(MEMFD, 3, 1, perms="rw") == OK
    assert s.ranges() == [(0, 1, 0, 0, PERM_R), (1, 2, 0, 0, PERM_X), (2, 3, 1, 0, PERM_R | PERM_X),
                          (3, 4, 0, 0, RW)]
    assert s.mmap(B1, prot="rwx") == OK_BASE
    assert s.write(B1, BASE, 0x66) == ACCERR
    assert s.write(B1, BASE + 2 * P, 0x66) == ACCERR
    assert s.exec_(B1, BASE + 2 * P) == ok_byte(2)
    assert s.write(B1, BASE + 3 * P, 0x66) == OK
    assert s.data(0, 3 * P) == 0x66 and s.data(0, 0) == 0x11


def test_private_cow() -> None:
    """§4.12 cow / §3.3 step 4: B1's private write does not reach the memfd, B1 reads its own copy
    (the whole page was copied at the first write), others read the memfd; UNMAP_FD drops the copy."""
    s = standard({"private": "cow"})
    assert s.map_fd(MEMFD, 0, 2) == OK
    s.ok("pwrite", fd=MEMFD, offset=10, byte=0x0A)
    assert s.mmap(B1, 2, flags="private") == OK_BASE
    assert s.mmap(B2, 2) == OK_BASE
    assert s.state.procs[B1].vmas[0].attrs & 0x30 == 0x30  # VM_MAYWRITE | PRIVATE
    assert s.write(B1, BASE + 1, 0x77) == OK
    assert s.data(0, 1) == 0  # the memfd is unchanged
    assert s.read(B1, BASE + 1) == "ok 119"
    assert s.read(B1, BASE) == ok_byte(0)  # copied with the page
    assert s.read(B1, BASE + 10) == "ok 10"
    assert s.read(B2, BASE + 1) == "ok 0"
    assert s.state.procs[B1].cow.get(0) == 1 and s.state.procs[B1].cow.get(1) == 0
    # A changes the memfd after the copy: B1 keeps its copy, B2 sees the change.
    s.ok("pwrite", fd=MEMFD, offset=10, byte=0x0B)
    assert s.read(B1, BASE + 10) == "ok 10"
    assert s.read(B2, BASE + 10) == "ok 11"
    # Page 1 has no copy: B1 reads the memfd there.
    s.ok("pwrite", fd=MEMFD, offset=P + 3, byte=0x33)
    assert s.read(B1, BASE + P + 3) == "ok 51"
    # A private write still needs W in the effective permission (range r).
    assert s.map_fd(MEMFD, 2, 1, perms="r") == OK
    assert s.mmap(B1, 1, flags="private", offset=2) == ok_addr(3)
    assert s.write(B1, BASE + 3 * P, 0x01) == ACCERR
    # UNMAP_FD drops the copy ("revoked with the rest"); a new range shows the memfd again.
    assert s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=P) == OK
    assert s.state.procs[B1].cow.get(0) == 0
    assert s.read(B1, BASE + 1) == SIGBUS
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.read(B1, BASE + 1) == "ok 0"
    assert s.read(B1, BASE + 10) == "ok 11"


def test_private_cow_munmap_drops_the_copy() -> None:
    """§2.16 / §1.3: two private mappings of view page 0 in B1 share one copy; munmap of one drops
    it for the other too."""
    s = standard({"private": "cow"})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1, 1, flags="private") == OK_BASE
    assert s.mmap(B1, 1, flags="private") == ok_addr(2)
    assert s.write(B1, BASE, 0x77) == OK
    assert s.read(B1, BASE + 2 * P) == "ok 119"  # the shared per-view-page copy
    assert s.run("munmap", B1, addr=BASE, length=P) == OK
    assert s.state.procs[B1].cow.get(0) == 0
    assert s.read(B1, BASE + 2 * P) == ok_byte(0)
    assert s.data(0, 0) == 0x11


def test_private_cow_new_private_mapping_starts_without_copies_and_fork_inherits() -> None:
    s = standard({"private": "cow"})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1, 1, flags="private") == OK_BASE
    assert s.write(B1, BASE, 0x77) == OK
    assert s.ok("fork", B1) == CHILD
    assert s.read(CHILD, BASE) == "ok 119"  # a forked child inherits its parent's copies
    assert s.mmap(B1, 1, flags="private") == ok_addr(2)  # drops B1's copy of view page 0
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.read(CHILD, BASE) == "ok 119"
    # A shared munmap leaves private copies alone.
    assert s.mmap(CHILD, 1) == ok_addr(2)
    assert s.run("munmap", CHILD, addr=BASE + 2 * P, length=P) == OK
    assert s.read(CHILD, BASE) == "ok 119"


def test_truncation_sigbus() -> None:
    """§4.14 sigbus / §2.12 / §3.2 check 6: shrink a mapped memfd. Pages wholly past the new EOF
    give SIGBUS (cached or not), the rest of the page holding the EOF stays readable, a write
    through the view past EOF in that page is kept until growing back zeroes it."""
    s = standard()
    s.ok("pwrite", fd=MEMFD, offset=P + 50, byte=0x50)
    s.ok("pwrite", fd=MEMFD, offset=P + 200, byte=0x51)
    assert s.map_fd(MEMFD, 0, 4) == OK
    assert s.mmap(B1) == OK_BASE
    for k in range(3):
        assert s.read(B1, BASE + k * P) == ok_byte(k)  # pages 0..2 cached, page 3 not
    assert s.run("ftruncate", fd=MEMFD, size=P + 100) == OK
    assert s.state.objs[0].size == P + 100
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.read(B1, BASE + P + 50) == "ok 80"  # below EOF
    assert s.read(B1, BASE + P + 200) == "ok 0"  # past EOF in the last page: zeroed by the shrink
    assert s.read(B1, BASE + 2 * P) == SIGBUS  # cached, but wholly past EOF
    assert s.write(B1, BASE + 2 * P, 1) == SIGBUS
    assert s.read(B1, BASE + 3 * P) == SIGBUS  # uncached
    assert s.write(B1, BASE + P + 300, 0x77) == OK  # past EOF, in the page holding it
    assert s.read(B1, BASE + P + 300) == "ok 119"
    assert s.state.objs[0].size == P + 100  # the write does not extend the object
    assert s.data(0, P + 300) == 0x77
    assert s.run("ftruncate", fd=MEMFD, size=4 * P) == OK
    assert s.read(B1, BASE + P + 300) == "ok 119"  # a memfd keeps it when it grows (§2.12)
    assert s.read(B1, BASE + P + 50) == "ok 80"
    assert s.read(B1, BASE + 2 * P) == "ok 0"  # grown back: zeros, not the old 0x13
    assert s.read(B1, BASE + 3 * P) == "ok 0"


def test_truncation_require_seal_still_checks_eof() -> None:
    """§4.14 require-seal: an object can be smaller than the range from the start; check 6 applies."""
    s = standard({"truncation": "require-seal"})
    small = s.memfd(1)
    s.ok("seal", fd=small, seals=["shrink"])
    assert s.map_fd(small, 0, 2, fd_page=0) == OK
    assert s.mmap(B1, 2) == OK_BASE
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.read(B1, BASE + P) == SIGBUS
    assert s.run("ftruncate", fd=small, size=0) == "EPERM"
    assert s.run("ftruncate", fd=small, size=2 * P) == OK
    assert s.read(B1, BASE + P) == "ok 0"


def test_seal_write_revoke_only_touches_writable_ranges_of_that_object() -> None:
    s = standard({"seal-write": "revoke"})
    other = s.memfd(4)  # object 1
    assert s.map_fd(MEMFD, 0, 1, perms="rw") == OK
    assert s.map_fd(MEMFD, 1, 1, perms="r") == OK
    assert s.map_fd(other, 2, 1, perms="rw") == OK
    assert s.map_fd(MEMFD, 3, 1, perms="rw") == OK
    assert s.mmap(B1) == OK_BASE
    for k in range(4):
        assert s.read(B1, BASE + k * P) == ok_byte(k)
    assert s.run("seal", fd=MEMFD, seals=["write", "grow"]) == OK
    assert s.state.objs[0].seals == F_SEAL_WRITE | 0x4
    assert s.ranges() == [(1, 2, 0, 0, PERM_R), (2, 3, 1, 0, RW)]
    assert [s.read(B1, BASE + k * P) for k in range(4)] == [SIGBUS, ok_byte(1), ok_byte(2), SIGBUS]
    assert (s.state.revoked.get(0), s.state.revoked.get(1), s.state.revoked.get(2), s.state.revoked.get(3)) == \
        (1, 0, 0, 1)
    # F_SEAL_FUTURE_WRITE never revokes nor fails (§6 item 10).
    assert s.run("seal", fd=other, seals=["future-write"]) == OK
    assert s.write(B1, BASE + 2 * P, 0x66) == OK


def test_mseal_allow_keeps_cached_translations_per_view_page() -> None:
    """§4.16 allow: revocation keeps the cached translations of the view pages a sealed vma maps, in
    that process only; other mappings of those pages in the process benefit (per-page cache)."""
    s = standard({"mseal": "allow"})
    assert s.map_fd(MEMFD, 0, 2) == OK
    assert s.mmap(B1, 2) == OK_BASE
    assert s.mmap(B1, 2) == ok_addr(3)  # a second, unsealed mapping of view [0, 2)
    assert s.mmap(B2, 2) == OK_BASE
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.read(B2, BASE) == ok_byte(0)
    assert s.run("mseal", B1, addr=BASE, length=2 * P) == OK
    assert all(v.attrs & VMA_SEALED for v in s.state.procs[B1].vmas[:1])
    assert s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=2 * P) == OK
    assert s.ranges() == []
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.write(B1, BASE + 3 * P + 1, 0x66) == OK  # through the unsealed mapping, same view page
    assert s.data(0, 1) == 0x66
    assert s.read(B1, BASE + P) == SIGBUS  # never faulted in: follows the layout
    assert s.read(B2, BASE) == SIGBUS  # B2's mapping is not sealed
    assert s.run("munmap", B1, addr=BASE + P, length=P) == "EPERM"
    assert s.run("munmap", B1, addr=BASE + 3 * P, length=2 * P) == OK  # unsealed
    assert s.run("mprotect", B1, addr=BASE, length=2 * P, prot="r") == "EPERM"


def test_mseal_allow_zero_and_repeat() -> None:
    s = standard({"mseal": "allow"})
    assert s.mmap(B1, 2) == OK_BASE
    assert s.run("mseal", B1, addr=BASE, length=P) == OK
    before = s.state
    assert s.run("mseal", B1, addr=BASE, length=P) == OK  # sealing twice is a no-op
    assert s.state == before
    assert sorted((v.lo - (BASE // P), v.hi - (BASE // P), bool(v.attrs & VMA_SEALED))
                  for v in s.state.procs[B1].vmas if v.used) == [(0, 1, True), (1, 2, False)]


def test_memfd_without_sealing_has_f_seal_seal() -> None:
    s = standard()
    fd = s.memfd(1, sealing=False)
    assert s.state.objs[s.state.procs[A].fds[fd].obj].seals == F_SEAL_SEAL


def test_beyond_size_allow_works_once_the_view_grows() -> None:
    s = standard()
    assert s.mmap(B1, 8) == OK_BASE
    assert s.read(B1, BASE + 6 * P) == SIGBUS
    assert s.set_size(8) == OK
    assert s.read(B1, BASE + 6 * P) == SIGBUS  # inside the size now, but no range
    assert s.map_fd(MEMFD, 6, 1, fd_page=3) == OK
    assert s.read(B1, BASE + 6 * P) == ok_byte(3)


@pytest.mark.parametrize("variant", ["keep", "revoke"])
def test_control_close_revoke_covers_every_page(variant: str) -> None:
    """§4.10 revoke: every page number below 2^(64 - page_shift) - 1 is revoked, mapped or not."""
    s = standard({"control-close": variant})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.run("close", fd=CTL) == OK
    top = (1 << 52) - 2
    expected = (0, 0, 0) if variant == "keep" else (1, 1, 1)
    assert (s.state.revoked.get(0), s.state.revoked.get(3), s.state.revoked.get(top)) == expected
    assert s.state.revoked.get(top + 1) == 0


def test_mseal_allow_keeps_private_copies() -> None:
    """§4.16 allow: revocation keeps the private copies of the view pages a sealed vma maps."""
    s = standard({"mseal": "allow", "private": "cow"})
    assert s.map_fd(MEMFD, 0, 2) == OK
    assert s.mmap(B1, 2, flags="private") == OK_BASE
    assert s.write(B1, BASE + 5, 0x77) == OK
    assert s.write(B1, BASE + P + 5, 0x78) == OK
    assert s.run("mseal", B1, addr=BASE, length=P) == OK
    assert s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=2 * P) == OK
    assert s.state.procs[B1].cow.get(0) == 1 and s.state.procs[B1].cow.get(1) == 0
    assert s.read(B1, BASE + 5) == "ok 119"
    assert s.read(B1, BASE + P + 5) == SIGBUS  # its vma was split off unsealed: copy and PTE gone
    assert s.data(0, 5) == 0


def test_fork_child_starts_with_empty_cache() -> None:
    """§2.19: the child faults its own translations in, so under [revocation=skip] the parent's
    stale translation survives UNMAP_FD while the child's access follows the layout."""
    s = standard({"revocation": "skip"})
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1) == OK_BASE
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.ok("fork", B1) == CHILD
    assert not s.cached(CHILD, 0) and s.cached(B1, 0)
    assert s.run("view_unmap_fd", fd=CTL, mem_offset=0, size=P) == OK
    assert s.read(B1, BASE) == ok_byte(0)
    assert s.read(CHILD, BASE) == SIGBUS
