"""The guest agent: the exec protocol over a virtio-serial port, one session per connection.

Started by the guest's /init once the memory-view module is loaded. For every session memview
opens (docs/protocol.md §3: one connection is one session), it reads the hello, sets up a fresh
instance on the real driver (kvm/driver.py: process A and the clients as real processes, nothing
open), answers each op, and at bye or when memview goes away tears it all down, so the next
session starts from nothing in the same booted guest.

    python -m memview.backends.kvm.agent /dev/vport0p1
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import BinaryIO

from memview.backends.base import BackendFailure, StepLimit
from memview.backends.framing import encode
from memview.backends.protocol import (
    Hello,
    Message,
    OpRequest,
    error_message,
    obs_message,
    peer_hello_message,
    refuse_message,
)
from memview.backends.serve import serve_requests, unservable_hello
from memview.model.design import SEED
from memview.model.ops import OPS

IMPLEMENTATION = "memview kernel/memory_view.ko on Linux {release} (guest agent)"
STEP_LIMIT = StepLimit(60.0)  # memview's own step limit is the real one; this only bounds a stuck helper
UNCLAIMED = {"denied"}
RECONNECT_PAUSE = 0.05  # seconds between looks at a port whose host side is not connected


class Session:
    """One session: the driver backend for the hello's design and bounds, then its ops."""

    def __init__(self) -> None:
        from memview.backends.kvm.driver import DriverBackend

        self.backend: DriverBackend | None = None
        self.factory = DriverBackend

    def hello(self, request: Hello) -> Message:
        refusal = unservable_hello(self.backend is not None, request)
        if refusal is not None:
            return refusal
        backend = self.factory()
        try:
            backend.start(request.design, request.config)
        except BackendFailure as exc:
            backend.stop()
            return refuse_message(exc.message)
        self.backend = backend
        # The driver has one behaviour, the seed's (a design that chooses otherwise is refused by
        # memview, naming each difference), except `denied`, which is left to the observations: a
        # driver's refusal is SEGV_MAPERR (kernel/seed-driver.toml, docs/kernel.md).
        claimed = {d: v for d, v in SEED.decisions().items() if d not in UNCLAIMED}
        return peer_hello_message(IMPLEMENTATION.format(release=os.uname().release),
                                  [spec.name for spec in OPS], claimed)

    def op(self, request: OpRequest) -> Message:
        if self.backend is None:
            return error_message(request.step, "no hello yet")
        try:
            return obs_message(request.step, self.backend.perform(request.action, STEP_LIMIT))
        except BackendFailure as exc:
            return error_message(request.step, str(exc))
        except Exception as exc:  # the agent's own bug: the protocol's error, and the session goes on
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return error_message(request.step, f"{type(exc).__name__}: {exc} ({where.filename}:{where.lineno})")

    def close(self) -> None:
        if self.backend is not None:
            self.backend.stop()
            self.backend = None


def run_session(reader: BinaryIO, writer: BinaryIO) -> bool:
    """Serve one session; False when nothing arrived (the host side is not connected)."""
    session = Session()

    def respond(request: Hello | OpRequest) -> bytes:
        return encode(session.hello(request) if isinstance(request, Hello) else session.op(request))

    try:
        return serve_requests(reader, writer, respond)
    finally:
        session.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m memview.backends.kvm.agent PORT", file=sys.stderr)
        return 2
    port = args[0]
    from memview.backends.linux import native

    native.helper()  # the fault-catching helper, loaded before the first session's clients fork
    print("memview-guest: agent ready", flush=True)
    # The port stays open across sessions: data the host sends while the last session is being
    # torn down waits in it, and a read while no host is connected returns end of file at once.
    fd = os.open(port, os.O_RDWR)
    with os.fdopen(fd, "rb", buffering=65536) as reader, os.fdopen(os.dup(fd), "wb", buffering=0) as writer:
        while True:
            try:
                served = run_session(reader, writer)
            except OSError as exc:  # the host went away mid-line: the session is over
                print(f"memview-guest: session ended: {exc}", flush=True)
                served = True
            if not served:
                time.sleep(RECONNECT_PAUSE)

if __name__ == "__main__":
    sys.exit(main())
