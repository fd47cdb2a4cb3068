"""The reference backend: the concrete semantics itself, one action at a time."""

from __future__ import annotations

from memview.backends.base import Backend, BackendFailure, StepLimit
from memview.model.config import Config
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.state import State


class ModelBackend(Backend):
    """Executes actions on the model; what every other backend is judged against."""

    name = "model"

    def __init__(self, pinned: Design | None = None) -> None:
        # A pinned design is implemented whatever design the backend is held to: an implementation
        # of one design judged by another (how a divergence looks, and how tests make one).
        self.pinned = pinned
        self.machine: Machine | None = None

    def start(self, design: Design, config: Config) -> None:
        self.machine = Machine(self.pinned or design, config)

    @property
    def state(self) -> State:
        if self.machine is None:
            raise BackendFailure("refused", "the model backend was not started")
        return self.machine.state

    def perform(self, act: Action, limit: StepLimit) -> Observation:
        if self.machine is None:
            raise BackendFailure("refused", "the model backend was not started")
        return self.machine.run(act)

    def stop(self) -> None:
        self.machine = None
