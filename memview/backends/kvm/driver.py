"""Inside the guest: the trace's processes on the real memory-view driver (kernel/memory_view.c).

This is the `linux` backend's coordinator and workers (real processes, SCM_RIGHTS, the cffi
fault-catching helper) with the emulated driver taken out: A's view calls are real ioctls on
/dev/memory-view, B maps the real view fd, and the driver's fault handler and revocation decide
every access. What stays the model's is what docs/protocol.md §5.4 asks any peer to enforce (the
fd, object, mapping and process bounds), the scope choices the kernel cannot express (a
backing fd that is not a view is not mmap'able, reopen of the driver's fds, a second view), and
mseal, which Linux 6.1 does not have, and F_SEAL_EXEC, which it asks for as the write seals it
implies (6.3 added it). docs/kernel.md lists each.
"""

from __future__ import annotations

import fcntl
import mmap as mm
import os
import struct
from typing import Any

from memview.backends.base import BackendFailure
from memview.backends.linux.backend import LinuxBackend
from memview.backends.linux.worker import Worker, errno_reply
from memview.model.config import Config
from memview.model.constants import (
    F_SEAL_EXEC,
    F_SEAL_EXEC_IMPLIES,
    PERM_ALL,
    PERM_R,
    PERM_W,
    SEALS_ALL,
    USER_VA_END,
    FdKind,
)
from memview.model.design import Design
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.state import State

DEVICE = "/dev/memory-view"
MAX_RANGES_PARAMETER = "/sys/module/memory_view/parameters/max_ranges"

# kernel/uapi/memory_view.h
_IOC_WRITE = 1
MEMVIEW_IOCTL_BASE = 0xB7
MAP_FD_INFO = struct.Struct("=iIQQQ")  # struct memview_map_fd_info
UNMAP_FD_INFO = struct.Struct("=QQ")  # struct memview_unmap_fd_info


def _iow(number: int, size: int) -> int:
    return (_IOC_WRITE << 30) | (size << 16) | (MEMVIEW_IOCTL_BASE << 8) | number


MEMVIEW_SET_SIZE = _iow(0, 8)
MEMVIEW_MAP_FD = _iow(1, MAP_FD_INFO.size)
MEMVIEW_UNMAP_FD = _iow(2, UNMAP_FD_INFO.size)
MEMVIEW_GET_VIEWFD = (MEMVIEW_IOCTL_BASE << 8) | 3
DRIVER_COMMANDS = {MEMVIEW_SET_SIZE, MEMVIEW_MAP_FD, MEMVIEW_UNMAP_FD, MEMVIEW_GET_VIEWFD}

U32 = (1 << 32) - 1


def viewfd_flags(mode: int) -> int:
    """The model's view fd mode (ro = r, rw = rw, in perms bits) as GET_VIEWFD's open flags; any
    other mode is O_WRONLY, which the driver refuses with EINVAL as the model refuses the mode."""
    if mode == PERM_R:
        return os.O_RDONLY | os.O_CLOEXEC
    if mode == PERM_R | PERM_W:
        return os.O_RDWR | os.O_CLOEXEC
    return os.O_WRONLY


class DriverWorker(Worker):
    """A process of the trace that also makes the driver's calls (A, or a child of A's fork)."""

    def do_device_open(self, model_fd: int) -> tuple[tuple[Any, ...], list[int]]:
        try:
            self.fds[model_fd] = os.open(DEVICE, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            return errno_reply(exc), []
        return ("ok", model_fd), []

    def do_driver_ioctl(self, model_fd: int | None, call: str, args: tuple[int, ...],
                        new_fd: int | None) -> tuple[tuple[Any, ...], list[int]]:
        """One ioctl on the real fd; GET_VIEWFD's new fd is kept under the model's number `new_fd`."""
        real = self.real(model_fd)
        try:
            if call == "set_size":
                fcntl.ioctl(real, MEMVIEW_SET_SIZE, struct.pack("=Q", args[0]))
                value = 0
            elif call == "map_fd":
                src, fd_offset, size, mem_offset, perms = args
                info = MAP_FD_INFO.pack(self.real(src), min(perms, U32), fd_offset, size, mem_offset)
                fcntl.ioctl(real, MEMVIEW_MAP_FD, info)
                value = 0
            elif call == "unmap_fd":
                fcntl.ioctl(real, MEMVIEW_UNMAP_FD, UNMAP_FD_INFO.pack(*args))
                value = 0
            elif call == "get_viewfd":
                got = fcntl.ioctl(real, MEMVIEW_GET_VIEWFD, args[0])
                assert isinstance(got, int)
                if new_fd is None:  # the model's bound (EMFILE) said no: the driver said yes
                    os.close(got)
                    return ("ok", -1), []
                self.fds[new_fd] = got
                value = new_fd
            else:
                result = fcntl.ioctl(real, args[0] & U32, 0)
                value = int(result) if isinstance(result, int) else 0
        except OSError as exc:
            return errno_reply(exc), []
        return ("ok", value), []

    def do_plain_munmap(self, addr: int, length: int) -> tuple[tuple[Any, ...], list[int]]:
        return self.plain(mm_call("munmap", addr, length))

    def do_plain_mprotect(self, addr: int, length: int, prot: int) -> tuple[tuple[Any, ...], list[int]]:
        return self.plain(mm_call("mprotect", addr, length, prot))

    def plain(self, rc: int) -> tuple[tuple[Any, ...], list[int]]:
        return (("errno", -rc) if rc < 0 else ("ok", 0)), []


def mm_call(name: str, *args: int) -> int:
    from memview.backends.linux import native

    result: int = getattr(native, name)(*args)
    return result


class DriverBackend(LinuxBackend):
    """The trace on the real driver: the coordinator relays, the kernel decides."""

    name = "kvm-guest"
    worker_class = DriverWorker

    def start(self, design: Design, config: Config) -> None:
        super().start(design, config)
        # The model's `ranges` bound is the driver's own limit for this session (ENOSPC, ENOMEM).
        with open(MAX_RANGES_PARAMETER, "w") as parameter:
            parameter.write(str(config.ranges))

    def sync_layout(self, pre: State, post: State) -> None:
        """Nothing to emulate: the driver revokes (unmap_mapping_range) before A's ioctl returns."""

    # ---- A's driver calls: real ioctls

    def driver_call(self, act: Action, pre: State, expected: Observation, call: str, args: tuple[int, ...],
                    new_fd: int | None = None) -> Observation:
        fd = self.model_fd(pre, act.proc, act.arg("fd"))
        reply, _ = self.call(act.proc, ("driver_ioctl", fd, call, args, new_fd))
        if reply == ("ok", -1):
            return self.from_model(expected)
        return self.observed(reply)

    def do_view_open(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if not expected.ok:
            return expected  # ENFILE (the model's one view) or EMFILE: bounds
        reply, _ = self.call(act.proc, ("device_open", expected.value))
        return self.observed(reply)

    def do_view_set_size(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        return self.driver_call(act, pre, expected, "set_size", (act.arg("size"),))

    def do_view_map_fd(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        src = self.model_fd(pre, act.proc, act.arg("src"))
        args = (-1 if src is None else src, act.arg("fd_offset"), act.arg("size"), act.arg("mem_offset"),
                act.arg("perms"))
        return self.driver_call(act, pre, expected, "map_fd", args)

    def do_view_unmap_fd(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        return self.driver_call(act, pre, expected, "unmap_fd", (act.arg("mem_offset"), act.arg("size")))

    def do_view_get_viewfd(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        new_fd = expected.value if expected.ok else None
        return self.driver_call(act, pre, expected, "get_viewfd", (viewfd_flags(act.arg("mode")),), new_fd)

    def do_ioctl(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if act.arg("cmd") & U32 in DRIVER_COMMANDS:
            return expected  # the driver's own commands are the view_* operations, not this one
        return self.driver_call(act, pre, expected, "other", (act.arg("cmd"),))

    # ---- file operations on every fd, the driver's included: the kernel answers

    def backing_call(self, act: Action, pre: State, expected: Observation, message: tuple[Any, ...]) -> Observation:
        reply, _ = self.call(act.proc, (message[0], self.model_fd(pre, act.proc, act.arg("fd")), *message[1:]))
        return self.observed(reply)

    # ---- B's memory calls: real, on the real view

    def do_mmap(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        prot, flags = act.arg("prot"), act.arg("flags")
        if prot & ~PERM_ALL or flags not in (mm.MAP_SHARED, mm.MAP_PRIVATE):
            return expected  # bits the kernel would read as other requests (MAP_ANONYMOUS, MAP_FIXED)
        if self.fd_kind(pre, act.proc, act.arg("fd")) == FdKind.BACKING:
            return self.from_model(expected)  # the seed's scope: backing objects only through the view
        addr = expected.value if expected.ok else int(pre.procs[act.proc].next_page) << self.config.page_shift
        length = act.arg("length")
        fd = self.model_fd(pre, act.proc, act.arg("fd"))
        reply, _ = self.call(act.proc, ("mmap", fd, addr, length, prot, flags, act.arg("offset")))
        if reply[0] == "ok" and expected.name == "ENOMEM":
            self.call(act.proc, ("undo_mmap", addr, length))
            return expected  # the model's `vmas` bound
        return self.observed(reply, expected.value if expected.ok else None)

    def span_mapped(self, state: State, proc: int, addr: int, length: int) -> bool:
        shift, size = self.config.page_shift, self.config.page_size
        lo, hi = addr >> shift, (addr + length + size - 1) >> shift
        covered = sorted((max(m.lo, lo), min(m.hi, hi)) for m in self.mappings(state, proc) if m.lo < hi and lo < m.hi)
        at = lo
        for start, end in covered:
            if start > at:
                return False
            at = max(at, end)
        return at >= hi

    def harness_span(self, addr: int, length: int) -> bool:
        """A span that may reach past the view's address range: the agent's own memory (Python, the
        helper) may be there, so the model answers rather than the call landing on the harness."""
        return not (self.real_address(addr) and addr + length <= USER_VA_END)

    def do_munmap(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        if expected.name == "ENOMEM" or self.harness_span(act.arg("addr"), act.arg("length")):
            # ENOMEM: only the model's `vmas` bound makes munmap ENOMEM. A span that may reach the
            # harness's memory: the model's answer, and what it takes away of the trace's own
            # mappings really goes (else a later access would still find the pages there).
            if expected.ok:
                self.within_mappings(act, pre, ("plain_munmap",), ())
            return self.from_model(expected)
        reply, _ = self.call(act.proc, ("plain_munmap", act.arg("addr"), act.arg("length")))
        return self.observed(reply)

    def within_mappings(self, act: Action, pre: State, command: tuple[Any, ...], extra: tuple[Any, ...]) -> None:
        """`command` on each piece of [addr, addr + length) that one of the process's mappings holds."""
        size = self.config.page_size
        lo, hi = act.arg("addr"), act.arg("addr") + act.arg("length")
        for mapping in self.mappings(pre, act.proc):
            start, end = max(lo, mapping.lo * size), min(hi, mapping.hi * size)
            if start < end:
                reply, _ = self.call(act.proc, (*command, start, end - start, *extra))
                if reply[0] != "ok":
                    raise self.failure_of(act, f"{command[0]} of the trace's own pages {start:#x}-{end:#x}: {reply}")

    def failure_of(self, act: Action, message: str) -> BackendFailure:
        return BackendFailure("internal", f"step {self.step_index} ({act}): {message}")

    def do_mprotect(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        addr, length = act.arg("addr"), act.arg("length")
        if act.arg("prot") & ~PERM_ALL or self.harness_span(addr, length):
            # Bits the kernel reads as other requests (PROT_SEM, PROT_GROWSDOWN), and spans that may
            # reach the harness's own memory: the model's answer, applied to the trace's own mappings.
            if expected.ok and length and not act.arg("prot") & ~PERM_ALL:
                self.within_mappings(act, pre, ("plain_mprotect",), (act.arg("prot"),))
            return self.from_model(expected)
        if expected.name == "ENOMEM" and length and self.span_mapped(pre, act.proc, addr, length):
            return expected  # every page is mapped: the model's `vmas` bound, not the kernel's gap
        reply, _ = self.call(act.proc, ("plain_mprotect", addr, length, act.arg("prot")))
        return self.observed(reply)

    def do_mseal(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        return self.from_model(expected)  # Linux 6.1 has no mseal(2) (6.10 added it)

    def do_seal(self, act: Action, pre: State, post: State, expected: Observation) -> Observation:
        seals = act.arg("seals")
        if seals & F_SEAL_EXEC and not seals & ~SEALS_ALL:
            # Linux 6.1 has no F_SEAL_EXEC (6.3 added it) and answers EINVAL. On an executable memfd,
            # as every memfd of the model is, 6.3 adds the write seals with it: the guest is asked
            # for exactly those, so the driver's part (EBUSY under a writable range) is still judged.
            return self.backing_call(act, pre, expected, ("seal", (seals & ~F_SEAL_EXEC) | F_SEAL_EXEC_IMPLIES))
        return super().do_seal(act, pre, post, expected)
