"""The exec backend: any implementation, in any language, behind the JSON-lines protocol on its stdio.

`--backend exec:'COMMAND ARGS'` starts COMMAND in a process group of its own with its stdin and
stdout as the protocol's line (docs/protocol.md) and its stderr kept in a bounded buffer for
messages. Nothing here blocks past a deadline: each step has the caller's limit, reads and writes
are non-blocking and waited on with selectors. Whatever the peer does becomes a BackendFailure
naming the step (hang, garbage, early-exit, crash, refused, internal), after which the peer's
whole process group is killed and reaped and every pipe closed.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from memview.backends.base import DEFAULT_STEP_TIMEOUT, Backend, BackendFailure, StepLimit
from memview.backends.framing import FdChannel, excerpt
from memview.backends.protocol import Client, LineHook, PeerHello
from memview.errors import InputError
from memview.model.config import Config
from memview.model.design import Design
from memview.model.observation import Observation
from memview.model.ops import Action

STDERR_LIMIT = 16384  # bytes of the peer's stderr kept (the latest)
GRACE = 1.0  # seconds a peer has to exit after bye, or to be seen dead after closing its output


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class ExecBackend(Backend):
    """A child process speaking the exec protocol on stdin/stdout."""

    def __init__(self, argv: Sequence[str], *, handshake_timeout: float = DEFAULT_STEP_TIMEOUT,
                 grace: float = GRACE, cwd: str | Path | None = None, env: dict[str, str] | None = None,
                 on_line: LineHook | None = None, stderr_limit: int = STDERR_LIMIT) -> None:
        if not argv:
            raise InputError("exec", "needs a command")
        self.argv = list(argv)
        self.name = "exec:" + shlex.join(self.argv)
        self.handshake_timeout = handshake_timeout
        self.grace = grace
        self.cwd = cwd
        self.env = env
        self.on_line = on_line  # sees every line sent (">") and received ("<"), e.g. for a protocol log
        self.stderr_limit = stderr_limit
        self.peer: PeerHello | None = None  # the peer's capabilities, after start()
        self.exit_status: int | None = None  # the last peer's returncode (negative: killed by that signal)
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: FdChannel | None = None
        self._client: Client | None = None
        self._stderr = bytearray()
        self._step = 0

    # -- what callers use

    def start(self, design: Design, config: Config) -> None:
        self.stop()
        self._stderr.clear()
        self._step = 0
        self.exit_status = None
        try:
            proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    bufsize=0, close_fds=True, process_group=0, cwd=self.cwd, env=self.env)
        except OSError as exc:
            raise InputError("exec", f"cannot start {self.argv[0]}: {exc.strerror or exc}") from None
        self._proc = proc
        try:
            assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
            self._channel = FdChannel(proc.stdout.fileno(), proc.stdin.fileno(), {proc.stderr.fileno(): self._keep})
            self._client = Client(self._channel, self._closed, self.on_line)
            self.peer = self._client.handshake(design, config, self.handshake_timeout)
        except BaseException as exc:
            raise self._failed(exc) from None

    def perform(self, act: Action, limit: StepLimit) -> Observation:
        if self._client is None or self.peer is None:
            raise BackendFailure("refused", "the exec backend is not running (not started, stopped, or failed)")
        step = self._step
        self._step += 1
        if act.name not in self.peer.operations:
            lacking = BackendFailure("refused", f"step {step} ({act.name}): the peer does not implement it")
            raise self._failed(lacking)
        try:
            return self._client.perform(step, act, limit.seconds)
        except BaseException as exc:
            raise self._failed(exc) from None

    def stop(self) -> None:
        self._teardown(gentle=True)

    def missing(self, actions: Iterable[Action | str]) -> list[str]:
        """The operations among these that the running peer does not implement, in first-use order."""
        if self.peer is None:
            return []
        names = (a.name if isinstance(a, Action) else a for a in actions)
        return list(dict.fromkeys(n for n in names if n not in self.peer.operations))

    def stderr_text(self) -> str:
        """The latest of what the peer wrote to its stderr (at most stderr_limit bytes)."""
        return self._stderr.decode("utf-8", "replace")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- the child

    def _keep(self, chunk: bytes) -> None:
        self._stderr += chunk
        if len(self._stderr) > self.stderr_limit:
            del self._stderr[:len(self._stderr) - self.stderr_limit]

    def _failed(self, exc: BaseException) -> BaseException:
        """Tear the peer down after a failure and return what to raise: the failure with the peer's
        stderr quoted. A peer that refused or reported its own error is still talking and gets bye;
        any other (and any exception of memview's, e.g. KeyboardInterrupt) is killed at once."""
        gentle = isinstance(exc, BackendFailure) and exc.kind in ("refused", "internal")
        self._teardown(gentle=gentle)
        return self._with_stderr(exc) if isinstance(exc, BackendFailure) else exc

    def _with_stderr(self, failure: BackendFailure) -> BackendFailure:
        lines = [line.strip() for line in self.stderr_text().splitlines() if line.strip()]
        if not lines:
            return failure
        tail = " | ".join(lines[-3:])
        if len(tail) > 300:
            tail = "..." + tail[-300:]
        return BackendFailure(failure.kind, f"{failure.message} (stderr: {tail})")

    @staticmethod
    def _exited(proc: subprocess.Popen[bytes], wait: float) -> os.waitid_result | None:
        """The child's exit, waited for up to `wait` seconds without reaping it (so its pid, and its
        process group's id, stay ours until _teardown kills the group and reaps)."""
        deadline = time.monotonic() + wait
        pause = 0.001
        while True:
            try:
                status = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return None  # already reaped
            if status is not None:
                return status
            if time.monotonic() >= deadline:
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _closed(self, where: str, partial: bytes) -> BackendFailure:
        """The verdict for the peer's output reaching end of file: how the peer ended."""
        tail = f" after an unterminated line {excerpt(partial)}" if partial else ""
        status = self._exited(self._proc, self.grace) if self._proc is not None else None
        if self._channel is not None:
            self._channel.drain_side(time.monotonic() + 0.2)
        if status is None:
            return BackendFailure("early-exit", f"{where}: the peer closed its output{tail} but is still running")
        if status.si_code == os.CLD_EXITED:
            return BackendFailure("early-exit", f"{where}: the peer exited with status {status.si_status}{tail}")
        dumped = " (core dumped)" if status.si_code == os.CLD_DUMPED else ""
        return BackendFailure("crash", f"{where}: the peer was killed by {signal_name(status.si_status)}{dumped}{tail}")

    def _teardown(self, gentle: bool) -> None:
        """bye (if gentle) and a brief wait, then kill the process group, reap, close every pipe. Idempotent."""
        proc, self._proc = self._proc, None
        client, self._client = self._client, None
        channel, self._channel = self._channel, None
        self.peer = None
        if proc is None:
            return
        try:
            if gentle and client is not None:
                client.goodbye(min(self.grace, 0.5))
            if proc.stdin is not None:
                proc.stdin.close()  # a peer that missed bye sees end of file
            if gentle:
                self._exited(proc, self.grace)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the leader is unreaped, so the group id is still ours
            with contextlib.suppress(subprocess.TimeoutExpired):  # only a process stuck in the kernel
                proc.wait(timeout=5)
            self.exit_status = proc.returncode
            if channel is not None:
                channel.drain_side(time.monotonic() + 0.2)
        finally:
            if channel is not None:
                channel.close()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()


def serve_command(*args: str, python: str | None = None) -> list[str]:
    """argv of the reference peer: `python -m memview.backends.serve model ARGS`."""
    return [python or sys.executable, "-m", "memview.backends.serve", "model", *args]
