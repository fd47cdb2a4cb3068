"""The `linux` backend: the memory view emulated in user space on real memfds, files and processes.

Modules: build (compile and load the C helper), native (typed calls into it), wire (messages and
fds between processes), processes (fork, watch, reap), layout (the view's layout read from the
model's state), worker (a process of the trace), backend (the coordinator: the emulated driver).
"""

from __future__ import annotations

from memview.backends.base import Backend
from memview.errors import InputError


def open_linux(place: str = "--backend", fdpass: bool = False) -> Backend:
    """The backend (`linux`, or `linux-fdpass` when fdpass), with its C helper built now: a missing
    compiler or another OS is one line of bad input."""
    from memview.backends.linux.build import LinuxUnavailable, load

    try:
        load()
    except LinuxUnavailable as exc:
        raise InputError(place, str(exc)) from None
    from memview.backends.linux.backend import LinuxBackend, LinuxFdpassBackend

    return LinuxFdpassBackend() if fdpass else LinuxBackend()
