"""The regression corpus shipped with memview: traces that pin the seed design.

For every variant of every open decision, the shortest trace on which the seed and that variant
differ (from memview.checker.diff), recorded with the seed's observations: a backend that conforms
on all of them implements the seed's choice of every decision. Regenerate with
`python -m memview.traces.corpus --write`; tests check the committed corpus is current.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import DECISIONS, SEED
from memview.model.machine import Machine
from memview.model.ops import Action, action
from memview.traces.itf import read_trace, trace_to_itf, write_trace
from memview.traces.trace import Step, Trace

CORPUS_DIR = Path(__file__).parent / "corpus"
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
    machine = Machine(SEED, Config())
    recorded = [Step(act, machine.run(act), label) for act, label in steps]
    return Trace(SEED, Config(), recorded, {"description": "the seed proposal's example at its literal sizes"})


def build_corpus() -> dict[str, Trace]:
    from memview.checker.diff import lockstep

    corpus: dict[str, Trace] = {"seed-scenario": seed_scenario()}
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


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.itf.json"))


def load_corpus() -> list[tuple[str, Trace]]:
    return [(path.name, read_trace(path)) for path in corpus_files()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m memview.traces.corpus", description=__doc__)
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
        print("the corpus is not current: run python -m memview.traces.corpus --write", file=sys.stderr)
        return 1
    print(f"the corpus is current ({len(corpus)} traces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
