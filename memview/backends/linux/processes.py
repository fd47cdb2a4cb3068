"""Starting, watching and reaping the real processes of a trace.

The coordinator forks A and the clients B1..Bn at start; a `fork` in the trace is a real fork
inside a client, whose child reaches the coordinator through a socket its parent passes over. The
coordinator is a child subreaper, so a forked child whose parent dies is re-parented to it and
every process a trace caused is reaped at stop: none is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from memview.backends.linux import native

REAP_WAIT = 2.0  # seconds a re-parented child may take to reach us before we stop waiting


@dataclass
class Process:
    index: int  # the model's process number
    pid: int
    channel: socket.socket
    direct: bool  # forked by the coordinator (else by another process of the trace)
    objects_sent: set[int] = field(default_factory=set)
    status: int | None = None  # the wait status, once reaped

    def describe_end(self) -> tuple[str, str]:
        """How the process ended, as far as we can tell: the failure kind (crash or early-exit) and a sentence."""
        if self.status is None and self.direct:
            try:
                pid, status = os.waitpid(self.pid, 0)
                if pid == self.pid:
                    self.status = status
            except ChildProcessError:
                pass
        who = f"P{self.index} (pid {self.pid})"
        if self.status is None:
            # A forked child's status belongs to its parent, which is still alive.
            return "crash", f"{who} closed its channel: it was killed or exited"
        if os.WIFSIGNALED(self.status):
            return "crash", f"{who} was killed by {signal.Signals(os.WTERMSIG(self.status)).name}"
        return "early-exit", f"{who} exited with status {os.WEXITSTATUS(self.status)}"


def fork_worker(index: int, body: Callable[[socket.socket], None], keep: tuple[int, ...]) -> Process:
    """A new process running body(channel); in the child, every inherited fd not in keep is closed
    (the test runner's pipes, other traces' sockets), and the child never returns."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            ours.close()
            keep_fds = {0, 1, 2, theirs.fileno(), *keep}
            for name in os.listdir("/proc/self/fd"):
                if int(name) not in keep_fds:
                    with contextlib.suppress(OSError):  # the directory's own fd, already gone
                        os.close(int(name))
            body(theirs)
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    theirs.close()
    return Process(index, pid, ours, direct=True)


_subreaper = False


def ensure_subreaper() -> None:
    global _subreaper
    if not _subreaper:
        native.become_subreaper()
        _subreaper = True


def reap(processes: list[Process]) -> None:
    """Kill every process and wait for each: direct children first, then the re-parented ones."""
    for proc in processes:
        if proc.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        proc.channel.close()
    for proc in sorted(processes, key=lambda p: not p.direct):
        if proc.status is not None:
            continue
        deadline = time.monotonic() + REAP_WAIT
        while True:
            try:
                os.waitpid(proc.pid, 0)
                break
            except ChildProcessError:
                # Not (yet) our child: its parent is still being reaped. Give up after a while;
                # a process that is nobody's child any more has been reaped by someone else.
                if time.monotonic() > deadline:
                    break
                time.sleep(0.001)
        proc.status = 0
