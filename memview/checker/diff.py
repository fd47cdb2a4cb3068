"""Design comparison by explicit search of the product of two designs' transition systems.

Both designs take the same operations in lockstep from the empty state: first the set-up prefix
of the first design's explicit-search scope, then breadth-first over the union of both designs'
alphabets. The first pair of observations that differ ends the search, so the distinguishing
trace is a shortest one (after the set-up). Explicit search of each design then says which
properties hold in one and fail in the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memview.checker.alphabet import Scope, default_scope
from memview.checker.explore import explore
from memview.checker.result import HOLDS_BOUNDED, VIOLATED
from memview.model.design import Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.state import State
from memview.properties.catalogue import Property
from memview.traces.trace import Step, Trace

Progress = Callable[[int, int, int], None]  # depth, state pairs, transitions


@dataclass(frozen=True)
class LockstepStep:
    action: Action
    label: str
    seen_by_a: Observation
    seen_by_b: Observation

    @property
    def differs(self) -> bool:
        return self.seen_by_a != self.seen_by_b


@dataclass(kw_only=True)
class DiffResult:
    design_a: Design
    design_b: Design
    scope: Scope
    steps: list[LockstepStep] | None  # the distinguishing trace, ending at the first difference
    pairs: int
    transitions: int
    seconds: float
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)  # property -> (A, B)

    @property
    def differ(self) -> bool:
        return self.steps is not None

    def traces(self) -> tuple[Trace, Trace]:
        """The distinguishing trace as each design saw it."""
        assert self.steps is not None
        meta = {"engine": "diff", "description": f"{self.design_a.name} vs {self.design_b.name}"}
        a = Trace(self.design_a, self.scope.config, [Step(s.action, s.seen_by_a, s.label) for s in self.steps],
                  dict(meta))
        b = Trace(self.design_b, self.scope.config, [Step(s.action, s.seen_by_b, s.label) for s in self.steps],
                  dict(meta))
        return a, b

    def property_differences(self) -> list[str]:
        return [p for p, (a, b) in self.verdicts.items() if a != b]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "design_a": self.design_a.to_json(),
            "design_b": self.design_b.to_json(),
            "differ": self.differ,
            "searched": self.scope.describe(),
            "state_pairs": self.pairs,
            "transitions": self.transitions,
            "seconds": round(self.seconds, 3),
            "properties": {p: {"a": a, "b": b} for p, (a, b) in self.verdicts.items()},
            "properties_that_differ": self.property_differences(),
        }
        if self.steps is not None:
            out["first_difference"] = len(self.steps) - 1
            out["steps"] = [
                {"action": s.action.readable(), "a": s.seen_by_a.to_json(), "b": s.seen_by_b.to_json()}
                for s in self.steps
            ]
        return out


def _alphabet(scope_a: Scope, scope_b: Scope) -> list[Action]:
    seen: dict[Action, None] = {}
    for act in (*scope_a.alphabet, *scope_b.alphabet):
        seen.setdefault(act)
    return list(seen)


def lockstep(design_a: Design, design_b: Design, depth: int, progress: Progress | None = None,
             clients: int = 1) -> DiffResult:
    """With clients > 1, each client gets B1's fds, mappings and operations (`default_scope`)."""
    started = time.monotonic()
    scope = default_scope(design_a, depth, clients=clients, active_clients=clients > 1)
    scope_b = default_scope(design_b, depth, clients=clients, active_clients=clients > 1)
    machine_a, machine_b = Machine(design_a, scope.config), Machine(design_b, scope.config)
    prefix: list[LockstepStep] = []
    for act, label in scope.prefix:
        prefix.append(LockstepStep(act, label, machine_a.run(act), machine_b.run(act)))
        if prefix[-1].differs:
            return DiffResult(design_a=design_a, design_b=design_b, scope=scope, steps=prefix, pairs=1,
                              transitions=len(prefix), seconds=time.monotonic() - started)
    alphabet = _alphabet(scope, scope_b)
    root = (machine_a.state, machine_b.state)
    parent: dict[tuple[State, State], tuple[tuple[State, State], LockstepStep] | None] = {root: None}
    frontier = [root]
    transitions = 0

    def path_to(pair: tuple[State, State]) -> list[LockstepStep]:
        steps: list[LockstepStep] = []
        link = parent[pair]
        while link is not None:
            pair, step = link
            steps.append(step)
            link = parent[pair]
        return [*prefix, *reversed(steps)]

    for level in range(1, depth + 1):
        next_frontier = []
        for pair in frontier:
            for act in alphabet:
                post_a, obs_a = machine_a.transition(pair[0], act)
                post_b, obs_b = machine_b.transition(pair[1], act)
                transitions += 1
                step = LockstepStep(act, "", Observation.of(obs_a), Observation.of(obs_b))
                if step.differs:
                    return DiffResult(design_a=design_a, design_b=design_b, scope=scope, steps=[*path_to(pair), step],
                                      pairs=len(parent), transitions=transitions, seconds=time.monotonic() - started)
                successor = (post_a, post_b)
                if successor not in parent:
                    parent[successor] = (pair, step)
                    next_frontier.append(successor)
            if progress is not None:
                progress(level, len(parent), transitions)
        frontier = next_frontier
        if not frontier:
            break
    return DiffResult(design_a=design_a, design_b=design_b, scope=scope, steps=None, pairs=len(parent),
                      transitions=transitions, seconds=time.monotonic() - started)


def compare_properties(result: DiffResult, properties: list[Property], depth: int) -> None:
    """Each design's verdict per property, by explicit search of its own scope to the same depth."""
    verdicts: dict[str, list[str]] = {p.id: [] for p in properties}
    for design in (result.design_a, result.design_b):
        exploration = explore(design, default_scope(design, depth), properties, keep_graph=False)
        for p in properties:
            verdicts[p.id].append(VIOLATED if p.id in exploration.violations else HOLDS_BOUNDED)
    result.verdicts = {p: (v[0], v[1]) for p, v in verdicts.items()}
