"""`memview generate`: coverage traces. Edge coverage reaches every edge of the abstract graph
(checked by replaying the traces and abstracting what they do), decision traces end where the
design and the variant first differ, property traces end where a broken variant breaks the
property; every trace replays on the reference backend with its own observations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memview.backends.model import ModelBackend
from memview.checker.abstraction import abstract_graph, edge_text, every_transition, get_abstraction
from memview.checker.alphabet import default_scope
from memview.checker.coverage import cover_decisions, cover_edges, cover_properties
from memview.checker.explore import explore
from memview.cli import main
from memview.model.design import SEED
from memview.model.machine import Machine
from memview.properties.catalogue import BY_ID
from memview.traces.conform import CONFORM, DIVERGE, conform, judged_as
from memview.traces.itf import read_trace
from memview.traces.replay import replay_on_model


@pytest.mark.parametrize("abstraction", ["layout", "client"])
def test_edge_traces_cover_every_abstract_edge(abstraction: str) -> None:
    scope = default_scope(SEED, 2)
    exploration = explore(SEED, scope, [], stop_when_all_violated=False)
    coverage = cover_edges(SEED, scope, exploration, abstraction)
    graph = abstract_graph(exploration, abstraction, scope.config, every_transition(exploration, SEED, scope))
    assert coverage.goals == graph.edges and coverage.covered == graph.edges and not coverage.uncovered
    assert coverage.lower_bound == graph.edges <= coverage.steps
    # Independently: replay every trace and abstract each step after the set-up.
    key = get_abstraction(abstraction).key
    seen = set()
    prefix = len(scope.prefix)
    for name, trace in coverage.traces:
        assert conform(name, trace, ModelBackend()).status == CONFORM
        machine = Machine(SEED, scope.config)
        for index, step in enumerate(trace.steps):
            pre = machine.state
            assert machine.run(step.action) == step.observation
            if index >= prefix:
                seen.add((graph.index[key(pre, scope.config)], graph.index[key(machine.state, scope.config)],
                          edge_text(step.action, step.observation, scope.config)))
    assert seen == {(u, v, k) for u, v, k, _ in graph.witnesses()}


def test_decision_traces_end_where_the_variant_first_differs() -> None:
    coverage = cover_decisions(SEED, 3)
    assert coverage.covered == coverage.goals == len(coverage.traces) and not coverage.uncovered
    for name, trace in coverage.traces:
        decision, variant = trace.meta["variant"].split("=")
        other = SEED.with_choices("other", {decision: variant})
        verdict = conform(name, trace, ModelBackend(pinned=other))
        assert verdict.status == DIVERGE and verdict.step == len(trace.steps) - 1, name


def test_property_traces_end_where_a_broken_variant_breaks_the_property() -> None:
    coverage = cover_properties(SEED, default_scope(SEED, 3))
    assert {"AND", "REVOKE", "XLATE", "CAP", "ISOL"} <= {t.meta["property"] for _, t in coverage.traces}
    assert len(coverage.uncovered) == coverage.goals - coverage.covered
    for name, trace in coverage.traces:
        assert conform(name, trace, ModelBackend()).status == CONFORM
        assert not any(step.violated for step in replay_on_model(trace, [BY_ID[trace.meta["property"]]]))
        decision, variant = trace.meta["broken_by"].split("=")
        broken = judged_as(trace, SEED.with_choices(trace.meta["broken_by"], {decision: variant}))
        assert trace.meta["property"] in replay_on_model(broken, [BY_ID[trace.meta["property"]]])[-1].violated


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as leaving:
        main(list(args))
    out, err = capsys.readouterr()
    return int(leaving.value.code or 0), out, err


def test_cli_writes_the_traces_and_reports_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "generate", "--coverage", "edges", "--coverage", "decisions", "--depth", "2",
                             "--out", str(tmp_path), "--json")
    data = json.loads(out)
    assert status == 0
    edges, decisions = data["results"]
    assert edges["covered"] == edges["goals"] > 0 and decisions["covered"] == decisions["goals"]
    files = sorted(tmp_path.glob("*.itf.json"))
    assert len(files) == edges["traces"] + decisions["traces"] == len(data["written"])
    for path in files[:5]:
        trace = read_trace(path)
        assert trace.design.decisions() == SEED.decisions()
        assert conform(path.name, trace, ModelBackend()).status == CONFORM
    status, out, _ = run_cli(capsys, "generate", "--depth", "1")
    assert status == 0 and "edges (layout)" in out and "(100%)" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--coverage", "lines"], "unknown coverage 'lines'"),
    (["--abstract", "pages"], "pages"),
    (["--depth", "0"], "--depth"),
    (["--depth", "9"], "--depth"),
    (["--design", "nope"], "unknown design"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "generate", *args)
    assert status == 2 and err.count("\n") == 1 and message in err
