"""Every concrete statement of the seed, as a scenario at the seed's literal sizes.

The seed is Stefan Hajnoczi's 2020 linux-mm mail (seed/memory-view-proposal.txt). Process A opens
/dev/memory-view, sizes the view to 16 GiB, maps [8, 10) GiB of a 32 GiB memfd "guest-ram" read+write
at 8 GiB and [4, 12) GiB of a 12 GiB file "big-file.iso" (opened O_RDONLY) read-only at 0, gets a
view fd and passes it to B, which mmaps all 16 GiB. Each test quotes the sentence it checks.

Processes: 0 is A, 1 and 2 are the clients B1 and B2; a fork takes the next free slot (3). The
first mmap of a process lands at MMAP_BASE (1 << 40).
"""

from __future__ import annotations

import pytest
from scenario import ACCERR, B1, B2, MAPERR, OK, SIGBUS, A, Sim

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

GiB = 1 << 30
PAGE = Config().page_size

# Distinctive bytes A writes before handing anything out.
ISO_AT_4G = 0x11  # big-file.iso at 4 GiB: view offset 0
ISO_AT_8G = 0xA5  # big-file.iso at 8 GiB: view offset 4 GiB
ISO_AT_8G_123 = 0x5C  # big-file.iso at 8 GiB + 123: view offset 4 GiB + 123
ISO_LAST = 0x22  # big-file.iso's last byte (12 GiB - 1): view offset 8 GiB - 1
RAM_AT_9G = 0x33  # guest-ram at 9 GiB: view offset 9 GiB
RAM_AT_8_5G = 0x44  # guest-ram at 8.5 GiB: view offset 8.5 GiB
RAM_AT_9_75G = 0x55  # guest-ram at 9.75 GiB: view offset 9.75 GiB


def pages(nbytes: int) -> int:
    return nbytes // PAGE


class Seed(Sim):
    """The seed's machine (a Sim of scenario.py) after A has built the layout table step by step,
    then passed a view fd (opened `mode`) to each client."""

    def __init__(self, design: Design = SEED, clients: tuple[int, ...] = (B1, B2), mode: str = "rw") -> None:
        super().__init__(design=design)
        self.control = self.ok("view_open")  # A's /dev/memory-view fd: open("/dev/memory-view", O_RDWR)
        # ftruncate(fd, 16 * GiB): the size ioctl, or ftruncate where the design sizes by inode
        sized = self.set_size(pages(16 * GiB), fd=self.control)
        assert sized == OK, sized
        self.ramfd = self.ok("memfd_create", sealing=False)  # A's guest-ram fd: memfd_create("guest-ram", 0)
        self.ok("ftruncate", fd=self.ramfd, size=32 * GiB)
        self.ok("pwrite", fd=self.ramfd, offset=9 * GiB, byte=RAM_AT_9G)
        self.ok("pwrite", fd=self.ramfd, offset=8 * GiB + GiB // 2, byte=RAM_AT_8_5G)
        self.ok("pwrite", fd=self.ramfd, offset=9 * GiB + 3 * GiB // 4, byte=RAM_AT_9_75G)
        # Map [8GB, 10GB) at 8GB into the memory view (read+write, as the layout table says)
        self.ok("view_map_fd", fd=self.control, src=self.ramfd, fd_offset=8 * GiB, size=2 * GiB,
                mem_offset=8 * GiB, perms="rw")
        # big-file.iso: written through a read-write fd first, then open("big-file.iso", O_RDONLY)
        writer = self.ok("file_create")
        self.ok("ftruncate", fd=writer, size=12 * GiB)
        for offset, byte in ((4 * GiB, ISO_AT_4G), (8 * GiB, ISO_AT_8G), (8 * GiB + 123, ISO_AT_8G_123),
                             (12 * GiB - 1, ISO_LAST)):
            self.ok("pwrite", fd=writer, offset=offset, byte=byte)
        self.filefd = self.ok("reopen", fd=writer, mode="ro")  # A's O_RDONLY big-file.iso fd
        self.ok("close", fd=writer)
        # Map [4GB, 12GB) at 0B into the memory view, MEMVIEW_MAP_READ
        self.ok("view_map_fd", fd=self.control, src=self.filefd, fd_offset=4 * GiB, size=8 * GiB, mem_offset=0,
                perms="r")
        # A's own copy of the view fd: ioctl(fd, MEMVIEW_GET_VIEWFD)
        self.a_viewfd = self.ok("view_get_viewfd", fd=self.control, mode=mode)
        self.viewfd = {client: self.ok("send", fd=self.a_viewfd, to=client) for client in clients}  # client -> fd
        fds = self.state.procs[A].fds
        self.guest_ram = fds[self.ramfd].obj  # object slot of guest-ram
        self.big_file = fds[self.filefd].obj  # object slot of big-file.iso

    def map_view(self, proc: int, prot: str = "rw") -> int:
        """mmap(NULL, 16 * GiB, prot, MAP_SHARED, viewfd, 0); the mapping's address."""
        return self.mmap_ok(proc, pages(16 * GiB), prot, fd=self.viewfd[proc])

    def ram(self, offset: int) -> int:
        return self.data(self.guest_ram, offset)

    def iso(self, offset: int) -> int:
        return self.data(self.big_file, offset)


def test_size_is_virtual() -> None:
    """'The size determines how large the memory view will be. The size is a virtual memory concept
    and does not consume resources (there is no physical memory backing this).'"""
    s = Sim()
    control = s.ok("view_open")  # 'This returns a file descriptor to a new memory view.'
    assert s.state.procs[A].fds[control].kind == FdKind.CONTROL
    assert s.state.view.exists and s.state.view.control_open
    before = s.state.objs
    assert s.set_size(pages(16 * GiB), fd=control) == OK
    assert s.state.view.size == 16 * GiB
    assert s.state.objs == before
    assert not any(o.exists for o in s.state.objs)
    assert not any(r.used for r in s.state.view.ranges)


def test_layout_table() -> None:
    """'The memory view has now been populated like this:
    0-8 big-file.iso read / 8-10 guest-ram read+write / 10-16 <none> <none>'"""
    s = Seed()
    assert s.state.objs[s.big_file].kind == ObjKind.FILE
    assert s.state.objs[s.big_file].size == 12 * GiB
    assert s.state.objs[s.guest_ram].kind == ObjKind.MEMFD
    assert s.state.objs[s.guest_ram].size == 32 * GiB
    assert s.ranges() == [
        (0, pages(8 * GiB), s.big_file, pages(4 * GiB), PERM_R),
        (pages(8 * GiB), pages(10 * GiB), s.guest_ram, 0, PERM_R | PERM_W),
    ]
    base = s.map_view(B1, "rwx")
    assert base == MMAP_BASE
    # 0-8 GiB: big-file.iso, read only (first and last byte of the range).
    assert s.read(B1, base) == f"ok {ISO_AT_4G}"
    assert s.read(B1, base + 8 * GiB - 1) == f"ok {ISO_LAST}"
    assert s.write(B1, base + 8 * GiB - 1, 1) == ACCERR
    assert s.access(B1, base, "exec").name == ACCERR
    # 8-10 GiB: guest-ram, read+write, no exec.
    assert s.write(B1, base + 8 * GiB, 0x61) == "ok 0"
    assert s.read(B1, base + 8 * GiB) == "ok 97"
    assert s.write(B1, base + 10 * GiB - 1, 0x62) == "ok 0"
    assert s.read(B1, base + 10 * GiB - 1) == "ok 98"
    assert s.access(B1, base + 9 * GiB, "exec").name == ACCERR
    # 10-16 GiB: nothing.
    for offset in (10 * GiB, 13 * GiB, 16 * GiB - 1):
        for kind in ("read", "write", "exec"):
            assert s.access(B1, base + offset, kind, 1).name == SIGBUS


def test_one_vma_in_b() -> None:
    """'void *ptr = mmap(NULL, 16 * GiB, PROT_READ | PROT_WRITE, MAP_SHARED, viewfd, 0);'
    'To summarize, there is one vma in process B and the memory view driver maps pages from the file
    descriptors added with ioctl(MEMVIEW_MAP_FD) by process A.'"""
    s = Seed()
    base = s.map_view(B1, "rw")
    for addr in (base, base + 4 * GiB, base + 9 * GiB):
        assert s.access(B1, addr, "read").ok
    assert s.write(B1, base + 9 * GiB, 1) == "ok 0"
    vmas = [v for v in s.state.procs[B1].vmas if v.used]
    assert len(vmas) == 1
    (vma,) = vmas
    assert (vma.lo, vma.hi) == (pages(base), pages(base + 16 * GiB))
    assert (vma.lo + vma.delta) % (1 << 64) == 0  # the mapping starts at view offset 0
    assert vma.attrs & PERM_ALL == PERM_R | PERM_W


def test_access_at_4gib_is_8gib_into_big_file() -> None:
    """'For example, accessing the page at 4GB from the start of the memory view is an access at 8GB
    into big-file.iso. That's because 8GB of big-file.iso was mapped at 0 with fd_offset 4GB.'"""
    s = Seed()
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
    s = Seed()
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
    assert s.ok("pwrite", fd=s.ramfd, offset=9 * GiB + 6, byte=0x79) == 1
    assert s.read(B1, base1 + 9 * GiB + 6) == "ok 121"


@pytest.mark.parametrize(("variant", "expected"), [("sigbus", SIGBUS), ("sigsegv", MAPERR)])
def test_unconfigured_pages_fault(variant: str, expected: str) -> None:
    """'If process B accesses a page ... that has not been configured by process A ioctl calls, a
    SIGSEGV/SIGBUS signal is [raised]' (10-16 GiB: SIGBUS in the seed design)."""
    design = SEED.with_choices(f"unconfigured-{variant}", {"unconfigured": variant})
    assert (variant == "sigbus") == (design.decisions() == SEED.decisions())
    s = Seed(design)
    base = s.map_view(B1, "rwx")
    for offset in (10 * GiB, 10 * GiB + 4095, 13 * GiB + 7, 16 * GiB - 1):
        for kind in ("read", "write", "exec"):
            before = s.state
            assert s.access(B1, base + offset, kind, 0xEE).name == expected
            assert s.state == before


def test_denied_writes_fault_in_read_only_range() -> None:
    """'If process B accesses a page with incorrect permissions ... a SIGSEGV/SIGBUS signal is
    [raised]' (0-8 GiB is read-only: SIGSEGV/SEGV_ACCERR in the seed design)."""
    s = Seed()
    base = s.map_view(B1, "rwx")
    for offset in (0, 4 * GiB, 4 * GiB + 123, 8 * GiB - 1):
        before = s.state
        assert s.write(B1, base + offset, 0xEE) == ACCERR
        assert s.state == before
    # Still denied once a read has faulted the page in.
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.write(B1, base + 4 * GiB, 0xEE) == ACCERR
    assert s.access(B1, base + 4 * GiB, "exec").name == ACCERR
    assert s.iso(8 * GiB) == ISO_AT_8G


@pytest.mark.parametrize("prot", ["r", "rw", "rx", "rwx", "x", "w"])
def test_protection_is_the_and(prot: str) -> None:
    """'Page protection bits are the AND of the mmap PROT_READ/PROT_WRITE/PROT_EXEC flags with the
    memory view driver's mapping in question.'"""
    s = Seed()
    base = s.map_view(B1, prot)
    bits = {"read": PERM_R, "write": PERM_W, "exec": PERM_X}
    prot_bits = sum(bit for kind, bit in bits.items() if kind[0] in prot)
    for offset, perms, value in ((4 * GiB, PERM_R, ISO_AT_8G), (9 * GiB, PERM_R | PERM_W, RAM_AT_9G)):
        for kind, bit in bits.items():
            obs = s.access(B1, base + offset, kind, value).name
            if bit & prot_bits & perms:
                assert obs == ("ok 0" if kind == "write" else f"ok {value}"), (offset, kind)
            else:
                assert obs == ACCERR, (offset, kind)


def test_view_fd_allows_no_ioctl() -> None:
    """'The view file descriptor does not allow ioctls.'"""
    s = Seed()
    base = s.map_view(B1)
    assert s.access(B1, base + 9 * GiB, "read").ok  # a cached translation in the state too
    attempts = {
        B1: s.viewfd[B1],
        A: s.a_viewfd,
    }
    for proc, fd in attempts.items():
        src = s.ramfd if proc == A else fd
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
            before = s.state
            assert s.run(name, proc, **kwargs) == "ENOTTY", (proc, name, kwargs)
            assert s.state == before, (proc, name, kwargs)
    # B1's access still works: nothing was unmapped or resized.
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.state.view.size == 16 * GiB
    # The same ioctls on A's control fd are what change the view.
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert s.read(B1, base + 9 * GiB) == SIGBUS


def test_b_can_only_mmap_or_close_the_view_fd() -> None:
    """'It can be safely passed to process B in the knowledge that process B can only mmap or close it'"""
    s = Seed()
    fd = s.viewfd[B1]
    assert s.state.procs[B1].fds[fd].kind == FdKind.VIEW
    refused = [
        ("pwrite", {"fd": fd, "offset": 9 * GiB, "byte": 0xEE}),
        ("ftruncate", {"fd": fd, "size": 0}),
        ("ftruncate", {"fd": fd, "size": 32 * GiB}),
        ("seal", {"fd": fd, "seals": ["write"]}),
        ("reopen", {"fd": fd, "mode": "rw"}),
    ]
    for name, kwargs in refused:
        before = s.state
        obs = s.obs(name, B1, **kwargs)
        assert obs.outcome == "errno", (name, obs.name)
        assert obs.name == "EINVAL", (name, obs.name)
        assert s.state == before
    base = s.map_view(B1)
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.ok("close", B1, fd=fd) == 0
    # The mapping survives the close: reads and writes still go through.
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.write(B1, base + 9 * GiB + 1, 0x7A) == "ok 0"
    assert s.ram(9 * GiB + 1) == 0x7A
    # ... but the fd itself is gone.
    assert s.run("mmap", B1, fd=fd, length=16 * GiB, prot="r", flags="shared", offset=0) == "EBADF"
    assert s.run("ioctl", B1, fd=fd, cmd=0) == "EBADF"
    # And the close extended nothing: A can still revoke the surviving mapping.
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert s.read(B1, base + 9 * GiB) == SIGBUS


def test_mprotect_cannot_raise_permissions() -> None:
    """'When process B uses mprotect(2) and other virtual memory syscalls it is unable to increase page
    permissions. Instead it can only reduce them because the pte protection bits are the AND of the
    mmap flags and the [memory view driver's mapping]'"""
    s = Seed()
    base = s.map_view(B1, "r")
    assert s.write(B1, base + 9 * GiB, 1) == ACCERR  # PROT_READ mapping
    assert s.ok("mprotect", B1, addr=base, length=16 * GiB, prot="rwx") == 0
    for offset in (0, 4 * GiB, 8 * GiB - 1):
        assert s.write(B1, base + offset, 0xEE) == ACCERR
        assert s.access(B1, base + offset, "exec").name == ACCERR
    assert s.access(B1, base + 9 * GiB, "exec").name == ACCERR
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.iso(8 * GiB) == ISO_AT_8G and s.iso(4 * GiB) == ISO_AT_4G
    # Within A's read+write range the AND allows the write B's rw view fd permits ...
    assert s.write(B1, base + 9 * GiB, 0x70) == "ok 0"
    # ... and mprotect can take it away again.
    assert s.ok("mprotect", B1, addr=base + 8 * GiB, length=2 * GiB, prot="r") == 0
    assert s.write(B1, base + 9 * GiB, 0x71) == ACCERR
    assert s.ram(9 * GiB) == 0x70


def test_read_only_view_fd_refuses_write_mappings() -> None:
    """'unable to increase page permissions': a view fd from MEMVIEW_GET_VIEWFD opened read-only
    cannot become a writable mapping, whatever A's range permissions are."""
    s = Seed(mode="ro")
    fd = s.viewfd[B1]
    before = s.state
    assert s.run("mmap", B1, fd=fd, length=16 * GiB, prot="rw", flags="shared", offset=0) == "EACCES"
    assert s.run("mmap", B1, fd=fd, length=2 * GiB, prot="w", flags="shared", offset=8 * GiB) == "EACCES"
    assert s.run("mmap", B1, fd=fd, length=16 * GiB, prot="rw", flags="private", offset=0) == "EINVAL"
    assert s.state == before
    base = s.map_view(B1, "r")
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    before = s.state
    for length, offset in ((16 * GiB, 0), (2 * GiB, 8 * GiB), (PAGE, 9 * GiB)):
        for prot in ("w", "rw", "rwx"):
            assert s.run("mprotect", B1, addr=base + offset, length=length, prot=prot) == "EACCES"
    assert s.state == before
    assert s.write(B1, base + 9 * GiB, 0xEE) == ACCERR
    assert s.ram(9 * GiB) == RAM_AT_9G


def test_unmap_fd_revokes_in_clients_and_children() -> None:
    """'Process A can make further ioctl(MEMVIEW_MAP_FD) calls and also ioctl(MEMVIEW_UNMAP_FD) calls
    to change the mappings. This requires zapping affected process B ptes. When process B accesses
    those pages again the fault handler will handle the page fault based on the latest memory view
    layout.'"""
    s = Seed()
    base = s.map_view(B1)
    assert s.read(B1, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.write(B1, base + 8 * GiB, 0x01) == "ok 0"
    child = s.ok("fork", B1)
    assert child == 3
    assert s.read(child, base + 9 * GiB) == f"ok {RAM_AT_9G}"
    assert s.write(child, base + 10 * GiB - 1, 0x02) == "ok 0"
    assert s.ram(10 * GiB - 1) == 0x02

    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert s.ranges() == [(0, pages(8 * GiB), s.big_file, pages(4 * GiB), PERM_R)]
    ram = s.state.objs[s.guest_ram].data
    for proc in (B1, child):
        for offset in (8 * GiB, 9 * GiB, 10 * GiB - 1):
            assert s.read(proc, base + offset) == SIGBUS, (proc, offset)
            assert s.write(proc, base + offset, 0xEE) == SIGBUS, (proc, offset)
        assert s.read(proc, base + 4 * GiB) == f"ok {ISO_AT_8G}"  # the rest of the view is untouched
    assert s.state.objs[s.guest_ram].data == ram

    # A maps new backing over the hole: accesses succeed again, with the new content.
    newfd = s.ok("memfd_create", sealing=False)
    assert s.ok("ftruncate", fd=newfd, size=2 * GiB) == 0
    assert s.ok("pwrite", fd=newfd, offset=GiB, byte=0x99) == 1
    assert s.ok("view_map_fd", fd=s.control, src=newfd, fd_offset=0, size=2 * GiB, mem_offset=8 * GiB,
                perms="rw") == 0
    new_obj = s.state.procs[A].fds[newfd].obj
    for proc in (B1, child):
        assert s.read(proc, base + 9 * GiB) == "ok 153", proc
    assert s.write(B1, base + 9 * GiB + 1, 0x9A) == "ok 0"
    assert s.state.objs[new_obj].data.get(GiB + 1) == 0x9A
    assert s.ram(9 * GiB + 1) == 0
    assert s.read(child, base + 9 * GiB + 1) == "ok 154"


def test_remap_changes_protection() -> None:
    """'When process A passes shared memory file descriptors to process B there is no way for process A
    to revoke access or change page protection bits after passing the fd.' With the view A can."""
    s = Seed()
    base = s.map_view(B1)
    assert s.write(B1, base + 9 * GiB, 0x10) == "ok 0"  # a writable translation is now cached
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=8 * GiB, size=2 * GiB) == 0
    assert s.ok("view_map_fd", fd=s.control, src=s.ramfd, fd_offset=8 * GiB, size=2 * GiB, mem_offset=8 * GiB,
                perms="r") == 0
    assert s.read(B1, base + 9 * GiB) == "ok 16"
    assert s.write(B1, base + 9 * GiB, 0x11) == ACCERR
    assert s.ram(9 * GiB) == 0x10


def test_unmap_fd_of_the_middle_splits_the_range() -> None:
    """'ioctl(MEMVIEW_UNMAP_FD) calls to change the mappings' over part of a range (seed design: split):
    [8.5, 9.5) GiB out of guest-ram leaves [8, 8.5) and [9.5, 10) mapped as before."""
    s = Seed()
    base = s.map_view(B1)
    lo, hi = 8 * GiB + GiB // 2, 9 * GiB + GiB // 2
    for offset in (8 * GiB + GiB // 2, 9 * GiB, 9 * GiB + 3 * GiB // 4):  # fault all three in first
        assert s.access(B1, base + offset, "read").ok
    assert s.ok("view_unmap_fd", fd=s.control, mem_offset=lo, size=hi - lo) == 0
    assert s.ranges() == [
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
    s = Seed()
    base = s.map_view(B1)
    assert s.read(B1, base + 10 * GiB) == SIGBUS
    before = s.state
    obs = s.obs("view_map_fd", fd=s.control, src=s.filefd, fd_offset=4 * GiB, size=2 * GiB, mem_offset=10 * GiB,
                perms="rw")
    assert obs.name == "EACCES"
    assert s.state == before
    assert s.ok("view_map_fd", fd=s.control, src=s.filefd, fd_offset=4 * GiB, size=2 * GiB, mem_offset=10 * GiB,
                perms="r") == 0
    # [10, 12) GiB now shows big-file.iso from 4 GiB, like view offset 0 does.
    assert s.read(B1, base + 10 * GiB) == f"ok {ISO_AT_4G}"
    assert s.read(B1, base) == f"ok {ISO_AT_4G}"
    assert s.write(B1, base + 10 * GiB, 0xEE) == ACCERR
    assert s.read(B1, base + 12 * GiB - 1) == "ok 0"
    assert s.read(B1, base + 12 * GiB) == SIGBUS


def test_sizing_by_ioctl_in_the_seed_design() -> None:
    """'Next process A sets the size of the memory view: ftruncate(fd, 16 * GiB);' — Linux refuses
    ftruncate on a character device (EINVAL), so the seed design sizes with an ioctl."""
    s = Sim()
    control = s.ok("view_open")
    before = s.state
    assert s.run("ftruncate", fd=control, size=16 * GiB) == "EINVAL"
    assert s.state == before and s.state.view.size == 0
    assert s.run("view_set_size", fd=control, size=16 * GiB) == "ok 0"
    assert s.state.view.size == 16 * GiB


def test_sizing_by_ftruncate_in_the_fuse_like_design() -> None:
    """'ftruncate(fd, 16 * GiB);' taken literally: a view backed by a regular inode (design fuse-like),
    where ftruncate sizes the view and the size ioctl does not exist."""
    design = BUILTIN["fuse-like"]
    assert design["sizing"] == "inode"
    sim = Sim(design=design)
    control = sim.ok("view_open")
    before = sim.state
    assert sim.run("view_set_size", fd=control, size=16 * GiB) == "ENOTTY"
    assert sim.state == before and sim.state.view.size == 0
    assert sim.run("ftruncate", fd=control, size=16 * GiB) == "ok 0"
    assert sim.state.view.size == 16 * GiB
    # The whole seed scenario then runs as written.
    s = Seed(design)
    base = s.map_view(B1)
    assert s.read(B1, base + 4 * GiB) == f"ok {ISO_AT_8G}"
    assert s.write(B1, base + 9 * GiB, 0x01) == "ok 0"
    assert s.read(B1, base + 12 * GiB) == SIGBUS
    # Only A's control fd is the inode: B still cannot resize the view through its view fd.
    before = s.state
    assert s.run("ftruncate", B1, fd=s.viewfd[B1], size=4 * GiB) == "EINVAL"
    assert s.state == before
