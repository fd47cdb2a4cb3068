"""A trace: a design, its bounds, and the steps taken with the observations the model gave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memview.model.config import Config
from memview.model.design import Design
from memview.model.observation import Observation
from memview.model.ops import Action


@dataclass(frozen=True)
class Step:
    action: Action
    observation: Observation
    label: str = ""  # a name for what the step creates (e.g. "guest-ram"); no effect on the semantics


@dataclass
class Trace:
    design: Design
    config: Config
    steps: list[Step]
    meta: dict[str, Any] = field(default_factory=dict)  # property, engine, description, ...

    def actions(self) -> list[Action]:
        return [s.action for s in self.steps]
