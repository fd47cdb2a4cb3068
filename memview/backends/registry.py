"""Backends by name, as the command line names them: `model`, `model:DESIGN`, `linux`,
`linux-fdpass` (today's practice: raw backing fds passed whatever the design), `linux-mutant:NAME`
(the linux backend with one implementation bug, linux/mutants.py), `kvm` (the real driver,
kernel/memory_view.ko, in a QEMU guest: kvm/backend.py), or `exec:COMMAND ARGS`."""

from __future__ import annotations

import shlex
import shutil

from memview.backends.base import Backend
from memview.backends.model import ModelBackend
from memview.errors import InputError

NAMES = ("model", "model:DESIGN", "exec:COMMAND", "linux", "linux-fdpass", "linux-mutant:NAME", "kvm")


def open_backend(spec: str, place: str = "--backend") -> Backend:
    if spec == "model":
        return ModelBackend()
    if spec.startswith("model:"):
        from memview.model.design import load_design

        return ModelBackend(pinned=load_design(spec[len("model:"):]))
    if spec in ("linux", "linux-fdpass"):
        from memview.backends.linux import open_linux

        return open_linux(place, fdpass=spec == "linux-fdpass")
    if spec.startswith("linux-mutant:"):
        from memview.backends.linux import open_linux

        return open_linux(place, mutant=spec[len("linux-mutant:"):])
    if spec == "kvm":
        from memview.backends.kvm.backend import open_kvm

        return open_kvm(place)
    if spec.startswith("exec:"):
        try:
            argv = shlex.split(spec[len("exec:"):])
        except ValueError as exc:
            raise InputError(place, f"cannot parse the exec command: {exc}") from None
        if not argv:
            raise InputError(place, "exec: needs a command, e.g. exec:'python -m memview.backends.serve model'")
        if shutil.which(argv[0]) is None:
            raise InputError(place, f"exec command not found: {argv[0]}")
        from memview.backends.exec import ExecBackend

        return ExecBackend(argv)
    raise InputError(place, f"unknown backend {spec!r} (choose from {', '.join(NAMES)})")
