"""The `kvm` backend: the real memory-view driver (kernel/memory_view.ko) in a QEMU guest.

One guest is booted per memview run and reused by every trace (a batch): each trace is one session
over the guest's virtio-serial port (docs/protocol.md §3), and the agent tears everything down
between sessions. After every step the guest's serial console is read: a kernel BUG, oops,
WARNING or KASAN report becomes a `crash` verdict naming the step, with the console's tail, and
the next trace boots a fresh guest (a guest the kernel complained about is not trusted again). A
guest that does not boot, a module that does not load, a QEMU that dies and a step that never
answers are verdicts too, never a hang of memview.
"""

from __future__ import annotations

import atexit
import socket

from memview.backends.base import DEFAULT_STEP_TIMEOUT, Backend, BackendFailure, StepLimit
from memview.backends.framing import FdChannel
from memview.backends.kvm.guest import Guest, GuestFailure, find_kernel
from memview.backends.protocol import Client, PeerHello
from memview.model.config import Config
from memview.model.design import Design
from memview.model.observation import Observation
from memview.model.ops import Action

HANDSHAKE_TIMEOUT = 60.0  # seconds: the agent's set-up forks A and the clients under TCG
QEMU_EXIT_WAIT = 2.0  # seconds a failed session waits to see whether QEMU itself is ending


class GuestPool:
    """The one guest of this memview process, booted on first use and whenever the last one is
    dead or was reported on by its kernel."""

    def __init__(self) -> None:
        self.guest: Guest | None = None
        self.trusted = False
        self.boots = 0

    def get(self) -> Guest:
        if self.guest is not None and (not self.trusted or not self.guest.alive()):
            self.discard()
        if self.guest is None:
            guest = Guest(find_kernel())
            self.boots += 1
            try:
                guest.boot()
            except GuestFailure as failure:
                guest.shutdown()
                raise BackendFailure(failure.kind, f"at boot: {failure.message}") from None
            self.guest, self.trusted = guest, True
        return self.guest

    def discard(self) -> None:
        if self.guest is not None:
            self.guest.shutdown()
        self.guest, self.trusted = None, False


POOL = GuestPool()
atexit.register(POOL.discard)


class KvmBackend(Backend):
    name = "kvm"

    def __init__(self, pool: GuestPool = POOL) -> None:
        self.pool = pool
        self.guest: Guest | None = None
        self.sock: socket.socket | None = None
        self.channel: FdChannel | None = None
        self.client: Client | None = None
        self.peer: PeerHello | None = None
        self.step = 0

    def start(self, design: Design, config: Config) -> None:
        self.stop()
        self.step = 0
        self.guest = self.pool.get()
        try:
            self.sock = self.guest.connect()
        except OSError as exc:
            raise self.guest_failed(BackendFailure("crash", f"at set-up: cannot reach the agent: {exc}")) from None
        self.channel = FdChannel(self.sock.fileno(), self.sock.fileno())
        self.client = Client(self.channel, self.closed)
        try:
            self.peer = self.client.handshake(design, config, HANDSHAKE_TIMEOUT)
        except BackendFailure as failure:
            raise self.judged(failure, "handshake") from None

    def perform(self, act: Action, limit: StepLimit) -> Observation:
        if self.client is None or self.guest is None:
            raise BackendFailure("refused", "the kvm backend is not running (not started, stopped, or failed)")
        step = self.step
        self.step += 1
        try:
            observation = self.client.perform(step, act, limit.seconds)
        except BackendFailure as failure:
            raise self.judged(failure, f"step {step} ({act})") from None
        reports = self.guest.new_reports()
        if reports is not None:
            raise self.guest_failed(BackendFailure(
                "crash", f"step {step} ({act}): the guest kernel reported:\n{reports}"))
        return observation

    def judged(self, failure: BackendFailure, where: str) -> BackendFailure:
        """A failure of the session, with what the guest's kernel says about it: a report on the
        console or a dead QEMU makes it the guest's crash; a silent agent is a hang of the guest."""
        assert self.guest is not None
        reports = self.guest.new_reports()
        if reports is not None:
            return self.guest_failed(BackendFailure("crash", f"{where}: the guest kernel reported:\n{reports}"))
        if failure.kind != "refused" and self.guest.exited_within(QEMU_EXIT_WAIT):
            return self.guest_failed(BackendFailure("crash", f"{where}: the guest died ({failure.message})"))
        if failure.kind in ("hang", "early-exit", "crash", "garbage"):
            return self.guest_failed(failure)  # the agent's state is unknown: boot afresh
        self.close_session()
        return failure

    def guest_failed(self, failure: BackendFailure) -> BackendFailure:
        """The guest is not trusted again; the verdict carries the console's tail."""
        tail = self.guest.tail() if self.guest is not None else ""
        self.pool.trusted = False
        self.close_session()
        return BackendFailure(failure.kind, failure.message + tail)

    def closed(self, where: str, partial: bytes) -> BackendFailure:
        return BackendFailure("early-exit", f"{where}: the guest's agent closed the port")

    def close_session(self) -> None:
        client, self.client = self.client, None
        if client is not None and self.guest is not None and self.guest.alive() and self.pool.trusted:
            try:
                client.goodbye(0.5)
            except BackendFailure:
                self.pool.trusted = False
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.peer = None

    def stop(self) -> None:
        self.close_session()
        self.guest = None


def open_kvm(place: str = "--backend") -> Backend:
    """The backend, after checking that the guest's parts exist (one line of bad input otherwise)."""
    find_kernel()
    return KvmBackend()


__all__ = ["DEFAULT_STEP_TIMEOUT", "KvmBackend", "open_kvm"]
