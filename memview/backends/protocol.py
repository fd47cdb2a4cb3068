"""The exec protocol: JSON lines between memview and an implementation under test (the peer).

Transport-neutral: messages are built and parsed here as dicts and lines, and a session runs over
any `LineChannel` of `memview.backends.framing` (one line out, one line in, each within a deadline:
a child's pipes, a socket, a serial line). docs/protocol.md is the specification; protocol.schema.json,
beside this module, is the JSON Schema of every message and this module's output:

    python -m memview.backends.protocol            # print the schema
    python -m memview.backends.protocol --write    # rewrite protocol.schema.json
    python -m memview.backends.protocol --check    # exit 1 if protocol.schema.json is out of date
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memview.backends.base import BackendFailure
from memview.backends.framing import Closed, LineChannel, ProtocolError, Silence, decode, encode, excerpt
from memview.errors import InputError
from memview.generated import (
    action_schemas,
    argument_schema,
    bigint,
    closed,
    config_properties,
    decision_variants,
    generated_file_main,
    observation_schemas,
    ref,
    render_json,
    uint64,
)
from memview.model.config import Config
from memview.model.design import DECISIONS, DECISIONS_BY_NAME, Design, design_from_json
from memview.model.observation import Observation
from memview.model.ops import OPS_BY_NAME, Action, action_from_json

PROTOCOL_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("protocol.schema.json")
REGENERATE = "python -m memview.backends.protocol --write"

Message = dict[str, Any]
LineHook = Callable[[str, bytes], None]  # (">" sent or "<" received, the line without its newline)


# ---------------------------------------------------------------------------------------------
# Messages memview sends, and how a peer reads them


def hello_message(design: Design, config: Config) -> Message:
    return {"type": "hello", "protocol": PROTOCOL_VERSION, "design": design.to_json(), "config": config.to_json()}


def op_message(step: int, act: Action) -> Message:
    return {"type": "op", "step": step, "action": act.readable()}


def bye_message() -> Message:
    return {"type": "bye"}


@dataclass(frozen=True)
class Hello:
    protocol: int
    design: Design
    config: Config


@dataclass(frozen=True)
class OpRequest:
    step: int
    action: Action


@dataclass(frozen=True)
class Bye:
    pass


Request = Hello | OpRequest | Bye


def _int(value: Any) -> int | None:
    """value if it is a JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_request(line: bytes) -> Request:
    """What a peer reads: memview's hello, op or bye. ProtocolError (with the step if known) otherwise."""
    msg = decode(line)
    kind = msg["type"]
    if kind == "hello":
        protocol = _int(msg.get("protocol"))
        if protocol is None:
            raise ProtocolError("hello: \"protocol\" must be an integer", kind=kind)
        try:
            design = design_from_json(msg.get("design"), "hello.design")
            config = Config.from_json(msg.get("config"), "hello.config")
        except InputError as exc:
            raise ProtocolError(str(exc), kind=kind) from None
        return Hello(protocol, design, config)
    if kind == "op":
        step = _int(msg.get("step"))
        if step is None or step < 0:
            raise ProtocolError("op: \"step\" must be a non-negative integer", kind=kind)
        try:
            act = action_from_json(msg.get("action"), "op.action")
        except InputError as exc:
            raise ProtocolError(str(exc), step, kind) from None
        return OpRequest(step, act)
    if kind == "bye":
        return Bye()
    raise ProtocolError(f"unknown message type {kind!r} (memview sends hello, op and bye)")


# ---------------------------------------------------------------------------------------------
# Messages a peer sends, and how memview reads them


def peer_hello_message(implementation: str, operations: list[str], decisions: Mapping[str, str]) -> Message:
    return {"type": "hello", "protocol": PROTOCOL_VERSION, "implementation": implementation,
            "operations": list(operations), "decisions": dict(decisions)}


def refuse_message(reason: str) -> Message:
    return {"type": "refuse", "reason": reason}


def obs_message(step: int, observation: Observation) -> Message:
    return {"type": "obs", "step": step, "observation": observation.to_json()}


def error_message(step: int | None, message: str) -> Message:
    return {"type": "error", "step": step, "message": message}


@dataclass(frozen=True)
class PeerHello:
    """The peer's capabilities: its name, the operations it implements, the variants it claims."""

    protocol: int
    implementation: str
    operations: frozenset[str]  # known operation names only; unknown ones are ignored
    decisions: Mapping[str, str]  # known decisions only


@dataclass(frozen=True)
class Refusal:
    reason: str


@dataclass(frozen=True)
class ObsReply:
    step: int
    observation: Observation


@dataclass(frozen=True)
class ErrorReply:
    step: int | None
    message: str


Reply = PeerHello | Refusal | ObsReply | ErrorReply

OBSERVATION_KEYS = {"ok": {"outcome", "value"}, "errno": {"outcome", "errno"},
                    "signal": {"outcome", "signal", "si_code"}}


def parse_observation(data: Any) -> Observation:
    """An observation object exactly as Observation.to_json writes it (the value may be a plain integer)."""
    if isinstance(data, dict) and data.get("outcome") in OBSERVATION_KEYS:
        extra = sorted(set(data) - OBSERVATION_KEYS[data["outcome"]])
        if extra:
            raise ProtocolError(f"observation: unexpected member {extra[0]!r} for outcome {data['outcome']!r}")
    try:
        return Observation.from_json(data, "observation")
    except InputError as exc:
        raise ProtocolError(str(exc)) from None


def _string(msg: Message, key: str) -> str:
    value = msg.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{msg['type']}: \"{key}\" must be a string")
    return value


def parse_reply(line: bytes) -> Reply:
    """What memview reads: a peer's hello, refuse, obs or error. Members not listed are ignored."""
    msg = decode(line)
    kind = msg["type"]
    if kind == "hello":
        protocol = _int(msg.get("protocol"))
        if protocol is None:
            raise ProtocolError("hello: \"protocol\" must be an integer")
        implementation = _string(msg, "implementation")
        operations = msg.get("operations")
        if not isinstance(operations, list) or not all(isinstance(o, str) for o in operations):
            raise ProtocolError("hello: \"operations\" must be a list of operation names")
        decisions = msg.get("decisions")
        if not isinstance(decisions, dict) or not all(isinstance(v, str) for v in decisions.values()):
            raise ProtocolError("hello: \"decisions\" must map decision names to variant names")
        return PeerHello(protocol, implementation, frozenset(o for o in operations if o in OPS_BY_NAME),
                         {d: v for d, v in decisions.items() if d in DECISIONS_BY_NAME})
    if kind == "refuse":
        return Refusal(_string(msg, "reason"))
    if kind == "obs":
        step = _int(msg.get("step"))
        if step is None:
            raise ProtocolError("obs: \"step\" must be an integer")
        return ObsReply(step, parse_observation(msg.get("observation")))
    if kind == "error":
        raw = msg.get("step")
        step = _int(raw)
        if raw is not None and step is None:
            raise ProtocolError("error: \"step\" must be an integer or null")
        return ErrorReply(step, _string(msg, "message"))
    raise ProtocolError(f"unknown message type {kind!r} (a peer sends hello, refuse, obs and error)")


def design_mismatch(design: Design, claimed: Mapping[str, str]) -> list[str]:
    """The claimed variants the design does not choose, as 'decision: peer X, design Y'."""
    return [f"{name}: the peer implements {variant}, the design asks for {design[name]}"
            for name, variant in sorted(claimed.items()) if design[name] != variant]


# ---------------------------------------------------------------------------------------------
# A session, memview's side


ClosedHook = Callable[[str, bytes], BackendFailure]  # (where, unterminated last line) -> the verdict


def closed_failure(where: str, partial: bytes) -> BackendFailure:
    """The verdict for a closed line when the transport knows nothing more (a socket, a tty)."""
    tail = f" after an unterminated line {excerpt(partial)}" if partial else ""
    return BackendFailure("early-exit", f"{where}: the peer closed the connection{tail}")


class Client:
    """memview's side of one session over a channel. Every failure is a BackendFailure naming where."""

    def __init__(self, channel: LineChannel, on_closed: ClosedHook = closed_failure,
                 on_line: LineHook | None = None) -> None:
        self.channel = channel
        self.on_closed = on_closed
        self.on_line = on_line

    # `where` names the handshake or the step in failures; a callable, as only failures need it.

    def _send(self, message: Message, deadline: float, where: Callable[[], str], timeout: float) -> None:
        line = encode(message)
        if self.on_line is not None:
            self.on_line(">", line[:-1])
        try:
            self.channel.send(line, deadline)
        except Silence:
            raise BackendFailure("hang", f"{where()}: the peer did not read its input within {timeout:g} s") from None
        except Closed as closed:
            raise self.on_closed(where(), closed.partial) from None

    def _receive(self, deadline: float, where: Callable[[], str], timeout: float) -> Reply:
        try:
            line = self.channel.receive(deadline)
        except Silence:
            raise BackendFailure("hang", f"{where()}: no answer within {timeout:g} s") from None
        except Closed as closed:
            raise self.on_closed(where(), closed.partial) from None
        except ProtocolError as exc:
            raise BackendFailure("garbage", f"{where()}: {exc.problem}") from None
        if self.on_line is not None:
            self.on_line("<", line)
        try:
            return parse_reply(line)
        except ProtocolError as exc:
            raise BackendFailure("garbage", f"{where()}: {exc.problem}: {excerpt(line)}") from None

    def handshake(self, design: Design, config: Config, timeout: float) -> PeerHello:
        """Send hello; the peer's capabilities, or BackendFailure (refused on refusal or mismatch)."""
        where = "handshake"
        deadline = time.monotonic() + timeout
        self._send(hello_message(design, config), deadline, lambda: where, timeout)
        reply = self._receive(deadline, lambda: where, timeout)
        if isinstance(reply, Refusal):
            raise BackendFailure("refused", f"{where}: the peer refused: {reply.reason}")
        if isinstance(reply, ErrorReply):
            raise BackendFailure("internal", f"{where}: the peer reported an internal error: {reply.message}")
        if not isinstance(reply, PeerHello):
            raise BackendFailure("garbage", f"{where}: expected hello or refuse, got {type(reply).__name__}")
        if reply.protocol != PROTOCOL_VERSION:
            raise BackendFailure("refused", f"{where}: the peer speaks protocol {reply.protocol}, "
                                            f"memview speaks {PROTOCOL_VERSION}")
        mismatch = design_mismatch(design, reply.decisions)
        if mismatch:
            raise BackendFailure("refused", f"{where}: the peer implements another design ({'; '.join(mismatch)})")
        return reply

    def perform(self, step: int, act: Action, timeout: float) -> Observation:
        """Send one op and read its observation; BackendFailure for silence, garbage, error or a closed line."""
        deadline = time.monotonic() + timeout

        def where() -> str:
            return f"step {step} ({act.name})"  # callers show the whole action

        self._send(op_message(step, act), deadline, where, timeout)
        reply = self._receive(deadline, where, timeout)
        if isinstance(reply, ObsReply) and reply.step == step:
            return reply.observation
        if isinstance(reply, ErrorReply) and reply.step in (step, None):
            raise BackendFailure("internal", f"{where()}: the peer reported an internal error: {reply.message}")
        if isinstance(reply, ObsReply | ErrorReply):
            raise BackendFailure("garbage", f"{where()}: the answer is for step {reply.step}")
        raise BackendFailure("garbage", f"{where()}: expected obs or error, got {type(reply).__name__}")

    def goodbye(self, timeout: float) -> None:
        """Send bye if the line still takes it; never fails."""
        try:
            line = encode(bye_message())
            if self.on_line is not None:
                self.on_line(">", line[:-1])
            self.channel.send(line, time.monotonic() + timeout)
        except (Closed, Silence, OSError):
            pass


# ---------------------------------------------------------------------------------------------
# The JSON Schema of every message


def _open(properties: dict[str, Any], required: list[str], description: str) -> dict[str, Any]:
    return {"description": description, "type": "object", "properties": properties, "required": required}


def _argument(kind: str) -> dict[str, Any]:
    """How memview sends an argument of this kind (Action.readable, integers plain)."""
    byte = {"type": "integer", "minimum": 0, "maximum": 255}
    return argument_schema(kind, ref("uint64"), byte, {"type": "string", "pattern": "^[r-][w-][x-]$"})


def _design() -> dict[str, Any]:
    return closed({"name": {"type": "string"},
                    "decisions": closed(decision_variants(), [d.name for d in DECISIONS])}, ["name", "decisions"])


def build_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every message of protocol 1, in both directions."""
    step = {"type": "integer", "minimum": 0}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"memview exec protocol, version {PROTOCOL_VERSION}",
        "description": (
            "One JSON object per line, UTF-8. $defs/to-peer is what memview writes (exactly these members);"
            " $defs/to-memview is what a peer writes (memview ignores members it does not know, except"
            " inside an observation). Specified in docs/protocol.md. Generated from memview.model by"
            f" `{REGENERATE}`; tests/test_exec_backend.py checks it is current."
        ),
        "oneOf": [ref("to-peer"), ref("to-memview")],
        "$defs": {
            "to-peer": {"oneOf": [ref("hello"), ref("op"), ref("bye")]},
            "to-memview": {"oneOf": [ref("peer-hello"), ref("refuse"), ref("obs"), ref("error")]},
            "hello": closed({"type": {"const": "hello"}, "protocol": {"const": PROTOCOL_VERSION},
                              "design": ref("design"), "config": ref("config")},
                             ["type", "protocol", "design", "config"],
                             "memview -> peer, first: the design (every decision's variant) and the bounds"),
            "op": closed({"type": {"const": "op"}, "step": step, "action": ref("action")},
                          ["type", "step", "action"], "memview -> peer: perform one operation"),
            "bye": closed({"type": {"const": "bye"}}, ["type"], "memview -> peer, last: exit with status 0"),
            "peer-hello": _open(
                {"type": {"const": "hello"}, "protocol": {"const": PROTOCOL_VERSION},
                 "implementation": {"type": "string"},
                 "operations": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
                                "description": "the operations implemented; unknown names are ignored"},
                 "decisions": {"type": "object", "additionalProperties": {"type": "string"},
                               "properties": decision_variants(),
                               "description": "the variant of each decision the peer implements (claims only "
                                              "what it knows); unknown decisions are ignored"}},
                ["type", "protocol", "implementation", "operations", "decisions"],
                "peer -> memview: accept the hello and state capabilities"),
            "refuse": _open({"type": {"const": "refuse"}, "reason": {"type": "string"}}, ["type", "reason"],
                            "peer -> memview, instead of hello: the session cannot run"),
            "obs": _open({"type": {"const": "obs"}, "step": step, "observation": ref("observation")},
                         ["type", "step", "observation"], "peer -> memview: what the operation of this step showed"),
            "error": _open({"type": {"const": "error"}, "step": {"oneOf": [step, {"type": "null"}]},
                            "message": {"type": "string"}}, ["type", "step", "message"],
                           "peer -> memview: the implementation itself failed (null step: request unreadable)"),
            "design": _design(),
            "config": closed(config_properties(), [f.name for f in dataclasses.fields(Config)]),
            "action": {"oneOf": action_schemas(_argument, ref("uint64"), summaries=True)},
            "observation": {"oneOf": observation_schemas()},
            "uint64": uint64(),
            "word": {"oneOf": [ref("uint64"), bigint()]},
        },
    }


def render() -> str:
    return render_json(build_schema())


def main(argv: list[str] | None = None) -> int:
    return generated_file_main(
        "python -m memview.backends.protocol",
        "Print the JSON Schema of the exec protocol's messages.",
        SCHEMA_PATH, build_schema, argv,
    )


if __name__ == "__main__":
    sys.exit(main())
