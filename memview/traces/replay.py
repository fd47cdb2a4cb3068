"""Replaying a trace on the reference backend and judging every step against the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.concrete import CONCRETE
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.properties.catalogue import Property
from memview.properties.judge import violated_by
from memview.traces.trace import Trace


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
    machine = Machine(trace.design, trace.config)
    out = []
    for index, step in enumerate(trace.steps):
        pre = machine.state
        post, obs = machine.transition(pre, step.action)
        violated = violated_by(machine.ctx, properties, pre, step.action, step.action.to_op(CONCRETE), obs, post)
        out.append(ReplayedStep(index, Observation.of(obs), step.observation, tuple(violated)))
        machine.state = post
    return out
