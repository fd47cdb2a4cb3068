"""The exec backend and its protocol: real traces through `serve model`, every faulty peer as a
verdict naming the step, no leaked fd or child, and the schema and docs/protocol.md kept honest."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from memview.backends.base import BackendFailure, StepLimit
from memview.backends.exec import ExecBackend, serve_command
from memview.backends.framing import MAX_LINE, FdChannel, ProtocolError, decode, encode
from memview.backends.protocol import Client, ObsReply, build_schema, main, op_message, parse_reply, render
from memview.backends.registry import open_backend
from memview.errors import InputError
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import BUILTIN, DECISIONS, SEED, Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import OPS, Action, action

REPO = Path(__file__).resolve().parent.parent
PEERS = Path(__file__).resolve().parent / "peers"
SCHEMA_PATH = REPO / "memview" / "backends" / "protocol.schema.json"
DOC = REPO / "docs" / "protocol.md"
GiB = 1 << 30
P = 4096
FAST = StepLimit(1.0)  # per-step limit of the fault tests
QUICK = 0.5  # seconds of silence a hang test waits
LIMIT = StepLimit(10.0)  # per-step limit of the replays (never reached)


# ---------------------------------------------------------------------------------------------
# Helpers


def schema_part(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator({"$schema": schema["$schema"], "$defs": schema["$defs"],
                                            "$ref": f"#/$defs/{name}"})


TO_PEER = schema_part("to-peer")
TO_MEMVIEW = schema_part("to-memview")


class Transcript:
    """Every line an ExecBackend sends and receives."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    def __call__(self, direction: str, line: bytes) -> None:
        (self.sent if direction == ">" else self.received).append(line)

    def validate(self) -> None:
        for line in self.sent:
            TO_PEER.validate(json.loads(line))
        for line in self.received:
            TO_MEMVIEW.validate(json.loads(line))


def served(*args: str, **kwargs: Any) -> ExecBackend:
    """An ExecBackend on `python -m memview.backends.serve model ARGS`."""
    return ExecBackend(serve_command(*args), cwd=REPO, **kwargs)


def standalone(*args: str, **kwargs: Any) -> ExecBackend:
    return ExecBackend([sys.executable, str(PEERS / "standalone.py"), *args], cwd=REPO, **kwargs)


def model_run(design: Design, config: Config, actions: list[Action]) -> list[Observation]:
    machine = Machine(design, config)
    return [machine.run(act) for act in actions]


def backend_run(backend: ExecBackend, design: Design, config: Config, actions: list[Action],
                limit: StepLimit = LIMIT) -> list[Observation]:
    backend.start(design, config)
    try:
        return [backend.perform(act, limit) for act in actions]
    finally:
        backend.stop()


def sizing(design: Design, size: int, fd: int = 0) -> Action:
    """The design's call to size the view."""
    return action("ftruncate" if design.is_("sizing", "inode") else "view_set_size", fd=fd, size=size)


def seed_trace(design: Design) -> list[Action]:
    """The seed's scenario at its literal sizes (tests/test_seed_scenarios.py), then B1 and B2 at
    work on the view: every operation of the catalogue appears."""
    base = MMAP_BASE
    return [
        action("view_open"),  # control fd 0
        sizing(design, 16 * GiB),
        action("memfd_create", sealing=True),  # guest-ram, fd 1
        action("ftruncate", fd=1, size=32 * GiB),
        action("pwrite", fd=1, offset=9 * GiB, byte=0x33),
        action("pwrite", fd=1, offset=8 * GiB + GiB // 2, byte=0x44),
        action("view_map_fd", fd=0, src=1, fd_offset=8 * GiB, size=2 * GiB, mem_offset=8 * GiB, perms="rw"),
        action("file_create"),  # big-file.iso, fd 2
        action("ftruncate", fd=2, size=12 * GiB),
        action("pwrite", fd=2, offset=4 * GiB, byte=0x11),
        action("pwrite", fd=2, offset=8 * GiB + 123, byte=0x5C),
        action("reopen", fd=2, mode="ro"),  # fd 3
        action("close", fd=2),
        action("view_map_fd", fd=0, src=3, fd_offset=4 * GiB, size=8 * GiB, mem_offset=0, perms="r"),
        action("view_get_viewfd", fd=0, mode="rw"),  # fd 2 again
        action("send", fd=2, to=1),
        action("send", fd=2, to=2),
        action("mmap", 1, fd=0, length=16 * GiB, prot="rw", flags="shared", offset=0),
        action("access", 1, addr=base, kind="read", byte=0),
        action("access", 1, addr=base + 4 * GiB + 123, kind="read", byte=0),
        action("access", 1, addr=base + 9 * GiB, kind="read", byte=0),
        action("access", 1, addr=base + 9 * GiB + 5, kind="write", byte=0x77),
        action("access", 1, addr=base, kind="write", byte=1),  # read-only range
        action("access", 1, addr=base + 9 * GiB, kind="exec", byte=0),
        action("access", 1, addr=base + 13 * GiB, kind="read", byte=0),  # nothing mapped there
        action("mmap", 2, fd=0, length=16 * GiB, prot="r", flags="private", offset=0),
        action("mmap", 2, fd=0, length=16 * GiB, prot="r", flags="shared", offset=0),
        action("access", 2, addr=base + 9 * GiB + 5, kind="read", byte=0),
        action("ioctl", 1, fd=0, cmd=0x1234),
        action("seal", fd=1, seals=["write"]),
        action("view_unmap_fd", fd=0, mem_offset=8 * GiB, size=GiB),
        action("access", 1, addr=base + 8 * GiB, kind="read", byte=0),  # revoked
        action("access", 1, addr=base + 9 * GiB, kind="read", byte=0),  # still mapped
        action("fork", 1),
        action("access", 3, addr=base + 9 * GiB + 5, kind="read", byte=0),
        action("mprotect", 1, addr=base, length=GiB, prot="r"),
        action("mseal", 1, addr=base, length=P),
        action("munmap", 1, addr=base + GiB, length=GiB),
        action("access", 1, addr=base + GiB, kind="read", byte=0),
        action("close", 3, fd=0),
        action("close", 3, fd=0),  # EBADF
        action("access", 3, addr=base, kind="read", byte=0),
        action("view_set_size", fd=0, size=4 * GiB),
    ]


def small_trace(design: Design) -> list[Action]:
    """A four-page view with one range, shared with B1, then revoked."""
    base = MMAP_BASE
    return [
        action("view_open"),
        sizing(design, 4 * P),
        action("memfd_create", sealing=True),
        action("ftruncate", fd=1, size=4 * P),
        action("pwrite", fd=1, offset=P, byte=0x12),
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=2 * P, mem_offset=0, perms="rw"),
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=P, mem_offset=P, perms="r"),  # overlap
        action("view_get_viewfd", fd=0, mode="rw"),
        action("send", fd=2, to=1),
        action("mmap", 1, fd=0, length=4 * P, prot="rw", flags="shared", offset=0),
        action("access", 1, addr=base + P, kind="read", byte=0),
        action("access", 1, addr=base + 3 * P, kind="read", byte=0),
        action("view_unmap_fd", fd=0, mem_offset=P, size=P),
        action("access", 1, addr=base + P, kind="read", byte=0),
        action("view_set_size", fd=9, size=P),  # EBADF
        action("close", 5, fd=0),  # no such process
    ]


def children() -> set[int]:
    """This process's child processes, zombies included, from /proc (no psutil)."""
    me = os.getpid()
    out = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == me:
            out.add(int(entry.name))
    return out


def open_fds() -> set[str]:
    return {f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}" for fd in os.listdir("/proc/self/fd")
            if os.path.exists(f"/proc/self/fd/{fd}")}


def dead(pid: int, within: float = 3.0) -> bool:
    """pid is gone (or a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """Every peer process ExecBackend starts during the test (to check each is reaped and closed)."""
    made: list[subprocess.Popen[bytes]] = []

    class Recorded(subprocess.Popen[bytes]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    return made


def torn_down(proc: subprocess.Popen[bytes]) -> bool:
    """Reaped by ExecBackend itself (not by Popen's finaliser) and every pipe closed."""
    pipes = (proc.stdin, proc.stdout, proc.stderr)
    return proc.returncode is not None and all(p is not None and p.closed for p in pipes)


def patience(kind: str) -> StepLimit:
    """The limit a fault test gives: short where the verdict is a hang (the test waits it out),
    generous elsewhere so that a loaded machine cannot turn a crash into a hang."""
    return StepLimit(QUICK) if kind == "hang" else LIMIT


def failure_of(backend: ExecBackend, design: Design, config: Config, actions: list[Action],
               limit: StepLimit = FAST) -> tuple[BackendFailure, list[Observation], float]:
    """Run until the backend fails: the failure, the observations before it, the seconds it took."""
    seen: list[Observation] = []
    started = time.monotonic()
    try:
        backend.start(design, config)
        for act in actions:
            seen.append(backend.perform(act, limit))
    except BackendFailure as failure:
        return failure, seen, time.monotonic() - started
    finally:
        backend.stop()
    raise AssertionError(f"no failure; observed {[str(o) for o in seen]}")


# ---------------------------------------------------------------------------------------------
# Replays through `serve model`


@pytest.mark.parametrize("name", list(BUILTIN))
def test_seed_scenario_replays_exactly(name: str) -> None:
    design = BUILTIN[name]
    actions = seed_trace(design)
    assert {a.name for a in actions} == {spec.name for spec in OPS}
    expected = model_run(design, Config(), actions)
    if name != "strict":  # strict refuses B1's rw mmap over the read-only range (EACCES)
        assert expected[17] == Observation("ok", MMAP_BASE)  # B1's mmap of all 16 GiB succeeded
        assert {o.outcome for o in expected} == {"ok", "errno", "signal"}
    transcript = Transcript()
    observed = backend_run(served(on_line=transcript), design, Config(), actions)
    assert [str(o) for o in observed] == [str(o) for o in expected]
    assert observed == expected
    assert len(transcript.sent) == len(actions) + 2  # hello, the ops, bye
    transcript.validate()


@pytest.mark.parametrize("choices", [{}, {"overlap": "replace", "unmap-span": "exact"},
                                     {"unconfigured": "sigsegv", "denied": "sigbus", "revocation": "skip"}])
def test_small_trace_replays_exactly_under_other_designs(choices: dict[str, str]) -> None:
    design = SEED.with_choices("variant", choices)
    config = Config(ranges=3, objects=2, fds=4, clients=1, fork_slots=0, vmas=2)
    actions = small_trace(design)
    transcript = Transcript()
    observed = backend_run(served(on_line=transcript), design, config, actions)
    assert observed == model_run(design, config, actions)
    transcript.validate()
    hello = json.loads(transcript.sent[0])
    assert hello["design"] == {"name": "variant", "decisions": design.decisions()}
    assert hello["config"] == config.to_json()


def test_every_message_memview_sends_is_valid() -> None:
    """Every operation, every argument in its named and its raw form, and bye, against the schema."""
    for spec in OPS:
        args = {name: {"bool": True, "perms": "rwx", "seals": ["seal", "future-write"], "mode": "ro",
                       "kind": "exec", "flags": "private", "byte": 255}.get(kind, 2**64 - 1)
                for name, kind in spec.args}
        TO_PEER.validate(op_message(0, action(spec.name, 2**64 - 1, **args)))
        raw = {name: (True if kind == "bool" else 255 if kind == "byte" else 0x80) for name, kind in spec.args}
        TO_PEER.validate(op_message(7, action(spec.name, 1, **raw)))
    with pytest.raises(jsonschema.ValidationError):
        TO_PEER.validate({"type": "op", "step": 0, "action": {"op": "close", "proc": 0, "fd": 1, "extra": 1}})
    with pytest.raises(jsonschema.ValidationError):
        TO_PEER.validate({"type": "op", "step": -1, "action": {"op": "close", "proc": 0, "fd": 1}})
    with pytest.raises(jsonschema.ValidationError):
        TO_PEER.validate({"type": "hello", "protocol": 1, "design": {"name": "x", "decisions": {}},
                          "config": Config().to_json()})  # memview always sends every decision


def test_schema_is_current_and_valid() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), \
        "run `python -m memview.backends.protocol --write`"
    jsonschema.Draft202012Validator.check_schema(build_schema())
    assert main(["--check"]) == 0


def test_registry_opens_an_exec_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    backend = open_backend("exec:" + shlex.join(serve_command()))
    assert isinstance(backend, ExecBackend) and backend.name.startswith("exec:")
    actions = small_trace(SEED)
    assert backend_run(backend, SEED, Config(), actions) == model_run(SEED, Config(), actions)


# ---------------------------------------------------------------------------------------------
# Faulty peers: each a verdict naming the step, quickly, with the peer gone


STEP_FAULTS = [
    ("garbage", "garbage", "not JSON"),
    ("bad-message", "garbage", "observation"),
    ("wrong-step", "garbage", "for step 3"),
    ("silence", "hang", "no answer within 0.5 s"),
    ("exit", "early-exit", "exited with status 3"),
    ("segv", "crash", "killed by SIGSEGV"),
    ("error", "internal", "injected internal error"),
]


@pytest.mark.parametrize(("fault", "kind", "words"), STEP_FAULTS)
def test_faulty_peer_at_a_step_is_a_verdict(fault: str, kind: str, words: str,
                                            spawned: list[subprocess.Popen[bytes]]) -> None:
    actions = small_trace(SEED)
    backend = served("--fault", fault, "--at", "2")
    failure, seen, seconds = failure_of(backend, SEED, Config(), actions, patience(kind))
    assert failure.kind == kind
    assert failure.message.startswith(f"step 2 ({actions[2].name}): ")
    assert words in failure.message
    assert "injected fault" in failure.message  # the peer's stderr, quoted
    assert seen == model_run(SEED, Config(), actions[:2])
    assert seconds < patience(kind).seconds + 3
    assert backend.pid is None  # torn down at the failure
    assert len(spawned) == 1 and torn_down(spawned[0])


HELLO_FAULTS = [
    ("refuse", "refused", "injected refusal"),
    ("garbage", "garbage", "not JSON"),
    ("bad-message", "garbage", "\"implementation\" must be a string"),
    ("silence", "hang", "no answer within 0.5 s"),
    ("exit", "early-exit", "exited with status 3"),
    ("segv", "crash", "killed by SIGSEGV"),
    ("error", "internal", "injected internal error"),
]


@pytest.mark.parametrize(("fault", "kind", "words"), HELLO_FAULTS)
def test_faulty_peer_at_the_handshake_is_a_verdict(fault: str, kind: str, words: str,
                                                   spawned: list[subprocess.Popen[bytes]]) -> None:
    backend = served("--fault", fault, "--at", "hello", handshake_timeout=patience(kind).seconds)
    failure, seen, seconds = failure_of(backend, SEED, Config(), small_trace(SEED))
    assert (failure.kind, seen) == (kind, [])
    assert failure.message.startswith("handshake: ")
    assert words in failure.message
    assert seconds < patience(kind).seconds + 3
    assert backend.pid is None
    assert len(spawned) == 1 and torn_down(spawned[0])


def test_wrong_observation_is_returned_for_the_judge() -> None:
    """A wrong observation is no failure of the backend: conform judges it (a divergence)."""
    actions = small_trace(SEED)
    observed = backend_run(served("--fault", "wrong", "--at", "4"), SEED, Config(), actions)
    expected = model_run(SEED, Config(), actions)
    assert [i for i, (o, e) in enumerate(zip(observed, expected, strict=True)) if o != e] == [4]
    assert (str(expected[4]), str(observed[4])) == ("ok 1", "ok 0")


def test_deviating_peer_claims_the_design_but_runs_another() -> None:
    actions = small_trace(SEED)
    observed = backend_run(served("--deviate", "revocation=skip"), SEED, Config(), actions)
    expected = model_run(SEED, Config(), actions)
    diverging = [i for i, (o, e) in enumerate(zip(observed, expected, strict=True)) if o != e]
    assert diverging == [13]  # the read after UNMAP_FD still sees the page
    assert (str(expected[13]), str(observed[13])) == ("SIGBUS/BUS_ADRERR", "ok 18")


def test_operation_the_peer_lacks_is_refused_at_its_step_without_being_sent() -> None:
    actions = small_trace(SEED)
    transcript = Transcript()
    backend = served("--without", "mmap", on_line=transcript)
    failure, seen, _ = failure_of(backend, SEED, Config(), actions)
    assert failure.kind == "refused"
    assert failure.message == "step 9 (mmap): the peer does not implement it"
    assert len(seen) == 9
    assert not any(b'"op":"mmap"' in line for line in transcript.sent)
    backend.start(SEED, Config())
    try:
        assert backend.missing(actions) == ["mmap"]
    finally:
        backend.stop()


STANDALONE_TRACE = [action("view_open"), action("memfd_create", sealing=False), action("file_create", 1),
                    action("close", fd=1), action("close", fd=1), action("memfd_create", 7, sealing=True),
                    action("view_open", 2)]


def test_standalone_peer_conforms_on_what_it_implements() -> None:
    """tests/peers/standalone.py knows no memview: the protocol is enough to write a peer."""
    transcript = Transcript()
    observed = backend_run(standalone(on_line=transcript), SEED, Config(), STANDALONE_TRACE)
    assert observed == model_run(SEED, Config(), STANDALONE_TRACE)
    transcript.validate()
    failure, _, _ = failure_of(standalone(), SEED, Config(), [*STANDALONE_TRACE, action("ftruncate", fd=0, size=P)])
    assert (failure.kind, failure.message) == ("refused", "step 7 (ftruncate): the peer does not implement it")


@pytest.mark.parametrize(("mode", "kind", "words"), [
    ("v2", "refused", "the peer speaks protocol 2, memview speaks 1"),
    ("mismatch", "refused", "sizing: the peer implements inode, the design asks for ioctl"),
])
def test_handshake_mismatch_is_refused(mode: str, kind: str, words: str) -> None:
    failure, seen, _ = failure_of(standalone(mode), SEED, Config(), STANDALONE_TRACE)
    assert (failure.kind, seen) == (kind, [])
    assert words in failure.message


def test_claimed_decisions_that_match_are_accepted() -> None:
    fuse = BUILTIN["fuse-like"]
    assert backend_run(standalone("mismatch"), fuse, Config(), STANDALONE_TRACE) == \
        model_run(fuse, Config(), STANDALONE_TRACE)


@pytest.mark.parametrize(("mode", "kind", "step", "words"), [
    ("flood", "garbage", 0, f"more than {MAX_LINE} bytes without a newline"),
    ("partial-exit", "early-exit", 0, "exited with status 1 after an unterminated line"),
    ("extra-line", "garbage", 1, "the answer is for step 0"),
    ("no-read", "hang", 0, "no answer within 0.5 s"),
])
def test_transport_faults_are_verdicts(mode: str, kind: str, step: int, words: str) -> None:
    failure, seen, seconds = failure_of(standalone(mode), SEED, Config(), STANDALONE_TRACE, patience(kind))
    assert failure.kind == kind
    assert failure.message.startswith(f"step {step} ({STANDALONE_TRACE[step].name}): ")
    assert words in failure.message
    assert len(seen) == step
    assert seconds < patience(kind).seconds + 3


def test_whole_process_group_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    failure, _, _ = failure_of(standalone("grandchild", str(pidfile)), SEED, Config(), STANDALONE_TRACE,
                               StepLimit(QUICK))
    assert failure.kind == "hang"
    assert dead(int(pidfile.read_text()))


def test_stderr_flood_neither_blocks_nor_grows() -> None:
    backend = standalone("stderr-flood", stderr_limit=4096)
    backend.start(SEED, Config())
    try:
        assert backend.perform(STANDALONE_TRACE[0], FAST) == Observation("ok", 0)
        deadline = time.monotonic() + 5
        while len(backend.stderr_text()) < 4096 and time.monotonic() < deadline:
            backend.perform(STANDALONE_TRACE[4], FAST)  # each wait drains stderr
        assert len(backend.stderr_text()) == 4096
    finally:
        backend.stop()


@pytest.mark.parametrize(("argv", "kind", "words"), [
    ([sys.executable, "-c", "pass"], "early-exit", "exited with status 0"),
    ([sys.executable, "-c", "import sys; sys.exit(7)"], "early-exit", "exited with status 7"),
    ([sys.executable, "-c", "print('hello, world')"], "garbage", "not JSON"),
    ([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"], "crash",
     "killed by SIGTERM"),
    ([sys.executable, "-c", "import sys; sys.stderr.write('no such device\\n'); sys.exit(2)"], "early-exit",
     "(stderr: no such device)"),
])
def test_programs_that_are_not_peers(argv: list[str], kind: str, words: str) -> None:
    failure, _, _ = failure_of(ExecBackend(argv, handshake_timeout=5), SEED, Config(), [])
    assert failure.kind == kind
    assert words in failure.message


def test_missing_command_is_bad_input() -> None:
    with pytest.raises(InputError, match="cannot start"):
        ExecBackend(["/nonexistent/peer"]).start(SEED, Config())


def test_lifecycle_stop_is_idempotent_and_start_restarts() -> None:
    backend = served()
    with pytest.raises(BackendFailure) as not_started:
        backend.perform(action("view_open"), FAST)
    assert not_started.value.kind == "refused"
    backend.start(SEED, Config())
    first = backend.pid
    assert backend.perform(action("view_open"), FAST) == Observation("ok", 0)
    backend.start(SEED, Config())  # a fresh instance: view_open succeeds again at step 0
    assert backend.pid != first and dead(first or 0)
    assert backend.perform(action("view_open"), FAST) == Observation("ok", 0)
    backend.stop()
    assert backend.exit_status == 0  # it took bye and exited by itself
    backend.stop()
    with backend:
        pass
    with pytest.raises(BackendFailure):
        backend.perform(action("view_open"), FAST)


# ---------------------------------------------------------------------------------------------
# Reliability: many replays, failures included, leave no fd and no child behind


def test_many_replays_leak_nothing(spawned: list[subprocess.Popen[bytes]]) -> None:
    actions = small_trace(SEED)
    expected = model_run(SEED, Config(), actions)
    runs: list[Callable[[], None]] = []

    def clean() -> None:
        assert backend_run(served(), SEED, Config(), actions) == expected

    def faulty(*args: str) -> Callable[[], None]:
        def run() -> None:
            failure_of(served(*args, handshake_timeout=QUICK), SEED, Config(), actions, StepLimit(0.3))
        return run

    runs += [clean] * 20
    runs += [faulty("--fault", fault, "--at", at) for fault, at in
             [("segv", "1"), ("exit", "2"), ("garbage", "3"), ("silence", "1"), ("error", "0"), ("refuse", "0"),
              ("bad-message", "1"), ("wrong-step", "2"), ("segv", "hello"), ("silence", "hello")]]
    clean()  # warm up lazily created fds (selectors, imports)
    fds_before, children_before = open_fds(), children()
    for run in runs:
        run()
    assert children() == children_before
    assert open_fds() == fds_before
    assert len(spawned) == len(runs) + 1
    assert all(torn_down(proc) for proc in spawned)


# ---------------------------------------------------------------------------------------------
# The protocol over any line: framing, parsing, a socket


def test_framing() -> None:
    line = encode({"type": "error", "step": None, "message": "two\nlines, ünïcode"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line[:-1])["message"] == "two\nlines, ünïcode"
    for bad, problem in [(b"", "an empty line"), (b"\xff", "not UTF-8"), (b"[1]", "not a message object"),
                         (b"{\"type\": 1}", "string \"type\""), (b"{\"type\":\"obs\",\"x\":NaN}", "not JSON")]:
        with pytest.raises(ProtocolError, match=problem):
            decode(bad)


def test_replies_accept_plain_and_bigint_values_and_nothing_else() -> None:
    for value in (7, {"#bigint": "7"}):
        reply = parse_reply(json.dumps({"type": "obs", "step": 1, "observation": {"outcome": "ok", "value": value},
                                        "note": "unknown members are ignored"}).encode())
        assert reply == ObsReply(1, Observation("ok", 7))
    for observation, problem in [({"outcome": "ok", "value": 1, "errno": "EINVAL"}, "unexpected member"),
                                 ({"outcome": "errno", "errno": "ENOPE"}, "unknown errno"),
                                 ({"outcome": "signal", "signal": "SIGBUS", "si_code": "SEGV_MAPERR"}, "si_code"),
                                 ({"outcome": "ok", "value": -1}, "negative")]:
        with pytest.raises(ProtocolError, match=problem):
            parse_reply(json.dumps({"type": "obs", "step": 1, "observation": observation}).encode())


def test_same_framing_over_a_socket() -> None:
    """The reference peer on one end of a socket pair, memview's Client on the other (one fd both ways)."""
    ours, theirs = socket.socketpair()
    peer = subprocess.Popen(serve_command(), stdin=theirs, stdout=theirs, cwd=REPO)
    theirs.close()
    try:
        client = Client(FdChannel(ours.fileno(), ours.fileno()))
        hello = client.handshake(SEED, Config(), 10)
        assert hello.implementation == "memview model" and hello.decisions == SEED.decisions()
        actions = small_trace(SEED)
        assert [client.perform(i, a, 10) for i, a in enumerate(actions)] == model_run(SEED, Config(), actions)
        client.goodbye(1)
        assert peer.wait(10) == 0
    finally:
        ours.close()
        if peer.poll() is None:
            peer.kill()
            peer.wait()


def test_serve_survives_bad_input() -> None:
    """The reference peer's loop answers every unreadable request with an error and goes on."""
    hello = {"type": "hello", "protocol": 1, "design": SEED.to_json(), "config": Config().to_json()}
    requests = [
        op_message(0, action("view_open")),  # before hello
        b"not json",
        {"type": "hello", "protocol": 2, "design": SEED.to_json(), "config": Config().to_json()},
        {"type": "hello", "protocol": 1, "design": {"name": "x", "decisions": {"sizing": "nope"}}, "config": {}},
        hello,
        hello,  # a second hello
        {"type": "op", "step": 1, "action": {"op": "nope"}},
        {"type": "op", "step": "two", "action": {"op": "view_open"}},
        {"type": "frobnicate"},
        b"x" * (MAX_LINE + 10),
        op_message(2, action("view_open")),
        {"type": "bye"},
        op_message(3, action("view_open")),  # never read
    ]
    data = b"".join(r + b"\n" if isinstance(r, bytes) else encode(r) for r in requests)
    result = subprocess.run(serve_command(), input=data, capture_output=True, cwd=REPO, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    for reply in replies:
        TO_MEMVIEW.validate(reply)
    summary = [(r["type"], r.get("step")) for r in replies]
    assert summary == [("error", 0), ("error", None), ("refuse", None), ("refuse", None), ("hello", None),
                       ("error", None), ("error", 1), ("error", None), ("error", None), ("error", None), ("obs", 2)]
    assert "no hello yet" in replies[0]["message"]
    assert "protocol 1 only" in replies[2]["reason"]
    assert "unknown variant 'nope'" in replies[3]["reason"]
    assert "one session" in replies[5]["message"]
    assert f"more than {MAX_LINE} bytes" in replies[9]["message"]
    assert replies[10]["observation"] == {"outcome": "ok", "value": {"#bigint": "0"}}


def test_serve_exits_quietly_when_memview_goes_away() -> None:
    peer = subprocess.Popen(serve_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=REPO)
    assert peer.stdin is not None and peer.stdout is not None
    peer.stdin.close()
    assert peer.wait(10) == 0
    assert peer.stderr is not None and peer.stderr.read() == b""
    peer.stdout.close()
    peer.stderr.close()


# ---------------------------------------------------------------------------------------------
# docs/protocol.md


def doc_session() -> Iterator[tuple[str, dict[str, Any]]]:
    """The example session's lines: ('>', message) memview writes, ('<', message) the peer writes."""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith(("→ ", "← ")):
            yield (">" if line[0] == "→" else "<"), json.loads(line[2:])


def test_doc_example_session_is_what_serve_answers() -> None:
    session = list(doc_session())
    assert len(session) >= 10
    sent = [m for d, m in session if d == ">"]
    for direction, message in session:
        (TO_PEER if direction == ">" else TO_MEMVIEW).validate(message)
    result = subprocess.run(serve_command(), input=b"".join(encode(m) for m in sent), capture_output=True,
                            cwd=REPO, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [m for d, m in session if d == "<"]


def test_doc_names_every_operation_decision_and_verdict() -> None:
    text = DOC.read_text(encoding="utf-8")
    for spec in OPS:
        assert f"`{spec.name}`" in text, spec.name
    for decision in DECISIONS:
        assert f"`{decision.name}`" in text, decision.name
    for kind in BackendFailure.KINDS:
        assert f"`{kind}`" in text, kind

