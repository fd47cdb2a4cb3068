"""The linux backend: the memory view built in user space from real memfds, files and processes.

No kernel driver exists, so the coordinator (this object, in memview's process) plays the driver:
it keeps the view's layout as the model's state says after each step (the driver's ioctls are
emulated by the model: it is the design being implemented) and makes every process's page tables
match it for real. Everything with a kernel counterpart is the kernel's: backing objects are real
memfds and sparse files; A's writes, truncations and seals are real system calls; B's mmap goes to
the kernel first (its checks come before a driver's mmap hook, as in Linux) and is then refused
if the design refuses it; accesses are real loads and stores caught by the C helper; faults are
the CPU's. Bounds of the model's tables (EMFILE at `fds`, ENFILE at `objects`, ENOMEM at `vmas`,
EAGAIN at `fork_slots`) are enforced from the model, as docs/protocol.md §5.4 asks of any backend.
docs/backends.md lists what is real and what is emulated. This module relays each operation;
`coordinator.py` talks to the processes and keeps their pages in line with the layout.
"""

from __future__ import annotations

import contextlib
import mmap as mm
import os
import shutil
import socket
import tempfile
import time
from typing import Any

from memview.backends.base import BackendFailure, StepLimit
from memview.backends.linux import native, wire
from memview.backends.linux.build import LinuxUnavailable
from memview.backends.linux.coordinator import Coordinator
from memview.backends.linux.processes import Process, ensure_subreaper, fork_worker, reap
from memview.backends.linux.worker import Worker
from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.constants import (
    MMAP_BASE,
    PERM_ALL,
    PERM_R,
    PERM_W,
    PERM_X,
    SEALS_ALL,
    USER_VA_END,
    FdKind,
    Signal,
)
from memview.model.context import Ctx
from memview.model.design import FAULT_SIGNALS, Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.queries import combined_protection
from memview.model.state import State

# Where the model and Linux pick a different fault, the model's answer stands for this one pair
# (docs/semantics.md §6 item 12): x86 handles an instruction fetch from a page that is not present
# as a read fault first (access_error() tests VM_EXEC only once the page is present), so a fetch
# from a non-executable page that is unconfigured or past EOF raises the read's SIGBUS where the
# model checks the mapping's prot first (SEGV_ACCERR). Every other disagreement shows.
# (operation, the model's observation, the kernel's)
CHECK_ORDER = {("access", "SIGSEGV/SEGV_ACCERR", "SIGBUS/BUS_ADRERR")}

# The model's answers that come from a bound of its tables, not from a rule the kernel has.
BOUND_ERRNOS = {"ENFILE", "EMFILE", "EAGAIN", "ESRCH"}


class LinuxBackend(Coordinator):
    name = "linux"
    # The loop every process of the trace runs; an implementation mutant (linux/mutants.py) names
    # its own subclass, one bug in it, and everything else stays this backend's.
    worker_class: type[Worker] = Worker

    def __init__(self) -> None:
        super().__init__()
        self.shadow: Machine | None = None
        self.view_fds: tuple[int, int] | None = None
        self.tmpdir: str | None = None
        self.files_made = 0

    # ---- set-up and tear-down

    def start(self, design: Design, config: Config) -> None:
        self.stop()
        if config.page_size % mm.PAGESIZE:
            raise BackendFailure("refused", f"the linux backend needs a page size that is a multiple of the "
                                 f"machine's {mm.PAGESIZE} bytes (the trace has {config.page_size})")
        try:
            native.helper()
            ensure_subreaper()
        except LinuxUnavailable as exc:
            raise BackendFailure("refused", str(exc)) from None
        design = self.implemented(design)
        self.design, self.config = design, config
        self.ctx = Ctx(CONCRETE, design, config)
        self.shadow = Machine(design, config)
        self.step_index = 0
        self.tmpdir = tempfile.mkdtemp(prefix=f"memview-linux-{os.getpid()}-")  # whose it is, for leak checks
        # The driver's inode: an empty memfd. A mapping of it faults with SIGBUS/BUS_ADRERR everywhere.
        inode = os.memfd_create("memview-view", os.MFD_CLOEXEC)
        try:
            self.view_fds = (os.open(f"/proc/self/fd/{inode}", os.O_RDONLY | os.O_CLOEXEC),
                             os.open(f"/proc/self/fd/{inode}", os.O_RDWR | os.O_CLOEXEC))
        finally:
            os.close(inode)
        signo, _code = FAULT_SIGNALS["unconfigured", design["unconfigured"]]
        unconfigured_bus = signo == Signal.SIGBUS
        ctx = self.ctx

        def combine(prot: int, perms: int) -> int:
            return int(combined_protection(ctx, prot, perms))

        view_ro, view_rw = self.view_fds

        def body(channel: socket.socket) -> None:
            self.worker_class(channel, config.page_size, combine, unconfigured_bus, view_ro, view_rw).run()

        for index in range(config.clients + 1):
            self.processes[index] = fork_worker(index, body, keep=self.view_fds)

    def implemented(self, design: Design) -> Design:
        """The design this backend's emulated driver implements when held to `design`: that design."""
        return design

    def stop(self) -> None:
        for proc in self.processes.values():
            with contextlib.suppress(wire.ChannelClosed, OSError):  # already gone: reap() sees to it
                wire.send(proc.channel, ("exit",))
        reap(list(self.processes.values()))
        self.processes.clear()
        for addr, length in self.pins.values():
            native.munmap(addr, length)
        self.pins.clear()
        for fd in [*self.objects.values(), *(self.view_fds or ())]:
            os.close(fd)
        self.objects.clear()
        self.view_fds = None
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        self.shadow = None

    # ---- one step

    def perform(self, act: Action, limit: StepLimit) -> Observation:
        if self.shadow is None:
            raise BackendFailure("refused", "the linux backend was not started")
        self.action, self.deadline = act, time.monotonic() + limit.seconds
        self.limit = limit
        pre = self.shadow.state
        if self.real_access(act, pre):
            # An access changes only what the driver never reads (cached translations, private
            # copies, backing bytes: tests/test_linux_backend.py checks it), so the driver's state
            # skips it and the answer is the CPU's alone.
            try:
                reply, _ = self.call(act.proc, ("access", act.arg("addr"), act.arg("kind"), act.arg("byte")))
                return self.observed(reply, source="cpu")
            finally:
                self.step_index += 1
        post, obs = self.shadow.transition(pre, act)
        self.shadow.state = post
        expected = Observation.of(obs)
        self.source = "model"
        try:
            self.sync_layout(pre, post)
            if act.proc not in self.processes or expected.name in BOUND_ERRNOS:
                return expected
            handler = getattr(self, f"do_{act.name}")
            observed: Observation = handler(act, pre, post, expected)
            if (act.name, expected.name, observed.name) in CHECK_ORDER:
                return self.from_model(expected)
            return observed
        finally:
            self.step_index += 1

    # ---- A's driver ioctls: emulated (the model is the driver); only their fds are real

    def do_view_open(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if expected.ok:
            self.install_view_fd(act.proc, expected.value, os.O_RDWR)
        return expected

    def do_view_get_viewfd(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if expected.ok:
            mode = int(post.procs[act.proc].fds[expected.value].mode)
            self.install_view_fd(act.proc, expected.value, os.O_RDWR if mode & PERM_W else os.O_RDONLY)
        return expected

    def install_view_fd(self, proc: int, model_fd: int, flags: int) -> None:
        assert self.view_fds is not None
        fd = os.open(f"/proc/self/fd/{self.view_fds[1]}", flags | os.O_CLOEXEC)
        try:
            self.call(proc, ("install", model_fd), [fd])
        finally:
            os.close(fd)

    def do_view_set_size(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        return expected

    do_view_map_fd = do_view_unmap_fd = do_ioctl = do_view_set_size

    # ---- fds: real transfers and real closes

    def do_send(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if not expected.ok:
            return expected
        _reply, fds = self.call(act.proc, ("give", act.arg("fd")))
        try:
            self.call(act.arg("to"), ("install", expected.value), fds)
        finally:
            for fd in fds:
                os.close(fd)
        return expected

    def do_close(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        reply, _ = self.call(act.proc, ("close", self.model_fd(pre, act.proc, act.arg("fd"))))
        return self.observed(reply)

    # ---- backing objects: the kernel answers

    def do_memfd_create(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        return self.create(act, post, expected, ("memfd_create", expected.value, bool(act.arg("sealing"))))

    def do_file_create(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        assert self.tmpdir is not None
        self.files_made += 1
        path = os.path.join(self.tmpdir, f"backing-{self.files_made}")
        return self.create(act, post, expected, ("file_create", expected.value, path))

    def create(self, act: Action, post: State, expected: Observation, message: tuple[Any, ...]) -> Observation:
        if not expected.ok:
            return expected  # an argument the model refuses before any system call
        reply, fds = self.call(act.proc, message)
        if reply[0] == "ok" and fds:
            slot = int(post.procs[act.proc].fds[expected.value].obj)
            self.objects[slot] = fds[0]
        return self.observed(reply, expected.value if reply[0] == "ok" else None)

    def do_reopen(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        fd, mode = act.arg("fd"), act.arg("mode")
        if self.fd_kind(pre, act.proc, fd) != FdKind.BACKING or mode not in (PERM_R, PERM_R | PERM_W):
            return expected  # the driver's own fds, and modes no open(2) flag spells
        new_fd = expected.value if expected.ok else self.lowest_free(pre, act.proc)
        if new_fd is None:
            return expected
        reply, _ = self.call(act.proc, ("reopen", fd, new_fd, mode))
        if reply[0] == "ok" and not expected.ok:
            self.call(act.proc, ("close", new_fd))  # keep the real table equal to the model's
        return self.observed(reply, new_fd)

    def lowest_free(self, state: State, proc: int) -> int | None:
        for number, entry in enumerate(state.procs[proc].fds):
            if FdKind(int(entry.kind)) == FdKind.NONE:
                return number
        return None

    def backing_call(self, act: Action, pre: State, expected: Observation, message: tuple[Any, ...]) -> Observation:
        kind = self.fd_kind(pre, act.proc, act.arg("fd"))
        if kind in (FdKind.CONTROL, FdKind.VIEW):
            return expected  # the driver's file operations: emulated
        reply, _ = self.call(act.proc, (message[0], self.model_fd(pre, act.proc, act.arg("fd")), *message[1:]))
        return self.observed(reply)

    def do_ftruncate(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        return self.backing_call(act, pre, expected, ("ftruncate", act.arg("size")))

    def do_pwrite(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        return self.backing_call(act, pre, expected, ("pwrite", act.arg("offset"), act.arg("byte")))

    def do_seal(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if act.arg("seals") & ~SEALS_ALL:
            return expected  # bits no kernel knows yet: the model's EINVAL, without asking
        return self.backing_call(act, pre, expected, ("seal", act.arg("seals")))

    # ---- B's memory system calls on the view

    def do_mmap(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        prot, flags = act.arg("prot"), act.arg("flags")
        if prot & ~PERM_ALL or flags not in (mm.MAP_SHARED, mm.MAP_PRIVATE):
            return expected  # bits the kernel would read as other requests (MAP_ANONYMOUS, MAP_FIXED)
        kind = self.fd_kind(pre, act.proc, act.arg("fd"))
        raw = kind == FdKind.BACKING and self.design.is_("delivery", "raw-fds") and act.proc != 0
        if kind == FdKind.CONTROL or (kind == FdKind.BACKING and not raw):
            # The model maps only the view (ENODEV otherwise, the driver's answer for its control fd),
            # and under raw-fds a client's raw fds but not A's own; a real memfd would map, so the
            # kernel is not asked about what the model leaves out.
            return self.from_model(expected)
        if raw and flags != mm.MAP_SHARED:
            # delivery=raw-fds: the model keeps raw mappings shared (EINVAL for MAP_PRIVATE), a scope
            # choice of the model's that the kernel, which would map it, is not asked about.
            return self.from_model(expected)
        addr = expected.value if expected.ok else int(pre.procs[act.proc].next_page) << self.config.page_shift
        length = act.arg("length")
        fd = self.model_fd(pre, act.proc, act.arg("fd"))
        reply, _ = self.call(act.proc, ("mmap", fd, addr, length, prot, flags, act.arg("offset")))
        if reply[0] != "ok":
            # The kernel refused before any driver could (for a raw fd: EACCES for a shared writable
            # map of a read-only fd, EPERM for one of a write-sealed memfd).
            return self.observed(reply)
        if not expected.ok:
            self.call(act.proc, ("undo_mmap", addr, length))
            if raw and expected.name != "ENOMEM":
                # No driver's hook stands before a raw mapping: only the model's bound (ENOMEM at
                # `vmas`) may refuse what the kernel maps; any other refusal is a disagreement to show.
                return self.observed(reply)
            return expected  # the design refuses what the kernel allows: the driver's mmap hook
        vma = self.mappings(post, act.proc)
        lo = addr >> self.config.page_shift
        hi = next(m.hi for m in vma if m.lo == lo)
        # A raw mapping is already what it will stay, the kernel's mapping of the object: the worker
        # only records it (its view logic skips it), so a view mapping's pages are built here.
        self.call(act.proc, ("mapped", vma, lo, hi))
        return self.observed(reply, expected.value) if raw else expected

    def do_munmap(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if expected.name == "EPERM":
            # mseal's refusal is the kernel's (mseal.rst): ask it; a sealed mapping stays as it is.
            reply, _ = self.call(act.proc, ("munmap", self.mappings(pre, act.proc), act.arg("addr"),
                                            act.arg("length")))
            return self.observed(reply) if reply[0] == "errno" else self.from_model(expected)
        if not expected.ok:
            return expected
        reply, _ = self.call(act.proc, ("munmap", self.mappings(post, act.proc), act.arg("addr"), act.arg("length")))
        return self.observed(reply)

    def do_mprotect(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        shift, size = self.config.page_shift, self.config.page_size
        addr, length = act.arg("addr"), act.arg("length")
        lo, hi = addr >> shift, (addr + length + size - 1) >> shift
        if expected.name in ("EACCES", "EPERM") and not act.arg("prot") & ~PERM_ALL:
            # The kernel's own refusals (no VM_MAYWRITE for +W, a sealed mapping) come before a
            # driver's mprotect hook: try the real call, then put every page back as it was.
            reply, _ = self.call(act.proc, ("mprotect_probe", lo, hi, act.arg("prot")))
            if reply[0] == "errno" or self.only_raw(pre, act.proc, lo, hi):
                return self.observed(reply)  # no driver's hook stands before a raw mapping's mprotect
            return self.from_model(expected)
        if not expected.ok:
            return expected
        reply, _ = self.call(act.proc, ("mprotect", self.mappings(post, act.proc), lo, hi))
        return self.observed(reply)

    def do_mseal(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if not expected.ok:
            return expected
        reply, _ = self.call(act.proc, ("mseal", self.mappings(post, act.proc), act.arg("addr"), act.arg("length")))
        return self.observed(reply)

    def real_access(self, act: Action, state: State) -> bool:
        """A load or store the CPU performs: not another kind (the model's EINVAL), by a live
        process, at an address where only view mappings can be. Outside [MMAP_BASE, USER_VA_END) the
        client's own memory (Python, the helper) may be, so the model answers there rather than a
        store landing on the harness."""
        return (act.name == "access" and act.arg("kind") in (PERM_R, PERM_W)
                and self.real_address(act.arg("addr")) and self.alive(state, act.proc))

    def real_address(self, addr: int) -> bool:
        return MMAP_BASE <= addr < USER_VA_END

    def do_access(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        """Instruction fetches, and what real_access leaves to the model."""
        if act.arg("kind") != PERM_X or not self.real_address(act.arg("addr")):
            return expected
        reply, _ = self.call(act.proc, ("access", act.arg("addr"), PERM_X, act.arg("byte")))
        return self.observed(reply, source="cpu")

    def do_fork(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if not expected.ok:
            return expected
        reply, fds = self.call(act.proc, ("fork",))
        parent = self.processes[act.proc]
        child = Process(expected.value, reply[1], socket.socket(fileno=fds[0]), direct=False,
                        objects_sent=set(parent.objects_sent))
        self.processes[expected.value] = child
        return expected



class LinuxFdpassBackend(LinuxBackend):
    """`linux-fdpass`: today's practice (vhost-user's SET_MEM_TABLE) whatever design it is held to.

    The same processes, objects and relaying as `linux`, but its driver is the design held to with
    `delivery = "raw-fds"`: A's raw backing fds really cross to B by SCM_RIGHTS, and B maps them
    itself with real MAP_SHARED mappings the view's layout never touches. Held to a view-fd design
    (the seed), it diverges exactly where today's practice does what the design refuses."""

    name = "linux-fdpass"

    def implemented(self, design: Design) -> Design:
        return design.with_choices(design.name, {"delivery": "raw-fds"})
