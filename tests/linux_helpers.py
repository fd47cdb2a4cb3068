"""Shared helpers of the linux backend's tests: traces built from actions, and what a process holds.

Imported as a plain module (`from linux_helpers import ...`), like scenario.py.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from memview.backends.base import StepLimit
from memview.backends.linux.backend import LinuxBackend
from memview.backends.linux.build import LinuxUnavailable, load
from memview.model.config import Config
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.traces.trace import Step, Trace


def require_linux_backend() -> None:
    """Skip where the backend cannot run (another OS, no compiler): its own error says why."""
    try:
        load()
    except LinuxUnavailable as exc:
        pytest.skip(str(exc))


def trace_of(design: Design, actions: list[Action], config: Config | None = None) -> Trace:
    """The actions with the observations the design gives them (what conform will require)."""
    config = config or Config()
    machine = Machine(design, config)
    return Trace(design, config, [Step(act, machine.run(act), "") for act in actions], {"engine": "test"})


def run_on_linux(acts: list[Action], design: Design,
                 inspect: Callable[[LinuxBackend], None] | None = None) -> tuple[list[Observation], list[str]]:
    """Every step on the linux backend held to `design`: the observations (each required to be the
    model's too) and who gave each (`backend.source`); `inspect` sees the backend after the last step."""
    machine = Machine(design, Config())
    backend = LinuxBackend()
    backend.start(design, Config())
    seen, sources = [], []
    try:
        for act in acts:
            expected = machine.run(act)
            observed = backend.perform(act, StepLimit())
            assert observed == expected, f"{act}: the model says {expected}, Linux showed {observed}"
            seen.append(observed)
            sources.append(backend.source)
        if inspect is not None:
            inspect(backend)
    finally:
        backend.stop()
    return seen, sources


def children() -> set[int]:
    """This process's children, zombies included (every thread's list)."""
    found: set[int] = set()
    for path in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
        found.update(int(pid) for pid in Path(path).read_text().split())
    return found


def open_fds() -> dict[int, str]:
    held: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the directory's own fd
            held[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return held


def memfds() -> int:
    """memfds this process holds open or mapped."""
    by_fd = sum(1 for target in open_fds().values() if target.startswith("/memfd:"))
    by_map = sum(1 for line in Path("/proc/self/maps").read_text().splitlines() if "/memfd:" in line)
    return by_fd + by_map


def temp_dirs() -> list[str]:
    """The linux backend's temporary directories that this process made."""
    return glob.glob(os.path.join(tempfile.gettempdir(), f"memview-linux-{os.getpid()}-*"))


def holdings() -> tuple[set[int], int, int, list[str]]:
    return children(), len(open_fds()), memfds(), temp_dirs()
