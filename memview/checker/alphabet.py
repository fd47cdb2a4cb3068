"""The small concrete configuration explicit search explores: bounds, a set-up prefix, an alphabet.

Reaching anything interesting from the empty state takes a dozen set-up steps (open the view, size
it, create and size backing objects, hand view fds to B, B maps them). Searching those
breadth-first would spend the whole budget on set-up orderings, so the search starts after a
prefix that does them once, and explores an alphabet of operations from there. The prefix follows
the design (how it sizes the view, whether MAP_FD needs a sealed memfd), and every one of its steps
must succeed, so no design is searched from a state where nothing is mapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from memview.errors import InputError
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.ops import Action, action
from memview.model.state import State
from memview.traces.replay import record
from memview.traces.trace import Step, Trace

VIEW_PAGES = 2


@dataclass(frozen=True)
class Scope:
    config: Config
    prefix: tuple[tuple[Action, str], ...]  # (action, label)
    alphabet: tuple[Action, ...]
    depth: int
    summary: str
    symmetric_clients: int = 0  # clients B1..Bn the set-up and the alphabet treat alike (0: none)

    def describe(self) -> str:
        return (f"BFS to depth {self.depth} after a {len(self.prefix)}-step set-up ({self.summary}); "
                f"{len(self.alphabet)} actions")

    def start(self, design: Design) -> Machine:
        """A machine in the post-set-up state (the set-up validated for design)."""
        return self.set_up(design).machine()

    def set_up(self, design: Design) -> SetUp:
        """The set-up run once under design; a set-up step that fails is an error, never a silent
        search of an emptier configuration."""
        machine = Machine(design, self.config)
        steps = []
        for index, (act, label) in enumerate(self.prefix):
            observed = machine.run(act)
            if not observed.ok:
                raise InputError(f"design {design.name}",
                                 f"set-up step {index} ({act}) gives {observed}: explicit search has no set-up "
                                 "for this design")
            steps.append(Step(act, observed, label))
        return SetUp(design, self.config, machine.state, tuple(steps))


@dataclass(frozen=True)
class SetUp:
    """Where every engine starts: the state after a scope's set-up, and the set-up as recorded steps,
    with which every trace an engine reports begins."""

    design: Design
    config: Config
    state: State
    steps: tuple[Step, ...]

    def machine(self) -> Machine:
        """A fresh machine in the post-set-up state."""
        return Machine(self.design, self.config, self.state)

    def trace(self, actions: Iterable[Action], meta: dict[str, Any]) -> Trace:
        """The set-up, then actions as the model observes them from the post-set-up state."""
        return self.trace_of(record(self.design, self.config, ((act, "") for act in actions), self.state), meta)

    def trace_of(self, steps: Iterable[Step], meta: dict[str, Any]) -> Trace:
        """The set-up, then steps already observed from the post-set-up state."""
        return Trace(self.design, self.config, [*self.steps, *steps], meta)


def size_view(design: Design, size: int) -> Action:
    if design.is_("sizing", "inode"):
        return action("ftruncate", fd=0, size=size)
    return action("view_set_size", fd=0, size=size)


def default_scope(design: Design, depth: int = 4, page_size: int = 4096, clients: int = 1,
                  active_clients: bool = False) -> Scope:
    """The scope every engine uses by default. More clients are idle until an operation involves
    them (for measuring how the symbolic engines scale with the number of processes), or, with
    active_clients, each gets B1's fds, mappings and operations: interchangeable clients, which
    explicit search reduces by symmetry (`memview.checker.symmetry`)."""
    active = tuple(range(1, clients + 1)) if active_clients else (1,)
    p = page_size
    raw_fds = design.is_("delivery", "raw-fds")
    # Today's practice (delivery=raw-fds) adds B's two raw mappings of the backing fds to the set-up.
    config = Config(page_size=p, ranges=2, objects=2, fds=5, clients=clients, fork_slots=1, vmas=5 if raw_fds else 3)
    needs_sealed_memfd = design.is_("truncation", "require-seal")
    # fds of A after the prefix: 0 control, 1 ram (memfd, sealable), 2 a read-write view fd (sent
    # to B1 as its fd 0), 3 the file read-only, 4 a read-only view fd (B1's fd 1).
    prefix: list[tuple[Action, str]] = [
        (action("view_open"), ""),
        (size_view(design, VIEW_PAGES * p), ""),
        (action("memfd_create", sealing=True), "ram"),
        (action("ftruncate", fd=1, size=2 * p), ""),
        # A distinct byte at backing offset p: translation through fd_offset must find it.
        (action("pwrite", fd=1, offset=p, byte=7), ""),
        (action("file_create"), "file"),
        (action("ftruncate", fd=2, size=2 * p), ""),
        (action("pwrite", fd=2, offset=0, byte=9), ""),
        (action("reopen", fd=2, mode="ro"), ""),
        (action("close", fd=2), ""),
    ]
    if needs_sealed_memfd:
        prefix.append((action("seal", fd=1, seals=["shrink"]), ""))
    # The seed's layout in miniature: view page 0 is ram's page 1 read+write, view page 1 is
    # read-only (the file's page 0, or ram's page 0 where MAP_FD takes only sealed memfds).
    second_src = 1 if needs_sealed_memfd else 3
    prefix += [
        (action("view_map_fd", fd=0, src=1, fd_offset=p, size=p, mem_offset=0, perms="rw"), ""),
        (action("view_map_fd", fd=0, src=second_src, fd_offset=0, size=p, mem_offset=p, perms="r"), ""),
        (action("view_get_viewfd", fd=0, mode="rw"), ""),
        *((action("send", fd=2, to=c), "") for c in active),
        (action("view_get_viewfd", fd=0, mode="ro"), ""),
        *((action("send", fd=4, to=c), "") for c in active),
    ]
    for c in active:
        # Each client maps each page with the protection A granted there, so even a design that
        # checks prot at mmap (mprotect=strict) accepts both mappings.
        prefix += [
            (action("mmap", proc=c, fd=0, length=p, prot="rw", flags="shared", offset=0), ""),
            (action("mmap", proc=c, fd=0, length=p, prot="r", flags="shared", offset=p), ""),
        ]
    raw_pages: tuple[int, ...] = ()
    if raw_fds:
        # Today's practice: A passes its raw fds (ram and the read-only file: B1's fds 2 and 3) and
        # B1 maps each range's backing page itself, with the protection A granted there.
        for c in active:
            prefix += [
                (action("send", fd=1, to=c), ""),
                (action("send", fd=3, to=c), ""),
                (action("mmap", proc=c, fd=2, length=p, prot="rw", flags="shared", offset=p), ""),
                (action("mmap", proc=c, fd=3, length=p, prot="r", flags="shared", offset=0), ""),
            ]
        raw_pages = (MMAP_BASE + 4 * p, MMAP_BASE + 6 * p, MMAP_BASE + 8 * p)
    rw_page, r_page, private_page = MMAP_BASE, MMAP_BASE + 2 * p, MMAP_BASE + 4 * p
    alphabet: list[Action] = []
    for src, perms_set in ((1, ("r", "rw", "rwx")), (3, ("r", "rw"))):
        for fd_offset in (0, p):
            for mem_offset in (0, p):
                for perms in perms_set:
                    alphabet.append(action("view_map_fd", fd=0, src=src, fd_offset=fd_offset, size=p,
                                           mem_offset=mem_offset, perms=perms))
    alphabet += [
        # No flags, and write without read: what the empty-perms and write-only decisions decide.
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=p, mem_offset=0, perms=""),
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=p, mem_offset=p, perms="w"),
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=2 * p, mem_offset=0, perms="rw"),
        action("view_unmap_fd", fd=0, mem_offset=0, size=p),
        action("view_unmap_fd", fd=0, mem_offset=p, size=p),
        action("view_unmap_fd", fd=0, mem_offset=0, size=2 * p),
        size_view(design, p),
        size_view(design, 2 * p),
        action("pwrite", fd=1, offset=0, byte=1),
        action("ftruncate", fd=1, size=p),
        action("ftruncate", fd=1, size=2 * p),
        action("seal", fd=1, seals=["write"]),
        action("seal", fd=1, seals=["shrink"]),
        action("close", fd=0),
    ]
    child = clients + 1  # the first fork slot: B1's child once B1 forks
    b1_pages = tuple(dict.fromkeys((rw_page, r_page, private_page, *raw_pages)))
    for proc, addresses in (*((c, b1_pages) for c in active), (child, (rw_page, r_page))):
        for addr in addresses:
            for kind in ("read", "write", "exec"):
                alphabet.append(action("access", proc=proc, addr=addr, kind=kind, byte=2))
    for c in active:
        alphabet += client_actions(c, p, rw_page, r_page)
    if raw_fds:
        for c in active:
            alphabet += raw_actions(c, p, raw_pages)
    if active_clients and clients > 1:
        summary = (f"a {VIEW_PAGES}-page view of {p}-byte pages over a memfd and a read-only file, {clients} "
                   "interchangeable clients, each with a read-write and a read-only view fd, one mapping per view "
                   "page and the same operations, one fork slot")
    else:
        others = f", {clients - 1} more idle client(s)" if clients > 1 else ""
        summary = (f"a {VIEW_PAGES}-page view of {p}-byte pages over a memfd and a read-only file, one client "
                   f"with a read-write and a read-only view fd and one mapping per view page{others}, one fork slot")
    if raw_fds:
        summary += "; B1 also holds the raw fds and maps each range's backing page itself"
    symmetric = clients if active_clients and clients > 1 else 0
    return Scope(config, tuple(prefix), tuple(alphabet), depth, summary, symmetric)


def client_actions(c: int, p: int, rw_page: int, r_page: int) -> list[Action]:
    """A client's own operations on its mappings and fds (B1's in the default scope)."""
    return [
        action("mprotect", proc=c, addr=rw_page, length=p, prot="r"),
        action("mprotect", proc=c, addr=rw_page, length=p, prot="rwx"),
        action("mprotect", proc=c, addr=r_page, length=p, prot="rw"),
        action("munmap", proc=c, addr=r_page, length=p),
        action("mseal", proc=c, addr=rw_page, length=p),
        action("mmap", proc=c, fd=0, length=p, prot="rw", flags="private", offset=0),
        action("mmap", proc=c, fd=1, length=p, prot="rw", flags="shared", offset=0),  # read-only view fd
        action("mmap", proc=c, fd=0, length=(VIEW_PAGES + 1) * p, prot="r", flags="shared", offset=0),  # past the end
        action("fork", proc=c),
        action("close", proc=c, fd=0),
        # Everything but mmap and close through B's view fd must fail and change nothing.
        action("ioctl", proc=c, fd=0, cmd=0),
        action("view_unmap_fd", proc=c, fd=0, mem_offset=0, size=p),
        action("view_map_fd", proc=c, fd=0, src=0, fd_offset=0, size=p, mem_offset=0, perms="rw"),
        action("pwrite", proc=c, fd=0, offset=0, byte=1),
        action("ftruncate", proc=c, fd=0, size=p),
        action("seal", proc=c, fd=0, seals=["write"]),
    ]


def raw_actions(c: int, p: int, raw_pages: tuple[int, ...]) -> list[Action]:
    """What a client can do with raw fds (delivery=raw-fds): map the object anywhere (here, ram's
    page 0, which no range shows), and raise its protection to whatever the fd allows."""
    return [
        action("send", fd=1, to=c),
        action("mmap", proc=c, fd=2, length=p, prot="rw", flags="shared", offset=0),
        action("mmap", proc=c, fd=3, length=p, prot="rw", flags="shared", offset=0),
        action("mprotect", proc=c, addr=raw_pages[0], length=p, prot="rwx"),
        action("mprotect", proc=c, addr=raw_pages[1], length=p, prot="rw"),
        action("munmap", proc=c, addr=raw_pages[0], length=p),
        action("close", proc=c, fd=2),
    ]
