"""Replaying a trace on the reference model: the one loop every consumer of a trace's steps uses.

`replay` runs a trace's operations on the model under a design (the trace's own by default) and
hands back each transition with the states around it, so conformance, the corpus check, ISOL's pair
of runs, the explanation and the self-check of counterexamples read the same transitions instead of
each stepping a machine of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.context import Ctx
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action, Op
from memview.model.state import Obs, State
from memview.model.step import step as step_model
from memview.properties.catalogue import Property
from memview.properties.judge import violated_by
from memview.traces.trace import Step, Trace


@dataclass(slots=True)
class Replayed:
    """One step of a trace as the model takes it; treat it as read-only. (Not frozen: conformance
    builds one per step in lockstep with the backend, and a frozen dataclass costs several times
    more to build.)"""

    index: int
    step: Step  # as the trace recorded it
    ctx: Ctx
    pre: State
    op: Op
    obs: Obs
    post: State

    @property
    def observed(self) -> Observation:
        return Observation.of(self.obs)

    @property
    def matches(self) -> bool:
        """The model gives what the trace recorded."""
        return self.observed == self.step.observation

    def violated(self, properties: list[Property]) -> list[str]:
        return violated_by(self.ctx, properties, self.pre, self.step.action, self.op, self.obs, self.post)


def replay(trace: Trace, design: Design | None = None) -> Iterator[Replayed]:
    """The trace's steps on the model under design (default: the trace's own), one transition at a time."""
    machine = Machine(design or trace.design, trace.config)
    for index, step in enumerate(trace.steps):
        pre = machine.state
        op = step.action.to_op(CONCRETE)
        post, obs = step_model(machine.ctx, pre, op)
        yield Replayed(index, step, machine.ctx, pre, op, obs, post)
        machine.state = post


def record(design: Design, config: Config, labelled: Iterable[tuple[Action, str]],
           state: State | None = None) -> list[Step]:
    """New operations (each with its label) as steps with the observations design gives them, from
    state (default: the initial state): how every trace memview makes gets its observations."""
    machine = Machine(design, config, state)
    return [Step(act, machine.run(act), label) for act, label in labelled]


def observed_steps(trace: Trace, design: Design) -> list[Step]:
    """The trace's operations with the observations design gives them (labels kept)."""
    return [Step(r.step.action, r.observed, r.step.label) for r in replay(trace, design)]


@dataclass(frozen=True)
class ReplayedStep:
    index: int
    observed: Observation
    recorded: Observation
    violated: tuple[str, ...]  # property IDs this step violates

    @property
    def matches(self) -> bool:
        return self.observed == self.recorded


def replay_on_model(trace: Trace, properties: list[Property]) -> list[ReplayedStep]:
    """Every step replayed and judged by the properties (refusals too)."""
    return [ReplayedStep(r.index, r.observed, r.step.observation, tuple(r.violated(properties)))
            for r in replay(trace)]
