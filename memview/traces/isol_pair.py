"""ISOL's counterexample as a pair of runs, derived from one trace by the model.

ISOL compares two runs with the same operations whose backing bytes differ only where no range
lets a client read. A trace records run 1; run 2 is the same operations with, just before a
client's step, every such byte set to ISOL_PERTURBATION (memview.properties.judge, the rule every
engine's self-check uses). The pair is the first client step where the two runs' observations
differ: what the client saw there depends on a byte it had no right to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.concrete import CONCRETE
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.properties.judge import ISOL_PERTURBATION, second_run
from memview.properties.predicates import isol, unreadable_spans
from memview.traces.trace import Trace


@dataclass(frozen=True)
class HiddenSpan:
    """Bytes [lo, hi) of object `slot` that no range let a client read, so run 2 changed them."""

    slot: int
    lo: int
    hi: int


@dataclass(frozen=True)
class IsolPair:
    step: int  # the first step at which a client observes something different in run 2
    value: int  # what every hidden byte holds in run 2 from just before that step
    first: Observation  # run 1's observation there (the trace's)
    second: Observation  # run 2's
    hidden: tuple[HiddenSpan, ...]


def isol_pair(trace: Trace) -> IsolPair | None:
    """The pair for a trace that violates ISOL on the model, or None when no step does."""
    machine = Machine(trace.design, trace.config)
    for index, step in enumerate(trace.steps):
        pre = machine.state
        op = step.action.to_op(CONCRETE)
        post, obs = machine.transition(pre, step.action)
        other = second_run(machine.ctx, pre, op)
        if not isol(machine.ctx, op, obs, other):
            hidden = [HiddenSpan(slot, lo, hi) for slot, obj in enumerate(pre.objs) if obj.exists
                      for lo, hi in unreadable_spans(machine.ctx, pre, slot)]
            return IsolPair(index, ISOL_PERTURBATION, Observation.of(obs), Observation.of(other), tuple(hidden))
        machine.state = post
    return None
