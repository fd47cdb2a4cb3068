"""The property catalogue: each property's ID, one precise sentence, its source, and its predicate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memview.errors import InputError
from memview.model.algebra import Bit
from memview.model.context import Ctx
from memview.model.ops import Op
from memview.model.state import Obs, State
from memview.properties import predicates
from memview.properties.two_run import SecondRun

StepPredicate = Callable[[Ctx, State, Op, Obs, State], Bit]


@dataclass(frozen=True)
class Property:
    """A step property has a predicate of one transition; a two-run property has a second run
    instead (memview.properties.two_run), which the engines run and compare."""

    id: str
    sentence: str
    source: str
    predicate: StepPredicate | None = None
    second_run: SecondRun | None = None

    def __post_init__(self) -> None:
        if (self.predicate is None) == (self.second_run is None):
            raise ValueError(f"property {self.id}: give either a step predicate or a second run")

    @property
    def kind(self) -> str:
        return "step" if self.second_run is None else "two-run"


CATALOGUE: tuple[Property, ...] = (
    Property(
        "AND",
        "A successful access of kind k at a view page needs k in the accessing process's current "
        "mapping protection and in A's permissions for the range covering that page.",
        "seed: 'Page protection bits are the AND of the mmap PROT_READ/PROT_WRITE/PROT_EXEC flags "
        "with the memory view driver's mapping in question.'",
        predicate=predicates.and_rule,
    ),
    Property(
        "REVOKE",
        "Once UNMAP_FD, a shrink, a revoking close or a revoking seal returns, no access to those "
        "view pages succeeds, in any process or forked child, until a later MAP_FD covers them.",
        "seed: 'ioctl(MEMVIEW_UNMAP_FD) calls to change the mappings. This requires zapping affected "
        "process B ptes.'; vhost-user IOTLB invalidate with REPLY_ACK",
        predicate=predicates.revoke,
    ),
    Property(
        "XLATE",
        "A successful load or fetch at view offset v in a range (fd, fd_offset, mem_offset) returns the "
        "byte at fd_offset + (v - mem_offset) of that backing object (or the process's private copy); "
        "a successful shared store changes exactly that byte and no other.",
        "seed: 'accessing the page at 4GB from the start of the memory view is an access at 8GB into "
        "big-file.iso. That's because 8GB of big-file.iso was mapped at 0 with fd_offset 4GB.'",
        predicate=predicates.xlate,
    ),
    Property(
        "NOESC",
        "No operation of a client raises its access beyond A's permissions and its view fd's open mode: "
        "a client access of kind k needs k in A's range permissions, a shared store needs a view fd "
        "opened for writing, and no client mapping is shared-writable without VM_MAYWRITE.",
        "seed: 'When process B uses mprotect(2) and other virtual memory syscalls it is unable to "
        "increase page permissions.'; mprotect(2) EACCES",
        predicate=predicates.noesc,
    ),
    Property(
        "CAP",
        "Every call through a view fd other than mmap, close and passing it on (any ioctl, pwrite, "
        "ftruncate, F_ADD_SEALS, reopen) fails with an errno and changes nothing.",
        "seed: 'The view file descriptor does not allow ioctls. It can be safely passed to process B "
        "in the knowledge that process B can only mmap or close it'",
        predicate=predicates.cap,
    ),
    Property(
        "ISOL",
        "Two runs that take the same operations and differ only in backing bytes no range lets a "
        "client load or execute show every client the same observations.",
        "seed: 'When process A passes shared memory file descriptors to process B there is no way for "
        "process A to revoke access' (the view must expose only what A maps)",
        second_run=predicates.ISOL_SECOND_RUN,
    ),
    Property(
        "INTEG",
        "Backing bytes change only through a backing fd open for writing to that object (pwrite, "
        "ftruncate), or by a successful shared store at a view page that a range maps writable over that "
        "object and that is not revoked at that moment.",
        "seed: 'the VMM will pass one or more memory view fds instead of the actual guest RAM fds. "
        "This allows the VMM to ... enforce permissions'",
        predicate=predicates.integ,
    ),
    Property(
        "MAPCHECK",
        "A successful MAP_FD never grants write beyond the backing fd's open mode, nor write over a "
        "memfd sealed with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE.",
        "mmap(2): EACCES for PROT_WRITE|MAP_SHARED on an fd not open for writing; memfd_create(2): "
        "F_SEAL_WRITE forbids writable shared mappings",
        predicate=predicates.mapcheck,
    ),
    Property(
        "LIFE",
        "Closing an fd never changes any process's mappings and never adds access: the layout is "
        "unchanged, except that closing the control fd may revoke every range.",
        "close(2) and mmap(2): 'closing the file descriptor does not unmap the region'",
        predicate=predicates.life,
    ),
    Property(
        "FAULT",
        "An access faults exactly when it has a cause, with the signal and si_code its first cause calls "
        "for: SIGSEGV/SEGV_MAPERR outside any mapping, SIGSEGV/SEGV_ACCERR against the mapping's "
        "protection, SIGBUS/BUS_ADRERR past the view's size or on a page wholly past the backing object's "
        "end, and the design's named signals for an unconfigured page and for a denied access.",
        "seed: 'a SIGSEGV/SIGBUS signal is raised'; sigaction(2) si_code values; mmap(2) SIGBUS",
        predicate=predicates.fault,
    ),
    Property(
        "SEAL",
        "A memfd's contents never change while it carries F_SEAL_WRITE, and its size never shrinks "
        "under F_SEAL_SHRINK nor grows under F_SEAL_GROW, whatever is done through the view.",
        "memfd_create(2) and fcntl(2) F_ADD_SEALS",
        predicate=predicates.seal,
    ),
)

BY_ID = {p.id: p for p in CATALOGUE}


def select_properties(ids: list[str] | tuple[str, ...], place: str = "--property") -> list[Property]:
    if not ids:
        return list(CATALOGUE)
    chosen = []
    for pid in ids:
        key = pid.upper()
        if key not in BY_ID:
            raise InputError(place, f"unknown property {pid!r} (choose from {', '.join(BY_ID)})")
        chosen.append(BY_ID[key])
    return chosen
