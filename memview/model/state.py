"""The state of the memory-view machine, as records of algebra terms.

Every field is a term of the algebra (word, bit or table), so the same records hold plain values
for the reference backend and z3 terms for the symbolic engines. Page numbers are in units of the
configured page size; byte offsets in bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.algebra import Algebra, Bit, Table, Word
from memview.model.config import Config
from memview.model.constants import FdKind


@dataclass(frozen=True)
class Obj:
    """A backing object: a memfd or a regular (sparse) file."""

    exists: Bit
    kind: Word  # ObjKind
    size: Word  # bytes
    seals: Word  # F_SEAL_* bits
    data: Table  # byte offset -> byte (0 where never written)


@dataclass(frozen=True)
class Fd:
    kind: Word  # FdKind
    obj: Word  # object slot, for BACKING fds
    mode: Word  # MODE_RO or MODE_RW


@dataclass(frozen=True)
class Range:
    """One MAP_FD range of the view's layout, in view pages [lo, hi)."""

    used: Bit
    lo: Word
    hi: Word
    obj: Word
    delta: Word  # backing page - view page (mod 2^64)
    perms: Word  # PERM_* bits


@dataclass(frozen=True)
class Vma:
    """One mapping of the view in a process, in that process's pages [lo, hi)."""

    used: Bit
    lo: Word
    hi: Word
    delta: Word  # view page - process page (mod 2^64)
    attrs: Word  # PROT_* bits | VMA_MAYWRITE | VMA_PRIVATE | VMA_SEALED


@dataclass(frozen=True)
class Proc:
    alive: Bit
    fds: tuple[Fd, ...]
    vmas: tuple[Vma, ...]
    next_page: Word  # where the next mmap goes
    pte: Table  # view page -> the translation cached at fault time (memview.model.encodings)
    pte_page: Table  # view page -> backing page of that cached translation
    cow: Table  # view page -> 1 where a private copy exists
    cow_data: Table  # view byte -> byte of the private copy


@dataclass(frozen=True)
class View:
    exists: Bit
    control_open: Bit
    size: Word  # bytes
    ranges: tuple[Range, ...]


@dataclass(frozen=True)
class State:
    objs: tuple[Obj, ...]
    view: View
    procs: tuple[Proc, ...]
    revoked: Table  # ghost: view page -> 1 if revoked and not mapped since


@dataclass(frozen=True)
class Obs:
    """What one operation showed: a result, an errno, or a signal with its si_code."""

    outcome: Word  # Outcome
    value: Word  # the result, the errno, or the signal number
    code: Word  # si_code for signals, else 0


def empty_fd(alg: Algebra) -> Fd:
    return Fd(alg.word(FdKind.NONE), alg.word(0), alg.word(0))


def empty_range(alg: Algebra) -> Range:
    z = alg.word(0)
    return Range(alg.bit(False), z, z, z, z, z)


def empty_vma(alg: Algebra) -> Vma:
    z = alg.word(0)
    return Vma(alg.bit(False), z, z, z, z)


def initial_state(alg: Algebra, config: Config) -> State:
    """Nothing opened yet: A and the clients alive with empty fd tables, fork slots unused."""
    from memview.model.constants import MMAP_BASE

    zero = alg.word(0)
    empty = alg.table(0)
    obj = Obj(alg.bit(False), zero, zero, zero, empty)
    procs = tuple(
        Proc(
            alive=alg.bit(p <= config.clients),
            fds=tuple(empty_fd(alg) for _ in range(config.fds)),
            vmas=tuple(empty_vma(alg) for _ in range(config.vmas)),
            next_page=alg.word(MMAP_BASE >> config.page_shift),
            pte=empty,
            pte_page=empty,
            cow=empty,
            cow_data=empty,
        )
        for p in range(config.processes)
    )
    view = View(alg.bit(False), alg.bit(False), zero, tuple(empty_range(alg) for _ in range(config.ranges)))
    return State(tuple(obj for _ in range(config.objects)), view, procs, empty)
