"""Which traces a conformance run judges, named by short specs (the pytest plugin's `memview_traces`):

    corpus            the shipped regression corpus, as `memview conform --corpus` runs it
    generate:KIND     what `memview generate --coverage KIND` writes (edges, decisions, properties;
                      several as generate:edges,decisions), generated for the design held to
    anything else     a glob of ITF trace files, relative to a root directory

Each trace comes back held to the design (`conform.held_to`), with a stable name that is unique
in the selection: `corpus/STEM`, `generate/NAME`, or the file's path under the root without its
`.itf.json`.

`generate:KIND` runs the engines (`coverage.generate_traces`), so this module stands above them,
beside the pytest plugin that is its user, rather than among the traces it returns.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from memview.errors import InputError
from memview.model.design import Design, load_design
from memview.traces.conform import held_to
from memview.traces.trace import Trace

CORPUS = "corpus"
GENERATE = "generate:"
TRACE_SUFFIX = ".itf.json"
DEFAULT_GENERATED_FOR = "seed"  # `memview generate`'s default design


@dataclass(frozen=True)
class SelectedTrace:
    name: str
    source: Path | None  # the file it was read from; None for a generated trace
    trace: Trace  # held to the design it is judged against


def _stem(path: str) -> str:
    return path.removesuffix(TRACE_SUFFIX).removesuffix(".json")


def _corpus() -> list[tuple[str, Path | None, Trace]]:
    from memview.traces.corpus import CORPUS_DIR, regression_corpus

    return [(f"corpus/{_stem(name)}", CORPUS_DIR / name, trace) for name, trace in regression_corpus()]


def _generated(spec: str, design: Design | None, place: str) -> list[tuple[str, Path | None, Trace]]:
    from memview.checker.coverage import generate_traces

    kinds = tuple(kind.strip() for kind in spec[len(GENERATE):].split(","))
    if not all(kinds):
        raise InputError(place, f"{spec!r}: name a coverage after generate:, e.g. generate:edges")
    results = generate_traces(design or load_design(DEFAULT_GENERATED_FOR), kinds)
    return [(f"generate/{name}", None, trace) for result in results for name, trace in result.traces]


def _files(pattern: str, root: Path, place: str) -> list[tuple[str, Path | None, Trace]]:
    from memview.traces.itf import read_trace

    absolute = Path(pattern).is_absolute()
    matches = sorted(glob.glob(pattern, recursive=True) if absolute
                     else glob.glob(pattern, root_dir=root, recursive=True))
    files = [match for match in matches if (Path(match) if absolute else root / match).is_file()]
    if not files:
        raise InputError(place, f"no trace file matches {pattern!r} (relative to {root})")
    selected: list[tuple[str, Path | None, Trace]] = []
    for match in files:
        path = Path(match) if absolute else root / match
        selected.append((_stem(Path(match).as_posix()), path, read_trace(path)))
    return selected


def select_traces(specs: Sequence[str], root: Path, design: Design | None, place: str,
                  design_option: str = "--design") -> list[SelectedTrace]:
    """Every trace the specs name, in the order given, each once; bad input (an unknown coverage, a
    glob matching nothing, a malformed trace, one made for other semantics) is an InputError."""
    if not specs:
        raise InputError(place, f"no traces selected (give {CORPUS}, generate:KIND or trace file globs)")
    chosen: dict[str, SelectedTrace] = {}
    for spec in specs:
        if spec == CORPUS:
            found = _corpus()
        elif spec.startswith(GENERATE):
            found = _generated(spec, design, place)
        else:
            found = _files(spec, root, place)
        for name, source, trace in found:
            if name in chosen:
                if chosen[name].source != source:
                    raise InputError(place, f"two traces would both be named {name!r} ({chosen[name].source} and "
                                            f"{source}): rename one")
                continue  # the same trace selected twice (overlapping globs): judged once
            chosen[name] = SelectedTrace(name, source, held_to(str(source or name), trace, design, design_option))
    return list(chosen.values())
