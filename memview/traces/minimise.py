"""Shrinking a failing trace to a minimal one that still fails the same way.

First delta debugging over steps (Zeller's ddmin: drop chunks, then complements, down to single
steps), then simplification of arguments (each integer tried at smaller values: 0, 1, a page,
half), then of the acting process. The oracle decides what "fails the same way" means: the same
divergence (operation, expected, observed) for conformance, the same property for a violation.
Both the original and the minimal trace are kept by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memview.model.ops import Action
from memview.traces.replay import record
from memview.traces.trace import Trace

Oracle = Callable[[Trace], bool]  # true when the candidate still fails the same way


@dataclass
class Minimised:
    original: Trace
    minimal: Trace
    oracle_calls: int

    @property
    def steps_removed(self) -> int:
        return len(self.original.steps) - len(self.minimal.steps)


def with_actions(trace: Trace, actions: list[Action]) -> Trace:
    """A candidate: these actions with the observations the trace's design gives for them."""
    labels = {id(s.action): s.label for s in trace.steps}
    steps = record(trace.design, trace.config, ((a, labels.get(id(a), "")) for a in actions))
    return Trace(trace.design, trace.config, steps, dict(trace.meta))


class _Budget:
    def __init__(self, oracle: Oracle, limit: int) -> None:
        self.oracle, self.limit, self.calls = oracle, limit, 0

    def __call__(self, trace: Trace, actions: list[Action]) -> bool:
        if self.calls >= self.limit:
            return False
        self.calls += 1
        return self.oracle(with_actions(trace, actions))


def _ddmin(trace: Trace, actions: list[Action], fails: _Budget) -> list[Action]:
    granularity = 2
    while len(actions) >= 2:
        size = max(1, len(actions) // granularity)
        chunks = [actions[i:i + size] for i in range(0, len(actions), size)]
        reduced = False
        for i, chunk in enumerate(chunks):
            complement = [a for j, c in enumerate(chunks) if j != i for a in c]
            if fails(trace, chunk):
                actions, granularity, reduced = chunk, 2, True
                break
            if len(chunks) > 2 and fails(trace, complement):
                actions, granularity, reduced = complement, max(granularity - 1, 2), True
                break
        if not reduced:
            if granularity >= len(actions):
                break
            granularity = min(len(actions), granularity * 2)
    return actions


def _smaller(value: int, page: int) -> list[int]:
    candidates = [0, 1, page, value // 2, value - page]
    return sorted({c for c in candidates if 0 <= c < value})


def _simplify_arguments(trace: Trace, actions: list[Action], fails: _Budget) -> list[Action]:
    page = trace.config.page_size
    changed = True
    while changed:
        changed = False
        for index, act in enumerate(actions):
            for position, value in enumerate(act.args):
                for smaller in _smaller(value, page):
                    args = (*act.args[:position], smaller, *act.args[position + 1:])
                    candidate = [*actions[:index], Action(act.name, act.proc, args), *actions[index + 1:]]
                    if fails(trace, candidate):
                        actions, act, changed = candidate, candidate[index], True
                        break
            for proc in range(act.proc):  # fewer clients: the lowest process that still fails
                candidate = [*actions[:index], Action(act.name, proc, act.args), *actions[index + 1:]]
                if fails(trace, candidate):
                    actions, changed = candidate, True
                    break
    return actions


def minimise(trace: Trace, oracle: Oracle, max_calls: int = 2000) -> Minimised:
    """The smallest trace found that the oracle still rejects; the original if it does not."""
    fails = _Budget(oracle, max_calls)
    actions = trace.actions()
    if not fails(trace, actions):
        return Minimised(trace, trace, fails.calls)
    actions = _ddmin(trace, actions, fails)
    actions = _simplify_arguments(trace, actions, fails)
    actions = _ddmin(trace, actions, fails)  # simpler arguments can make more steps removable
    return Minimised(trace, with_actions(trace, actions), fails.calls)
