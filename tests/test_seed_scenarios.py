"""Every concrete statement of the seed, as a scenario at the seed's literal sizes.

The seed is Stefan Hajnoczi's 2020 linux-mm mail (seed/memory-view-proposal.txt). Process A opens
/dev/memory-view, sizes the view to 16 GiB, maps [8, 10) GiB of a 32 GiB memfd "guest-ram" read+write
at 8 GiB and [4, 12) GiB of a 12 GiB file "big-file.iso" (opened O_RDONLY) read-only at 0, gets a
view fd and passes it to B, which mmaps all 16 GiB. Each test quotes the sentence it checks.

Processes: 0 is A, 1 and 2 are the clients B1 and B2; a fork takes the next free slot (3). The
first mmap of a process lands at MMAP_BASE (1 << 40).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from memview.model.config import Config
from memview.model.constants import (
    MMAP_BASE,
    PERM_ALL,
    PERM_R,
    PERM_W,
    PERM_X,
    FdKind,
    ObjKind,
)
from memview.model.design import BUILTIN, SEED, Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import action

GiB = 1 << 30
PAGE = Config().page_size
A, B1, B2 = 0, 1, 2

SIGBUS = "SIGBUS/BUS_ADRERR"
SEGV_ACCERR = "SIGSEGV/SEGV_ACCERR"

# Distinctive bytes A writes before handing anything out.
ISO_AT_4G = 0x11  # big-file.iso at 4 GiB: view offset 0
ISO_AT_8G = 0xA5  # big-file.iso at 8 GiB: view offset 4 GiB
ISO_AT_8G_123 = 0x5C  # big-file.iso at 8 GiB + 123: view offset 4 GiB + 123
ISO_LAST = 0x22  # big-file.iso's last byte (12 GiB - 1): view offset 8 GiB - 1
RAM_AT_9G = 0x33  # guest-ram at 9 GiB: view offset 9 GiB
RAM_AT_8_5G = 0x44  # guest-ram at 8.5 GiB: view offset 8.5 GiB
RAM_AT_9_75G = 0x55  # guest-ram at 9.75 GiB: view offset 9.75 GiB


@dataclass
class Seed:
    """The seed's machine after A has built the layout table and passed view fds to the clients."""

    m: Machine
    control: int  # A's /dev/memory-view fd
    memfd: int  # A's guest-ram fd
    filefd: int  # A's O_RDONLY big-file.iso fd
    guest_ram: int  # object slot of guest-ram
    big_file: int  # object slot of big-file.iso
    a_viewfd: int  # A's own copy of the view fd
    viewfd: dict[int, int]  # client -> its view fd

    def run(self, name: str, proc: int = A, **kwargs: object) -> Observation:
        return self.m.run(action(name, proc, **kwargs))

    def ok(self, name: str, proc: int = A, **kwargs: object) -> int:
        obs = self.run(name, proc, **kwargs)
        assert obs.ok, f"{name} by {proc} {kwargs}: {obs.name}"
        return obs.value

    def map_view(self, proc: int, prot: str = "rw") -> int:
        """mmap(NULL, 16 * GiB, prot, MAP_SHARED, viewfd, 0); the mapping's address."""
        return self.ok("mmap", proc, fd=self.viewfd[proc], length=16 * GiB, prot=prot, flags="shared", offset=0)

    def access(self, proc: int, addr: int, kind: str, byte: int = 0) -> Observation:
        return self.run("access", proc, addr=addr, kind=kind, byte=byte)

    def read(self, proc: int, addr: int) -> str:
        return self.access(proc, addr, "read").name

    def write(self, proc: int, addr: int, byte: int) -> str:
        return self.access(proc, addr, "write", byte).name

    def ram(self, offset: int) -> int:
        return self.m.state.objs[self.guest_ram].data.get(offset)

    def iso(self, offset: int) -> int:
        return self.m.state.objs[self.big_file].data.get(offset)


def size_view(m: Machine, control: int, size: int) -> None:
    """The seed's 'ftruncate(fd, 16 * GiB)': the size ioctl, or ftruncate where the design sizes by inode."""
    name = "ftruncate" if m.ctx.design.is_("sizing", "inode") else "view_set_size"
    obs = m.run(action(name, A, fd=control, size=size))
    assert obs.name == "ok 0", obs.name


def seed(design: Design = SEED, clients: tuple[int, ...] = (B1, B2), mode: str = "rw") -> Seed:
    """A builds the seed's view step by step, then passes a view fd (opened `mode`) to each client."""
    m = Machine(design, Config())

    def ok(name: str, **kwargs: object) -> int:
        obs = m.run(action(name, A, **kwargs))
        assert obs.ok, f"{name} {kwargs}: {obs.name}"
        return obs.value

    control = ok("view_open")  # open("/dev/memory-view", O_RDWR)
    size_view(m, control, 16 * GiB)  # ftruncate(fd, 16 * GiB)
    memfd = ok("memfd_create", sealing=False)  # memfd_create("guest-ram", 0)
    ok("ftruncate", fd=memfd, size=32 * GiB)
    ok("pwrite", fd=memfd, offset=9 * GiB, byte=RAM_AT_9G)
    ok("pwrite", fd=memfd, offset=8 * GiB + GiB // 2, byte=RAM_AT_8_5G)
    ok("pwrite", fd=memfd, offset=9 * GiB + 3 * GiB // 4, byte=RAM_AT_9_75G)
    # Map [8GB, 10GB) at 8GB into the memory view (read+write, as the layout table says)
    ok("view_map_fd", fd=control, src=memfd, fd_offset=8 * GiB, size=2 * GiB, mem_offset=8 * GiB, perms="rw")
    # big-file.iso: written through a read-write fd first, then open("big-file.iso", O_RDONLY)
    writer = ok("file_create")
    ok("ftruncate", fd=writer, size=12 * GiB)
    for offset, byte in ((4 * GiB, ISO_AT_4G), (8 * GiB, ISO_AT_8G), (8 * GiB + 123, ISO_AT_8G_123),
                         (12 * GiB - 1, ISO_LAST)):
        ok("pwrite", fd=writer, offset=offset, byte=byte)
    filefd = ok("reopen", fd=writer, mode="ro")
    ok("close", fd=writer)
    # Map [4GB, 12GB) at 0B into the memory view, MEMVIEW_MAP_READ
    ok("view_map_fd", fd=control, src=filefd, fd_offset=4 * GiB, size=8 * GiB, mem_offset=0, perms="r")
    a_viewfd = ok("view_get_viewfd", fd=control, mode=mode)  # ioctl(fd, MEMVIEW_GET_VIEWFD)
    viewfd = {client: ok("send", fd=a_viewfd, to=client) for client in clients}
    fds = m.state.procs[A].fds
    return Seed(m, control, memfd, filefd, fds[memfd].obj, fds[filefd].obj, a_viewfd, viewfd)


def used_ranges(s: Seed) -> list[tuple[int, int, int, int, int]]:
    """(lo page, hi page, object slot, backing page - view page, perms) of every used range, by lo."""
    return sorted((r.lo, r.hi, r.obj, r.delta, r.perms) for r in s.m.state.view.ranges if r.used)


def pages(nbytes: int) -> int:
    return nbytes // PAGE


def test_size_is_virtual() -> None:
    """'The size determines how large the memory view will be. The size is a virtual memory concept
    and does not consume resources (there is no physical memory backing this).'"""
    m = Machine(SEED, Config())
    control = m.run(action("view_open")).value  # 'This returns a file descriptor to a new memory view.'
    assert m.state.procs[A].fds[control].kind == FdKind.CONTROL
    assert m.state.view.exists and m.state.view.control_open
    before = m.state.objs
    size_view(m, control, 16 * GiB)
    assert m.state.view.size == 16 * GiB
    assert m.state.objs == before
    assert not any(o.exists for o in m.state.objs)
    assert not any(r.used for r in m.state.view.ranges)


def test_layout_table() -> None:
    """'The memory view has now been populated like this:
    0-8 big-file.iso read / 8-10 guest-ram read+write / 10-16 <none> <none>'"""
    s = seed()
    assert s.m.state.objs[s.big_file].kind == ObjKind.FILE
    assert s.m.state.objs[s.big_file].size == 12 * GiB
    assert s.m.state.objs[s.guest_ram].kind == ObjKind.MEMFD
    assert s.m.state.objs[s.guest_ram].size == 32 * GiB
    assert used_ranges(s) == [
        (0, pages(8 * GiB), s.big_file, pages(4 * GiB), PERM_R),
        (pages(8 * GiB), pages(10 * GiB), s.guest_ram, 0, PERM_R | PERM_W),
    ]
    base = s.map_view(B1, "rwx")
    assert base == MMAP_BASE
    # 0-8 GiB: big-file.iso, read only (first and last byte of the range).
    assert s.read(B1, base) == f"ok {ISO_AT_4G}"
    assert s.read(B1, base + 8 * GiB - 1) == f"ok {ISO_LAST}"
    assert s.write(B1, base + 8 * GiB - 1, 1) == SEGV_ACCERR
    assert s.access(B1, base, "exec").name == SEGV_ACCERR
    # 8-10 GiB: guest-ram, read+write, no exec.
    assert s.write(B1, base + 8 * GiB, 0x61) == "ok 0"
    assert s.read(B1, base + 8 * GiB) == "ok 97"
    assert s.write(B1, base + 10 * GiB - 1, 0x62) == "ok 0"
    assert s.read(B1, base + 10 * GiB - 1) == "ok 98"
    assert s.access(B1, base + 9 * GiB, "exec").name == SEGV_ACCERR
    # 10-16 GiB: nothing.
    for offset in (10 * GiB, 13 * GiB, 16 * GiB - 1):
        for kind in ("read", "write", "exec"):
            assert s.access(B1, base + offset, kind, 1).name == SIGBUS


def test_one_vma_in_b() -> None:
    """'void *ptr = mmap(NULL, 16 * GiB, PROT_READ | PROT_WRITE, MAP_SHARED, viewfd, 0);'
    'To summarize, there is one vma in process B and the memory view driver maps pages from the file
    descriptors added with ioctl(MEMVIEW_MAP_FD) by process A.'"""
    s = seed()
    base = s.map_view(B1, "rw")
    for addr in (base, base + 4 * GiB, base + 9 * GiB):
        assert s.access(B1, addr, "read").ok
    assert s.write(B1, base + 9 * GiB, 1) == "ok 0"
    vmas = [v for v in s.m.state.procs[B1].vmas if v.used]
    assert len(vmas) == 1
    (vma,) = vmas
    assert (vma.lo, vma.hi) == (pages(base), pages(base + 16 * GiB))
    assert (vma.lo + vma.delta) % (1 << 64) == 0  # the mapping starts at view offset 0
    assert vma.attrs & PERM_ALL == PERM_R | PERM_W


def test_access_at_4gib_is_8gib_into_big_file() -> None:
    """'For example, accessing the page at 4GB from the start of the memory view is an access at 8GB
    into big-file.iso. That's because 8GB of big-file.iso was mapped at 0 with fd_offset 4GB.'"""
    s = seed()
    base = s.map_view(B1)
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.read(B1, base + 4 * GiB + 123) == f"ok {ISO_AT_8G_123}"  # per byte, not per page
    assert s.read(B1, base + 4 * GiB + 1) == "ok 0"  # never written
    assert s.read(B1, base) == f"ok {ISO_AT_4G}"  # view 0 is file 4 GiB, not file 0
    assert s.iso(4 * GiB) == ISO_AT_4G and s.iso(0) == 0
    # B2's own mapping of the same view translates the same way.
    base2 = s.map_view(B2, "r")
    assert s.read(B2, base2 + 4 * GiB + 123) == f"ok {ISO_AT_8G_123}"


def test_writes_reach_guest_ram() -> None:
    """'Process A populates the memory view with ranges from file descriptors it wishes to share.'
    8-10 GiB is guest-ram read+write: B's stores land in the memfd, where others see them."""
    s = seed()
    base1 = s.map_view(B1)
    base2 = s.map_view(B2)
    assert s.read(B1, base1 + 9 * GiB) == f"ok {RAM_AT_9G}"  # A's pwrite, seen through the view
    assert s.write(B1, base1 + 9 * GiB + 5, 0x77) == "ok 0"
    assert s.ram(9 * GiB + 5) == 0x77  # fd_offset 8 GiB + (9 GiB + 5 - 8 GiB)
    assert (s.ram(9 * GiB + 4), s.ram(9 * GiB + 6)) == (0, 0)  # that byte and no other
    assert s.iso(9 * GiB + 5) == 0
    assert s.read(B2, base2 + 9 * GiB + 5) == "ok 119"
    assert s.write(B2, base2 + 8 * GiB, 0x78) == "ok 0"
    assert s.ram(8 * GiB) == 0x78
    assert s.read(B1, base1 + 8 * GiB) == "ok 120"
    # A's own writes to guest-ram are shared memory too.
    assert s.ok("pwrite", fd=s.memfd, offset=9 * GiB + 6, byte=0x79) == 1
    assert s.read(B1, base1 + 9 * GiB + 6) == "ok 121"


@pytest.mark.parametrize(("variant", "expected"), [("sigbus", SIGBUS), ("sigsegv", "SIGSEGV/SEGV_MAPERR")])
def test_unconfigured_pages_fault(variant: str, expected: str) -> None:
    """'If process B accesses a page ... that has not been configured by process A ioctl calls, a
    SIGSEGV/SIGBUS signal is [raised]' (10-16 GiB: SIGBUS in the seed design)."""
    design = SEED.with_choices(f"unconfigured-{variant}", {"unconfigured": variant})
    assert (variant == "sigbus") == (design.decisions() == SEED.decisions())
    s = seed(design)
    base = s.map_view(B1, "rwx")
    for offset in (10 * GiB, 10 * GiB + 4095, 13 * GiB + 7, 16 * GiB - 1):
        for kind in ("read", "write", "exec"):
            before = s.m.state
            assert s.access(B1, base + offset, kind, 0xEE).name == expected
            assert s.m.state == before


def test_denied_writes_fault_in_read_only_range() -> None:
    """'If process B accesses a page with incorrect permissions ... a SIGSEGV/SIGBUS signal is
    [raised]' (0-8 GiB is read-only: SIGSEGV/SEGV_ACCERR in the seed design)."""
    s = seed()
    base = s.map_view(B1, "rwx")
    for offset in (0, 4 * GiB, 4 * GiB + 123, 8 * GiB - 1):
        before = s.m.state
        assert s.write(B1, base + offset, 0xEE) == SEGV_ACCERR
        assert s.m.state == before
    # Still denied once a read has faulted the page in.
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.write(B1, base + 4 * GiB, 0xEE) == SEGV_ACCERR
    assert s.access(B1, base + 4 * GiB, "exec").name == SEGV_ACCERR
    assert s.iso(8 * GiB) == ISO_AT_8G


@pytest.mark.parametrize("prot", ["r", "rw", "rx", "rwx", "x", "w"])
def test_protection_is_the_and(prot: str) -> None:
    """'Page protection bits are the AND of the mmap PROT_READ/PROT_WRITE/PROT_EXEC flags with the
    memory view driver's mapping in question.'"""
    s = seed()
    base = s.map_view(B1, prot)
    bits = {"read": PERM_R, "write": PERM_W, "exec": PERM_X}
    prot_bits = sum(bit for kind, bit in bits.items() if kind[0] in prot)
    for offset, perms, value in ((4 * GiB, PERM_R, ISO_AT_8G), (9 * GiB, PERM_R | PERM_W, RAM_AT_9G)):
        for kind, bit in bits.items():
            obs = s.access(B1, base + offset, kind, value).name
            if bit & prot_bits & perms:
                assert obs == ("ok 0" if kind == "write" else f"ok {value}"), (offset, kind)
            else:
                assert obs == SEGV_ACCERR, (offset, kind)


def test_view_fd_allows_no_ioctl() -> None:
    """'The view file descriptor does not allow ioctls.'"""
    s = seed()
    base = s.map_view(B1)
    assert s.access(B1, base + 9 * GiB, "read").ok  # a cached translation in the state too
    attempts = {
        B1: s.viewfd[B1],
        A: s.a_viewfd,
    }
    for proc, fd in attempts.items():
        src = s.memfd if proc == A else fd
        calls: list[tuple[str, dict[str, object]]] = [
            ("view_set_size", {"fd": fd, "size": 32 * GiB}),
            ("view_set_size", {"fd": fd, "size": 0}),
            ("view_map_fd", {"fd": fd, "src": src, "fd_offset": 0, "size": 2 * GiB, "mem_offset": 10 * GiB,
                             "perms": "rw"}),
            ("view_unmap_fd", {"fd": fd, "mem_offset": 8 * GiB, "size": 2 * GiB}),
            ("view_get_viewfd", {"fd": fd, "mode": "rw"}),
            ("view_get_viewfd", {"fd": fd, "mode": "ro"}),
            ("ioctl", {"fd": fd, "cmd": 0}),
            ("ioctl", {"fd": fd, "cmd": 5}),
            ("ioctl", {"fd": fd, "cmd": 0xC0184D01}),
        ]
        for name, kwargs in calls:
            before = s.m.state
            assert s.run(name, proc, **kwargs).name == "ENOTTY", (proc, name, kwargs)
            assert s.m.state == before, (proc, name, kwargs)
    # B1's access still works: nothing was unmapped or resized.
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.m.state.view.size == 16 * GiB
    # The same ioctls on A's control fd are what change the view.
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert s.read(B1, base + 9 * GiB) == SIGBUS


def test_b_can_only_mmap_or_close_the_view_fd() -> None:
    """'It can be safely passed to process B in the knowledge that process B can only mmap or close it'"""
    s = seed()
    fd = s.viewfd[B1]
    assert s.m.state.procs[B1].fds[fd].kind == FdKind.VIEW
    refused = [
        ("pwrite", {"fd": fd, "offset": 9 * GiB, "byte": 0xEE}),
        ("ftruncate", {"fd": fd, "size": 0}),
        ("ftruncate", {"fd": fd, "size": 32 * GiB}),
        ("seal", {"fd": fd, "seals": ["write"]}),
        ("reopen", {"fd": fd, "mode": "rw"}),
    ]
    for name, kwargs in refused:
        before = s.m.state
        obs = s.run(name, B1, **kwargs)
        assert obs.outcome == "errno", (name, obs.name)
        assert obs.name == "EINVAL", (name, obs.name)
        assert s.m.state == before
    base = s.map_view(B1)
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.ok("close", B1, fd=fd) == 0
    # The mapping survives the close: reads and writes still go through.
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.write(B1, base + 9 * GiB + 1, 0x7A) == "ok 0"
    assert s.ram(9 * GiB + 1) == 0x7A
    # ... but the fd itself is gone.
    assert s.run("mmap", B1, fd=fd, length=16 * GiB, prot="r", flags="shared", offset=0).name == "EBADF"
    assert s.run("ioctl", B1, fd=fd, cmd=0).name == "EBADF"
    # And the close extended nothing: A can still revoke the surviving mapping.
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert s.read(B1, base + 9 * GiB) == SIGBUS


def test_mprotect_cannot_raise_permissions() -> None:
    """'When process B uses mprotect(2) and other virtual memory syscalls it is unable to increase page
    permissions. Instead it can only reduce them because the pte protection bits are the AND of the
    mmap flags and the [memory view driver's mapping]'"""
    s = seed()
    base = s.map_view(B1, "r")
    assert s.write(B1, base + 9 * GiB, 1) == SEGV_ACCERR  # PROT_READ mapping
    assert s.ok("mprotect", B1, addr=base, length=16 * GiB, prot="rwx") == 0
    for offset in (0, 4 * GiB, 8 * GiB - 1):
        assert s.write(B1, base + offset, 0xEE) == SEGV_ACCERR
        assert s.access(B1, base + offset, "exec").name == SEGV_ACCERR
    assert s.access(B1, base + 9 * GiB, "exec").name == SEGV_ACCERR
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.iso(8 * GiB) == ISO_AT_8G and s.iso(4 * GiB) == ISO_AT_4G
    # Within A's read+write range the AND allows the write B's rw view fd permits ...
    assert s.write(B1, base + 9 * GiB, 0x70) == "ok 0"
    # ... and mprotect can take it away again.
    assert s.ok("mprotect", B1, addr=base + 8 * GiB, length=2 * GiB, prot="r") == 0
    assert s.write(B1, base + 9 * GiB, 0x71) == SEGV_ACCERR
    assert s.ram(9 * GiB) == 0x70


def test_read_only_view_fd_refuses_write_mappings() -> None:
    """'unable to increase page permissions': a view fd from MEMVIEW_GET_VIEWFD opened read-only
    cannot become a writable mapping, whatever A's range permissions are."""
    s = seed(mode="ro")
    fd = s.viewfd[B1]
    before = s.m.state
    assert s.run("mmap", B1, fd=fd, length=16 * GiB, prot="rw", flags="shared", offset=0).name == "EACCES"
    assert s.run("mmap", B1, fd=fd, length=2 * GiB, prot="w", flags="shared", offset=8 * GiB).name == "EACCES"
    assert s.run("mmap", B1, fd=fd, length=16 * GiB, prot="rw", flags="private", offset=0).name == "EINVAL"
    assert s.m.state == before
    base = s.map_view(B1, "r")
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    before = s.m.state
    for length, offset in ((16 * GiB, 0), (2 * GiB, 8 * GiB), (PAGE, 9 * GiB)):
        for prot in ("w", "rw", "rwx"):
            assert s.run("mprotect", B1, addr=base + offset, length=length, prot=prot).name == "EACCES"
    assert s.m.state == before
    assert s.write(B1, base + 9 * GiB, 0xEE) == SEGV_ACCERR
    assert s.ram(9 * GiB) == RAM_AT_9G


def test_unmap_fd_revokes_in_clients_and_children() -> None:
    """'Process A can make further ioctl(MEMVIEW_MAP_FD) calls and also ioctl(MEMVIEW_UNMAP_FD) calls
    to change the mappings. This requires zapping affected process B ptes. When process B accesses
    those pages again the fault handler will handle the page fault based on the latest memory view
    layout.'"""
    s = seed()
    base = s.map_view(B1)
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.write(B1, base + 8 * GiB, 0x01) == "ok 0"
    child = s.ok("fork", B1)
    assert child == 3
    assert s.read(child, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.write(child, base + 10 * GiB - 1, 0x02) == "ok 0"
    assert s.ram(10 * GiB - 1) == 0x02

    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert used_ranges(s) == [(0, pages(8 * GiB), s.big_file, pages(4 * GiB), PERM_R)]
    ram = s.m.state.objs[s.guest_ram].data
    for proc in (B1, child):
        for offset in (8 * GiB, 9 * GiB, 10 * GiB - 1):
            assert s.read(proc, base + offset) == SIGBUS, (proc, offset)
            assert s.write(proc, base + offset, 0xEE) == SIGBUS, (proc, offset)
        assert s.read(proc, base + 4 * GiB) == f"ok {ISO_AT_8G}"  # the rest of the view is untouched
    assert s.m.state.objs[s.guest_ram].data == ram

    # A maps new backing over the hole: accesses succeed again, with the new content.
    newfd = s.ok("memfd_create", sealing=False)
    assert s.ok("ftruncate", fd=newfd, size=2 * GiB) == 0
    assert s.ok("pwrite", fd=newfd, offset=GiB, byte=0x99) == 1
    assert s.ok("view_map_fd", fd=s.control, src=newfd, fd_offset=0, size=2 * GiB, mem_offset=8 * GiB,
                perms="rw") == 0
    new_obj = s.m.state.procs[A].fds[newfd].obj
    for proc in (B1, child):
        assert s.read(proc, base + 9 * GiB) == "ok 153", proc
    assert s.write(B1, base + 9 * GiB + 1, 0x9A) == "ok 0"
    assert s.m.state.objs[new_obj].data.get(GiB + 1) == 0x9A
    assert s.ram(9 * GiB + 1) == 0
    assert s.read(child, base + 9 * GiB + 1) == "ok 154"


def test_remap_changes_protection() -> None:
    """'When process A passes shared memory file descriptors to process B there is no way for process A
    to revoke access or change page protection bits after passing the fd.' With the view A can."""
    s = seed()
    base = s.map_view(B1)
    assert s.write(B1, base + 9 * GiB, 0x10) == "ok 0"  # a writable translation is now cached
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert s.ok("view_map_fd", fd=s.control, src=s.memfd, fd_offset=8 * GiB, size=2 * GiB, mem_offset=8 * GiB,
                perms="r") == 0
    assert s.read(B1, base + 9 * GiB) == "ok 16"
    assert s.write(B1, base + 9 * GiB, 0x11) == SEGV_ACCERR
    assert s.ram(9 * GiB) == 0x10


def test_unmap_fd_of_the_middle_splits_the_range() -> None:
    """'ioctl(MEMVIEW_UNMAP_FD) calls to change the mappings' over part of a range (seed design: split):
    [8.5, 9.5) GiB out of guest-ram leaves [8, 8.5) and [9.5, 10) mapped as before."""
    s = seed()
    base = s.map_view(B1)
    lo, hi = 8 * GiB + GiB // 2, 9 * GiB + GiB // 2
    for offset in (8 * GiB + GiB // 2, 9 * GiB, 9 * GiB + 3 * GiB // 4):  # fault all three in first
        assert s.access(B1, base + offset, "read").ok
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=lo, size=hi - lo) == 0
    assert used_ranges(s) == [
        (0, pages(8 * GiB), s.big_file, pages(4 * GiB), PERM_R),
        (pages(8 * GiB), pages(lo), s.guest_ram, 0, PERM_R | PERM_W),
        (pages(hi), pages(10 * GiB), s.guest_ram, 0, PERM_R | PERM_W),
    ]
    assert s.read(B1, base + lo - 1) == "ok 0"
    assert s.read(B1, base + lo) == SIGBUS
    assert s.read(B1, base + 9 * GiB) == SIGBUS
    assert s.read(B1, base + hi - 1) == SIGBUS
    assert s.read(B1, base + hi) == "ok 0"
    assert s.read(B1, base + 9 * GiB + 3 * GiB // 4) == f"ok {RAM_AT_9_75G}"
    assert s.write(B1, base + 8 * GiB + 1, 0x81) == "ok 0"
    assert s.write(B1, base + 10 * GiB - 1, 0x82) == "ok 0"
    assert (s.ram(8 * GiB + 1), s.ram(10 * GiB - 1)) == (0x81, 0x82)
    assert s.ram(lo) == RAM_AT_8_5G  # the bytes behind the hole are untouched
    # B2 maps only now: the same layout.
    base2 = s.map_view(B2)
    assert s.read(B2, base2 + 10 * GiB - 1) == "ok 130"
    assert s.read(B2, base2 + 9 * GiB) == SIGBUS


def test_read_only_file_mapped_later_without_b_coordinating() -> None:
    """'int filefd = open("big-file.iso", O_RDONLY); ... .flags = MEMVIEW_MAP_READ': A's O_RDONLY fd
    grants read only, so MAP_FD asking for write through it is refused (EACCES in the seed design).
    'Now virtiofsd can map portions of files into the DAX Window without coordinating with the QEMU
    process': a range A adds later is visible in B's existing mapping with no call by B."""
    s = seed()
    base = s.map_view(B1)
    assert s.read(B1, base + 10 * GiB) == SIGBUS
    before = s.m.state
    obs = s.run("view_map_fd", fd=s.control, src=s.filefd, fd_offset=4 * GiB, size=2 * GiB, mem_offset=10 * GiB,
                perms="rw")
    assert obs.name == "EACCES"
    assert s.m.state == before
    assert s.ok("view_map_fd", fd=s.control, src=s.filefd, fd_offset=4 * GiB, size=2 * GiB, mem_offset=10 * GiB,
                perms="r") == 0
    # [10, 12) GiB now shows big-file.iso from 4 GiB, like view offset 0 does.
    assert s.read(B1, base + 10 * GiB) == f"ok {ISO_AT_4G}"
    assert s.read(B1, base) == f"ok {ISO_AT_4G}"
    assert s.write(B1, base + 10 * GiB, 0xEE) == SEGV_ACCERR
    assert s.read(B1, base + 12 * GiB - 1) == "ok 0"
    assert s.read(B1, base + 12 * GiB) == SIGBUS


def test_sizing_by_ioctl_in_the_seed_design() -> None:
    """'Next process A sets the size of the memory view: ftruncate(fd, 16 * GiB);' — Linux refuses
    ftruncate on a character device (EINVAL), so the seed design sizes with an ioctl."""
    m = Machine(SEED, Config())
    control = m.run(action("view_open")).value
    before = m.state
    assert m.run(action("ftruncate", A, fd=control, size=16 * GiB)).name == "EINVAL"
    assert m.state == before and m.state.view.size == 0
    assert m.run(action("view_set_size", A, fd=control, size=16 * GiB)).name == "ok 0"
    assert m.state.view.size == 16 * GiB


def test_sizing_by_ftruncate_in_the_fuse_like_design() -> None:
    """'ftruncate(fd, 16 * GiB);' taken literally: a view backed by a regular inode (design fuse-like),
    where ftruncate sizes the view and the size ioctl does not exist."""
    design = BUILTIN["fuse-like"]
    assert design["sizing"] == "inode"
    m = Machine(design, Config())
    control = m.run(action("view_open")).value
    before = m.state
    assert m.run(action("view_set_size", A, fd=control, size=16 * GiB)).name == "ENOTTY"
    assert m.state == before and m.state.view.size == 0
    assert m.run(action("ftruncate", A, fd=control, size=16 * GiB)).name == "ok 0"
    assert m.state.view.size == 16 * GiB
    # The whole seed scenario then runs as written.
    s = seed(design)
    base = s.map_view(B1)
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.write(B1, base + 9 * GiB, 0x01) == "ok 0"
    assert s.read(B1, base + 12 * GiB) == SIGBUS
    # Only A's control fd is the inode: B still cannot resize the view through its view fd.
    before = s.m.state
    assert s.run("ftruncate", B1, fd=s.viewfd[B1], size=4 * GiB).name == "EINVAL"
    assert s.m.state == before
