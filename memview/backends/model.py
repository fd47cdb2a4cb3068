"""The reference backend: the concrete semantics itself, one action at a time."""

from __future__ import annotations

from memview.model.config import Config
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.state import State


class ModelBackend:
    """Executes actions on the model; what every other backend is judged against."""

    name = "model"

    def __init__(self, design: Design, config: Config) -> None:
        self.machine = Machine(design, config)

    @property
    def state(self) -> State:
        return self.machine.state

    def run(self, act: Action) -> Observation:
        return self.machine.run(act)
