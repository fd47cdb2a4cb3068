"""Judging concrete transitions against the catalogue: every engine and every replay judges here.

`StateJudge` judges the transitions out of one pre-state: explicit search takes every action of its
alphabet from each state, so what depends on the pre-state alone (a two-run property's perturbed
second state) is computed once per state, and only when a transition needs it.

A refusal (an errno that leaves the state as it was: the rules return the very same state object)
cannot violate a property: every step property is about a successful or faulting operation or a
change of state, and no errno check reads backing bytes, so a second run refuses alike.
`tests/test_explore.py` checks that skipping refusals finds exactly what judging them finds; the
engines skip them, replay judges them all.
"""

from __future__ import annotations

from memview.model.constants import Outcome
from memview.model.context import Ctx
from memview.model.ops import Action, Op
from memview.model.state import Obs, State
from memview.model.step import step
from memview.properties.catalogue import Property


def is_refusal(pre: State, obs: Obs, post: State) -> bool:
    return post is pre and obs.outcome == Outcome.ERRNO  # StateJudge.judges inlines it: it runs per transition


def needs_second_run(properties: list[Property]) -> bool:
    return any(p.second_run is not None for p in properties)


class StateJudge:
    """The selected properties, judging transitions out of one concrete pre-state."""

    def __init__(self, ctx: Ctx, properties: list[Property], pre: State, judge_refusals: bool = False) -> None:
        self.ctx = ctx
        self.properties = properties
        self.pre = pre
        self.judge_refusals = judge_refusals
        self._second_states: dict[str, State] = {}

    def second_state(self, prop: Property) -> State:
        """The pre-state of prop's second run (prop must be a two-run property)."""
        assert prop.second_run is not None
        if prop.id not in self._second_states:
            self._second_states[prop.id] = prop.second_run.perturb(self.ctx, self.pre)
        return self._second_states[prop.id]

    def second_observation(self, prop: Property, op: Op) -> Obs:
        """What prop's second run observes: the same operation from its perturbed pre-state."""
        _, obs = step(self.ctx, self.second_state(prop), op)
        return obs

    def judges(self, obs: Obs, post: State) -> bool:
        """Whether a transition to (obs, post) is judged at all (refusals are not, unless asked)."""
        return self.judge_refusals or not (post is self.pre and obs.outcome == Outcome.ERRNO)

    def violated(self, act: Action, op: Op, obs: Obs, post: State) -> list[str]:
        """IDs of the properties the transition (pre, act, obs, post) violates."""
        return self.violations(act, op, obs, post) if self.judges(obs, post) else []

    def violations(self, act: Action, op: Op, obs: Obs, post: State) -> list[str]:
        """`violated`, for a transition the caller already knows `judges` judges (explicit search
        asks once per transition, to count what it judged)."""
        out = []
        for prop in self.properties:
            run = prop.second_run
            if run is None:
                assert prop.predicate is not None
                if not prop.predicate(self.ctx, self.pre, op, obs, post):
                    out.append(prop.id)
            elif not (run.clients_only and act.proc == 0) and \
                    not run.agree(self.ctx, op, obs, self.second_observation(prop, op)):
                out.append(prop.id)
        return out


def violated_by(ctx: Ctx, properties: list[Property], pre: State, act: Action, op: Op, obs: Obs,
                post: State) -> list[str]:
    """IDs of the properties one concrete transition violates, refusals judged too."""
    return StateJudge(ctx, properties, pre, judge_refusals=True).violated(act, op, obs, post)
