"""The reference peer: `python -m memview.backends.serve model` answers the exec protocol on stdin/stdout.

It reads memview's hello, builds a Machine for the design and bounds it names, and answers every op
with the model's observation (docs/protocol.md). Bad input never stops it: a line it cannot read is
answered with an error message and the loop goes on; end of input or bye ends it with status 0.

For tests and for checking that conform, minimisation and fuzz find what they should, it can also
misbehave on purpose:

    --fault KIND [--at STEP|hello]   one fault, at one step (default 0) or at the handshake
    --deviate DECISION=VARIANT       run that variant while claiming the requested design's
    --without OP                     leave OP out of the operations it claims (and refuse it)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from typing import BinaryIO

from memview.backends.framing import MAX_LINE, ProtocolError, encode
from memview.backends.protocol import (
    PROTOCOL_VERSION,
    Bye,
    Hello,
    Message,
    OpRequest,
    error_message,
    obs_message,
    parse_request,
    peer_hello_message,
    refuse_message,
)
from memview.errors import InputError
from memview.model.constants import Errno
from memview.model.design import check_choice
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import OPS, OPS_BY_NAME

FAULTS = {
    "wrong": "answer a wrong observation (another value, errno, or ok for a signal)",
    "garbage": "write a line that is not JSON",
    "bad-message": "write JSON that is not a valid message (an obs without its observation)",
    "wrong-step": "answer with another step's number",
    "silence": "stop answering, and sleep until killed",
    "exit": "exit with status 3 without answering",
    "segv": "kill itself with SIGSEGV",
    "error": "report an internal error",
    "refuse": "refuse the handshake (always at hello)",
}
STEP_ONLY = {"wrong", "wrong-step"}
HELLO = "hello"
EXIT_STATUS = 3


def wrong(obs: Observation) -> Observation:
    """An observation that differs from obs."""
    if obs.outcome == "ok":
        return Observation("ok", obs.value ^ 1)
    if obs.outcome == "errno":
        return Observation("errno", int(Errno.EBADF if obs.value == Errno.EINVAL else Errno.EINVAL))
    return Observation("ok", 0)


class Peer:
    """The model behind the protocol, with the options' faults."""

    def __init__(self, fault: str | None = None, at: int | str = 0, deviate: dict[str, str] | None = None,
                 without: frozenset[str] = frozenset()) -> None:
        self.fault = fault
        self.at: int | str = HELLO if fault == "refuse" else at
        self.deviate = deviate or {}
        self.without = without
        self.machine: Machine | None = None

    def implementation(self) -> str:
        extras = [f"deviating {d}={v}" for d, v in self.deviate.items()]
        if self.fault:
            extras.append(f"fault {self.fault} at {self.at}")
        return "memview model" + (f" ({', '.join(extras)})" if extras else "")

    def announce(self) -> None:
        print(f"memview serve: injected fault {self.fault} at {self.at}", file=sys.stderr, flush=True)

    def misbehave(self, step: int | None) -> bytes:
        """Carry out the fault due now (one that needs no observation): the line to write instead, if
        the fault lets the peer live."""
        fault = self.fault
        self.announce()
        if fault == "silence":
            while True:
                time.sleep(3600)
        if fault == "exit":
            sys.stdout.flush()
            os._exit(EXIT_STATUS)
        if fault == "segv":
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file left behind
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSEGV)
            time.sleep(10)  # pragma: no cover - the signal arrives first
        if fault == "garbage":
            return b"this is not JSON\n"
        if fault == "bad-message":  # an obs without its observation, or a hello without capabilities
            return encode({"type": "obs", "step": step} if step is not None else {"type": "hello", "protocol": 1})
        if fault == "error":
            return encode(error_message(step, "injected internal error"))
        assert fault == "refuse", fault
        return encode(refuse_message("injected refusal"))

    def hello(self, request: Hello) -> Message:
        refusal = unservable_hello(self.machine is not None, request)
        if refusal is not None:
            return refusal
        try:
            design = request.design.with_choices(request.design.name, self.deviate, "--deviate")
        except InputError as exc:
            return refuse_message(str(exc))
        self.machine = Machine(design, request.config)
        operations = [spec.name for spec in OPS if spec.name not in self.without]
        return peer_hello_message(self.implementation(), operations, request.design.decisions())

    def op(self, request: OpRequest) -> Message:
        if self.machine is None:
            return error_message(request.step, "no hello yet")
        if request.action.name in self.without:
            return error_message(request.step, f"{request.action.name} is not implemented")
        try:
            obs = self.machine.run(request.action)
        except Exception as exc:  # the implementation's own failure, reported as the protocol says
            return error_message(request.step, f"{type(exc).__name__}: {exc}")
        reply = obs_message(request.step, obs)
        if self.fault in STEP_ONLY and request.step == self.at:
            self.announce()
            if self.fault == "wrong":
                reply = obs_message(request.step, wrong(obs))
            else:
                reply["step"] = request.step + 1
        return reply


def read_line(reader: BinaryIO) -> bytes | None:
    """The next line without its newline; None at end of input. ProtocolError for an overlong line,
    which is read to its end (and dropped) first."""
    raw = reader.readline(MAX_LINE + 1)
    if not raw:
        return None
    if raw.endswith(b"\n"):
        return raw[:-1]
    if len(raw) > MAX_LINE:
        while raw and not raw.endswith(b"\n"):
            raw = reader.readline(MAX_LINE + 1)
        raise ProtocolError(f"a line of more than {MAX_LINE} bytes")
    return raw  # the last line, without a newline


def unservable_hello(started: bool, request: Hello) -> Message | None:
    """What a peer answers a hello it cannot take: a second one, or another protocol version."""
    if started:
        return error_message(None, "a second hello: one session per connection")
    if request.protocol != PROTOCOL_VERSION:
        return refuse_message(f"this peer speaks protocol {PROTOCOL_VERSION} only, not {request.protocol}")
    return None


def serve_requests(reader: BinaryIO, writer: BinaryIO, respond: Callable[[Hello | OpRequest], bytes]) -> bool:
    """A peer's loop over one connection: one reply line per request until bye or end of input,
    a request it cannot read answered as the protocol says. True when anything arrived."""
    spoke = False
    while True:
        try:
            line = read_line(reader)
            if line is None:
                return spoke
            spoke = True
            request = parse_request(line)
        except ProtocolError as exc:
            spoke = True
            if exc.kind == "hello":  # a hello it cannot serve (an unknown design or bounds): refuse it
                reply = encode(refuse_message(f"cannot serve this hello: {exc.problem}"))
            else:
                reply = encode(error_message(exc.step, f"cannot read the request: {exc.problem}"))
        else:
            if isinstance(request, Bye):
                return True
            reply = respond(request)
        writer.write(reply)
        writer.flush()


def serve(peer: Peer, reader: BinaryIO, writer: BinaryIO) -> int:
    """The top-level loop, with the peer's injected faults; status 0 at bye or end of input."""

    def respond(request: Hello | OpRequest) -> bytes:
        step = request.step if isinstance(request, OpRequest) else None
        due = peer.fault is not None and peer.fault not in STEP_ONLY and (
            (isinstance(request, Hello) and peer.at == HELLO) or (step is not None and step == peer.at))
        if due:
            return peer.misbehave(step)
        return encode(peer.hello(request) if isinstance(request, Hello) else peer.op(request))

    serve_requests(reader, writer, respond)
    return 0


def parse_args(argv: list[str] | None) -> Peer:
    parser = argparse.ArgumentParser(
        prog="python -m memview.backends.serve",
        description="Serve an implementation over the exec protocol on stdin/stdout (docs/protocol.md).",
        epilog="faults: " + "; ".join(f"{k}: {v}" for k, v in FAULTS.items()),
    )
    parser.add_argument("implementation", choices=["model"], help="model: the reference semantics")
    parser.add_argument("--fault", choices=list(FAULTS), help="misbehave once, on purpose")
    parser.add_argument("--at", default="0", help="the step of the fault (from 0), or 'hello' (default 0)")
    parser.add_argument("--deviate", action="append", default=[], metavar="DECISION=VARIANT",
                        help="run this variant while claiming the requested design's (repeatable)")
    parser.add_argument("--without", action="append", default=[], metavar="OP",
                        help="do not claim (and refuse) this operation (repeatable)")
    args = parser.parse_args(argv)
    at: int | str = args.at
    if args.at != HELLO:
        try:
            at = int(args.at)
        except ValueError:
            parser.error(f"--at: a step number or 'hello', not {args.at!r}")
    if at == HELLO and args.fault in STEP_ONLY:
        parser.error(f"--fault {args.fault} needs a step, not hello")
    deviate: dict[str, str] = {}
    for item in args.deviate:
        decision, _, variant = item.partition("=")
        try:
            check_choice(decision, variant, "--deviate")
        except InputError as exc:
            parser.error(str(exc))
        deviate[decision] = variant
    for name in args.without:
        if name not in OPS_BY_NAME:
            parser.error(f"--without: unknown operation {name!r}")
    return Peer(args.fault, at, deviate, frozenset(args.without))


def main(argv: list[str] | None = None) -> int:
    peer = parse_args(argv)
    try:
        return serve(peer, sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):  # memview went away
        with contextlib.suppress(OSError):  # keep the interpreter's final flush of stdout quiet
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
