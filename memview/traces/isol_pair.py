"""ISOL's counterexample as a pair of runs, derived from one trace by the model.

ISOL compares two runs with the same operations whose backing bytes differ only where no range
lets a client read. A trace records run 1; run 2 is the same operations with, just before a
client's step, every such byte set to the value of ISOL's second run (memview.properties.two_run, as
every engine's self-check has it). The pair is the first client step where the two runs' observations
differ: what the client saw there depends on a byte it had no right to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.observation import Observation
from memview.properties.catalogue import BY_ID, Property
from memview.properties.judge import StateJudge
from memview.traces.replay import replay
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


def isol_pair(trace: Trace, prop: Property = BY_ID["ISOL"]) -> IsolPair | None:
    """The pair for a trace that violates a two-run property (ISOL) on the model, or None when no
    step does."""
    run = prop.second_run
    assert run is not None, f"{prop.id} is not a two-run property"
    for replayed in replay(trace):
        ctx, pre, op = replayed.ctx, replayed.pre, replayed.op
        other = StateJudge(ctx, [prop], pre).second_observation(prop, op)
        if not run.agree(ctx, op, replayed.obs, other):
            hidden = [HiddenSpan(slot, lo, hi) for slot, obj in enumerate(pre.objs) if obj.exists
                      for lo, hi in run.hidden_spans(ctx, pre, slot)]
            return IsolPair(replayed.index, run.value, replayed.observed, Observation.of(other), tuple(hidden))
    return None
