"""Typed access to the compiled helper: real accesses, and the memory system calls on the view.

Everything here runs inside a client process. Results are plain ints and tuples so the worker can
turn them into observations without knowing about cffi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memview.backends.linux.build import load

_helper: Any = None


def helper() -> Any:
    global _helper
    if _helper is None:
        _helper = load()
    return _helper


@dataclass(frozen=True)
class Fault:
    signo: int
    code: int
    addr: int


_out: Any = None  # the helper's out-parameters, allocated once per process


def access(addr: int, kind: int, byte: int) -> int | Fault:
    """A real load (kind 1) or store (kind 2) of one byte: the byte read (0 for a store) or the fault."""
    global _out
    lib = helper().lib
    if _out is None:
        ffi = helper().ffi
        _out = (ffi.new("uint8_t *"), ffi.new("int *"), ffi.new("int *"), ffi.new("uintptr_t *"))
    value, signo, code, where = _out
    rc = lib.mv_access(addr, kind, byte, value, signo, code, where)
    if rc < 0:
        raise OSError(-rc, "cannot install the fault handlers")
    if rc == 1:
        return Fault(signo[0], code[0], where[0])
    return int(value[0])


def mmap(addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    """The address, or -errno."""
    return int(helper().lib.mv_mmap(addr, length, prot, flags, fd, offset))


def munmap(addr: int, length: int) -> int:
    return int(helper().lib.mv_munmap(addr, length))


def mprotect(addr: int, length: int, prot: int) -> int:
    return int(helper().lib.mv_mprotect(addr, length, prot))


def mseal(addr: int, length: int) -> int:
    return int(helper().lib.mv_mseal(addr, length))


def read_batch(base: int, span: int, stride: int, count: int) -> int:
    """Checked loads (the benchmark's workload): the number that faulted."""
    return int(helper().lib.mv_read_batch(base, span, stride, count))


def read_raw(base: int, span: int, stride: int, count: int) -> int:
    """The same loads with no fault catching: the floor the benchmark compares against."""
    return int(helper().lib.mv_read_raw(base, span, stride, count))


def become_subreaper() -> None:
    rc = int(helper().lib.mv_become_subreaper())
    if rc < 0:
        raise OSError(-rc, "prctl(PR_SET_CHILD_SUBREAPER)")


def fetch(target: int, report_fd: int) -> int:
    """In a throwaway child only: a real instruction fetch at target (faultcatch.c, mv_fetch).
    Reports on report_fd and exits; returns -errno only when it could not get as far as the jump."""
    return int(helper().lib.mv_fetch(target, report_fd))
