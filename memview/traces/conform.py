"""Conformance: run a trace on a backend and judge each observation against what the design allows.

The expected observations come from the reference model run in lockstep under the design being
judged (the trace's own, or another one given by the user), not from the observations stored in
the trace: a trace is a sequence of operations, and the design says what each must show.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from memview.backends.base import Backend, BackendFailure, StepLimit
from memview.errors import InputError
from memview.model.constants import Signal
from memview.model.design import Design
from memview.model.observation import Observation
from memview.traces.explain import layout_before
from memview.traces.replay import observed_steps, replay
from memview.traces.trace import Trace


class Status(StrEnum):
    """A conformance verdict; the value is what tables, JSON and JUnit show."""

    CONFORM = "conform"
    DIVERGE = "diverge"
    BACKEND_FAILED = "backend-failed"


CONFORM, DIVERGE, BACKEND_FAILED = Status


def allowed(expected: Observation, lenient: bool) -> Callable[[Observation], bool]:
    """Which observations a step accepts.

    Exact: only the model's. Lenient: a SIGSEGV may carry either si_code, because the design leaves
    the mechanism open (a protection mismatch on the mapping gives SEGV_ACCERR, a fault handler that
    returns VM_FAULT_SIGSEGV gives SEGV_MAPERR); everything else stays exact.
    """
    if lenient and expected.outcome == "signal" and expected.value == Signal.SIGSEGV:
        return lambda seen: seen.outcome == "signal" and seen.value == Signal.SIGSEGV
    return lambda seen: seen == expected


@dataclass(kw_only=True)
class Verdict:
    name: str  # the trace's file or description
    trace: Trace  # as judged: its design is the design the backend was held to
    status: Status
    steps_run: int
    seconds: float
    step: int | None = None  # where it diverged or the backend failed
    expected: Observation | None = None
    observed: Observation | None = None
    failure: str | None = None  # BackendFailure's text
    layout: list[str] = field(default_factory=list)  # the view layout just before that step

    @property
    def conforms(self) -> bool:
        return self.status == CONFORM

    def headline(self) -> str:
        if self.status == CONFORM:
            return f"{self.name}: conforms ({self.steps_run} steps)"
        if self.step is None:
            return f"{self.name}: the backend failed {self.failure}"
        act = self.trace.steps[self.step].action
        if self.status == DIVERGE:
            return (f"{self.name}: diverges at step {self.step} ({act}): the design {self.trace.design.name} "
                    f"requires {self.expected}, the backend showed {self.observed}")
        if f"step {self.step} " in (self.failure or ""):  # the backend's message already names the step
            return f"{self.name}: the backend failed: {self.failure}"
        return f"{self.name}: the backend failed at step {self.step} ({act}): {self.failure}"

    def report(self) -> str:
        """The headline and, past a failure, the view layout at that step (the explain view)."""
        lines = [self.headline()]
        if self.layout:
            lines += ["", f"view layout before step {self.step}:", *(f"  {row}" for row in self.layout)]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trace": self.name, "status": self.status.value, "steps_run": self.steps_run,
                               "seconds": round(self.seconds, 4)}
        if self.step is not None:
            out.update(step=self.step, action=self.trace.steps[self.step].action.readable(), layout=self.layout)
        if self.expected is not None:
            out["expected"] = self.expected.to_json()
        if self.observed is not None:
            out["observed"] = self.observed.to_json()
        if self.failure is not None:
            out["failure"] = self.failure
        return out


def check_recorded(trace: Trace, name: str, design_option: str = "--design") -> None:
    """A trace whose recorded observations its own design no longer gives was made for other
    semantics: judging a backend by it would mislead, so it is refused as bad input."""
    for replayed in replay(trace):
        if not replayed.matches:
            raise InputError(f"{name}: step {replayed.index}",
                             f"recorded {replayed.step.observation} but design {trace.design.name} gives "
                             f"{replayed.observed}: the trace was made for another design (judge it against one "
                             f"with {design_option})")


def held_to(name: str, trace: Trace, design: Design | None, design_option: str = "--design") -> Trace:
    """The trace as a backend is judged on it: held to the design given, or else to its own, which
    must still give what it recorded (`check_recorded`). Shared by `conform`/`replay` and the pytest
    plugin, so both judge the same traces the same way."""
    if design is None:
        check_recorded(trace, name, design_option)
    return judged_as(trace, design)


MAX_STEP_SECONDS = 3600.0


def step_limit(seconds: float, place: str = "--timeout") -> StepLimit:
    """The per-step limit a user asked for, refused as bad input when it is not a sensible duration."""
    if not 0 < seconds <= MAX_STEP_SECONDS:
        raise InputError(place, f"must be between 0 and {MAX_STEP_SECONDS:.0f} seconds, got {seconds}")
    return StepLimit(seconds)


def judged_as(trace: Trace, design: Design | None) -> Trace:
    """The trace held to another design: same operations, that design's observations."""
    if design is None or design == trace.design:
        return trace
    return Trace(design, trace.config, observed_steps(trace, design), dict(trace.meta))


def conform(name: str, trace: Trace, backend: Backend, lenient: bool = False,
            limit: StepLimit | None = None) -> Verdict:
    """Run every step on a fresh instance of the backend; stop at the first divergence or failure."""
    limit = limit or StepLimit()
    started = time.monotonic()
    verdict = Verdict(name=name, trace=trace, status=Status.CONFORM, steps_run=0, seconds=0.0)
    try:
        backend.start(trace.design, trace.config)
        for replayed in replay(trace):
            index, expected = replayed.index, replayed.observed
            try:
                observed = backend.perform(replayed.step.action, limit)
            except BackendFailure as failure:
                verdict = Verdict(name=name, trace=trace, status=Status.BACKEND_FAILED, steps_run=index, seconds=0.0,
                                  step=index, expected=expected, failure=str(failure))
                break
            verdict.steps_run = index + 1
            if not allowed(expected, lenient)(observed):
                verdict = Verdict(name=name, trace=trace, status=Status.DIVERGE, steps_run=index + 1, seconds=0.0,
                                  step=index, expected=expected, observed=observed)
                break
    except BackendFailure as failure:  # at set-up
        verdict = Verdict(name=name, trace=trace, status=Status.BACKEND_FAILED, steps_run=0, seconds=0.0,
                          failure=f"at set-up: {failure}")
    finally:
        backend.stop()
    verdict.seconds = time.monotonic() - started
    if verdict.step is not None:
        verdict.layout = layout_before(trace, verdict.step)
    return verdict
