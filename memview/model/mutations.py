"""Seeded bugs in the rules: each a small, named change to one rule of the semantics.

Mutation analysis (`memview mutants`, docs/mutants.md) asks which engine notices each bug. A
mutation lives in the rule it changes, behind `ctx.design.mutated(name)`, so every engine, the
reference backend and replay see the same mutated semantics; the properties and the queries they
share with the rules are never mutated, so they still say what must hold. The catalogue of mutants
(which design each applies to, the property it should break) is `memview.checker.mutants`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Mutation:
    name: str
    rule: str  # the rule whose behaviour it changes
    mistake: str  # the bug, in one sentence


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("revoke-first-client-only", "revocation.revoke",
             "revocation zaps the cached translations of A and the first client only; later clients and forked "
             "children keep theirs"),
    Mutation("revoke-misses-last-page", "revocation.revoke",
             "the zap loop stops one page early: the last page of a revoked span keeps its cached translations"),
    Mutation("range-end-inclusive", "rules_access.access",
             "the fault handler's range lookup treats a range's end as inclusive: the page just past a range, "
             "when no range covers it, is served by that range"),
    Mutation("mprotect-upgrades-ptes", "rules_access.access",
             "a cached translation keeps none of A's permissions (B's mprotect rewrites the PTE from its new "
             "prot alone), so once a page is cached B's mprotect raises it past the AND"),
    Mutation("map-fd-ignores-mode", "rules_view.granted_perms",
             "MAP_FD grants write over a backing fd opened read-only"),
    Mutation("map-fd-ignores-seals", "rules_view.granted_perms",
             "MAP_FD grants write over a memfd sealed with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE"),
    Mutation("replace-leaves-hole", "rules_view.view_map_fd",
             "an atomic replace (overlap=replace) removes the old ranges but does not install the new one: a "
             "hole where MAP_FD reported success"),
    Mutation("unmap-split-shifts-offset", "rules_view.view_unmap_fd",
             "a partial UNMAP_FD that splits a range gives the right-hand piece the range's original fd_offset "
             "instead of moving it on by the pages cut away"),
    Mutation("stale-page-after-truncate", "rules_access.access",
             "a cached translation is used without the backing object's end being checked again: after A "
             "truncates the object, the page past the new end is still reachable"),
    Mutation("private-pages-survive-revocation", "revocation.revoke",
             "revocation zaps like unmap_mapping_range(..., even_cows=0): the pages of private mappings keep "
             "their cached translations and copies"),
    Mutation("control-close-revokes", "rules_view.control_closed",
             "closing the control fd revokes every range although the design keeps the layout"),
    Mutation("denied-raises-sigbus", "rules_access.access",
             "an access A's permissions deny raises SIGBUS/BUS_ADRERR whatever signal the design names"),
    Mutation("exec-checked-as-read", "rules_access.access",
             "an instruction fetch is checked against A's read permission instead of its exec permission"),
    Mutation("view-mmap-ignores-open-mode", "rules_process.mmap",
             "a view fd opened read-only can be mapped MAP_SHARED with PROT_WRITE"),
    Mutation("seal-write-ignores-view", "rules_backing.seal",
             "F_SEAL_WRITE is added although a writable range of the view maps the memfd (no EBUSY)"),
    Mutation("viewfd-always-rw", "rules_view.view_get_viewfd",
             "GET_VIEWFD hands out a read-write view fd whatever mode A asked for"),
)

MUTATIONS_BY_NAME: MappingProxyType[str, Mutation] = MappingProxyType({m.name: m for m in MUTATIONS})
