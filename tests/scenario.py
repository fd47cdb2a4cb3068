"""Shared helpers of the scenario tests: a Machine with one design (Sim), a standard set-up, and
the numbering they share.

Imported as a plain module (`from scenario import Sim, ...`): pytest's default import mode puts
tests/ on sys.path.

Numbering: page_size 4096 (P). Process 0 is A, 1 and 2 are the clients B1 and B2, and 3 is the fork
slot (dead until a fork; the first forked child lands there). After `standard()` A holds its
control fd 0 (CTL), a memfd 1 (MEMFD, object 0) and a view fd 2 (VIEWFD); a client's first received
view fd is 0 (BFD). The first mmap of every process lands at MMAP_BASE (BASE). A memfd made by
`Sim.memfd` holds 0x11 + k at the first byte of its page k (`first_byte(k)`) unless made with
fill=False.

Helpers that observe return the observation's name ("ok 0", "EINVAL", "SIGBUS/BUS_ADRERR", ...);
set-up helpers (`ok`, `open_view`, `memfd`, `give_view`, `mmap_ok`, `standard`) assert that each of
their steps succeeds.
"""

from __future__ import annotations

from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import SEED, Design
from memview.model.encodings import cached_entry
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import action
from memview.model.state import State

P = 4096
A, B1, B2 = 0, 1, 2
FORK_SLOT = 3  # dead until a fork
CHILD = FORK_SLOT  # where the first forked child lands
CTL, MEMFD, VIEWFD = 0, 1, 2  # A's fds after standard()
BFD = 0  # a client's first view fd
BASE = MMAP_BASE  # the first mmap of every process

OK = "ok 0"
SIGBUS = "SIGBUS/BUS_ADRERR"
MAPERR = "SIGSEGV/SEGV_MAPERR"
ACCERR = "SIGSEGV/SEGV_ACCERR"


def first_byte(page: int) -> int:
    """The byte Sim.memfd writes at the start of page `page`."""
    return 0x11 + page


class Sim:
    """A Machine with one design: `design` (the seed by default) with `choices` applied."""

    def __init__(self, choices: dict[str, str] | None = None, config: Config | None = None,
                 design: Design = SEED) -> None:
        self.design = design.with_choices("test", choices) if choices else design
        self.m = Machine(self.design, config or Config())

    @property
    def state(self) -> State:
        return self.m.state

    def obs(self, name: str, proc: int = A, **kwargs: object) -> Observation:
        return self.m.run(action(name, proc, **kwargs))

    def run(self, name: str, proc: int = A, **kwargs: object) -> str:
        return self.obs(name, proc, **kwargs).name

    def ok(self, name: str, proc: int = A, **kwargs: object) -> int:
        obs = self.obs(name, proc, **kwargs)
        assert obs.ok, f"setup step {name} by {proc} {kwargs}: {obs.name}"
        return obs.value

    # set-up helpers: each step must succeed

    def open_view(self, pages: int = 4) -> int:
        """A opens the view and sizes it to `pages` pages (by the design's sizing call)."""
        ctl = self.ok("view_open")
        sized = self.set_size(pages, fd=ctl)
        assert sized == OK, f"setup step sizing the view to {pages} pages: {sized}"
        return ctl

    def memfd(self, pages: int = 4, sealing: bool = True, fill: bool = True) -> int:
        """A memfd of `pages` pages; with `fill`, page k starts with first_byte(k)."""
        fd = self.ok("memfd_create", sealing=sealing)
        self.ok("ftruncate", fd=fd, size=pages * P)
        if fill:
            for page in range(pages):
                self.ok("pwrite", fd=fd, offset=page * P, byte=first_byte(page))
        return fd

    def give_view(self, mode: str = "rw", to: tuple[int, ...] = (B1, B2)) -> int:
        """A gets a view fd opened `mode` and sends it to each of `to`, whose first fd (BFD) it becomes."""
        viewfd = self.ok("view_get_viewfd", fd=CTL, mode=mode)
        for proc in to:
            assert self.ok("send", fd=viewfd, to=proc) == BFD
        return viewfd

    def mmap_ok(self, proc: int = B1, pages: int = 4, prot: str = "rw", flags: str = "shared", offset: int = 0,
                fd: int = BFD) -> int:
        """mmap of `pages` pages from view page `offset`, which must succeed; the mapping's address."""
        return self.ok("mmap", proc, fd=fd, length=pages * P, prot=prot, flags=flags, offset=offset * P)

    # observed steps

    def set_size(self, pages: int, fd: int = CTL) -> str:
        """The view's size, by the size ioctl or by ftruncate where the design sizes by inode."""
        sizer = "ftruncate" if self.design.is_("sizing", "inode") else "view_set_size"
        return self.run(sizer, fd=fd, size=pages * P)

    def map_fd(self, src: int, mem_page: int, pages: int = 1, perms: str = "rw", fd_page: int | None = None,
               fd: int = CTL, proc: int = A) -> str:
        fd_page = mem_page if fd_page is None else fd_page
        return self.run("view_map_fd", proc, fd=fd, src=src, fd_offset=fd_page * P, size=pages * P,
                        mem_offset=mem_page * P, perms=perms)

    def mmap(self, proc: int = B1, pages: int = 4, prot: str = "rw", flags: str = "shared", offset: int = 0,
             fd: int = BFD) -> str:
        return self.run("mmap", proc, fd=fd, length=pages * P, prot=prot, flags=flags, offset=offset * P)

    def access(self, proc: int, addr: int, kind: str, byte: int = 0) -> Observation:
        return self.obs("access", proc, addr=addr, kind=kind, byte=byte)

    def read(self, proc: int, addr: int) -> str:
        return self.access(proc, addr, "read").name

    def write(self, proc: int, addr: int, byte: int) -> str:
        return self.access(proc, addr, "write", byte).name

    def exec_(self, proc: int, addr: int) -> str:
        return self.access(proc, addr, "exec").name

    # state questions

    def ranges(self) -> list[tuple[int, int, int, int, int]]:
        """(lo page, hi page, object slot, backing page - view page, perms) of every used range, by lo."""
        return sorted((r.lo, r.hi, r.obj, r.delta, r.perms) for r in self.state.view.ranges if r.used)

    def data(self, obj: int, offset: int) -> int:
        return int(self.state.objs[obj].data.get(offset))

    def cached(self, proc: int, vpage: int) -> bool:
        return bool(cached_entry(CONCRETE, self.state.procs[proc], vpage).valid)


def standard(choices: dict[str, str] | None = None, config: Config | None = None, mode: str = "rw", *,
             mapped: int = 0, clients: tuple[int, ...] = (B1, B2)) -> Sim:
    """A: a view of 4 pages (CTL), a memfd of 4 filled pages (MEMFD, object 0) whose first `mapped`
    pages are mapped rw at view page 0, and a view fd (VIEWFD) opened `mode` and sent to each of
    `clients` (their BFD)."""
    s = Sim(choices, config)
    assert s.open_view() == CTL
    assert s.memfd() == MEMFD
    if mapped:
        assert s.map_fd(MEMFD, 0, mapped) == OK
    assert s.give_view(mode, clients) == VIEWFD
    return s
