"""The concrete machine: a design and bounds, a current state, and readable actions in and out."""

from __future__ import annotations

from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.context import Ctx
from memview.model.design import Design
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.state import Obs, State, initial_state
from memview.model.step import step


class Machine:
    def __init__(self, design: Design, config: Config, state: State | None = None) -> None:
        self.ctx = Ctx(CONCRETE, design, config)
        self.state = state if state is not None else initial_state(CONCRETE, config)

    def transition(self, state: State, act: Action) -> tuple[State, Obs]:
        """The successor and the raw observation (what property predicates take)."""
        return step(self.ctx, state, act.to_op(CONCRETE))

    def run(self, act: Action) -> Observation:
        self.state, obs = self.transition(self.state, act)
        return Observation.of(obs)
