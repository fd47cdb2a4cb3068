"""The regression corpus shipped with memview (`corpus/`, beside this module), as committed.

What each trace is, and how the corpus is made again, is `memview.checker.corpus_build`
(`python -m memview.checker.corpus_build --write`): making it takes the engines, reading it only
the trace reader, so everything that judges traces can use the corpus without depending on them.
"""

from __future__ import annotations

from pathlib import Path

from memview.model.design import DECISIONS_BY_NAME, Design
from memview.traces.itf import read_trace
from memview.traces.trace import Trace

CORPUS_DIR = Path(__file__).parent / "corpus"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.itf.json"))


def load_corpus() -> list[tuple[str, Trace]]:
    """Every trace of the corpus (what `memview corpus check` replays)."""
    return [(path.name, read_trace(path)) for path in corpus_files()]


def takes_broken_variant(design: Design) -> bool:
    return any(DECISIONS_BY_NAME[name].broken for name in design.overrides())


def regression_corpus() -> list[tuple[str, Trace]]:
    """The traces an implementation is judged on (`conform --corpus`): all but the counterexamples
    of the deliberately broken designs, which no implementation should conform to."""
    return [(name, trace) for name, trace in load_corpus() if not takes_broken_variant(trace.design)]
