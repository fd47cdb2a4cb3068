"""`memview check`: run an engine over a design, self-check its counterexamples, write them out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memview import __version__
from memview.checker.alphabet import Scope
from memview.checker.explore import Progress, explore, results
from memview.checker.registry import ENGINES
from memview.checker.result import PropertyResult
from memview.errors import InputError
from memview.model.design import Design
from memview.properties.catalogue import Property
from memview.traces.replay import replay_on_model


class InternalError(RuntimeError):
    """An engine and the reference backend disagree: a bug in memview, never in the user's input."""


@dataclass
class Report:
    design: Design
    results: list[PropertyResult]

    @property
    def violated(self) -> bool:
        return any(r.violated for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "memview_version": __version__,
            "design": self.design.to_json(),
            "results": [r.to_json() for r in self.results],
            "violated": self.violated,
        }


def self_check(result: PropertyResult, properties: list[Property]) -> None:
    """A counterexample must replay on the reference backend to the same observations and violation."""
    trace = result.counterexample
    assert trace is not None
    replayed = replay_on_model(trace, properties)
    for step in replayed:
        if not step.matches:
            raise InternalError(f"{result.property_id} counterexample step {step.index}: the engine recorded "
                                f"{step.recorded}, the reference backend gives {step.observed}")
    if result.property_id not in replayed[-1].violated:
        raise InternalError(f"{result.property_id} counterexample does not violate it on the reference backend")


def file_stem(name: str) -> str:
    """A design name made safe as a file name (design files may name themselves anything)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return stem or "design"


def prepare_out_dir(out_dir: Path) -> None:
    """Create the trace directory before a long search, so a bad --out fails at once."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".memview-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InputError("--out", f"{out_dir}: {exc.strerror or exc}") from None


def run_check(design: Design, scope: Scope, properties: list[Property], out_dir: Path | None,
              progress: Progress | None = None) -> Report:
    if out_dir is not None:
        prepare_out_dir(out_dir)
    exploration = explore(design, scope, properties, progress, keep_graph=False)
    report = Report(design, results(design, scope, exploration, properties))
    finish_counterexamples(report, properties, out_dir)
    return report


def finish_counterexamples(report: Report, properties: list[Property], out_dir: Path | None) -> None:
    """Self-check every counterexample on the reference backend, shrink bmc's, write them out."""
    from memview.traces.minimise import minimise
    from memview.traces.oracles import violates

    by_id = {p.id: p for p in properties}
    for result in report.results:
        if result.counterexample is None:
            continue
        self_check(result, properties)
        if ENGINES[result.engine].minimise_counterexamples:
            # A solver picks arbitrary argument words; the smallest trace that still violates reads better.
            minimal = minimise(result.counterexample, violates(by_id[result.property_id])).minimal
            result.counterexample = minimal
            self_check(result, properties)
        if out_dir is not None:
            from memview.traces.itf import write_trace

            path = out_dir / f"{file_stem(report.design.name)}-{result.property_id}-{result.engine}.itf.json"
            write_trace(result.counterexample, path)
            result.trace_file = str(path)

