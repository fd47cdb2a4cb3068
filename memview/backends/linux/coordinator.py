"""The linux backend's coordinator, apart from what it does for each operation.

It sends requests to the trace's real processes and turns their answers into observations (a
silent, dead or failing process is a `BackendFailure` naming the step), makes the view's layout
(the emulated driver's state, read from the model's) real in every process, and answers the
questions about the model's state that the per-operation relays of `backend.py` ask.
"""

from __future__ import annotations

import mmap as mm
import os
from typing import Any

from memview.backends.base import Backend, BackendFailure, StepLimit
from memview.backends.linux import native, wire
from memview.backends.linux.layout import DriverLayout, changed, layout_of
from memview.backends.linux.processes import Process
from memview.backends.linux.worker import Mapping
from memview.model.config import Config
from memview.model.constants import PERM_R, PERM_W, VMA_RAW, FdKind
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.state import State


class Coordinator(Backend):
    """The processes of a trace and the view's pages in them; `LinuxBackend` relays operations."""

    # Set by start and by perform, before any request.
    config: Config
    deadline: float
    limit: StepLimit

    def __init__(self) -> None:
        self.processes: dict[int, Process] = {}
        self.objects: dict[int, int] = {}  # object slot -> the coordinator's read-write fd
        self.pins: dict[tuple[int, int, int, int], tuple[int, int]] = {}  # writable span -> (addr, length)
        self.step_index = 0
        self.action: Action | None = None
        # Who gave the last observation: "kernel" (a system call's result), "cpu" (a real access:
        # its byte or its fault) or "model" (the emulated driver, a bound, or what the kernel is not
        # asked). The truth-to-Linux tests read it to know an answer really came from Linux.
        self.source = "model"

    # ---- requests and answers

    def call(self, index: int, message: tuple[Any, ...], fds: list[int] | tuple[int, ...] = ()
             ) -> tuple[tuple[Any, ...], list[int]]:
        """One request to process `index` and its answer; a silent, dead or failing process is a BackendFailure."""
        try:
            wire.send(self.processes[index].channel, message, fds)
        except (wire.ChannelClosed, OSError) as exc:
            raise self.failure(self.processes[index], exc) from None
        return self.answer(index)

    def answer(self, index: int) -> tuple[tuple[Any, ...], list[int]]:
        """Process `index`'s answer to the request it was sent."""
        proc = self.processes[index]
        try:
            reply, got = wire.receive(proc.channel, self.deadline)
        except (wire.ChannelTimeout, wire.ChannelClosed, OSError) as exc:
            raise self.failure(proc, exc) from None
        if reply[0] == "error":
            for fd in got:
                os.close(fd)
            raise BackendFailure("internal", f"step {self.step_index} ({self.action}): P{index}: {reply[1]}")
        return reply, got

    def failure(self, proc: Process, exc: Exception) -> BackendFailure:
        where = f"step {self.step_index} ({self.action})"
        if isinstance(exc, wire.ChannelTimeout):
            return BackendFailure("hang", f"{where}: P{proc.index} did not answer within {self.limit.seconds}s")
        kind, ending = proc.describe_end()
        return BackendFailure(kind, f"{where}: {ending}")

    def from_model(self, expected: Observation) -> Observation:
        self.source = "model"
        return expected

    def observed(self, reply: tuple[Any, ...], ok_value: int | None = None, source: str = "kernel") -> Observation:
        """A process's answer as an observation; a success shows the model's handle (fd, address, process)."""
        self.source = source
        if reply[0] == "ok":
            return Observation("ok", reply[1] if ok_value is None else ok_value)
        if reply[0] == "errno":
            return Observation("errno", reply[1])
        return Observation("signal", reply[1], reply[2])

    # ---- the view's layout: the emulated driver's state, made real in every process

    def sync_layout(self, pre: State, post: State) -> None:
        _, after, intervals = self.layout_change(pre, post)
        if intervals:
            self.tell_layout(post, after, intervals)

    def layout_change(self, pre: State, post: State) -> tuple[DriverLayout, DriverLayout, list[tuple[int, int]]]:
        """The layouts before and after a step, and the view pages they differ in."""
        shift = self.config.page_shift
        before, after = layout_of(pre, shift), layout_of(post, shift)
        return before, after, changed(before, after)

    def tell_layout(self, post: State, after: DriverLayout, intervals: list[tuple[int, int]],
                    left_out: int | None = None) -> None:
        """Every live process applies the change; process `left_out` (only the implementation
        mutants leave one out) is neither told nor waited for."""
        self.update_pins(after)
        told = [index for index in sorted(self.processes) if self.alive(post, index) and index != left_out]
        for index in told:
            self.send_objects(index, after)
        # Every process replaces its pages at once; A's call returns only after the last
        # acknowledgement (vhost-user's IOTLB invalidate with REPLY_ACK).
        for index in told:
            try:
                wire.send(self.processes[index].channel, ("layout", after, intervals))
            except (wire.ChannelClosed, OSError) as exc:
                raise self.failure(self.processes[index], exc) from None
        for index in told:
            self.answer(index)

    def send_objects(self, index: int, layout: DriverLayout) -> None:
        proc = self.processes[index]
        for span in layout.spans:
            if span.obj not in proc.objects_sent and span.obj in self.objects:
                read_write = self.objects[span.obj]
                read_only = os.open(f"/proc/self/fd/{read_write}", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    self.call(index, ("object", span.obj), [read_write, read_only])
                finally:
                    os.close(read_only)
                proc.objects_sent.add(span.obj)

    def update_pins(self, layout: DriverLayout) -> None:
        """Hold a writable shared mapping of each writable range's object while the range exists.

        A driver would hold the memfd's writable-mapping count for a writable range whether or not a
        client mapped it (docs/semantics.md §4.15); this real mapping makes the kernel's own
        F_SEAL_WRITE check (mapping_deny_writable: EBUSY) see it."""
        wanted = {(s.obj, s.lo, s.delta, s.perms): s for s in layout.spans if s.perms & PERM_W}
        for key in [k for k in self.pins if k not in wanted]:
            native.munmap(*self.pins.pop(key))
        size = self.config.page_size
        for key, span in wanted.items():
            if key in self.pins or span.obj not in self.objects:
                continue
            offset = layout.backing_page(span, span.lo) * size
            got = native.mmap(0, size, PERM_R | PERM_W, mm.MAP_SHARED, self.objects[span.obj], offset)
            if got >= 0:
                self.pins[key] = (got, size)

    # ---- helpers over the model's state

    def alive(self, state: State, index: int) -> bool:
        return index < len(state.procs) and bool(state.procs[index].alive) and index in self.processes

    def fd_kind(self, state: State, proc: int, fd: int) -> FdKind:
        fds = state.procs[proc].fds
        return FdKind(int(fds[fd].kind)) if fd < len(fds) else FdKind.NONE

    def mappings(self, state: State, proc: int) -> list[Mapping]:
        return [Mapping(int(v.lo), int(v.hi), int(v.delta), int(v.attrs)) for v in state.procs[proc].vmas if v.used]

    def only_raw(self, state: State, proc: int, lo: int, hi: int) -> bool:
        """Process pages [lo, hi) overlap mappings, all of raw backing fds (delivery=raw-fds)."""
        overlapping = [m for m in self.mappings(state, proc) if m.lo < hi and lo < m.hi]
        return bool(overlapping) and all(m.attrs & VMA_RAW for m in overlapping)

    def model_fd(self, state: State, proc: int, fd: int) -> int | None:
        """The fd if it is open in the model (else None: the process uses a certainly closed fd)."""
        return fd if self.fd_kind(state, proc, fd) != FdKind.NONE else None
