"""A process of the trace (A, a client B, or a forked child), running memview's requests for real.

Each process of a trace is a real process running this loop. It holds its fds under the model's
numbers, and its mappings of the view as real mappings: each mapping B makes is first a real
mmap of its view fd (an empty memfd standing for the driver's inode, so every page faults with
SIGBUS/BUS_ADRERR as the seed's unconfigured pages do), and the configured pages inside it are
MAP_FIXED mappings of the real backing objects at the right offset, with the protection the
design gives. When the layout changes, the changed pages are replaced in place with MAP_FIXED
(never unmapped first, so no hole opens that another mmap could fill) and the process
acknowledges; A's operation returns only after every process has.

The worker holds no rule of the semantics: its mappings (as the model keeps them) and the view's
layout come from the coordinator, which reads both from the model's state; the permission a page
gets is the design's combination of the mapping's prot and the range's perms.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap as mm
import os
import select
import signal
import socket
import struct
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memview.backends.linux import native, wire
from memview.backends.linux.layout import BEYOND, UNCONFIGURED, WORD, DriverLayout, Span, pieces
from memview.model.constants import PERM_ALL, PERM_R, PERM_W, PERM_X, VMA_MAYWRITE, VMA_PRIVATE, VMA_RAW, VMA_SEALED

MAP_FIXED = 0x10  # these two are not in Python's mmap module
MAP_NORESERVE = 0x4000
MAP_FIXED_NOREPLACE = 0x100000
F_ADD_SEALS = 1033
MFD_ALLOW_SEALING = 2
EPERM = 1
FETCH_TIMEOUT = 5.0  # seconds; the fetch child traps after one instruction, so this is never reached
CLOSED_FD = (1 << 31) - 1  # past any RLIMIT_NOFILE, so never open; Python refuses -1 in some calls
RAW = "raw"  # a piece of a raw backing fd's mapping (delivery=raw-fds): its prot is the mapping's own


@dataclass(frozen=True)
class Mapping:
    """One of this process's mappings, as the model holds it (process pages): of the view, or
    (delivery=raw-fds) of a raw backing fd, which is the kernel's alone and no view logic touches."""

    lo: int
    hi: int
    delta: int  # view page - process page, mod 2^64 (a raw mapping: backing page - process page)
    attrs: int  # prot | VMA_MAYWRITE | VMA_PRIVATE | VMA_SEALED | VMA_RAW (| object slot << OBJ_SHIFT)

    @property
    def prot(self) -> int:
        return self.attrs & PERM_ALL

    @property
    def raw(self) -> bool:
        return bool(self.attrs & VMA_RAW)


def signed(word: int) -> int:
    """A 64-bit word as the signed value the kernel's loff_t sees (>= 2^63 is negative)."""
    return word - WORD if word >= 1 << 63 else word


def errno_reply(exc: OSError) -> tuple[Any, ...]:
    return ("errno", exc.errno or 0)


@dataclass
class Worker:
    sock: socket.socket
    page_size: int
    combine: Callable[[int, int], int]  # the design's effective permission: (mapping prot, range perms)
    unconfigured_bus: bool  # the design's fault for unconfigured pages is SIGBUS (else SIGSEGV)
    view_ro: int  # the driver's inode, opened read-only and read-write, for the pages that fault
    view_rw: int
    fds: dict[int, int] = field(default_factory=dict)  # model fd -> real fd
    # object slot -> real fds (read-write, read-only). A shared mapping of a read-write fd counts as
    # writable for F_SEAL_WRITE even without PROT_WRITE (VM_MAYWRITE), so ranges without W use the other.
    objects: dict[int, tuple[int, int]] = field(default_factory=dict)
    mappings: list[Mapping] = field(default_factory=list)
    layout: DriverLayout = field(default_factory=lambda: DriverLayout(0, ()))

    # ---- the loop

    def run(self) -> None:
        while True:
            try:
                message, fds = wire.receive(self.sock)
            except wire.ChannelClosed:
                return
            if message[0] == "exit":
                return
            try:
                reply, out_fds = self.handle(message, fds)
            except Exception as exc:  # a bug here becomes the backend's internal failure, not a hang
                reply, out_fds = ("error", f"{type(exc).__name__}: {exc} "
                                  f"({traceback.extract_tb(exc.__traceback__)[-1].lineno})"), []
            try:
                wire.send(self.sock, reply, out_fds)  # SCM_RIGHTS duplicates: the fds stay ours too
            except wire.ChannelClosed:
                return

    def handle(self, message: tuple[Any, ...], fds: list[int]) -> tuple[tuple[Any, ...], list[int]]:
        if message[0] == "access":  # the hot path: no lookup by name
            return self.do_access(*message[1:])
        method = getattr(self, f"do_{message[0]}")
        result: tuple[tuple[Any, ...], list[int]] = method(*message[1:], *fds)
        return result

    def real(self, model_fd: int | None) -> int:
        """The real fd for a model fd; one that is certainly closed (the kernel says EBADF) when not open."""
        return CLOSED_FD if model_fd is None else self.fds.get(model_fd, CLOSED_FD)

    # ---- fds handed over by the coordinator

    def do_install(self, model_fd: int, fd: int) -> tuple[tuple[Any, ...], list[int]]:
        self.fds[model_fd] = fd
        return ("ok", model_fd), []

    def do_object(self, slot: int, read_write: int, read_only: int) -> tuple[tuple[Any, ...], list[int]]:
        self.objects[slot] = (read_write, read_only)
        return ("ok", 0), []

    def do_give(self, model_fd: int) -> tuple[tuple[Any, ...], list[int]]:
        return ("ok", 0), [self.fds[model_fd]]

    # ---- backing objects: the real system calls

    def do_memfd_create(self, model_fd: int, sealing: bool) -> tuple[tuple[Any, ...], list[int]]:
        try:
            fd = os.memfd_create("memview-backing", MFD_ALLOW_SEALING if sealing else 0)
        except OSError as exc:
            return errno_reply(exc), []
        self.fds[model_fd] = fd
        return ("ok", model_fd), [fd]

    def do_file_create(self, model_fd: int, path: str) -> tuple[tuple[Any, ...], list[int]]:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            return errno_reply(exc), []
        os.unlink(path)  # the open fd keeps the sparse file; nothing is left on disk after the trace
        self.fds[model_fd] = fd
        return ("ok", model_fd), [fd]

    def do_reopen(self, model_fd: int, new_fd: int, mode: int) -> tuple[tuple[Any, ...], list[int]]:
        flags = os.O_RDWR if mode & PERM_W else os.O_RDONLY
        try:
            fd = os.open(f"/proc/self/fd/{self.real(model_fd)}", flags)
        except OSError as exc:
            return errno_reply(exc), []
        self.fds[new_fd] = fd
        return ("ok", new_fd), []

    def do_ftruncate(self, model_fd: int, size: int) -> tuple[tuple[Any, ...], list[int]]:
        try:
            os.ftruncate(self.real(model_fd), signed(size))
        except OSError as exc:
            return errno_reply(exc), []
        return ("ok", 0), []

    def do_pwrite(self, model_fd: int, offset: int, byte: int) -> tuple[tuple[Any, ...], list[int]]:
        try:
            written = os.pwrite(self.real(model_fd), bytes([byte]), signed(offset))
        except OSError as exc:
            return errno_reply(exc), []
        return ("ok", written), []

    def do_seal(self, model_fd: int, seals: int) -> tuple[tuple[Any, ...], list[int]]:
        # fcntl's argument is an int: bits past it are unknown seals, which the kernel refuses (-1 has them all).
        argument = seals if seals < 1 << 31 else -1
        try:
            fcntl.fcntl(self.real(model_fd), F_ADD_SEALS, argument)
        except OSError as exc:
            return errno_reply(exc), []
        return ("ok", 0), []

    def do_close(self, model_fd: int | None) -> tuple[tuple[Any, ...], list[int]]:
        real = self.real(model_fd)
        try:
            os.close(real)
        except OSError as exc:
            return errno_reply(exc), []
        if model_fd is not None:
            del self.fds[model_fd]
        return ("ok", 0), []

    # ---- the view: mappings, layout, accesses

    def do_mmap(self, model_fd: int | None, addr: int, length: int, prot: int, flags: int,
                offset: int) -> tuple[tuple[Any, ...], list[int]]:
        """The kernel's own checks first: a real mmap of the fd at the model's address."""
        got = native.mmap(addr, length, prot, flags | MAP_FIXED_NOREPLACE, self.real(model_fd), offset)
        if got < 0:
            return ("errno", -got), []
        if got != addr:
            # A kernel without MAP_FIXED_NOREPLACE treats it as a hint; never keep a misplaced mapping.
            native.munmap(got, length)
            return ("error", f"the kernel placed the mapping at {got:#x}, not {addr:#x}"), []
        return ("ok", got), []

    def do_undo_mmap(self, addr: int, length: int) -> tuple[tuple[Any, ...], list[int]]:
        """The design refuses what the kernel accepted (the driver's mmap hook runs after the kernel's checks)."""
        native.munmap(addr, length)
        return ("ok", 0), []

    def do_mapped(self, mappings: list[Mapping], lo: int, hi: int) -> tuple[tuple[Any, ...], list[int]]:
        """A new mapping of the view at process pages [lo, hi): build its pages from the layout."""
        self.mappings = mappings
        return self.realize(lo, hi), []

    def do_munmap(self, mappings: list[Mapping], addr: int, length: int) -> tuple[tuple[Any, ...], list[int]]:
        rc = native.munmap(addr, length)
        if rc < 0:
            return ("errno", -rc), []
        self.mappings = mappings
        return ("ok", 0), []

    def do_mprotect(self, mappings: list[Mapping], lo: int, hi: int) -> tuple[tuple[Any, ...], list[int]]:
        self.mappings = mappings
        for p_lo, p_hi, mapping, what in self.pieces_of(lo, hi):
            if what == UNCONFIGURED and not self.unconfigured_bus:
                continue  # the PROT_NONE filler keeps PROT_NONE whatever B asks
            rc = native.mprotect(p_lo * self.page_size, (p_hi - p_lo) * self.page_size,
                                 self.protection(mapping, what))
            if rc < 0:
                return ("errno", -rc), []
        return ("ok", 0), []

    def do_mprotect_probe(self, lo: int, hi: int, prot: int) -> tuple[tuple[Any, ...], list[int]]:
        """Would the kernel allow mprotect(prot) over process pages [lo, hi)? Nothing changes either way."""
        done: list[tuple[int, int, Mapping, Span | str]] = []
        answer: tuple[Any, ...] = ("ok", 0)
        for piece in self.pieces_of(lo, hi):
            p_lo, p_hi, mapping, what = piece
            if what == UNCONFIGURED and not self.unconfigured_bus:
                continue
            asked = Mapping(mapping.lo, mapping.hi, mapping.delta, (mapping.attrs & ~PERM_ALL) | prot)
            rc = native.mprotect(p_lo * self.page_size, (p_hi - p_lo) * self.page_size, self.protection(asked, what))
            if rc < 0:
                answer = ("errno", -rc)
                break
            done.append(piece)
        for p_lo, p_hi, mapping, what in done:
            native.mprotect(p_lo * self.page_size, (p_hi - p_lo) * self.page_size, self.protection(mapping, what))
        return answer, []

    def do_mseal(self, mappings: list[Mapping], addr: int, length: int) -> tuple[tuple[Any, ...], list[int]]:
        rc = native.mseal(addr, length)
        if rc < 0:
            return ("errno", -rc), []
        self.mappings = mappings
        return ("ok", 0), []

    def do_layout(self, layout: DriverLayout, changed: list[tuple[int, int]]) -> tuple[tuple[Any, ...], list[int]]:
        """A's call changed the layout: replace the changed view pages in every mapping, then acknowledge."""
        self.layout = layout
        for v_lo, v_hi in changed:
            for mapping in self.mappings:
                for p_lo, p_hi in self.process_pages(mapping, v_lo, v_hi):
                    reply = self.realize(p_lo, p_hi)
                    if reply[0] != "ok":
                        return reply, []
        return ("ok", 0), []

    def do_access(self, addr: int, kind: int, byte: int) -> tuple[tuple[Any, ...], list[int]]:
        if kind == PERM_X:
            fetched = self.fetch(addr)
            if fetched[0] != "ok":
                return fetched, []
            # The fetch succeeded: the observation is the byte there, as for a read.
        got = native.access(addr, PERM_W if kind == PERM_W else PERM_R, byte)
        if isinstance(got, native.Fault):
            if got.addr != addr:
                return ("error", f"fault at {got.addr:#x} while accessing {addr:#x}"), []
            return ("signal", got.signo, got.code), []
        return ("ok", got), []

    def do_read_batch(self, addr: int, span: int, stride: int, count: int) -> tuple[tuple[Any, ...], list[int]]:
        """For bench/bench_linux.py: `count` checked loads over [addr, addr + span), then the same
        loads unchecked (the floor) where none faulted, each timed here in the client."""
        began = time.perf_counter()
        faults = native.read_batch(addr, span, stride, count)
        checked = time.perf_counter() - began
        if faults:
            return ("ok", (faults, checked, None)), []  # unchecked loads would kill us: no floor here
        began = time.perf_counter()
        native.read_raw(addr, span, stride, count)
        raw = time.perf_counter() - began
        return ("ok", (faults, checked, raw)), []

    def do_fork(self) -> tuple[tuple[Any, ...], list[int]]:
        ours, theirs = wire.channel_pair()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                self.sock.close()
                self.sock = theirs
                self.run()
            finally:
                os._exit(0)
        theirs.close()
        fd = ours.detach()
        return ("ok", pid), [fd]

    # ---- building pages

    def process_pages(self, mapping: Mapping, v_lo: int, v_hi: int) -> list[tuple[int, int]]:
        """The process pages of `mapping` that show view pages [v_lo, v_hi) (none of a raw mapping)."""
        if mapping.raw:
            return []
        first = (mapping.lo + mapping.delta) % WORD
        lo = max(v_lo, first)
        hi = min(v_hi, first + (mapping.hi - mapping.lo))
        if lo >= hi:
            return []
        return [(lo - first + mapping.lo, hi - first + mapping.lo)]

    def targets(self, lo: int, hi: int) -> list[tuple[int, int, Mapping, Span | str]]:
        """Process pages [lo, hi) of the view's mappings cut by mapping and by layout: what each
        piece must show. A raw mapping shows its object whatever the layout says: it is no target."""
        out: list[tuple[int, int, Mapping, Span | str]] = []
        for mapping in self.mappings:
            if mapping.raw:
                continue
            m_lo, m_hi = max(lo, mapping.lo), min(hi, mapping.hi)
            if m_lo >= m_hi:
                continue
            view_lo = (m_lo + mapping.delta) % WORD
            for v_lo, v_hi, what in pieces(self.layout, view_lo, view_lo + (m_hi - m_lo)):
                out.append((v_lo - view_lo + m_lo, v_hi - view_lo + m_lo, mapping, what))
        return out

    def pieces_of(self, lo: int, hi: int) -> list[tuple[int, int, Mapping, Span | str]]:
        """What mprotect acts on over process pages [lo, hi): the view's pieces (targets) and the
        raw mappings' pages, which take exactly the prot B asks (RAW)."""
        out = self.targets(lo, hi)
        for mapping in self.mappings:
            m_lo, m_hi = max(lo, mapping.lo), min(hi, mapping.hi)
            if mapping.raw and m_lo < m_hi:
                out.append((m_lo, m_hi, mapping, RAW))
        return sorted(out, key=lambda piece: piece[0])

    def protection(self, mapping: Mapping, what: Span | str) -> int:
        if isinstance(what, Span):
            return self.combine(mapping.prot, what.perms) & PERM_ALL
        return mapping.prot

    def realize(self, lo: int, hi: int) -> tuple[Any, ...]:
        """Replace process pages [lo, hi) in place with what the layout says they show."""
        size = self.page_size
        for p_lo, p_hi, mapping, what in self.targets(lo, hi):
            shared = not mapping.attrs & VMA_PRIVATE
            sharing = mm.MAP_SHARED if shared else mm.MAP_PRIVATE
            prot = self.protection(mapping, what)
            if isinstance(what, Span):
                view_page = (p_lo + mapping.delta) % WORD
                read_write, read_only = self.objects[what.obj]
                fd = read_write if what.perms & PERM_W or not shared else read_only
                offset = self.layout.backing_page(what, view_page) * size
            elif what == BEYOND or self.unconfigured_bus:
                # An empty memfd: every access faults with SIGBUS/BUS_ADRERR.
                fd, offset = (self.view_rw if shared and mapping.attrs & VMA_MAYWRITE else self.view_ro), 0
            else:
                fd, offset, prot = -1, 0, 0  # PROT_NONE anonymous memory: SIGSEGV on every access
                sharing = mm.MAP_PRIVATE | mm.MAP_ANONYMOUS | MAP_NORESERVE
            got = native.mmap(p_lo * size, (p_hi - p_lo) * size, prot, sharing | MAP_FIXED, fd, offset)
            if got == -EPERM and mapping.attrs & VMA_SEALED:
                continue  # mseal forbids the replacement: the sealed pages keep what they had (docs/backends.md)
            if got < 0:
                return ("error", f"MAP_FIXED over pages {p_lo:#x}-{p_hi:#x} failed: {os.strerror(-got)}")
        return ("ok", 0)

    def fetch(self, addr: int) -> tuple[Any, ...]:
        """A real instruction fetch at addr, in a child forked for it (faultcatch.c, mv_fetch): the
        fault it raised, or ("ok",) when the CPU fetched the instruction."""
        report_read, report_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                self.isolate(addr, report_write)
                native.fetch(addr, report_write)
            finally:
                os._exit(70)
        os.close(report_write)
        try:
            ready, _, _ = select.select([report_read], [], [], FETCH_TIMEOUT)
            data = os.read(report_read, 12) if ready else b""
        finally:
            os.close(report_read)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # it has exited already, unless it hangs
            os.waitpid(pid, 0)
        if len(data) != 12:
            return ("error", f"the instruction fetch at {addr:#x} reported nothing")
        outcome, signo, code = struct.unpack("iii", data)
        if outcome == 1:
            return ("signal", signo, code)
        if outcome == 0:
            return ("ok",)
        return ("error", f"the instruction fetch at {addr:#x} failed before the jump (signal {signo})")

    def isolate(self, addr: int, keep_fd: int) -> None:
        """In the fetch's child: nothing the one executed instruction could do may reach shared
        memory or an fd. Every shared mapping becomes PROT_NONE but the target page, made read-only
        (its PROT_EXEC, which the fetch tests, kept); every fd but the report pipe is closed."""
        page = addr - addr % mm.PAGESIZE
        with open("/proc/self/maps") as maps:
            lines = maps.read().splitlines()
        for line in lines:
            span, perms = line.split()[:2]
            if perms[3] != "s":
                continue
            start, end = (int(part, 16) for part in span.split("-"))
            native.mprotect(start, end - start, 0)
            if start <= page < end:
                native.mprotect(page, mm.PAGESIZE, (mm.PROT_READ if perms[0] == "r" else 0)
                                | (mm.PROT_EXEC if perms[2] == "x" else 0))
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in (keep_fd,):
                with contextlib.suppress(OSError):
                    os.close(int(name))


__all__ = ["PERM_R", "Mapping", "Worker"]
