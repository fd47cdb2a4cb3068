"""The `linux` backend: the memory view emulated in user space on real memfds, files and processes.

Modules: build (compile and load the C helper), native (typed calls into it), wire (messages and
fds between processes), processes (fork, watch, reap), layout (the view's layout read from the
model's state), worker (a process of the trace), backend (the coordinator: the emulated driver),
mutants (the backend with one implementation bug each, `linux-mutant:NAME`).
"""

from __future__ import annotations

from memview.backends.base import Backend
from memview.errors import InputError


def open_linux(place: str = "--backend", fdpass: bool = False, mutant: str | None = None) -> Backend:
    """The backend (`linux`, `linux-fdpass` when fdpass, or the implementation mutant named `mutant`),
    with its C helper built now: a missing compiler, another OS or an unknown mutant is one line of
    bad input."""
    from memview.backends.linux.build import LinuxUnavailable, load

    factory = None
    if mutant is not None:  # a misspelt name is reported before any build
        from memview.backends.linux.mutants import mutant_named

        factory = mutant_named(mutant, place).factory
    try:
        load()
    except LinuxUnavailable as exc:
        raise InputError(place, str(exc)) from None
    from memview.backends.linux.backend import LinuxBackend, LinuxFdpassBackend

    if factory is not None:
        return factory()
    return LinuxFdpassBackend() if fdpass else LinuxBackend()
