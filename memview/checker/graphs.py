"""`memview graph`: explore a small configuration within size limits, take the quotient under an
abstraction, and write it as DOT, GraphML, or a picture rendered by Graphviz's `dot`.

Explicit search's states grow about tenfold per depth, so the size is checked three times and a
graph too large is refused with its size and a suggestion, never left to hang: before exploring
(an estimate from the exploration to depth 2, which takes a fraction of a second), while exploring
(the search is stopped at the limit), and before rendering (the quotient's node count).
"""

from __future__ import annotations

import dataclasses
import html
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from memview.checker.abstraction import AbstractGraph, abstract_graph, every_transition, get_abstraction
from memview.checker.alphabet import Scope, default_scope
from memview.checker.explore import Exploration, explore
from memview.errors import InputError
from memview.model.config import Config
from memview.model.design import Design

FORMATS = {"dot": "dot", "gv": "dot", "graphml": "graphml", "png": "png", "svg": "svg"}
MAX_DEPTH = 6
EXPLORE_LIMIT = 20_000  # concrete states explored, whatever the abstraction (about 1.3M steps, twice)
GROWTH = 8  # states per depth past 2, measured on seed and fdpass (docs/graphs.md)
EDGE_LINES = 4  # edge labels written on one picture edge; the rest are counted
RENDER_SECONDS = 120.0
COARSER = ("none", "layout+client", "client", "layout")  # finest first


def output_format(fmt: str | None, out: Path) -> str:
    if fmt is not None:
        return fmt
    suffix = out.suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise InputError("--format", f"cannot tell the format from {out.name!r}: pass --format dot|graphml|png|svg")
    return FORMATS[suffix]


def configured(scope: Scope, settings: tuple[str, ...]) -> Scope:
    """The scope with bounds changed by KEY=VALUE settings (`--config ranges=1`)."""
    changes: dict[str, int] = {}
    known = {f.name for f in dataclasses.fields(Config)}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or key not in known:
            raise InputError("--config", f"expected BOUND=VALUE with BOUND one of {', '.join(sorted(known))}, "
                             f"got {setting!r}")
        try:
            changes[key] = int(value.strip())
        except ValueError:
            raise InputError(f"--config {key}", f"expected a whole number, got {value!r}") from None
    config = dataclasses.replace(scope.config, **changes)
    config.validate("--config")
    return dataclasses.replace(scope, config=config)


def suggestion(abstraction: str, depth: int) -> str:
    """A coarser abstraction where there is one, and depth when it is a usable one."""
    coarser = COARSER[COARSER.index(abstraction) + 1:] if abstraction in COARSER else ()
    tips = [f"--abstract {coarser[-1]}"] if coarser else []
    if depth >= 1:
        tips.append(f"--depth {depth}")
    return "try " + " or ".join(tips) if tips else "try a smaller configuration (--config)"


@dataclass(frozen=True)
class Limits:
    max_nodes: int
    explore_limit: int = EXPLORE_LIMIT


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Estimate:
    """Explicit search's states by depth: exact to depth 2 (explored: a fraction of a second),
    then GROWTH-fold per depth."""

    depth: int
    states: int

    @staticmethod
    def of(design: Design, scope: Scope) -> Estimate:
        depth = min(scope.depth, 2)
        base = explore(design, dataclasses.replace(scope, depth=depth), [], stop_when_all_violated=False)
        return Estimate(depth, len(base.states))

    def at(self, depth: int) -> int:
        return self.states * int(GROWTH ** max(0, depth - self.depth))

    def deepest(self, cap: int) -> int:
        """The greatest depth up to MAX_DEPTH whose estimate fits cap (0 if none)."""
        return max((d for d in range(1, MAX_DEPTH + 1) if self.at(d) <= cap), default=0)


def bounded_exploration(design: Design, scope: Scope, abstraction: str, limits: Limits) -> Exploration:
    """Explore scope fully, or refuse (InputError) when the graph would be too large."""
    depth = scope.depth
    if depth < 1:
        raise InputError("--depth", f"must be between 1 and {MAX_DEPTH}, got {depth}")
    concrete = get_abstraction(abstraction).concrete
    cap = min(limits.max_nodes, limits.explore_limit) if concrete else limits.explore_limit
    what = f"--max-nodes {limits.max_nodes}" if concrete and limits.max_nodes <= limits.explore_limit else \
        f"the exploration limit of {limits.explore_limit:,} states"
    estimate = Estimate.of(design, scope)
    tip = suggestion(abstraction, estimate.deepest(cap))
    if depth > MAX_DEPTH:
        raise InputError("--depth", f"must be between 1 and {MAX_DEPTH}, got {depth} (explicit search's states "
                         f"grow some eightfold per depth: depth {depth} is some {estimate.at(depth):,} states); {tip}")
    if estimate.at(depth) > cap:
        raise InputError("graph", f"depth {depth} reaches about {estimate.at(depth):,} concrete states, more than "
                         f"{what}; {tip}")

    def stop(level: int, states: int, transitions: int) -> None:
        if states > cap:
            raise TooLarge(f"more than {cap:,} concrete states by depth {level}")

    try:
        return explore(design, scope, [], progress=stop, stop_when_all_violated=False)
    except TooLarge as exc:
        raise InputError("graph", f"{exc}, more than {what}; {suggestion(abstraction, depth - 1)}") from None


TRANSITIONS = ("all", "recorded")


def build_graph(design: Design, depth: int, abstraction: str, limits: Limits, settings: tuple[str, ...] = (),
                transitions: str = "all") -> tuple[Exploration, AbstractGraph]:
    """Explore and take the quotient of every transition ("all") or of the edges explicit search
    recorded ("recorded": one action per pair of states)."""
    get_abstraction(abstraction)
    if transitions not in TRANSITIONS:
        raise InputError("--transitions", f"expected all or recorded, got {transitions!r}")
    if limits.max_nodes < 1:
        raise InputError("--max-nodes", f"must be at least 1, got {limits.max_nodes}")
    scope = configured(default_scope(design, depth), settings)
    scope.start(design)  # a set-up the design (or the bounds) cannot serve is bad input
    exploration = bounded_exploration(design, scope, abstraction, limits)
    edges = every_transition(exploration, design, scope) if transitions == "all" else None
    graph = abstract_graph(exploration, abstraction, scope.config, edges)
    if graph.nodes > limits.max_nodes:
        raise InputError("graph", f"the {abstraction} graph at depth {depth} has {graph.nodes} nodes and "
                         f"{graph.edges} edges, more than --max-nodes {limits.max_nodes}; "
                         f"{suggestion(abstraction, depth - 1)}")
    return exploration, graph


# ---------------------------------------------------------------------------------------------
# Writing


def dot_string(text: str) -> str:
    """A DOT quoted string of lines, each left-justified (\\l)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(line + "\\l" for line in escaped.split("\n")) + '"'


def node_text(graph: AbstractGraph, node: int) -> str:
    text = graph.node_text(node)
    if node == 0:
        text = "after set-up\n" + text
    if not graph.abstraction.concrete:
        states = graph.graph.nodes[node]["states"]
        text += f"\n({states} state{'s' if states != 1 else ''})"
    return text


ACCESS_KINDS = ("read", "write", "exec")


def outcome_rank(label: str) -> int:
    """Signals first (what a client's access met), then errnos, then ok."""
    outcome = label.rsplit(" → ", 1)[-1]
    return 2 if outcome == "ok" else 0 if outcome.startswith("SIG") else 1


def merged_accesses(labels: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Accesses of one address with one outcome on one line: "B1 read/write @0 → SIGBUS/BUS_ADRERR"."""
    groups: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for label, count in labels:
        action, _, outcome = label.rpartition(" → ")
        words = action.split(" ")
        if len(words) == 3 and words[1] in ACCESS_KINDS:
            groups.setdefault((words[0], words[2], outcome), []).append((words[1], count))
        else:
            groups[(label,)] = [("", count)]
    out = []
    for key, members in groups.items():
        if len(key) == 1:
            out.append((key[0], members[0][1]))
        else:
            kinds = "/".join(kind for kind in ACCESS_KINDS if any(kind == m for m, _ in members))
            out.append((f"{key[0]} {kinds} {key[1]} → {key[2]}", sum(c for _, c in members)))
    return out


def edge_lines(labels: list[tuple[str, int]]) -> str:
    """At most EDGE_LINES labels of one arrow: signals first, then errnos, then ok, the most
    frequent first within each; accesses differing only in their kind share a line."""
    labels = sorted(merged_accesses(labels), key=lambda item: (outcome_rank(item[0]), -item[1], item[0]))
    lines = [f"{label} ×{count}" if count > 1 else label for label, count in labels[:EDGE_LINES]]
    if len(labels) > EDGE_LINES:
        lines.append(f"+ {len(labels) - EDGE_LINES} more")
    return "\n".join(lines)


def html_lines(text: str, size: int | None = None) -> str:
    """Rows of a Graphviz HTML-like label, left-aligned, leading spaces kept."""
    rows = []
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        cell = "&#160;" * (len(line) - len(stripped)) + html.escape(stripped, quote=False)
        if size is not None:
            cell = f'<FONT POINT-SIZE="{size}" COLOR="#444444">{cell}</FONT>'
        rows.append(f'<TR><TD ALIGN="LEFT">{cell}</TD></TR>')
    return "".join(rows)


def to_dot(graph: AbstractGraph, title: str) -> str:
    """DOT for a picture: one arrow per pair of abstract nodes, listing its edge labels (the first
    EDGE_LINES, then how many more; GraphML has every one). The labels of a node's loops are
    written in its box, under "stays on", as Graphviz would draw them over other labels."""
    out = [
        "digraph memview {",
        f"  graph [rankdir=LR, fontname=\"DejaVu Sans\", fontsize=12, labelloc=t, label={dot_string(title)}, "
        "nodesep=0.3, ranksep=0.7];",
        '  node [shape=box, style="rounded", fontname="DejaVu Sans Mono", fontsize=10];',
        '  edge [fontname="DejaVu Sans Mono", fontsize=8, color="#555555"];',
    ]
    pairs: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for u, v, key, data in graph.graph.edges(keys=True, data=True):
        pairs[u, v].append((key, data["count"]))
    for node in graph.graph.nodes:
        extra = ', penwidth=2.5, style="rounded,filled", fillcolor="#fff3c4"' if node == 0 else ""
        rows = html_lines(node_text(graph, node))
        if (node, node) in pairs:
            rows += html_lines("stays on:\n" + "\n".join("  " + line for line in
                                                        edge_lines(pairs[node, node]).split("\n")), size=8)
        table = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>'
        out.append(f"  n{node} [label=<{table}>{extra}];")
    for (u, v), labels in pairs.items():
        if u != v:
            out.append(f"  n{u} -> n{v} [label={dot_string(edge_lines(labels))}];")
    out.append("}")
    return "\n".join(out) + "\n"


def write_graphml(graph: AbstractGraph, path: Path) -> None:
    """Every abstract node and edge, with readable string attributes and counts."""
    out = nx.MultiDiGraph(abstraction=graph.abstraction.name)
    for node, data in graph.graph.nodes(data=True):
        out.add_node(f"n{node}", label=graph.node_text(node), states=int(data["states"]),
                     witness=int(data["witness"]), setup=node == 0)
    for u, v, key, data in graph.graph.edges(keys=True, data=True):
        witness = data["witness"]
        out.add_edge(f"n{u}", f"n{v}", key=key, label=key, count=int(data["count"]),
                     witness_source=int(witness.source), witness_target=int(witness.target),
                     witness_action=str(witness.action), witness_observation=str(witness.observation))
    nx.write_graphml(out, str(path))


def dot_missing() -> InputError:
    return InputError("--format", "rendering PNG or SVG needs Graphviz's dot, which is not installed: run "
                      "'make graphviz' (as root) or 'apt-get install graphviz', or write --format dot|graphml")


def render(dot_text: str, fmt: str, path: Path) -> None:
    """Lay dot_text out with Graphviz into path (png or svg), within RENDER_SECONDS."""
    exe = shutil.which("dot")
    if exe is None:
        raise dot_missing()
    with tempfile.NamedTemporaryFile("w", suffix=".dot", encoding="utf-8") as source:
        source.write(dot_text)
        source.flush()
        try:
            result = subprocess.run([exe, f"-T{fmt}", "-o", str(path), source.name], capture_output=True,
                            timeout=RENDER_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            path.unlink(missing_ok=True)
            raise InputError("graph", f"dot took more than {RENDER_SECONDS:g}s to lay the graph out; "
                             "write --format dot or graphml, or pass a smaller --max-nodes") from None
    if result.returncode != 0:
        first = (result.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[0]
        raise RuntimeError(f"dot -T{fmt} failed (exit {result.returncode}): {first}")


def write_graph(graph: AbstractGraph, fmt: str, path: Path, title: str) -> None:
    if not path.parent.is_dir():
        raise InputError("--out", f"{path}: no such directory {path.parent}")
    if fmt in ("png", "svg") and shutil.which("dot") is None:
        raise dot_missing()
    if fmt == "graphml":
        write_graphml(graph, path)
    elif fmt == "dot":
        path.write_text(to_dot(graph, title), encoding="utf-8")
    else:
        render(to_dot(graph, title), fmt, path)


def title_of(design: Design, graph: AbstractGraph, depth: int, transitions: str = "all") -> str:
    edges = "transitions" if transitions == "all" else "recorded edges"
    return (f"design {design.name}: {graph.abstraction.name} graph, depth {depth} after the set-up\n"
            f"{graph.nodes} nodes, {graph.edges} edges (from {graph.concrete_nodes} states, "
            f"{graph.concrete_edges} {edges})")
