"""State graphs: the concrete graph is explicit search's, quotients are sound (every abstract edge
has a concrete witness that replays), and `memview graph` writes every format or refuses in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from test_cli import assert_bad_input  # one rule for bad input, shared with the CLI tests

from memview.checker.abstraction import ABSTRACTIONS, Transition, abstract_graph, every_transition, witness_steps
from memview.checker.alphabet import default_scope
from memview.checker.explore import Exploration, explore
from memview.model.design import SEED
from memview.model.machine import Machine
from memview.model.observation import Observation

SCOPE = default_scope(SEED, depth=2)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (make graphviz installs it)")


@pytest.fixture(scope="module")
def exploration() -> Exploration:
    return explore(SEED, SCOPE, [], stop_when_all_violated=False)


@pytest.fixture(scope="module")
def transitions(exploration: Exploration) -> dict[str, list[Transition] | None]:
    """The quotient's input: explore's recorded edges (None), or every transition stepped again."""
    return {"recorded": None, "all": every_transition(exploration, SEED, SCOPE)}


def memview(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memview.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)




def test_concrete_graph_is_explores(exploration: Exploration) -> None:
    graph = abstract_graph(exploration, "none", SCOPE.config)
    assert graph.nodes == len(exploration.states) == 202  # seed at depth 2, measured
    assert graph.edges == exploration.graph.number_of_edges() == 358
    assert (graph.concrete_nodes, graph.concrete_edges) == (graph.nodes, graph.edges)


def test_every_transition_is_explores_steps(exploration: Exploration,
                                            transitions: dict[str, list[Transition] | None]) -> None:
    """Stepped again, every action from every expanded state: explore's transition count, between
    exactly the pairs of states explore recorded an edge for."""
    every = transitions["all"]
    assert every is not None and len(every) == exploration.transitions == 1235
    assert {(t.source, t.target) for t in every} == set(exploration.graph.edges)
    graph = abstract_graph(exploration, "none", SCOPE.config, every)
    assert graph.nodes == len(exploration.states)
    assert graph.edges == len(every)  # no two actions of the alphabet share a label


@pytest.mark.parametrize("mode", ["recorded", "all"])
@pytest.mark.parametrize("name", list(ABSTRACTIONS))
def test_quotient_nodes_are_the_labels_of_the_explored_states(
        exploration: Exploration, transitions: dict[str, list[Transition] | None], name: str, mode: str) -> None:
    abstraction = ABSTRACTIONS[name]
    graph = abstract_graph(exploration, name, SCOPE.config, transitions[mode])
    labels = [abstraction.key(state, SCOPE.config) for state in exploration.states]
    assert set(graph.keys) == set(labels)
    assert graph.nodes == len(set(labels))
    assert graph.keys[0] == labels[0]  # node 0 is the post-set-up state's label
    assert sum(data["states"] for _, data in graph.graph.nodes(data=True)) == len(exploration.states)
    edges = exploration.graph.number_of_edges() if mode == "recorded" else exploration.transitions
    assert sum(data["count"] for *_, data in graph.graph.edges(data=True)) == graph.concrete_edges == edges
    if name != "none":
        assert graph.nodes < len(exploration.states)


@pytest.mark.parametrize("mode", ["recorded", "all"])
@pytest.mark.parametrize("name", ["layout", "client", "layout+client"])
def test_every_abstract_edge_has_a_witness_that_replays(
        exploration: Exploration, transitions: dict[str, list[Transition] | None], name: str, mode: str) -> None:
    abstraction = ABSTRACTIONS[name]
    graph = abstract_graph(exploration, name, SCOPE.config, transitions[mode])
    for source, target, label, witness in graph.witnesses():
        pre = exploration.states[witness.source]
        assert abstraction.key(pre, SCOPE.config) == graph.keys[source]
        post, obs = Machine(SEED, SCOPE.config).transition(pre, witness.action)
        assert Observation.of(obs) == witness.observation, label
        assert abstraction.key(post, SCOPE.config) == graph.keys[target], label
        # Concretised from the start: the set-up, a shortest path to the source, the action.
        machine = Machine(SEED, SCOPE.config)
        for step in [*exploration.prefix_steps, *witness_steps(exploration, witness)]:
            assert machine.run(step.action) == step.observation
        assert abstraction.key(machine.state, SCOPE.config) == graph.keys[target]


def test_edge_labels_are_operation_and_outcome(exploration: Exploration,
                                               transitions: dict[str, list[Transition] | None]) -> None:
    graph = abstract_graph(exploration, "layout", SCOPE.config, transitions["all"])
    labels = {key for *_, key in graph.graph.edges(keys=True)}
    assert "A unmap_fd v0 → ok" in labels
    assert "A map_fd v0 ← fd3@0 rw- → EACCES" in labels  # the file is read-only
    assert "B1 read @0 → ok" in labels
    # Revocation as the picture shows it: B1's read of a revoked page faults and changes no layout.
    revoked = graph.index[("v0 revoked", "v1 r--")]
    assert graph.graph.has_edge(revoked, revoked, key="B1 read @0 → SIGBUS/BUS_ADRERR")
    # Explore's recorded edges hold none of the faults: each is a loop behind an earlier action.
    recorded = abstract_graph(exploration, "layout", SCOPE.config)
    assert not any("SIG" in key for *_, key in recorded.graph.edges(keys=True))


def test_graph_writes_dot_and_graphml(tmp_path: Path) -> None:
    dot = tmp_path / "seed.dot"
    result = memview("graph", "--out", str(dot), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["abstraction"], data["format"], data["transitions"], data["nodes"]) == ("layout", "dot", "all", 19)
    assert data["concrete"] == {"nodes": 202, "edges": 1235}
    text = dot.read_text()
    assert text.startswith("digraph") and "after set-up" in text and "v0 revoked" in text
    assert "B1 read/write @0 → SIGBUS/BUS_ADRERR" in text  # a revoked page's loop, in its box
    recorded = memview("graph", "--transitions", "recorded", "--abstract", "none", "--out", str(dot), "--json")
    assert json.loads(recorded.stdout)["concrete"] == {"nodes": 202, "edges": 358}
    graphml = tmp_path / "seed.graphml"
    assert memview("graph", "--abstract", "client", "--out", str(graphml)).returncode == 0
    read = nx.read_graphml(graphml)
    client = json.loads(memview("graph", "--abstract", "client", "--format", "graphml", "--out",
                                str(tmp_path / "x"), "--json").stdout)
    assert (read.number_of_nodes(), read.number_of_edges()) == (client["nodes"], client["edges"])
    assert all(isinstance(d["label"], str) and d["label"] for _, d in read.nodes(data=True))
    assert sum(d["count"] for *_, d in read.edges(data=True)) == 1235


@needs_dot
def test_graph_renders_png_and_svg(tmp_path: Path) -> None:
    png, svg = tmp_path / "layout.png", tmp_path / "client.svg"
    assert memview("graph", "--out", str(png)).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert memview("graph", "--abstract", "client", "--out", str(svg)).returncode == 0
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def test_graph_without_dot_says_how_to_install_it(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no dot there
    assert_bad_input(memview("graph", "--out", str(tmp_path / "g.png"), env=env), "make graphviz", "apt-get")
    assert not (tmp_path / "g.png").exists()


@pytest.mark.parametrize(("args", "fragments"), [
    (("--abstract", "pages"), ("unknown abstraction 'pages'", "layout+client")),
    (("--depth", "0"), ("--depth", "between 1 and 6")),
    (("--depth", "-2"), ("--depth", "between 1 and 6")),
    (("--depth", "9"), ("--depth", "eightfold per depth", "states", "try --depth 4")),
    (("--max-nodes", "0"), ("--max-nodes", "at least 1")),
    (("--config", "ranges=0"), ("--config.ranges", "between 1 and 64")),
    (("--config", "pages=2"), ("--config", "BOUND=VALUE")),
    (("--config", "vmas=x"), ("--config vmas", "whole number")),
])
def test_bad_input_is_one_line(tmp_path: Path, args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    assert_bad_input(memview("graph", "--out", str(tmp_path / "g.dot"), *args), *fragments)


def test_unknown_suffix_needs_a_format(tmp_path: Path) -> None:
    assert_bad_input(memview("graph", "--out", str(tmp_path / "g.txt")), "--format")


def test_large_graphs_are_refused_with_a_suggestion(tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    # Refused before exploring: the concrete graph at depth 3 is some 1,600 states.
    result = memview("graph", "--abstract", "none", "--depth", "3", "--max-nodes", "500", "--out", str(out))
    assert_bad_input(result, "depth 3", "--max-nodes 500", "--abstract layout", "--depth 2")
    # Refused after the quotient: 19 layout nodes.
    assert_bad_input(memview("graph", "--max-nodes", "10", "--out", str(out)), "19 nodes", "--depth 1")
    assert not out.exists()


@needs_dot
def test_a_slow_rendering_is_stopped(exploration: Exploration, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from memview.checker import graphs
    from memview.errors import InputError

    monkeypatch.setattr(graphs, "RENDER_SECONDS", 0.001)
    out = tmp_path / "g.png"
    with pytest.raises(InputError, match="dot took more than"):
        graphs.render(graphs.to_dot(abstract_graph(exploration, "none", SCOPE.config), "t"), "png", out)
    assert not out.exists()
