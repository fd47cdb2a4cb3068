"""The backend interface: what an implementation of the memory view offers memview.

A backend is set up for one design and bounds, performs operations one at a time (each returning
an observation, within a per-step timeout), and is torn down. The typed per-operation methods are
the interface an implementer reads; each defaults to `perform`, the one primitive a backend must
provide. A backend that crashes, hangs, answers garbage or exits early raises BackendFailure: a
verdict about that backend, never an error of memview.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

from memview.model.config import Config
from memview.model.design import Design
from memview.model.observation import Observation
from memview.model.ops import Action

DEFAULT_STEP_TIMEOUT = 10.0  # seconds


class BackendFailure(Exception):
    """The backend itself failed: kind is crash, hang, garbage, early-exit, refused or internal."""

    KINDS = ("crash", "hang", "garbage", "early-exit", "refused", "internal")

    def __init__(self, kind: str, message: str) -> None:
        assert kind in self.KINDS, kind
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class StepLimit:
    seconds: float = DEFAULT_STEP_TIMEOUT


class Backend(ABC):
    name: str = "backend"

    @abstractmethod
    def start(self, design: Design, config: Config) -> None:
        """Set up a fresh instance (no view, A and the clients alive, nothing open)."""

    @abstractmethod
    def perform(self, act: Action, limit: StepLimit) -> Observation:
        """Perform one operation and return what it showed; BackendFailure if the backend failed."""

    @abstractmethod
    def stop(self) -> None:
        """Tear down: every process reaped, every fd closed. Safe to call twice."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # One method per operation, with the seed's argument names; each is one Action performed.

    def _op(self, name: str, proc: int, *args: int, limit: StepLimit | None = None) -> Observation:
        return self.perform(Action(name, proc, tuple(args)), limit or StepLimit())

    def view_open(self, proc: int = 0) -> Observation:
        return self._op("view_open", proc)

    def view_set_size(self, fd: int, size: int, proc: int = 0) -> Observation:
        return self._op("view_set_size", proc, fd, size)

    def view_map_fd(self, fd: int, src: int, fd_offset: int, size: int, mem_offset: int, perms: int,
                    proc: int = 0) -> Observation:
        return self._op("view_map_fd", proc, fd, src, fd_offset, size, mem_offset, perms)

    def view_unmap_fd(self, fd: int, mem_offset: int, size: int, proc: int = 0) -> Observation:
        return self._op("view_unmap_fd", proc, fd, mem_offset, size)

    def view_get_viewfd(self, fd: int, mode: int, proc: int = 0) -> Observation:
        return self._op("view_get_viewfd", proc, fd, mode)

    def ioctl(self, fd: int, cmd: int, proc: int = 0) -> Observation:
        return self._op("ioctl", proc, fd, cmd)

    def send(self, fd: int, to: int, proc: int = 0) -> Observation:
        return self._op("send", proc, fd, to)

    def close(self, fd: int, proc: int = 0) -> Observation:
        return self._op("close", proc, fd)

    def memfd_create(self, sealing: bool, proc: int = 0) -> Observation:
        return self._op("memfd_create", proc, int(sealing))

    def file_create(self, proc: int = 0) -> Observation:
        return self._op("file_create", proc)

    def reopen(self, fd: int, mode: int, proc: int = 0) -> Observation:
        return self._op("reopen", proc, fd, mode)

    def ftruncate(self, fd: int, size: int, proc: int = 0) -> Observation:
        return self._op("ftruncate", proc, fd, size)

    def pwrite(self, fd: int, offset: int, byte: int, proc: int = 0) -> Observation:
        return self._op("pwrite", proc, fd, offset, byte)

    def seal(self, fd: int, seals: int, proc: int = 0) -> Observation:
        return self._op("seal", proc, fd, seals)

    def mmap(self, fd: int, length: int, prot: int, flags: int, offset: int, proc: int = 0) -> Observation:
        return self._op("mmap", proc, fd, length, prot, flags, offset)

    def munmap(self, addr: int, length: int, proc: int = 0) -> Observation:
        return self._op("munmap", proc, addr, length)

    def mprotect(self, addr: int, length: int, prot: int, proc: int = 0) -> Observation:
        return self._op("mprotect", proc, addr, length, prot)

    def mseal(self, addr: int, length: int, proc: int = 0) -> Observation:
        return self._op("mseal", proc, addr, length)

    def access(self, addr: int, kind: int, byte: int, proc: int = 0) -> Observation:
        return self._op("access", proc, addr, kind, byte)

    def fork(self, proc: int = 0) -> Observation:
        return self._op("fork", proc)
