"""`memview corpus check`: which corpus traces' observations a semantics change changed.

Each trace is replayed on the model, under its own design or the one given, and its observations
are compared with the recorded ones. After a change to a rule or a decision, the traces that changed
(and the first step where each did) are the trace-level answer to "what did my change change?".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memview.model.design import Design
from memview.model.observation import Observation
from memview.traces.replay import replay
from memview.traces.trace import Trace


@dataclass(frozen=True)
class TraceChange:
    name: str
    steps: int
    step: int | None  # the first step whose observation changed; None when none did
    action: str | None = None
    recorded: Observation | None = None
    now: Observation | None = None
    changed_steps: int = 0  # how many steps changed in all

    @property
    def changed(self) -> bool:
        return self.step is not None

    def headline(self) -> str:
        if not self.changed:
            return f"{self.name}: unchanged ({self.steps} steps)"
        return (f"{self.name}: changed at step {self.step} ({self.action}): recorded {self.recorded}, "
                f"now {self.now} ({self.changed_steps} of {self.steps} steps differ)")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trace": self.name, "steps": self.steps, "changed": self.changed}
        if self.changed:
            assert self.recorded is not None and self.now is not None
            out.update(step=self.step, action=self.action, recorded=self.recorded.to_json(), now=self.now.to_json(),
                       changed_steps=self.changed_steps)
        return out


def trace_change(name: str, trace: Trace, design: Design | None = None) -> TraceChange:
    """The trace's operations replayed on the model under `design` (default: its own), every step
    compared with what the trace recorded."""
    first: tuple[int, Observation] | None = None
    changed = 0
    for replayed in replay(trace, design):
        if not replayed.matches:
            changed += 1
            if first is None:
                first = (replayed.index, replayed.observed)
    if first is None:
        return TraceChange(name, len(trace.steps), None)
    index, now = first
    step = trace.steps[index]
    return TraceChange(name, len(trace.steps), index, str(step.action), step.observation, now, changed)


def corpus_changes(named: list[tuple[str, Trace]], design: Design | None = None) -> list[TraceChange]:
    return [trace_change(name, trace, design) for name, trace in named]
