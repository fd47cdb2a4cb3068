"""Abstractions of explored states, and the quotient of the reachable graph under one.

An abstraction maps a concrete `State` (under its `Config`) to a small hashable label that a
person can read: the view's layout page by page, or what each client has mapped and cached. The
quotient of explicit search's graph under it has one node per label and one edge per (source
label, target label, edge label), where an edge label is an operation with its arguments in short
form and the outcome ("B1 read @0 → SIGBUS/BUS_ADRERR"); concrete edges that fall on the same
abstract edge are merged and counted, and the first one met in breadth-first order is kept as its
witness, so a trace can be concretised from any abstract edge (`witness_steps`): the shortest path
to the witness's source, then its action. Abstract node 0 is the label of the post-set-up state.

Explicit search's graph records one action per pair of states (the first it found), so most
actions that change nothing (a failing MAP_FD, an access that faults) have no edge of their own.
The quotient is taken of those recorded edges by default, and of every transition when given
`every_transition`'s list, which steps every action of the alphabet again from every expanded
state. `none` is the identity: its quotient of the recorded edges is explicit search's graph
itself, node for node and edge for edge.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import networkx as nx

from memview.checker.alphabet import Scope
from memview.checker.explore import Exploration, path_to
from memview.errors import InputError
from memview.model.arguments import ARG_KINDS, mapping_text, perms_text, who
from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.constants import MMAP_BASE, PERM_ALL, VMA_RAW
from memview.model.design import Design
from memview.model.encodings import cached_spans, raw_object
from memview.model.interval_map import IntervalMap
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.queries import mapped_pages
from memview.model.state import State
from memview.traces.trace import Step

Label = tuple[str, ...]  # the lines of an abstract node's readable text
SHOWN_PAGES = 16  # view pages a label spells out; more are summarised


@dataclass(frozen=True)
class Abstraction:
    name: str
    description: str
    key: Callable[[State, Config], Hashable]  # the abstract label of a concrete state
    lines: Callable[[Hashable, Config], Label]  # the label's readable lines
    concrete: bool = False  # the identity: nodes are concrete states


# ---------------------------------------------------------------------------------------------
# Labels


def _pages(count: int) -> str:
    return "1 page" if count == 1 else f"{count} pages"


def _page_span(lo: int, hi: int) -> str:
    return f"v{lo}" if hi == lo + 1 else f"v{lo}-{hi - 1}"


def _marked_pages(table: IntervalMap, limit: int) -> list[str]:
    """The view pages below limit where table is set, as spans."""
    return [_page_span(lo, hi) for lo, hi, value in table.segments(0, limit) if value]


def view_pages(state: State, config: Config) -> int:
    """Pages a label shows: the view's size, or further if a range reaches past it."""
    size = -(-int(state.view.size) // config.page_size)
    ends = [int(r.hi) for r in state.view.ranges if r.used]
    return min(max([size, *ends]), SHOWN_PAGES)


def layout_label(state: State, config: Config) -> Label:
    """Per view page: unmapped, the range's permissions, or revoked (and not mapped since)."""
    view = state.view
    if not view.exists:
        return ("no view",)
    lines = []
    for page in range(view_pages(state, config)):
        rng = next((r for r in view.ranges if r.used and r.lo <= page < r.hi), None)
        if rng is not None:
            lines.append(f"v{page} {perms_text(rng.perms)}")
        else:
            lines.append(f"v{page} {'revoked' if state.revoked.get(page) else 'unmapped'}")
    if not lines:
        lines.append("size 0")
    if not view.control_open:
        lines.append("control fd closed")
    return tuple(lines)


def client_label(state: State, config: Config) -> Label:
    """Per client process (forked children too): each mapping of the view with its protection,
    and the view pages it holds a cached translation (or a private copy) of."""
    lines = []
    limit = SHOWN_PAGES
    for index, proc in enumerate(state.procs):
        if index == 0 or not proc.alive:
            continue
        maps = []
        for vma in sorted((v for v in proc.vmas if v.used), key=lambda v: v.lo):
            lo, _ = mapped_pages(CONCRETE, vma)
            span = _page_span(lo, lo + vma.hi - vma.lo)
            if vma.attrs & VMA_RAW:
                span = f"raw obj{raw_object(CONCRETE, vma)} p{lo}"
            maps.append(f"{span} {mapping_text(vma.attrs)}")
        cached = [_page_span(lo, hi) for lo, hi, _ in cached_spans(proc, 0, limit)]
        copies = _marked_pages(proc.cow, limit)
        name = who(index, config) + (" (child)" if index > config.clients else "")
        lines.append(f"{name}: {', '.join(maps) or 'no mapping'}")
        extra = [f"cached {' '.join(cached)}" if cached else "nothing cached"]
        if copies:
            extra.append(f"copy {' '.join(copies)}")
        lines.append("  " + "; ".join(extra))
    return tuple(lines) or ("no client",)


def _identity(state: State, config: Config) -> Hashable:
    return state


def _concrete_lines(key: Hashable, config: Config) -> Label:
    assert isinstance(key, State)
    return layout_label(key, config) + client_label(key, config)


def _same(key: Hashable, config: Config) -> Label:
    assert isinstance(key, tuple)
    return key


ABSTRACTIONS: dict[str, Abstraction] = {
    a.name: a
    for a in (
        Abstraction("none", "the concrete states themselves: explicit search's graph, node for node",
                    _identity, _concrete_lines, concrete=True),
        Abstraction("layout", "per view page: unmapped, mapped with the range's permissions, or revoked",
                    layout_label, _same),
        Abstraction("client", "per client: its mappings of the view with their protection, and the view "
                    "pages it holds a cached translation (or private copy) of", client_label, _same),
        Abstraction("layout+client", "both: the view's layout and every client's mappings and cache",
                    lambda s, c: (*layout_label(s, c), "--", *client_label(s, c)), _same),
    )
}


def get_abstraction(name: str, place: str = "--abstract") -> Abstraction:
    if name not in ABSTRACTIONS:
        raise InputError(place, f"unknown abstraction {name!r} (choose from {', '.join(ABSTRACTIONS)})")
    return ABSTRACTIONS[name]


# ---------------------------------------------------------------------------------------------
# Edge labels

def _pages_text(value: int, config: Config) -> str:
    if value % config.page_size == 0:
        return f"{value // config.page_size}p" if value else "0"
    return str(value)


def _address_text(value: int, config: Config) -> str:
    """A client address as its page in the mmap area: @0 is the first page mmap hands out."""
    offset = value - MMAP_BASE
    if offset >= 0 and offset % config.page_size == 0:
        return f"@{offset // config.page_size}"
    return hex(value)


def action_text(act: Action, config: Config) -> str:
    """An operation in short form: who, what, and the arguments that tell it apart (bytes
    written are left out: they do not change what an abstraction shows)."""
    p = config.page_size
    name = act.name.removeprefix("view_")
    actor = who(act.proc, config)
    if act.name in ("view_map_fd", "view_unmap_fd"):
        offset, size = act.arg("mem_offset"), act.arg("size")
        where = _page_span(offset // p, (offset + size) // p) if offset % p == 0 and size % p == 0 and size else \
            f"{offset}+{size}"
        if act.name == "view_unmap_fd":
            return f"{actor} unmap_fd {where}"
        perms = perms_text(act.arg("perms")) if not act.arg("perms") & ~PERM_ALL else hex(act.arg("perms"))
        return f"{actor} map_fd {where} ← fd{act.arg('src')}@{_pages_text(act.arg('fd_offset'), config)} {perms}"
    if act.name == "access":
        return f"{actor} {ARG_KINDS['kind'].decode(act.arg('kind'))} {_address_text(act.arg('addr'), config)}"
    parts: list[str] = []
    fd_part = -1
    for (arg, kind), word in zip(act.spec.args, act.args, strict=True):
        value = ARG_KINDS[kind].decode(word)
        if kind == "byte" or (arg == "length" and word == p and act.name != "mmap"):
            continue  # bytes written, and the one-page length of mprotect, munmap and mseal
        if kind == "fd":
            fd_part, shown = len(parts), f"fd{word}"
        elif arg == "offset" and fd_part >= 0:
            parts[fd_part] += f"@{_pages_text(word, config)}"  # where in the file: fd1@1p
            continue
        elif kind == "proc":
            shown = f"→{who(word, config)}"
        elif isinstance(value, list):
            shown = "+".join(value) or "no seals"
        elif isinstance(value, bool):
            shown = arg if value else f"no {arg}"
        elif arg == "addr":
            shown = _address_text(word, config)
        elif arg in ("size", "length"):
            shown = _pages_text(word, config)
        elif kind == "int":
            shown = f"{arg} {word}"
        else:
            shown = str(value)
        parts.append(shown)
    return " ".join([actor, name, *parts])


def outcome_text(observation: Observation) -> str:
    """ok (its value left out: addresses and bytes read), the errno, or the signal/si_code."""
    return "ok" if observation.ok else observation.name


def edge_text(act: Action, observation: Observation, config: Config) -> str:
    return f"{action_text(act, config)} → {outcome_text(observation)}"


# ---------------------------------------------------------------------------------------------
# The quotient


@dataclass(frozen=True)
class Transition:
    """One concrete edge: what an abstract edge stands for (its witness)."""

    source: int  # concrete node (explicit search's numbering)
    target: int
    action: Action
    observation: Observation


Witness = Transition


@dataclass
class AbstractGraph:
    abstraction: Abstraction
    config: Config
    graph: nx.MultiDiGraph  # nodes 0..n-1 (0: the post-set-up state's label); edges keyed by label
    keys: list[Hashable]  # abstract node -> its label
    index: dict[Hashable, int] = field(repr=False)
    concrete_nodes: int
    concrete_edges: int  # the transitions quotiented

    @property
    def nodes(self) -> int:
        return int(self.graph.number_of_nodes())

    @property
    def edges(self) -> int:
        return int(self.graph.number_of_edges())

    def node_text(self, node: int) -> str:
        lines = self.abstraction.lines(self.keys[node], self.config)
        if self.abstraction.concrete:
            lines = (f"state {self.graph.nodes[node]['witness']}", *lines)
        return "\n".join(lines)

    def witnesses(self) -> list[tuple[int, int, str, Witness]]:
        """(source, target, edge label, witness) of every abstract edge."""
        return [(u, v, k, data["witness"]) for u, v, k, data in self.graph.edges(keys=True, data=True)]


def graph_of(exploration: Exploration) -> nx.DiGraph:
    """The exploration's graph; an exploration made with keep_graph=False has none to take apart."""
    if exploration.graph is None:
        raise ValueError("this exploration kept no graph: explore with keep_graph=True")
    return exploration.graph


def recorded_transitions(graph: nx.DiGraph) -> list[Transition]:
    """The edges explicit search recorded: one action per pair of states, the first it found."""
    return [Transition(u, v, data["action"], data["observation"]) for u, v, data in graph.edges(data=True)]


def every_transition(exploration: Exploration, design: Design, scope: Scope) -> list[Transition]:
    """Every action of scope's alphabet from every state explicit search expanded (those above its
    depth), stepped again: the edges it recorded and every other action with the same source and
    target (a second failing MAP_FD, an access that faults and changes nothing)."""
    machine = Machine(design, scope.config)
    index = {state: node for node, state in enumerate(exploration.states)}
    out = []
    for node, depth in graph_of(exploration).nodes(data="depth"):
        if depth >= scope.depth:
            continue
        pre = exploration.states[node]
        for act in scope.alphabet:
            post, obs = machine.transition(pre, act)
            target = index.get(post)
            if target is None:
                raise RuntimeError(f"state {node} at depth {depth} was not fully expanded by explicit search")
            out.append(Transition(node, target, act, Observation.of(obs)))
    return out


def quotient(graph: nx.DiGraph, states: list[State], abstraction: Abstraction, config: Config,
             transitions: list[Transition] | None = None) -> AbstractGraph:
    """The quotient under abstraction of explicit search's graph (nodes index states): of its
    recorded edges, or of the transitions given."""
    if transitions is None:
        transitions = recorded_transitions(graph)
    out = nx.MultiDiGraph()
    keys: list[Hashable] = []
    index: dict[Hashable, int] = {}
    of_node: dict[int, int] = {}
    for node in sorted(graph.nodes):  # breadth-first numbering: node 0 is the post-set-up state
        key = abstraction.key(states[node], config)
        abstract = index.get(key)
        if abstract is None:
            abstract = index[key] = len(keys)
            keys.append(key)
            out.add_node(abstract, witness=node, states=0, depth=graph.nodes[node].get("depth", 0))
        out.nodes[abstract]["states"] += 1
        of_node[node] = abstract
    for edge in transitions:  # in breadth-first order, so each witness is one of the first found
        a, b = of_node[edge.source], of_node[edge.target]
        label = edge_text(edge.action, edge.observation, config)
        if out.has_edge(a, b, key=label):
            out.edges[a, b, label]["count"] += 1
        else:
            out.add_edge(a, b, key=label, label=label, count=1, witness=edge)
    return AbstractGraph(abstraction, config, out, keys, index, graph.number_of_nodes(), len(transitions))


def abstract_graph(exploration: Exploration, name: str, config: Config,
                   transitions: list[Transition] | None = None) -> AbstractGraph:
    """The quotient of an exploration under the abstraction called name: of the edges explicit
    search recorded (the default), or of the transitions given (`every_transition`)."""
    return quotient(graph_of(exploration), exploration.states, get_abstraction(name), config, transitions)


def witness_steps(exploration: Exploration, witness: Witness) -> list[Step]:
    """Steps after the set-up prefix that take the concrete edge: a shortest path to its source,
    then its action (prepend `exploration.prefix_steps` for a whole trace)."""
    return [*path_to(exploration, witness.source), Step(witness.action, witness.observation)]
