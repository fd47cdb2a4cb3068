"""Differential fuzzing: hypothesis drives the model and a backend in lockstep.

A RuleBasedStateMachine starts both from the design's explicit-search set-up, then applies drawn
operations to both and requires the backend's observation to be one the design allows. Hypothesis
shrinks a failure to a short sequence; the failing example comes back as a Trace (the set-up plus
the shrunk steps), ready to be written, explained and minimised further.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as fixed_seed
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from memview.backends.base import Backend, BackendFailure, StepLimit
from memview.checker.alphabet import default_scope
from memview.checker.strategies import actions
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.ops import Action
from memview.traces.conform import allowed
from memview.traces.trace import Step, Trace

DATABASE_DIR = Path(".memview") / "hypothesis"


class Divergence(AssertionError):
    """Raised inside the state machine; carries the failing run as a trace."""

    def __init__(self, message: str, trace: Trace) -> None:
        super().__init__(message)
        self.trace = trace


@dataclass
class FuzzResult:
    examples: int
    steps: int
    seconds: float
    failure: str | None
    trace: Trace | None


def lockstep_machine(design: Design, backend: Callable[[], Backend], lenient: bool, limit: StepLimit,
                     counters: dict[str, int]) -> type[RuleBasedStateMachine]:
    scope = default_scope(design)

    class Lockstep(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.model = Machine(design, scope.config)
            self.backend = backend()
            self.steps: list[Step] = []
            counters["examples"] += 1

        @initialize()
        def set_up(self) -> None:
            self.backend.start(design, scope.config)
            for act, label in scope.prefix:
                self.check(act, label)

        @rule(act=actions(design))
        def operate(self, act: Action) -> None:
            self.check(act, "")

        def check(self, act: Action, label: str) -> None:
            expected = self.model.run(act)
            self.steps.append(Step(act, expected, label))
            counters["steps"] += 1
            try:
                observed = self.backend.perform(act, limit)
            except BackendFailure as failure:
                raise Divergence(f"step {len(self.steps) - 1} ({act}): the backend failed: {failure}",
                                 self.trace()) from None
            if not allowed(expected, lenient)(observed):
                raise Divergence(f"step {len(self.steps) - 1} ({act}): the design {design.name} requires "
                                 f"{expected}, the backend showed {observed}", self.trace())

        def trace(self) -> Trace:
            return Trace(design, scope.config, list(self.steps), {"engine": "fuzz"})

        def teardown(self) -> None:
            self.backend.stop()

    return Lockstep


def fuzz(design: Design, backend: Callable[[], Backend], examples: int, steps: int, seed: int | None,
         lenient: bool = False, limit: StepLimit | None = None, database: Path | None = DATABASE_DIR) -> FuzzResult:
    counters = {"examples": 0, "steps": 0}
    machine = lockstep_machine(design, backend, lenient, limit or StepLimit(), counters)
    config = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=DirectoryBasedExampleDatabase(str(database)) if database is not None else None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        report_multiple_bugs=False,
        print_blob=False,
    )
    test_case = machine.TestCase
    test_case.settings = config
    if seed is not None:
        test_case.runTest = fixed_seed(seed)(test_case.runTest)  # type: ignore[method-assign]
    started = time.monotonic()
    try:
        run_state_machine_as_test(machine, settings=config) if seed is None else test_case().runTest()
    except Divergence as divergence:
        return FuzzResult(counters["examples"], counters["steps"], time.monotonic() - started, str(divergence),
                          divergence.trace)
    return FuzzResult(counters["examples"], counters["steps"], time.monotonic() - started, None, None)
