"""Run a callable in a forked child with a hard time limit.

An engine's own timeouts are soft (z3 checks its limit between steps; hypothesis between examples),
and a process pool cannot cancel a running job. Mutation analysis gives every cell of its matrix a
budget it must not outlive: the work runs in a child process of its own process group, and at the
deadline the whole group is killed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class TimedResult(Generic[T]):
    """What `run_within` got from its child: the value, or that the deadline passed, or an error."""

    value: T | None  # set when the work finished
    seconds: float
    timed_out: bool = False
    error: str | None = None  # the work raised, or the child died


def run_within(seconds: float, work: Callable[[], T]) -> TimedResult[T]:
    """work() in a child process; its pickled result, or a timeout after `seconds`, or its error."""
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            payload = pickle.dumps(("ok", work()))
        except BaseException as exc:  # everything, so the parent always gets an answer
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            at = f" at {os.path.basename(where.filename)}:{where.lineno}" if where else ""
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}{at}"))
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_end)
    chunks: list[bytes] = []
    timed_out = False
    try:
        while True:
            left = seconds - (time.monotonic() - started)
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_end], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - started
    if timed_out:
        return TimedResult(None, elapsed, timed_out=True)
    if not chunks:
        return TimedResult(None, elapsed, error=f"the child died ({_ending(status)}) without an answer")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        return TimedResult(None, elapsed, error=str(value))
    return TimedResult(value, elapsed)


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
