"""Designs: the decisions the seed leaves open, their variants, and the built-in designs.

A design is a choice of one variant per decision. Rules read it as static Python values (a design
is never symbolic), so two designs are two transition systems. Decisions marked `broken` are
deliberately wrong semantics that tests and mutation analysis use to show the engines catch them;
`memview designs` hides them unless asked.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from memview.errors import InputError
from memview.model.constants import SiCode, Signal
from memview.model.mutations import MUTATIONS_BY_NAME


@dataclass(frozen=True)
class Decision:
    name: str
    question: str
    variants: dict[str, str]  # variant -> what it means; the first is the seed's default
    source: str
    broken: bool = False

    @property
    def default(self) -> str:
        return next(iter(self.variants))


DECISIONS: tuple[Decision, ...] = (
    Decision(
        "sizing",
        "How A sets the view's size (the seed says ftruncate, which Linux refuses on a character device).",
        {
            "ioctl": "MEMVIEW_SET_SIZE ioctl on the control fd; ftruncate on it fails EINVAL",
            "inode": "the control fd is backed by a regular inode: ftruncate works, the size ioctl is ENOTTY",
        },
        "seed: 'ftruncate(fd, 16 * GiB)'; ftruncate(2): EINVAL if fd is not a regular file",
    ),
    Decision(
        "overlap",
        "MAP_FD over pages that are already mapped.",
        {
            "eexist": "fail with EEXIST and change nothing",
            "replace": "atomically replace the overlapped pages (no moment shows a hole)",
        },
        "vfio-user DMA_MAP (overlap is an error); FUSE_SETUPMAPPING (replaces)",
    ),
    Decision(
        "unmap-span",
        "UNMAP_FD over part of a range, several ranges, or a hole.",
        {
            "split": "unmap any page-aligned span: ranges are split, a hole is a no-op",
            "exact": "only exactly one whole range; anything else is EINVAL",
        },
        "munmap(2) and vfio-user DMA_UNMAP accept part of a region; vhost-user REM_MEM_REG names a whole one",
    ),
    Decision(
        "unconfigured",
        "The signal for an access to a view page no range covers.",
        {"sigbus": "SIGBUS/BUS_ADRERR", "sigsegv": "SIGSEGV/SEGV_MAPERR"},
        "seed: 'a SIGSEGV/SIGBUS signal is raised'; mmap(2): SIGBUS past the end of a file",
    ),
    Decision(
        "denied",
        "The signal for an access the range's permissions forbid.",
        {
            "sigsegv": "SIGSEGV/SEGV_ACCERR (a protection fault: the PTE carries the AND)",
            "sigsegv-maperr": "SIGSEGV/SEGV_MAPERR (the driver's fault handler returns VM_FAULT_SIGSEGV)",
            "sigbus": "SIGBUS/BUS_ADRERR",
        },
        "seed: 'accesses a page with incorrect permissions ... SIGSEGV/SIGBUS'; SEGV_ACCERR in sigaction(2); "
        "notes/kernel-backend-facts.md measured si_code 1 from a page_mkwrite refusal",
    ),
    Decision(
        "mprotect",
        "Where B's protection is checked against A's permissions.",
        {
            "lax": "mmap/mprotect accept what the view fd's open mode allows; faults enforce the AND",
            "strict": "mmap/mprotect fail EACCES when prot exceeds A's permissions anywhere in the range",
        },
        "seed: 'pte protection bits are the AND'; mprotect(2) EACCES; SGX enclave page permissions",
    ),
    Decision(
        "empty-perms",
        "MAP_FD with no permission flags at all.",
        {
            "read-write": "granted read+write, as the seed's first example (no .flags) is tabled",
            "einval": "EINVAL: a range must name its permissions",
        },
        "seed: the guest-ram MAP_FD sets no .flags and the table shows '8-10 guest-ram read+write'",
    ),
    Decision(
        "write-only",
        "MAP_FD with permission W but not R.",
        {"einval": "EINVAL", "as-rw": "granted as R|W (x86 page tables cannot express W without R)"},
        "mmap(2) NOTES: PROT_WRITE may imply PROT_READ on some architectures",
    ),
    Decision(
        "shrink",
        "Setting the view size below mapped pages.",
        {"revoke": "ranges beyond the new size are revoked", "ebusy": "EBUSY while any range lies beyond"},
        "truncate(2) on a mapped file: pages past EOF give SIGBUS",
    ),
    Decision(
        "control-close",
        "What closing the control fd does to the layout.",
        {"keep": "the layout stays as it is (it can no longer change)", "revoke": "every range is revoked"},
        "close(2): closing an fd does not unmap mappings made through it",
    ),
    Decision(
        "map-perm",
        "MAP_FD permissions beyond the backing fd's open mode or seals.",
        {
            "refuse": "EACCES beyond the open mode, EPERM against F_SEAL_WRITE/F_SEAL_FUTURE_WRITE",
            "mask": "succeed with the permissions masked to what the fd and seals allow",
        },
        "mmap(2): EACCES for PROT_WRITE on an O_RDONLY fd; memfd_create(2): EPERM under F_SEAL_WRITE",
    ),
    Decision(
        "private",
        "B maps the view MAP_PRIVATE.",
        {"einval": "EINVAL", "cow": "copy-on-write pages, revoked with the rest"},
        "mmap(2) MAP_PRIVATE; seed: 'mmap(NULL, 16 * GiB, PROT_READ | PROT_WRITE, MAP_SHARED, viewfd, 0)'",
    ),
    Decision(
        "beyond-size",
        "B maps past the view's size.",
        {"allow": "allowed; accesses there raise SIGBUS", "einval": "EINVAL"},
        "mmap(2): a mapping may extend past EOF; SIGBUS for pages beyond it",
    ),
    Decision(
        "truncation",
        "A shrinks a backing object under a mapped range.",
        {
            "sigbus": "allowed; view pages past the new EOF raise SIGBUS",
            "require-seal": "MAP_FD requires a memfd with F_SEAL_SHRINK (EPERM otherwise)",
        },
        "mmap(2) SIGBUS past EOF; memfd_create(2) F_SEAL_SHRINK; notes/kernel-backend-facts.md stale PTE",
    ),
    Decision(
        "seal-write",
        "F_SEAL_WRITE is added while a writable view range over the memfd exists.",
        {"ebusy": "EBUSY", "revoke": "the writable ranges are revoked first, then the seal is added"},
        "memfd_create(2): F_SEAL_WRITE fails EBUSY while writable shared mappings exist",
    ),
    Decision(
        "mseal",
        "B mseals its mapping of the view.",
        {"refuse": "EPERM", "allow": "allowed; sealed pages can no longer be revoked (REVOKE must fail)"},
        "mseal(2): sealed mappings refuse munmap, mprotect and MAP_FIXED replacement",
    ),
    Decision(
        "delivery",
        "What A hands B: a view fd, or (today's practice) the raw backing fds and the layout.",
        {
            "view-fd": "a view fd, which B can only mmap and close; only view fds can be sent",
            "raw-fds": "A may also send its raw backing fds (vhost-user's SET_MEM_TABLE): B maps them itself, "
                       "MAP_SHARED, at any offset and with any prot the fd allows, and keeps those mappings "
                       "whatever A's layout later says",
        },
        "seed: 'When process A passes shared memory file descriptors to process B there is no way for process "
        "A to revoke access or change page protection bits after passing the fd'; vhost-user "
        "VHOST_USER_SET_MEM_TABLE",
    ),
    # Deliberately wrong semantics: the engines must find these.
    Decision(
        "revocation",
        "BROKEN on purpose: whether UNMAP_FD zaps cached translations in the clients.",
        {"zap": "every client's cached translations for the range are dropped", "skip": "BROKEN: they are kept",
         "skip-children": "BROKEN: only A's and the clients' are dropped; forked children keep theirs"},
        "seed: 'This requires zapping affected process B ptes'",
        broken=True,
    ),
    Decision(
        "perm-combine",
        "BROKEN on purpose: how B's protection and A's permissions combine.",
        {"and": "AND of the two", "or": "BROKEN: OR of the two"},
        "seed: 'Page protection bits are the AND of the mmap ... flags with the memory view driver's mapping'",
        broken=True,
    ),
    Decision(
        "translation",
        "BROKEN on purpose: which offset a view page translates through.",
        {"fd-offset": "fd_offset + (address - mem_offset)", "mem-offset": "BROKEN: the view offset itself"},
        "seed: 'accessing the page at 4GB ... is an access at 8GB into big-file.iso'",
        broken=True,
    ),
    Decision(
        "shrink-zap",
        "BROKEN on purpose: whether shrinking the view zaps cached translations beyond the new size.",
        {"zap": "they are dropped, as for UNMAP_FD", "keep": "BROKEN: the ranges go but cached translations stay"},
        "seed: 'ftruncate(fd, 16 * GiB)' sizes the view; a smaller size takes the pages beyond it away",
        broken=True,
    ),
    Decision(
        "view-fd-ioctl",
        "BROKEN on purpose: whether a view fd answers the control fd's ioctls.",
        {"enotty": "ENOTTY: a view fd only mmaps and closes", "accept": "BROKEN: it works as a control fd"},
        "seed: 'the memory view fd ... can only be mmapped and closed'",
        broken=True,
    ),
)

# What the fault decisions' variants mean as (signal, si_code): the rules raise these and FAULT
# judges against them.
FAULT_SIGNALS: MappingProxyType[tuple[str, str], tuple[Signal, int]] = MappingProxyType({
    ("unconfigured", "sigbus"): (Signal.SIGBUS, SiCode.BUS_ADRERR),
    ("unconfigured", "sigsegv"): (Signal.SIGSEGV, SiCode.SEGV_MAPERR),
    ("denied", "sigsegv"): (Signal.SIGSEGV, SiCode.SEGV_ACCERR),
    ("denied", "sigsegv-maperr"): (Signal.SIGSEGV, SiCode.SEGV_MAPERR),
    ("denied", "sigbus"): (Signal.SIGBUS, SiCode.BUS_ADRERR),
})

DECISIONS_BY_NAME: MappingProxyType[str, Decision] = MappingProxyType({d.name: d for d in DECISIONS})


@dataclass(frozen=True)
class Design:
    name: str
    choices: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    description: str = ""
    # Seeded bugs (memview.model.mutations) the rules apply: mutation analysis only.
    mutations: frozenset[str] = frozenset()
    # Every decision's variant, defaults filled in once: rules ask on every step of every search.
    resolved: MappingProxyType[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "resolved", MappingProxyType(
            {d.name: self.choices.get(d.name, d.default) for d in DECISIONS}))

    def __getitem__(self, decision: str) -> str:
        return self.resolved[decision]

    def is_(self, decision: str, variant: str) -> bool:
        assert variant in DECISIONS_BY_NAME[decision].variants, (decision, variant)
        return self.resolved[decision] == variant

    def mutated(self, mutation: str) -> bool:
        assert mutation in MUTATIONS_BY_NAME, mutation
        return mutation in self.mutations

    def with_mutations(self, name: str, mutations: list[str] | frozenset[str], place: str = "design") -> Design:
        for index, mutation in enumerate(mutations):
            check_mutation(mutation, f"{place}[{index}]")
        return Design(name, self.choices, self.description, self.mutations | frozenset(mutations))

    def decisions(self) -> dict[str, str]:
        return {d.name: self[d.name] for d in DECISIONS}

    def overrides(self) -> dict[str, str]:
        return {k: v for k, v in self.decisions().items() if v != DECISIONS_BY_NAME[k].default}

    def with_choices(self, name: str, changes: dict[str, str], place: str = "design") -> Design:
        merged = dict(self.choices)
        for decision, variant in changes.items():
            check_choice(decision, variant, f"{place}.{decision}")
            merged[decision] = variant
        return Design(name, MappingProxyType(merged), self.description, self.mutations)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "decisions": self.decisions()}
        if self.mutations:
            out["mutations"] = sorted(self.mutations)
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        # A mapping proxy cannot be pickled; a design crosses to worker processes as plain data.
        return (_rebuild_design, (self.name, dict(self.choices), self.description, sorted(self.mutations)))


def _rebuild_design(name: str, choices: dict[str, str], description: str, mutations: list[str]) -> Design:
    return Design(name, MappingProxyType(choices), description, frozenset(mutations))


def check_mutation(mutation: Any, place: str) -> None:
    if not isinstance(mutation, str) or mutation not in MUTATIONS_BY_NAME:
        raise InputError(place, f"unknown mutation {mutation!r} (see `memview mutants --list`)")


def check_choice(decision: str, variant: Any, place: str) -> None:
    if decision not in DECISIONS_BY_NAME:
        raise InputError(place, f"unknown decision {decision!r} (see `memview designs`)")
    variants = DECISIONS_BY_NAME[decision].variants
    if not isinstance(variant, str) or variant not in variants:
        raise InputError(place, f"unknown variant {variant!r} (choose from {', '.join(variants)})")


SEED = Design("seed", description="Every gap of the 2020 proposal filled with its default.")

BUILTIN: dict[str, Design] = {
    "seed": SEED,
    "strict": SEED.with_choices(
        "strict",
        {"unmap-span": "exact", "mprotect": "strict", "shrink": "ebusy", "beyond-size": "einval",
         "truncation": "require-seal"},
    ),
    "fuse-like": SEED.with_choices("fuse-like", {"overlap": "replace", "sizing": "inode"}),
}
BUILTIN["fdpass"] = SEED.with_choices("fdpass", {"delivery": "raw-fds"})
BUILTIN["strict"] = Design("strict", BUILTIN["strict"].choices,
                           "Refuse early: exact unmaps, EACCES at mprotect, no shrink under ranges.")
BUILTIN["fuse-like"] = Design("fuse-like", BUILTIN["fuse-like"].choices,
                              "Atomic replace as FUSE_SETUPMAPPING; sized by ftruncate on an inode.")
BUILTIN["fdpass"] = Design("fdpass", BUILTIN["fdpass"].choices,
                           "Today's practice: A passes its raw backing fds and B maps them itself (vhost-user).")


def load_design(spec: str) -> Design:
    """A built-in design by name, or a TOML file (`base`, `name`, `[decisions]`)."""
    if spec in BUILTIN:
        return BUILTIN[spec]
    path = Path(spec)
    if not spec.endswith(".toml") and not path.exists():
        raise InputError("--design", f"unknown design {spec!r} (built-in: {', '.join(BUILTIN)}; or a .toml file)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(spec, exc.strerror or "cannot read") from None
    except UnicodeDecodeError as exc:
        raise InputError(spec, f"not UTF-8 text (byte {exc.start}): a design file is TOML") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(spec, f"malformed TOML: {exc}") from None
    allowed = {"base", "name", "description", "decisions", "mutations"}
    for key in data:
        if key not in allowed:
            raise InputError(f"{spec}: {key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    base_name = data.get("base", "seed")
    if not isinstance(base_name, str) or base_name not in BUILTIN:
        raise InputError(f"{spec}: base", f"unknown base design {base_name!r} (built-in: {', '.join(BUILTIN)})")
    decisions = data.get("decisions", {})
    if not isinstance(decisions, dict):
        raise InputError(f"{spec}: decisions", "expected a table of decision = \"variant\"")
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise InputError(f"{spec}: name", "expected a string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{spec}: description", "expected a string")
    design = BUILTIN[base_name].with_choices(name, decisions, f"{spec}: decisions")
    return Design(design.name, design.choices, description,
                  _mutations(data.get("mutations", []), f"{spec}: mutations"))


def _mutations(data: Any, place: str) -> frozenset[str]:
    if not isinstance(data, list):
        raise InputError(place, "expected a list of mutation names")
    for index, mutation in enumerate(data):
        check_mutation(mutation, f"{place}[{index}]")
    return frozenset(data)


def design_from_json(data: Any, place: str) -> Design:
    """The design a trace names: its name and every decision's variant."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise InputError(place, "expected {name, decisions}")
    decisions = data.get("decisions", {})
    if not isinstance(decisions, dict):
        raise InputError(f"{place}.decisions", "expected an object")
    design = Design(data["name"]).with_choices(data["name"], decisions, f"{place}.decisions")
    return design.with_mutations(design.name, _mutations(data.get("mutations", []), f"{place}.mutations"))
