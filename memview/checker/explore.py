"""Explicit-state breadth-first search of a small concrete configuration.

Reachable states are numbered in the order found; each remembers the transition that first reached
it (its BFS parent), which is all a shortest counterexample needs. The whole graph (a networkx
DiGraph whose edges carry the action and the observation) is kept too unless the caller only wants
the visited set (`keep_graph=False`, for memory). Every transition is judged by every selected step
property, and ISOL by running the same action on a copy of the pre-state whose unreadable backing
bytes differ. Breadth-first order makes the first violation of each property a shortest one (after
the set-up prefix).

Most transitions of the alphabet are refusals: an errno that leaves the state as it was. Judging one
cannot find a violation (memview.properties.judge), so `judge_refusals=False` (the default) skips
them; `tests/test_explore.py` checks the shortcut finds exactly what full judging finds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx

from memview.checker.alphabet import Scope, SetUp
from memview.checker.result import PropertyResult, Verdict
from memview.checker.symmetry import ClientSymmetry, Permutation, concrete_actions
from memview.model.concrete import CONCRETE
from memview.model.design import Design
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.state import State
from memview.model.step import step
from memview.properties.catalogue import Property
from memview.properties.judge import StateJudge
from memview.traces.trace import Step, Trace

Progress = Callable[[int, int, int], None]  # depth, states, transitions


@dataclass
class Violation:
    node: int
    action: Action
    states: int  # states known when it was found
    seconds: float  # since the search started


@dataclass
class Exploration:
    graph: nx.DiGraph | None  # nodes: ints (0 = the state after the prefix); edge data: action, observation
    states: list[State]
    parents: list[tuple[int, Action, Observation] | None]  # how BFS first reached each state
    violations: dict[str, Violation]
    transitions: int
    seconds: float
    set_up: SetUp
    judged: int = 0  # transitions judged against the properties (the rest were refusals)
    symmetry: ClientSymmetry | None = None
    permutations: list[Permutation] = field(default_factory=list)  # per state, when symmetry reduced it

    @property
    def prefix_steps(self) -> list[Step]:
        return list(self.set_up.steps)

    @property
    def states_per_second(self) -> float:
        return len(self.states) / self.seconds if self.seconds > 0 else 0.0


def explore(design: Design, scope: Scope, properties: list[Property], progress: Progress | None = None,
            stop_when_all_violated: bool = True, keep_graph: bool = True,
            judge_refusals: bool = False, reduce_symmetry: bool = True, stop_at_first: bool = False) -> Exploration:
    """Breadth-first search of scope from its set-up. When the scope's clients are interchangeable
    (`Scope.symmetric_clients`) one state per orbit is stored, unless reduce_symmetry is false.
    stop_at_first ends the search at the first violation of any property (mutation analysis's time
    to the first counterexample)."""
    start = time.monotonic()
    symmetry = ClientSymmetry(scope.symmetric_clients) if reduce_symmetry and scope.symmetric_clients > 1 else None
    set_up = scope.set_up(design)
    ctx = set_up.machine().ctx
    root = set_up.state
    permutations: list[Permutation] = []
    if symmetry is not None:
        root, root_perm = symmetry.canonical(root)
        permutations.append(root_perm)
    graph = nx.DiGraph() if keep_graph else None
    index: dict[State, int] = {root: 0}
    states = [root]
    parents: list[tuple[int, Action, Observation] | None] = [None]
    if graph is not None:
        graph.add_node(0, depth=0)
    violations: dict[str, Violation] = {}
    pending = list(properties)
    ops = [(act, act.to_op(CONCRETE)) for act in scope.alphabet]
    frontier = [0]
    transitions = judged = 0
    for depth in range(1, scope.depth + 1):
        next_frontier = []
        for node in frontier:
            pre = states[node]
            judge = StateJudge(ctx, pending, pre, judge_refusals)
            for act, op in ops:
                post, obs = step(ctx, pre, op)
                transitions += 1
                if pending and judge.judges(obs, post):
                    judged += 1
                    found = judge.violations(act, op, obs, post)
                    for prop_id in found:
                        violations[prop_id] = Violation(node, act, len(states), time.monotonic() - start)
                    if found:
                        pending = [p for p in pending if p.id not in violations]
                        judge = StateJudge(ctx, pending, pre, judge_refusals)
                    if stop_at_first and violations:
                        return Exploration(graph, states, parents, violations, transitions, time.monotonic() - start,
                                           set_up, judged, symmetry, permutations)
                perm: Permutation = ()
                if symmetry is not None:  # judged as it is, stored as its orbit's representative
                    post, perm = symmetry.canonical(post)
                target = index.get(post)
                if target is None:
                    target = len(states)
                    index[post] = target
                    states.append(post)
                    parents.append((node, act, Observation.of(obs)))
                    if symmetry is not None:
                        permutations.append(perm)
                    if graph is not None:
                        graph.add_node(target, depth=depth)
                    next_frontier.append(target)
                if graph is not None and not graph.has_edge(node, target):
                    graph.add_edge(node, target, action=act, observation=Observation.of(obs))
            if progress is not None:
                progress(depth, len(states), transitions)
            if stop_when_all_violated and len(violations) == len(properties):
                break
        frontier = next_frontier
        if not frontier or (stop_when_all_violated and len(violations) == len(properties)):
            break
    return Exploration(graph, states, parents, violations, transitions, time.monotonic() - start, set_up,
                       judged, symmetry, permutations)


def path_to(exploration: Exploration, node: int) -> list[Step]:
    """The BFS-shortest steps from the post-prefix state to node, by the parents that first reached it."""
    steps = []
    while (parent := exploration.parents[node]) is not None:
        node, act, observation = parent
        steps.append(Step(act, observation))
    return steps[::-1]


def counterexample(design: Design, scope: Scope, exploration: Exploration, prop: str) -> Trace:
    """The prefix, the shortest path to the violating state, and the violating step."""
    violation = exploration.violations[prop]
    set_up = exploration.set_up
    if exploration.symmetry is None:
        last = SetUp(design, scope.config, exploration.states[violation.node], ()).machine().run(violation.action)
        steps = [*path_to(exploration, violation.node), Step(violation.action, last)]
        return set_up.trace_of(steps, {"property": prop, "engine": "explore"})
    # Each action of the reduced path was taken on a representative: rename it back to the processes
    # of a run from the real start, and record what that run observes.
    path: list[tuple[Action, Permutation]] = []
    node = violation.node
    while (parent := exploration.parents[node]) is not None:
        path.append((parent[1], exploration.permutations[node]))
        node = parent[0]
    actions = concrete_actions(exploration.permutations[0], [*path[::-1], (violation.action, None)])
    return set_up.trace(actions, {"property": prop, "engine": "explore", "symmetry": "clients"})


def results(design: Design, scope: Scope, exploration: Exploration, properties: list[Property]) -> list[PropertyResult]:
    out = []
    for prop in properties:
        violation = exploration.violations.get(prop.id)
        trace = counterexample(design, scope, exploration, prop.id) if violation else None
        out.append(PropertyResult(
            property_id=prop.id,
            verdict=Verdict.VIOLATED if violation else Verdict.HOLDS_BOUNDED,
            engine="explore",
            how=(f"counterexample: {len(trace.steps)} steps" if trace else
                 f"explore: all {len(exploration.states):,} states to depth {scope.depth} "
                 f"({exploration.states_per_second:,.0f} states/s)"),
            states=violation.states if violation else len(exploration.states),
            transitions=exploration.transitions,
            seconds=violation.seconds if violation else exploration.seconds,
            counterexample=trace,
        ))
    return out
