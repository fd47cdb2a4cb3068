"""Implementation mutants of the `linux` backend: one bug each, in code only, the model unchanged.

Each mutant is the linux backend with one method replaced by a buggy one, selectable as
`linux-mutant:NAME` (`memview conform --corpus --backend linux-mutant:revoke-hole`). They exist to
show that conformance replay and fuzzing catch bugs that live only in an implementation, where the
design it implements is right: every mutant is held to the same design as the real backend, and
whatever divergence shows is the code's. docs/backends.md ("Implementation mutants") says which
engine catches each, and where.

The bugs live where a real implementation could make them: two in the coordinator (the emulated
driver's revocation protocol: who is told and when A's call may return), two in the worker (the
pages a client installs: the filler, the protection).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from memview.backends.linux import native
from memview.backends.linux.backend import LinuxBackend
from memview.backends.linux.layout import DriverLayout, Span, pieces
from memview.backends.linux.worker import Mapping, Worker
from memview.errors import InputError
from memview.model.constants import PERM_ALL
from memview.model.machine import Machine
from memview.model.state import State

PREFIX = "linux-mutant:"

# ---- helpers shared by the coordinator's mutants


def takes_pages_away(before: DriverLayout, intervals: list[tuple[int, int]]) -> bool:
    """A revocation: some view page that showed a range before the change shows something else after it."""
    return any(isinstance(what, Span) for lo, hi in intervals for _lo, _hi, what in pieces(before, lo, hi))


# ---- 1. ack-early: the coordinator


@dataclass(frozen=True)
class LateChange:
    """A layout change a process acknowledged without applying it."""

    run: Machine  # the run it belongs to (the backend's shadow machine): a restart forgets it
    index: int
    layout: DriverLayout
    intervals: list[tuple[int, int]]


class AckEarlyBackend(LinuxBackend):
    """The last client alive acknowledges a layout change at once and applies it lazily.

    Messages to one process are handled in order, so a coordinator that merely stopped waiting for
    the last acknowledgement would be unobservable here: the process would still apply the change
    before handling its next request. The realistic bug is the client's: it acknowledges the
    invalidation and queues the work, which runs when the driver next does anything (the next step
    that is not a load or store, as a batched TLB flush runs at the next kernel entry). Until then
    its loads and stores go through the old pages. The coordinator holds that client's message back
    to stand for the client's queue; the worker itself is the real one."""

    name = PREFIX + "ack-early"
    late: LateChange | None = None

    def sync_layout(self, pre: State, post: State) -> None:
        late, self.late = self.late, None
        if late is not None and late.run is self.shadow and self.alive(pre, late.index):
            self.send_objects(late.index, late.layout)
            self.call(late.index, ("layout", late.layout, late.intervals))
        _before, after, intervals = self.layout_change(pre, post)
        if not intervals:
            return
        clients = [index for index in sorted(self.processes) if index != 0 and self.alive(post, index)]
        last = clients[-1] if clients else None
        # The bug: A's call returns without the last client having applied the change.
        self.tell_layout(post, after, intervals, left_out=last)
        if last is not None:
            assert self.shadow is not None
            self.late = LateChange(self.shadow, last, after, intervals)


# ---- 2. drop-one-revoke: the coordinator

DROPPING_CLIENT = 1  # B1


class DropOneRevokeBackend(LinuxBackend):
    """Client B1 never applies the first layout change that takes pages away; later ones it does.

    B1 is not told of that one revocation at all, so its pages over the revoked span keep showing
    the old backing (and its worker's idea of the layout stays the old one until the next change)."""

    name = PREFIX + "drop-one-revoke"
    dropped_in: Machine | None = None  # the run (the backend's shadow machine) where B1 dropped one

    def sync_layout(self, pre: State, post: State) -> None:
        before, after, intervals = self.layout_change(pre, post)
        dropped_already = self.dropped_in is self.shadow
        if dropped_already or not takes_pages_away(before, intervals) or not self.alive(post, DROPPING_CLIENT):
            super().sync_layout(pre, post)
            return
        self.dropped_in = self.shadow
        self.tell_layout(post, after, intervals, left_out=DROPPING_CLIENT)


# ---- 3. revoke-hole: the worker


class RevokeHoleWorker(Worker):
    """Pages no range shows become a hole instead of the filler."""

    def realize(self, lo: int, hi: int) -> tuple[Any, ...]:
        reply = super().realize(lo, hi)
        if reply[0] != "ok":
            return reply
        size = self.page_size
        for p_lo, p_hi, _mapping, what in self.targets(lo, hi):
            if not isinstance(what, Span):
                # The bug: the filler (the empty memfd, or PROT_NONE memory) is unmapped, so an
                # access there is SIGSEGV/SEGV_MAPERR and a later mmap could land in the hole. A
                # sealed mapping refuses (EPERM) and keeps its filler, as mseal means.
                native.munmap(p_lo * size, (p_hi - p_lo) * size)
        return reply


class RevokeHoleBackend(LinuxBackend):
    name = PREFIX + "revoke-hole"
    worker_class = RevokeHoleWorker


# ---- 4. wrong-range-prot: the worker


class WrongRangeProtWorker(Worker):
    """A configured page's protection is combined from the first range of the layout, not its own."""

    def protection(self, mapping: Mapping, what: Span | str) -> int:
        if isinstance(what, Span):
            first = self.layout.spans[0]  # the bug: `what.perms` is the range that covers the page
            return self.combine(mapping.prot, first.perms) & PERM_ALL
        return super().protection(mapping, what)


class WrongRangeProtBackend(LinuxBackend):
    name = PREFIX + "wrong-range-prot"
    worker_class = WrongRangeProtWorker


# ---- the registry


@dataclass(frozen=True)
class ImplementationMutant:
    name: str
    mistake: str  # the bug, in one sentence
    where: str  # where a real implementation could make it
    factory: Callable[[], LinuxBackend]


IMPLEMENTATION_MUTANTS: dict[str, ImplementationMutant] = {mutant.name: mutant for mutant in (
    ImplementationMutant(
        "ack-early",
        "The last client alive acknowledges a layout change at once and applies it only when the driver "
        "next runs, so A's UNMAP_FD (or shrink) returns while that client's loads and stores still go "
        "through the old pages.",
        "vhost-user's IOTLB invalidate with REPLY_ACK (a back-end that replies before it drops the "
        "translation), vfio-user's DMA_UNMAP answered before the server's in-flight accesses finish, a "
        "kernel driver that batches the TLB flush after unmap_mapping_range()",
        AckEarlyBackend),
    ImplementationMutant(
        "drop-one-revoke",
        "Client B1 never applies the first layout change that takes pages away (revocation); it applies "
        "every later one, so the revoked pages stay mapped in B1.",
        "a lost or ignored invalidation message: a vhost-user back-end that drops one "
        "VHOST_USER_IOTLB_MSG invalidate, a driver whose revocation walk skips one client's mapping",
        DropOneRevokeBackend),
    ImplementationMutant(
        "revoke-hole",
        "Where a revoked or unconfigured page should get the filler (the empty memfd for SIGBUS, PROT_NONE "
        "memory for SIGSEGV), the client unmaps it and leaves a hole.",
        "a vhost-user or vfio-user server that handles DMA_UNMAP / REM_MEM_REG with munmap() instead of "
        "mmap(MAP_FIXED) of a filler, a driver that zaps without a fault handler for the gap",
        RevokeHoleBackend),
    ImplementationMutant(
        "wrong-range-prot",
        "A configured page's real protection is combined from the permissions of the layout's first "
        "range instead of the range that covers that page.",
        "a driver that installs every page of a mapping with one vm_page_prot (vmf_insert_pfn) "
        "instead of each range's own (vmf_insert_pfn_prot), a server's region lookup that returns "
        "the first region",
        WrongRangeProtBackend),
)}


def mutant_named(name: str, place: str = "--backend") -> ImplementationMutant:
    """The mutant called `name`; any other name is bad input naming the valid ones."""
    if name not in IMPLEMENTATION_MUTANTS:
        valid = ", ".join(PREFIX + known for known in IMPLEMENTATION_MUTANTS)
        raise InputError(place, f"unknown implementation mutant {name!r} (choose from {valid})")
    return IMPLEMENTATION_MUTANTS[name]


def backend_spec(name: str) -> str:
    """The command-line name of mutant `name` (`--backend linux-mutant:NAME`); an unknown name is an InputError."""
    return PREFIX + mutant_named(name).name
