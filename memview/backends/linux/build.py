"""Build and load the fault-catching helper (faultcatch.c) with cffi.

The helper is compiled on first use, or ahead of time by `python -m memview.backends.linux.build`
(which `make setup` runs), into a cache directory keyed by a hash of the C source and the Python
ABI, so a fresh clone needs nothing prepared by hand and a changed source is rebuilt. Concurrent
builds (pytest -n 2) take a file lock. Without Linux, cffi or a C compiler, loading raises
LinuxUnavailable with one line saying what is missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.machinery
import importlib.util
import os
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

SOURCE = Path(__file__).with_name("faultcatch.c")

CDEF = """
int mv_ensure_handlers(void);
int mv_access(uintptr_t addr, int kind, uint8_t byte, uint8_t *value, int *signo, int *code,
              uintptr_t *fault_addr);
long mv_read_batch(uintptr_t base, size_t span, size_t stride, long count);
long mv_read_raw(uintptr_t base, size_t span, size_t stride, long count);
long mv_mmap(uintptr_t addr, size_t length, int prot, int flags, int fd, uint64_t offset);
long mv_munmap(uintptr_t addr, size_t length);
long mv_mprotect(uintptr_t addr, size_t length, int prot);
long mv_mseal(uintptr_t addr, size_t length);
int mv_become_subreaper(void);
int mv_fetch(uintptr_t target, int report_fd);
"""


class LinuxUnavailable(Exception):
    """The linux backend cannot run here; the message is one line saying why."""


def cache_dir() -> Path:
    root = os.environ.get("MEMVIEW_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "memview"


def module_name() -> str:
    digest = hashlib.sha256(SOURCE.read_bytes() + CDEF.encode() + sys.version.encode()).hexdigest()[:16]
    return f"_memview_faultcatch_{digest}"


def _find_built(directory: Path, name: str) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = directory / f"{name}{suffix}"
        if candidate.exists():
            return candidate
    return None


def _compile(directory: Path, name: str) -> Path:
    try:
        import cffi  # type: ignore[import-untyped]
    except ImportError:
        raise LinuxUnavailable("the linux backend needs cffi (pip install memview's dependencies)") from None
    from shutil import which

    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    if which(compiler.split()[0]) is None:
        raise LinuxUnavailable(f"the linux backend needs a C compiler to build its helper ({compiler.split()[0]} "
                               "not found; on Debian: apt-get install gcc)")
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        raise LinuxUnavailable(f"the linux backend needs Python's C headers ({include}/Python.h not found; "
                               "on Debian: apt-get install python3-dev)")
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    # The functions are static in the source; the cffi wrapper is compiled in the same unit.
    ffi.set_source(name, SOURCE.read_text(), extra_compile_args=["-O2"])
    with tempfile.TemporaryDirectory(prefix="memview-build-") as work:
        try:
            built = Path(ffi.compile(tmpdir=work, verbose=False))
        except Exception as exc:  # cffi raises VerificationError and distutils' own errors
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LinuxUnavailable(f"building the linux backend's C helper failed: {first}") from None
        target = directory / built.name
        os.replace(built, target)
    return target


def load() -> Any:
    """The compiled helper's `lib` and `ffi` as a module, building it if needed."""
    if not sys.platform.startswith("linux"):
        raise LinuxUnavailable(f"the linux backend runs only on Linux (this is {sys.platform})")
    name = module_name()
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LinuxUnavailable(f"cannot create the build cache {directory}: {exc.strerror}") from None
    path = _find_built(directory, name)
    if path is None:
        with open(directory / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = _find_built(directory, name) or _compile(directory, name)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    try:
        built = load()
    except LinuxUnavailable as exc:
        print(f"memview: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"memview: the linux backend's helper is built ({built.__file__})")
