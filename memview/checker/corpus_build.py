"""The regression corpus shipped with memview, and how it is made: traces that pin the seed
design, and the attacks on today's practice.

For every variant of every open decision, the shortest trace on which the seed and that variant
differ (from memview.checker.diff), recorded with the seed's observations: a backend that conforms
on all of them implements the seed's choice of every decision. The `fdpass-*` traces are recorded
under design fdpass (A hands B its raw fds): each ends in an access the seed's driver exists to
stop, and conforming on them means a backend really lets B do it. The `cover-*` traces together
take every edge of the seed's layout graph at depth 2 (`memview generate`), and the `broken-*`
traces are explicit search's shortest counterexamples for each deliberately broken design, recorded
under that design. The `mutant-*` traces tell each seeded bug of mutation analysis from its design
(`memview mutants`, docs/mutants.md). Regenerate with
`python -m memview.checker.corpus_build --write`; tests check the committed corpus is current.

Making the corpus takes the engines, so it lives with them; reading the committed corpus is
`memview.traces.corpus`, which needs only the trace reader.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from memview.checker.alphabet import default_scope
from memview.checker.coverage import broken_counterexamples as search_broken_designs
from memview.checker.coverage import cover_edges
from memview.checker.diff import lockstep
from memview.checker.explore import explore
from memview.checker.mutants import MUTANTS
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import BUILTIN, DECISIONS, SEED
from memview.model.ops import Action, action
from memview.properties.catalogue import CATALOGUE
from memview.traces.corpus import CORPUS_DIR, corpus_files
from memview.traces.itf import read_trace, trace_to_itf, write_trace
from memview.traces.replay import record, replay_on_model
from memview.traces.trace import Trace

DEPTH = 3


GIB = 1 << 30
VIEW = MMAP_BASE  # where B1's mapping of the whole view lands


def seed_scenario() -> Trace:
    """The proposal's own example at its literal sizes, and what B may and may not do there."""
    steps: list[tuple[Action, str]] = [
        (action("view_open"), ""),
        (action("view_set_size", fd=0, size=16 * GIB), ""),
        (action("memfd_create", sealing=False), "guest-ram"),
        (action("ftruncate", fd=1, size=32 * GIB), ""),
        (action("pwrite", fd=1, offset=9 * GIB, byte=0x5A), ""),
        (action("view_map_fd", fd=0, src=1, fd_offset=8 * GIB, size=2 * GIB, mem_offset=8 * GIB, perms="rw"), ""),
        (action("file_create"), "big-file.iso"),
        (action("ftruncate", fd=2, size=12 * GIB), ""),
        (action("pwrite", fd=2, offset=8 * GIB, byte=0x42), ""),
        (action("reopen", fd=2, mode="ro"), ""),
        (action("close", fd=2), ""),
        (action("view_map_fd", fd=0, src=3, fd_offset=4 * GIB, size=8 * GIB, mem_offset=0, perms="r"), ""),
        (action("view_get_viewfd", fd=0, mode="rw"), ""),
        (action("send", fd=2, to=1), ""),
        (action("mmap", proc=1, fd=0, length=16 * GIB, prot="rw", flags="shared", offset=0), ""),
        (action("access", proc=1, addr=VIEW + 4 * GIB, kind="read", byte=0), ""),  # big-file.iso at 8 GiB
        (action("access", proc=1, addr=VIEW + 9 * GIB, kind="read", byte=0), ""),  # guest-ram at 9 GiB
        (action("access", proc=1, addr=VIEW + 9 * GIB + 1, kind="write", byte=7), ""),
        (action("access", proc=1, addr=VIEW + 9 * GIB + 1, kind="read", byte=0), ""),
        (action("access", proc=1, addr=VIEW + 2 * GIB, kind="write", byte=1), ""),  # read-only range
        (action("access", proc=1, addr=VIEW + 12 * GIB, kind="read", byte=0), ""),  # nothing mapped
        (action("ioctl", proc=1, fd=0, cmd=0), ""),
        (action("view_unmap_fd", proc=1, fd=0, mem_offset=8 * GIB, size=2 * GIB), ""),
        (action("mprotect", proc=1, addr=VIEW, length=16 * GIB, prot="rwx"), ""),
        (action("access", proc=1, addr=VIEW + 2 * GIB, kind="write", byte=1), ""),  # still the AND
        (action("view_unmap_fd", fd=0, mem_offset=8 * GIB, size=2 * GIB), ""),
        (action("access", proc=1, addr=VIEW + 9 * GIB, kind="read", byte=0), ""),  # revoked
    ]
    return Trace(SEED, Config(), record(SEED, Config(), steps),
                 {"description": "the seed proposal's example at its literal sizes"})


P = 4096
RAW = MMAP_BASE  # where B1's first mapping, of a raw fd, lands


def _with_view(secret_page: int, perms: str) -> list[tuple[Action, str]]:
    """A: a 2-page view whose page 0 shows guest-ram's page 1 with perms; guest-ram's page 1 holds
    0x5a and its page 0 a secret 0x42; then A hands B1 the raw guest-ram fd (B1's fd 0), as
    vhost-user's SET_MEM_TABLE does."""
    return [
        (action("view_open"), ""),
        (action("view_set_size", fd=0, size=2 * P), ""),
        (action("memfd_create", sealing=False), "guest-ram"),
        (action("ftruncate", fd=1, size=2 * P), ""),
        (action("pwrite", fd=1, offset=secret_page * P, byte=0x42), ""),
        (action("pwrite", fd=1, offset=P, byte=0x5A), ""),
        (action("view_map_fd", fd=0, src=1, fd_offset=P, size=P, mem_offset=0, perms=perms), ""),
        (action("send", fd=1, to=1), ""),
    ]


# Today's practice (design fdpass), each attack the seed's driver is meant to stop. The "min-"
# traces are 1-minimal for their property (no step can go, tests check it); the others tell one
# B-side behaviour each, from a state where B's access was legitimate.
FDPASS_EXPLOITS: dict[str, tuple[str, str, list[tuple[Action, str]]]] = {
    "fdpass-min-read": ("ISOL", "B1 maps the raw fd it was handed and reads a byte no view ever showed it", [
        (action("memfd_create", sealing=False), "guest-ram"),
        (action("pwrite", fd=0, offset=0, byte=0x42), ""),
        (action("send", fd=0, to=1), ""),
        (action("mmap", proc=1, fd=0, length=P, prot="r", flags="shared", offset=0), ""),
        (action("access", proc=1, addr=RAW, kind="read", byte=0), ""),
    ]),
    "fdpass-min-write": ("INTEG", "B1 maps the raw fd it was handed and writes memory no view ever showed it", [
        (action("memfd_create", sealing=False), "guest-ram"),
        (action("ftruncate", fd=0, size=P), ""),
        (action("send", fd=0, to=1), ""),
        (action("mmap", proc=1, fd=0, length=P, prot="rw", flags="shared", offset=0), ""),
        (action("access", proc=1, addr=RAW, kind="write", byte=0x66), ""),
    ]),
    "fdpass-keeps-after-unmap": ("REVOKE", "A unmaps the range; B1 keeps its own mapping of the raw fd and goes on "
                                 "reading and writing", [
        *_with_view(0, "rw"),
        (action("mmap", proc=1, fd=0, length=P, prot="rw", flags="shared", offset=P), ""),
        (action("access", proc=1, addr=RAW, kind="read", byte=0), ""),
        (action("view_unmap_fd", fd=0, mem_offset=0, size=P), ""),
        (action("access", proc=1, addr=RAW, kind="read", byte=0), ""),
        (action("access", proc=1, addr=RAW, kind="write", byte=0x66), ""),
    ]),
    "fdpass-raises-prot": ("NOESC", "A grants read only; B1 mprotects its raw mapping up to what the fd allows "
                           "and writes", [
        *_with_view(0, "r"),
        (action("mmap", proc=1, fd=0, length=P, prot="r", flags="shared", offset=P), ""),
        (action("access", proc=1, addr=RAW, kind="read", byte=0), ""),
        (action("mprotect", proc=1, addr=RAW, length=P, prot="rw"), ""),
        (action("access", proc=1, addr=RAW, kind="write", byte=0x66), ""),
    ]),
    "fdpass-maps-outside": ("ISOL", "A shows guest-ram's page 1 only; B1 maps the raw fd again at page 0 and reads "
                            "A's secret", [
        *_with_view(0, "r"),
        (action("mmap", proc=1, fd=0, length=P, prot="r", flags="shared", offset=P), ""),
        (action("access", proc=1, addr=RAW, kind="read", byte=0), ""),
        (action("mmap", proc=1, fd=0, length=P, prot="r", flags="shared", offset=0), ""),
        (action("access", proc=1, addr=RAW + 2 * P, kind="read", byte=0), ""),
    ]),
}


def fdpass_exploit(name: str) -> Trace:
    """One attack on today's practice, recorded under design fdpass, with where it first violates a
    property and which properties it violates there."""
    prop, description, steps = FDPASS_EXPLOITS[name]
    design = BUILTIN["fdpass"]
    trace = Trace(design, Config(), record(design, Config(), steps), {"property": prop, "description": description})
    first = next(step for step in replay_on_model(trace, list(CATALOGUE)) if step.violated)
    trace.meta["violates"] = f"{', '.join(first.violated)} at step {first.index}"
    return trace


COVER_DEPTH = 2  # the depth of the seed's layout graph whose every edge the corpus covers
BROKEN_DEPTH = 3  # explicit search of each broken design for its shortest counterexamples


def coverage_traces() -> dict[str, Trace]:
    """Traces that together take every edge of the seed's layout graph (memview generate)."""
    scope = default_scope(SEED, COVER_DEPTH)
    exploration = explore(SEED, scope, [], stop_when_all_violated=False)
    coverage = cover_edges(SEED, scope, exploration, "layout")
    return {f"cover-{name}": trace for name, trace in coverage.traces}


def broken_counterexamples() -> dict[str, Trace]:
    """The shortest counterexample explicit search finds for every property each deliberately
    broken design violates, recorded under that design."""
    return {f"broken-{variant.replace('=', '-')}-{prop}": trace
            for (variant, prop), trace in search_broken_designs(SEED, BROKEN_DEPTH).items()}


def decision_traces() -> dict[str, Trace]:
    """For every variant of every real decision, the shortest trace telling it from the seed."""
    corpus: dict[str, Trace] = {}
    for decision in DECISIONS:
        if decision.broken:
            continue
        for variant in list(decision.variants)[1:]:
            result = lockstep(SEED, SEED.with_choices(f"{decision.name}={variant}", {decision.name: variant}), DEPTH)
            if result.steps is None:
                raise RuntimeError(f"no trace tells {decision.name}={variant} from the seed to depth {DEPTH}")
            trace, _ = result.traces()
            trace.meta = {"description": f"pins {decision.name}: the seed's {decision.default}, not {variant}"}
            corpus[f"seed-{decision.name}-not-{variant}"] = trace
    return corpus


MUTANT_DEPTH = 4  # lockstep search of each mutant against its design


def mutant_traces() -> dict[str, Trace]:
    """For every seeded bug of mutation analysis (memview.checker.mutants), the shortest trace on
    which the mutated design's observations differ from its design's, recorded under its design:
    the corpus then catches each of those mistakes in an implementation, equivalent mutants too."""
    corpus: dict[str, Trace] = {}
    for mutant in MUTANTS:
        result = lockstep(mutant.base_design(), mutant.design(), MUTANT_DEPTH, clients=mutant.clients)
        if result.steps is None:
            raise RuntimeError(f"no trace tells mutant {mutant.name} from its design to depth {MUTANT_DEPTH}")
        trace, _ = result.traces()
        trace.meta = {"description": f"kills mutant {mutant.name}: {mutant.mistake}", "mutant": mutant.name}
        corpus[f"mutant-{mutant.name}"] = trace
    return corpus


def _seed_and_fdpass() -> dict[str, Trace]:
    corpus: dict[str, Trace] = {"seed-scenario": seed_scenario()}
    corpus.update((name, fdpass_exploit(name)) for name in FDPASS_EXPLOITS)
    return corpus


# The corpus's parts, each built on its own (tests check them side by side).
CORPUS_PARTS: dict[str, Callable[[], dict[str, Trace]]] = {
    "scenarios": _seed_and_fdpass,
    "coverage": coverage_traces,
    "broken": broken_counterexamples,
    "decisions": decision_traces,
    "mutants": mutant_traces,
}


def corpus_part(file_name: str) -> str:
    """The part of the corpus a committed trace file comes from, by its name."""
    for prefix, part in (("seed-scenario.", "scenarios"), ("fdpass-", "scenarios"), ("cover-", "coverage"),
                         ("broken-", "broken"), ("seed-", "decisions"), ("mutant-", "mutants")):
        if file_name.startswith(prefix):
            return part
    return ""


def build_corpus() -> dict[str, Trace]:
    corpus: dict[str, Trace] = {}
    for part in CORPUS_PARTS.values():
        corpus.update(part())
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m memview.checker.corpus_build", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the committed corpus")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed corpus is not current")
    args = parser.parse_args(argv)
    corpus = build_corpus()
    if args.write:
        CORPUS_DIR.mkdir(exist_ok=True)
        for stale in corpus_files():
            stale.unlink()
        for name, trace in corpus.items():
            write_trace(trace, CORPUS_DIR / f"{name}.itf.json")
        print(f"wrote {len(corpus)} traces to {CORPUS_DIR}")
        return 0
    committed = {path.name.removesuffix(".itf.json"): trace_to_itf(read_trace(path)) for path in corpus_files()}
    current = {name: trace_to_itf(trace) for name, trace in corpus.items()}
    if committed != current:
        print("the corpus is not current: run python -m memview.checker.corpus_build --write", file=sys.stderr)
        return 1
    print(f"the corpus is current ({len(corpus)} traces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
