"""Fuzzing with hypothesis: differential (the model and a backend in lockstep), and of the
properties (the model alone, every step judged against the catalogue).

A RuleBasedStateMachine starts from the design's explicit-search set-up, then applies drawn
operations. `fuzz` applies them to the model and a backend and requires the backend's observation
to be one the design allows; `fuzz_properties` judges each transition of the model by the
properties, as explicit search does (mutation analysis's fuzz engine). Hypothesis shrinks a failure
to a short sequence; the failing example comes back as a Trace (the set-up plus the shrunk steps),
ready to be written, explained and minimised further.
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
from memview.checker.alphabet import Scope, default_scope
from memview.checker.strategies import actions
from memview.model.concrete import CONCRETE
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.step import step
from memview.properties.catalogue import Property
from memview.properties.judge import StateJudge
from memview.traces.conform import allowed
from memview.traces.trace import Step, Trace

DATABASE_DIR = Path(".memview") / "hypothesis"


class Divergence(AssertionError):
    """Raised inside the state machine; carries the failing run as a trace."""

    def __init__(self, message: str, trace: Trace) -> None:
        super().__init__(message)
        self.trace = trace


@dataclass(kw_only=True)
class FuzzResult:
    examples: int
    steps: int
    seconds: float
    failure: str | None
    trace: Trace | None
    first_failure_seconds: float | None = None  # when the first failing example was seen, before shrinking


def lockstep_machine(design: Design, backend: Callable[[], Backend], lenient: bool, limit: StepLimit,
                     counters: dict[str, int], skip: frozenset[str] = frozenset()) -> type[RuleBasedStateMachine]:
    scope = default_scope(design)
    drawn = actions(design).filter(lambda act: act.name not in skip) if skip else actions(design)

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

        @rule(act=drawn)
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


def property_machine(design: Design, scope: Scope, properties: list[Property], counters: dict[str, int],
                     first_failure: list[float]) -> type[RuleBasedStateMachine]:
    set_up = scope.set_up(design)

    class Properties(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.machine = set_up.machine()
            self.steps: list[Step] = []
            counters["examples"] += 1

        @rule(act=actions(design, scope.alphabet))
        def operate(self, act: Action) -> None:
            ctx, pre = self.machine.ctx, self.machine.state
            op = act.to_op(CONCRETE)
            post, obs = step(ctx, pre, op)
            self.steps.append(Step(act, Observation.of(obs)))
            counters["steps"] += 1
            self.machine.state = post
            violated = StateJudge(ctx, properties, pre).violated(act, op, obs, post)
            if violated:
                if not first_failure:
                    first_failure.append(time.monotonic())
                trace = set_up.trace_of(self.steps, {"engine": "fuzz", "property": violated[0]})
                raise Divergence(f"step {len(set_up.steps) + len(self.steps) - 1} ({act}) violates "
                                 f"{', '.join(violated)}", trace)

    return Properties


def fuzz_properties(design: Design, scope: Scope, properties: list[Property], examples: int, steps: int,
                    seed: int | None) -> FuzzResult:
    """Hypothesis drives the model from the scope's set-up over its alphabet (and arbitrary
    operations), judging every transition by the properties; the first violation, shrunk."""
    counters = {"examples": 0, "steps": 0}
    first_failure: list[float] = []
    machine = property_machine(design, scope, properties, counters, first_failure)
    return _run(machine, examples, steps, seed, None, counters, first_failure)


def fuzz(design: Design, backend: Callable[[], Backend], examples: int, steps: int, seed: int | None,
         lenient: bool = False, limit: StepLimit | None = None, database: Path | None = DATABASE_DIR,
         skip: frozenset[str] = frozenset()) -> FuzzResult:
    """`skip`: operations never drawn after the set-up (one whose divergence is already a pinned
    finding would otherwise end every run there, docs/findings.md)."""
    counters = {"examples": 0, "steps": 0}
    machine = lockstep_machine(design, backend, lenient, limit or StepLimit(), counters, skip)
    return _run(machine, examples, steps, seed, database, counters, [])


def _run(machine: type[RuleBasedStateMachine], examples: int, steps: int, seed: int | None, database: Path | None,
         counters: dict[str, int], first_failure: list[float]) -> FuzzResult:
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
        first = first_failure[0] - started if first_failure else None
        return FuzzResult(examples=counters["examples"], steps=counters["steps"], seconds=time.monotonic() - started,
                          failure=str(divergence), trace=divergence.trace, first_failure_seconds=first)
    return FuzzResult(examples=counters["examples"], steps=counters["steps"], seconds=time.monotonic() - started,
                      failure=None, trace=None)
