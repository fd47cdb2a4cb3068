"""The catalogue of seeded bugs mutation analysis runs the engines against (docs/mutants.md).

A mutant is one small change to one rule of the single semantics, modelled on a mistake an
implementation of the proposal could make: either a rule mutation (`memview.model.mutations`,
switched on in a design's `mutations`) or a deliberately wrong variant of a decision
(`memview.model.design`). Each names the properties it should break, or says why it breaks none
(an equivalent mutant: the engines must then agree that nothing is violated). `killers` are engines
the recorded kill matrix (docs/mutants.md) saw kill it; tests/test_mutants.py holds each mutant to
them, so a regression in an engine shows up. Fuzzing is held only to the bugs one operation away:
its draws differ from run to run, and a bug two operations away is found in most runs, not all.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from memview.checker.registry import MUTATION_ENGINES
from memview.errors import InputError
from memview.model.design import SEED, Design
from memview.model.mutations import MUTATIONS_BY_NAME

ENGINES = MUTATION_ENGINES  # what a mutant's killers may name: the engines with a hunt


@dataclass(frozen=True)
class Mutant:
    name: str
    precedent: str  # where a real implementation could make this mistake
    breaks: tuple[str, ...]  # the properties it should break; none for an equivalent mutant
    killers: tuple[str, ...]  # engines the recorded matrix saw kill it, the fastest first
    equivalent: str = ""  # why it breaks no property
    base: tuple[tuple[str, str], ...] = ()  # the seed's decisions it needs changed to apply at all
    decision: tuple[str, str] | None = None  # a mutant that is a wrong variant of a decision
    clients: int = 1  # clients in the engines' scope (a mutant about "other clients" needs two)
    wrong_variant: str = ""  # the bug, for a mutant that is a decision's variant (a rule mutation has its own)

    @property
    def mistake(self) -> str:
        if self.decision is not None:
            return f"{self.wrong_variant} ({self.decision[0]}={self.decision[1]})"
        return MUTATIONS_BY_NAME[self.name].mistake

    @property
    def rule(self) -> str:
        return f"decision {self.decision[0]}" if self.decision else MUTATIONS_BY_NAME[self.name].rule

    def base_design(self) -> Design:
        if not self.base:
            return SEED
        return SEED.with_choices("seed+" + ",".join(f"{d}={v}" for d, v in self.base), dict(self.base))

    def apply(self, design: Design) -> Design:
        """design with this bug in it."""
        name = f"{design.name}~{self.name}"
        if self.decision is not None:
            return design.with_choices(name, {self.decision[0]: self.decision[1]})
        return design.with_mutations(name, [self.name])

    def design(self) -> Design:
        return self.apply(self.base_design())


MUTANTS: tuple[Mutant, ...] = (
    # Revocation
    Mutant("revoke-skipped", "a driver that updates its layout but forgets zap_vma_ptes / unmap_mapping_range",
           ("AND", "REVOKE"), ("explore",), decision=("revocation", "skip"),
           wrong_variant="UNMAP_FD removes the range but zaps no process's cached translations"),
    Mutant("revoke-skips-children", "zapping through the clients' mm list built at GET_VIEWFD time, missing "
           "mms created by fork", ("AND", "REVOKE"), ("explore",), decision=("revocation", "skip-children"),
           wrong_variant="revocation zaps A and the clients but not their forked children"),
    Mutant("revoke-first-client-only", "vhost-user's IOTLB invalidate sent to the first back-end only",
           ("AND", "REVOKE"), ("explore",), clients=2),
    Mutant("revoke-misses-last-page", "an exclusive end passed where zap_page_range expects a length, or "
           "`hi - 1` as the end of a half-open span", ("AND", "REVOKE"), ("explore",)),
    Mutant("shrink-keeps-translations", "the size ioctl trims the range tree but does not unmap_mapping_range "
           "beyond the new size", ("AND", "REVOKE"), ("explore",), decision=("shrink-zap", "keep"),
           wrong_variant="shrinking the view drops the ranges beyond the new size but not the cached translations"),
    Mutant("private-pages-survive-revocation", "unmap_mapping_range(mapping, start, len, even_cows=0), as "
           "truncate's first pass uses it", ("AND", "REVOKE"), ("explore",), base=(("private", "cow"),)),
    Mutant("mseal-allowed", "the view's mmap does not set VM_SEALED-refusing flags, so B's mseal(2) succeeds",
           ("AND", "REVOKE"), ("explore",), decision=("mseal", "allow"),
           wrong_variant="B may mseal its mapping of the view, and sealed pages can no longer be revoked"),
    Mutant("control-close-revokes", "release() of the control file tearing the layout down although the "
           "design keeps it", (), ("corpus",),
           equivalent="revoking more never lets an access succeed, and LIFE allows a close of the control fd "
                      "to revoke every range"),
    # Permissions
    Mutant("perms-ored", "pgprot built with | instead of & from vm_page_prot and the range's permissions",
           ("AND", "NOESC", "ISOL", "INTEG"), ("explore", "bmc"), decision=("perm-combine", "or"),
           wrong_variant="B's protection and A's permissions are ORed instead of ANDed"),
    Mutant("mprotect-upgrades-ptes", "a vm_ops->mprotect hook (or change_protection) rewriting present PTEs "
           "from the new prot without A's permissions", ("AND", "NOESC", "INTEG"), ("explore",)),
    Mutant("exec-checked-as-read", "VM_EXEC derived from VM_READ, as READ_IMPLIES_EXEC personalities do",
           ("AND", "NOESC"), ("explore", "bmc")),
    Mutant("map-fd-ignores-mode", "MAP_FD taking the file from fdget() without checking FMODE_WRITE",
           ("MAPCHECK",), ("explore",)),
    Mutant("map-fd-ignores-seals", "MAP_FD without mapping_deny_writable / the memfd seal check that mmap does",
           ("MAPCHECK", "SEAL"), ("explore",)),
    Mutant("view-mmap-ignores-open-mode", "the view's mmap handler not checking FMODE_WRITE for a shared "
           "writable mapping (the check do_mmap does for regular files)", ("NOESC",), ("explore", "fuzz", "bmc")),
    Mutant("viewfd-always-rw", "GET_VIEWFD creating its file with O_RDWR whatever mode was asked", (),
           ("corpus",),
           equivalent="the properties judge a client's writes by its view fd's mode as the state records it, and the "
                      "mutant records read-write: no property remembers the mode A asked GET_VIEWFD for (a gap of "
                      "the catalogue that only a trace pinning the EACCES shows)"),
    Mutant("seal-write-ignores-view", "the driver's writable ranges not counted in the memfd's i_mmap_writable",
           ("SEAL",), ("explore",)),
    Mutant("view-fd-accepts-ioctls", "one file_operations table (with unlocked_ioctl) shared by the control "
           "file and the view file", ("CAP",), ("explore", "fuzz", "bmc"), decision=("view-fd-ioctl", "accept"),
           wrong_variant="a view fd answers the control fd's ioctls"),
    # Translation and layout
    Mutant("translate-by-mem-offset", "the fault handler indexing the backing file by vmf->pgoff (the view "
           "offset) instead of fd_offset + (pgoff - mem_offset)", ("XLATE",), ("explore", "fuzz", "bmc"),
           decision=("translation", "mem-offset"),
           wrong_variant="a view page translates through its view offset instead of fd_offset + (v - mem_offset)"),
    Mutant("range-end-inclusive", "`<=` where the interval tree lookup wants `<` (an inclusive last page)",
           ("AND", "ISOL"), ("explore",)),
    Mutant("unmap-split-shifts-offset", "splitting a range node and copying its fd_offset to the right-hand "
           "piece unchanged", ("XLATE",), ("corpus",)),
    Mutant("replace-leaves-hole", "FUSE_SETUPMAPPING-style replace done as remove-then-insert, with the insert "
           "failing silently", (), ("corpus",),
           equivalent="no property requires a successful MAP_FD to install its range: a missing range only "
                      "makes accesses fault, which every property allows", base=(("overlap", "replace"),)),
    Mutant("stale-page-after-truncate", "a PTE installed by vmf_insert_pfn / remap_pfn_range outliving the "
           "backing page's truncation (notes/kernel-backend-facts.md: BUG: Bad page cache)", ("FAULT",),
           ("explore",)),
    # Faults
    Mutant("denied-raises-sigbus", "the fault handler returning VM_FAULT_SIGBUS for every refusal",
           ("FAULT",), ("explore",)),
)

MUTANTS_BY_NAME: MappingProxyType[str, Mutant] = MappingProxyType({m.name: m for m in MUTANTS})


def select_mutants(names: list[str], place: str = "--mutant") -> list[Mutant]:
    for name in names:
        if name not in MUTANTS_BY_NAME:
            raise InputError(place, f"unknown mutant {name!r} (see `memview mutants --list`)")
    return [m for m in MUTANTS if not names or m.name in names]
