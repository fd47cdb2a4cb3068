"""Regression traces generated for coverage: of the edges of an abstract state graph, of the
decisions a design takes, and of the properties' interesting steps.

Edges: the abstract graph is the quotient of every transition of a small configuration
(`abstraction.every_transition`), so each abstract edge stands for concrete transitions. A trace is
a concrete walk from the post-set-up state: it repeatedly goes, by a shortest concrete path, to the
nearest transition whose abstract edge no trace has covered yet, and takes it; when nothing
uncovered is reachable it ends and the next trace starts again from the set-up. Every step covers
at most one new abstract edge, so the number of abstract edges is a lower bound on the steps, and
steps / edges says how close a set of traces is to it.

Decisions: for every other variant of every decision, the shortest trace on which the design and
that variant differ (`diff.lockstep`), recorded with the design's observations.

Properties: for every property, the shortest trace on which some deliberately broken variant of the
design violates it (explicit search of each broken variant), recorded with the design's
observations: the steps at which a mistake would show. A property no broken variant breaks within
the depth is reported as not covered.

Every trace carries the design's observations, ready to replay on any backend.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from memview.checker.abstraction import AbstractGraph, Transition, abstract_graph, edge_text, every_transition
from memview.checker.alphabet import Scope, default_scope
from memview.checker.diff import lockstep
from memview.checker.explore import Exploration, counterexample, explore
from memview.errors import InputError
from memview.model.design import DECISIONS, Design
from memview.properties.catalogue import CATALOGUE
from memview.traces.conform import judged_as
from memview.traces.trace import Step, Trace

COVERAGES = ("edges", "decisions", "properties")
MAX_WALK = 40  # steps after the set-up in one generated trace, so each stays readable


@dataclass
class Coverage:
    kind: str
    design: Design
    traces: list[tuple[str, Trace]]  # (name, trace)
    goals: int  # abstract edges, decision variants, or properties
    covered: int
    uncovered: list[str] = field(default_factory=list)  # what could not be covered, and why
    lower_bound: int | None = None  # fewest steps (after the set-up) that could cover every goal

    @property
    def steps(self) -> int:
        return sum(len(t.steps) - int(t.meta.get("prefix_steps", 0)) for _, t in self.traces)

    def to_json(self) -> dict[str, Any]:
        return {"coverage": self.kind, "design": self.design.name, "traces": len(self.traces), "steps": self.steps,
                "goals": self.goals, "covered": self.covered, "uncovered": self.uncovered,
                "lower_bound_steps": self.lower_bound}


def edge_key(abstract_of: dict[int, int], edge: Transition, label: str) -> tuple[int, int, str]:
    return abstract_of[edge.source], abstract_of[edge.target], label


def cover_edges(design: Design, scope: Scope, exploration: Exploration, abstraction: str) -> Coverage:
    transitions = every_transition(exploration, design, scope)
    graph = abstract_graph(exploration, abstraction, scope.config, transitions)
    abstract_of = {node: graph.index[graph.abstraction.key(state, scope.config)]
                   for node, state in enumerate(exploration.states)}
    labelled = [(t, edge_key(abstract_of, t, label)) for t, label in
                ((t, _label(graph, t)) for t in transitions)]
    outgoing: dict[int, list[Edge]] = {}
    for t, key in labelled:
        outgoing.setdefault(t.source, []).append((t, key))
    goals = {key for _, key in labelled}
    uncovered = set(goals)
    traces: list[tuple[str, Trace]] = []
    while uncovered:
        walk = _walk(outgoing, uncovered)
        if not walk:
            break  # nothing uncovered is reachable from the set-up any more
        name = f"{design.name}-edges-{len(traces) + 1:02d}"
        traces.append((name, exploration.set_up.trace_of((Step(t.action, t.observation) for t in walk), {
            "coverage": f"edges of the {abstraction} graph, depth {scope.depth}",
            "prefix_steps": len(exploration.set_up.steps)})))
    missing = [f"{a}->{b} {label}" for a, b, label in sorted(uncovered)]
    return Coverage("edges", design, traces, len(goals), len(goals) - len(uncovered), missing, len(goals))


def _label(graph: AbstractGraph, t: Transition) -> str:
    return edge_text(t.action, t.observation, graph.config)


Edge = tuple[Transition, tuple[int, int, str]]  # a concrete transition and its abstract edge


def _walk(outgoing: dict[int, list[Edge]], uncovered: set[tuple[int, int, str]]) -> list[Transition]:
    """One trace: from the post-set-up state, to the nearest uncovered abstract edge, and on."""
    walk: list[Transition] = []
    node = 0
    while len(walk) < MAX_WALK:
        path = _nearest(outgoing, node, uncovered)
        if path is None or len(walk) + len(path) > MAX_WALK:
            break
        for t, key in path:
            walk.append(t)
            uncovered.discard(key)
        node = path[-1][0].target
    return walk


def _nearest(outgoing: dict[int, list[Edge]], start: int, uncovered: set[tuple[int, int, str]]) -> list[Edge] | None:
    """A shortest concrete path from start that ends by taking a transition of an uncovered edge."""
    parents: dict[int, tuple[int, Edge] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in outgoing.get(node, []):
            t, key = edge
            if key in uncovered:
                path = [edge]
                at = node
                while (parent := parents[at]) is not None:
                    at, via = parent
                    path.append(via)
                return path[::-1]
            if t.target not in parents:
                parents[t.target] = (node, edge)
                queue.append(t.target)
    return None


def cover_decisions(design: Design, depth: int) -> Coverage:
    traces: list[tuple[str, Trace]] = []
    missing = []
    goals = 0
    for decision in DECISIONS:
        if decision.broken:
            continue
        for variant in decision.variants:
            if variant == design[decision.name]:
                continue
            goals += 1
            other = design.with_choices(f"{decision.name}={variant}", {decision.name: variant})
            result = lockstep(design, other, depth)
            if result.steps is None:
                missing.append(f"{decision.name}={variant}: no difference within depth {depth}")
                continue
            trace, _ = result.traces()
            trace.meta = {"coverage": f"decision {decision.name}: {design[decision.name]}, not {variant}",
                          "variant": f"{decision.name}={variant}"}
            traces.append((f"{design.name}-{decision.name}-not-{variant}", trace))
    return Coverage("decisions", design, traces, goals, len(traces), missing)


def broken_counterexamples(design: Design, depth: int) -> dict[tuple[str, str], Trace]:
    """Explicit search's shortest counterexample for every property each deliberately broken
    variant of the design violates within depth, keyed by (variant as decision=variant, property),
    recorded under that variant."""
    out = {}
    for decision in DECISIONS:
        if not decision.broken:
            continue
        for variant in list(decision.variants)[1:]:
            broken = design.with_choices(f"{decision.name}={variant}", {decision.name: variant})
            scope = default_scope(broken, depth)
            found = explore(broken, scope, list(CATALOGUE), keep_graph=False)
            for prop in CATALOGUE:
                if prop.id in found.violations:
                    out[broken.name, prop.id] = counterexample(broken, scope, found, prop.id)
    return out


def cover_properties(design: Design, scope: Scope) -> Coverage:
    best: dict[str, Trace] = {}
    for (_, prop_id), trace in broken_counterexamples(design, scope.depth).items():
        if prop_id not in best or len(trace.steps) < len(best[prop_id].steps):
            best[prop_id] = trace
    traces = []
    for prop in CATALOGUE:
        if prop.id in best:
            broken_trace = best[prop.id]
            trace = judged_as(broken_trace, design)
            trace.meta = {"coverage": f"property {prop.id}: the step where {broken_trace.design.name} breaks it",
                          "property": prop.id, "broken_by": broken_trace.design.name}
            traces.append((f"{design.name}-property-{prop.id}", trace))
    missing = [f"{p.id}: no broken variant violates it within depth {scope.depth}" for p in CATALOGUE
               if p.id not in best]
    return Coverage("properties", design, traces, len(CATALOGUE), len(traces), missing)


def check_request(kinds: tuple[str, ...], depth: int | None, abstraction: str) -> None:
    """Refuse an unknown coverage, abstraction or depth as bad input before any search runs."""
    from memview.checker.abstraction import get_abstraction
    from memview.checker.graphs import MAX_DEPTH

    for kind in kinds:
        if kind not in COVERAGES:
            raise InputError("--coverage", f"unknown coverage {kind!r} (choose from {', '.join(COVERAGES)})")
    get_abstraction(abstraction)
    if depth is not None and not 1 <= depth <= MAX_DEPTH:
        raise InputError("--depth", f"must be between 1 and {MAX_DEPTH}, got {depth}")


def generate_traces(design: Design, kinds: tuple[str, ...], depth: int | None = None,
             abstraction: str = "layout") -> list[Coverage]:
    """What `memview generate` writes (and the pytest plugin's `generate:KIND` traces): each kind's
    coverage once, in the order given; depth defaults to 2 for edges and 3 for the others."""
    from memview.checker.graphs import Limits, bounded_exploration

    check_request(kinds, depth, abstraction)
    results = []
    for kind in dict.fromkeys(kinds):
        at = depth or (2 if kind == "edges" else 3)
        scope = default_scope(design, at)
        scope.set_up(design)  # a design the set-up cannot serve is bad input, before any search
        if kind == "edges":
            exploration = bounded_exploration(design, scope, abstraction, Limits(max_nodes=1 << 30))
            results.append(cover_edges(design, scope, exploration, abstraction))
        elif kind == "decisions":
            results.append(cover_decisions(design, at))
        else:
            results.append(cover_properties(design, scope))
    return results
