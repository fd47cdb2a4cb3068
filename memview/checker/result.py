"""What an engine reports per property: a verdict, how it was reached, and a counterexample."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from memview.traces.itf import trace_to_itf
from memview.traces.trace import Trace


class Verdict(StrEnum):
    """What an engine says of a property; the value is what tables and JSON show."""

    HOLDS_BOUNDED = "holds (bounded)"
    VIOLATED = "violated"
    PROVED = "proved"
    UNKNOWN = "unknown"  # a solver timeout or "unknown", or a proof that did not go through: never "holds"


HOLDS_BOUNDED, VIOLATED, PROVED, UNKNOWN = Verdict  # the names readers of results compare with
VERDICTS = tuple(v.value for v in Verdict)  # every verdict an engine gives (the JSON schemas' enum)


class Reproduced(StrEnum):
    """Whether a counterexample replayed on a backend showed the same violation (`check --replay`)."""

    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not reproduced"
    FAILED = "backend failed"


REPRODUCED, NOT_REPRODUCED, FAILED = Reproduced


@dataclass(frozen=True, kw_only=True)
class Reproduction:
    backend: str
    status: Reproduced
    detail: str  # the conformance verdict's headline

    def to_json(self) -> dict[str, Any]:
        return {"backend": self.backend, "status": self.status.value, "detail": self.detail}


@dataclass(kw_only=True)
class PropertyResult:
    property_id: str
    verdict: Verdict
    engine: str
    how: str
    states: int
    transitions: int
    seconds: float
    counterexample: Trace | None = None
    trace_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    replay: list[Reproduction] = field(default_factory=list)  # --replay: the counterexample on backends

    @property
    def violated(self) -> bool:
        return self.verdict == VIOLATED

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "property": self.property_id,
            "verdict": self.verdict.value,
            "engine": self.engine,
            "how": self.how,
            "states": self.states,
            "transitions": self.transitions,
            "seconds": round(self.seconds, 3),
        }
        if self.counterexample is not None:
            out["counterexample_steps"] = len(self.counterexample.steps)
            # The trace itself, so a reader of the JSON (memview report) needs no --out directory.
            out["counterexample"] = trace_to_itf(self.counterexample)
        if self.trace_file is not None:
            out["trace"] = self.trace_file
        if self.replay:
            out["replay"] = [r.to_json() for r in self.replay]
        return out
