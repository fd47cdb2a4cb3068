"""Explicit search: the seed holds where it should, broken designs are caught with shortest traces
that replay on the reference backend to the same violation."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from test_corpus_check import run_cli

from memview.checker.alphabet import default_scope
from memview.checker.check import run_check
from memview.checker.explore import counterexample, explore, path_to
from memview.checker.symmetry import ClientSymmetry, concrete_actions
from memview.errors import InputError
from memview.model.design import DECISIONS, SEED, Decision, Design
from memview.model.ops import action
from memview.properties.catalogue import BY_ID, CATALOGUE
from memview.traces.itf import read_trace
from memview.traces.replay import replay_on_model

PREFIX = len(default_scope(SEED).prefix)


def broken(decision: str, variant: str) -> Design:
    return SEED.with_choices(f"{decision}={variant}", {decision: variant})


def test_seed_holds_every_property_to_depth_2() -> None:
    scope = default_scope(SEED, depth=2)
    exploration = explore(SEED, scope, list(CATALOGUE))
    assert exploration.violations == {}
    assert len(exploration.states) > 100
    assert exploration.graph is not None
    assert exploration.graph.number_of_nodes() == len(exploration.states)
    assert exploration.graph.number_of_edges() > len(exploration.states)


@pytest.mark.parametrize("design", [SEED, broken("revocation", "skip"), broken("perm-combine", "or"),
                                    broken("translation", "mem-offset"), broken("view-fd-ioctl", "accept"),
                                    broken("mseal", "allow")], ids=lambda d: d.name)
def test_skipping_refusals_finds_what_judging_everything_finds(design: Design) -> None:
    """A refusal (an errno, the state unchanged) cannot violate a property: explore may skip
    judging them, and finds the same violations at the same states."""
    scope = default_scope(design, depth=2)
    fast = explore(design, scope, list(CATALOGUE), stop_when_all_violated=False)
    full = explore(design, scope, list(CATALOGUE), stop_when_all_violated=False, judge_refusals=True)
    assert {p: (v.node, v.action) for p, v in fast.violations.items()} == \
        {p: (v.node, v.action) for p, v in full.violations.items()}
    assert fast.judged < full.judged == full.transitions


def test_the_visited_set_alone_gives_the_same_search_and_counterexamples() -> None:
    design = broken("revocation", "skip")
    scope = default_scope(design, depth=3)
    with_graph = explore(design, scope, [BY_ID["REVOKE"]])
    visited_only = explore(design, scope, [BY_ID["REVOKE"]], keep_graph=False)
    assert visited_only.graph is None
    assert visited_only.states == with_graph.states and visited_only.parents == with_graph.parents
    assert with_graph.graph is not None
    node = with_graph.violations["REVOKE"].node
    assert len(path_to(visited_only, node)) == nx.shortest_path_length(with_graph.graph, 0, node)


@pytest.mark.parametrize(
    ("decision", "variant", "prop", "steps_after_prefix"),
    [
        ("revocation", "skip", "REVOKE", 3),  # read (caches), UNMAP_FD, read again
        ("perm-combine", "or", "AND", 2),  # B1 raises its read-only mapping to rw, then writes
        ("translation", "mem-offset", "XLATE", 1),  # read view page 0: backing page 0, not 1
        ("perm-combine", "or", "INTEG", 2),
    ],
)
def test_broken_designs_are_caught_with_shortest_traces(tmp_path: Path, decision: str, variant: str, prop: str,
                                                       steps_after_prefix: int) -> None:
    design = broken(decision, variant)
    report = run_check(design, default_scope(design, depth=3), [BY_ID[prop]], tmp_path)
    (result,) = report.results
    assert result.violated
    trace = result.counterexample
    assert trace is not None and len(trace.steps) == PREFIX + steps_after_prefix
    # Written to disk, read back, replayed on the reference backend: the same observations and the
    # same violation at the last step.
    assert result.trace_file is not None
    reread = read_trace(result.trace_file)
    replayed = replay_on_model(reread, [BY_ID[prop]])
    assert all(step.matches for step in replayed)
    assert prop in replayed[-1].violated
    assert not any(step.violated for step in replayed[:-1])


def test_the_same_trace_is_harmless_in_the_seed() -> None:
    design = broken("revocation", "skip")
    report = run_check(design, default_scope(design, depth=3), [BY_ID["REVOKE"]], None)
    trace = report.results[0].counterexample
    assert trace is not None
    trace.design = SEED
    replayed = replay_on_model(trace, [BY_ID["REVOKE"]])
    assert not replayed[-1].matches  # the seed faults where the broken design let the read through
    assert replayed[-1].observed.name == "SIGBUS/BUS_ADRERR"
    assert not any(step.violated for step in replayed)


@pytest.mark.slow
def test_allowing_mseal_makes_revocation_fail() -> None:
    """design.md: mseal 'allowed (then revocation cannot happen: a property must fail)'."""
    design = broken("mseal", "allow")
    report = run_check(design, default_scope(design, depth=4), [BY_ID["REVOKE"]], None)
    (result,) = report.results
    assert result.violated and result.counterexample is not None
    ops = [s.action.name for s in result.counterexample.steps[PREFIX:]]
    assert "mseal" in ops and "view_unmap_fd" in ops and ops[-1] == "access"


def test_control_close_revoking_keeps_every_property() -> None:
    design = broken("control-close", "revoke")
    exploration = explore(design, default_scope(design, depth=2), list(CATALOGUE))
    assert exploration.violations == {}


@pytest.mark.parametrize("decision", [d for d in DECISIONS])
def test_every_variant_has_a_working_set_up(decision: Decision) -> None:
    """No design is searched from a set-up that failed (an empty view would make every verdict vacuous)."""
    for variant in decision.variants:
        design = broken(decision.name, variant)
        machine = default_scope(design).start(design)
        assert sum(r.used for r in machine.state.view.ranges) == 2
        # Under today's practice B1 also maps each range's backing page from the raw fds.
        raw = design.is_("delivery", "raw-fds")
        assert sum(v.used for v in machine.state.procs[1].vmas) == (4 if raw else 2)


def test_a_failing_set_up_is_an_error_not_a_vacuous_verdict() -> None:
    scope = default_scope(SEED)
    other = broken("sizing", "inode")  # the seed's prefix sizes by ioctl, which this design refuses
    with pytest.raises(InputError, match="set-up step 1"):
        scope.start(other)


@pytest.mark.parametrize("design", [SEED, broken("perm-combine", "or")], ids=lambda d: d.name)
def test_symmetry_reduction_keeps_one_state_per_orbit_and_finds_the_same_violations(design: Design) -> None:
    """Two interchangeable clients: the reduced search stores exactly one representative of every
    orbit the full search reaches, finds the same properties violated, and its counterexamples,
    renamed back to real processes, replay to the violation."""
    scope = default_scope(design, depth=2, clients=2, active_clients=True)
    assert scope.symmetric_clients == 2
    full = explore(design, scope, list(CATALOGUE), stop_when_all_violated=False, reduce_symmetry=False)
    reduced = explore(design, scope, list(CATALOGUE), stop_when_all_violated=False)
    symmetry = ClientSymmetry(2)
    assert {symmetry.canonical(state)[0] for state in full.states} == set(reduced.states)
    assert len(reduced.states) < len(full.states)
    assert set(reduced.violations) == set(full.violations)
    for prop in reduced.violations:
        trace = counterexample(design, scope, reduced, prop)
        assert trace.meta["symmetry"] == "clients"
        assert prop in replay_on_model(trace, [BY_ID[prop]])[-1].violated


def test_a_reduced_counterexample_names_the_client_that_really_acts() -> None:
    """B2 goes first in the representative order or not: the renamed trace still replays step by step."""
    design = broken("revocation", "skip")
    scope = default_scope(design, depth=3, clients=2, active_clients=True)
    reduced = explore(design, scope, [BY_ID["REVOKE"]], keep_graph=False)
    trace = counterexample(design, scope, reduced, "REVOKE")
    steps = replay_on_model(trace, [BY_ID["REVOKE"]])
    assert all(step.matches for step in steps) and "REVOKE" in steps[-1].violated


def test_renaming_follows_the_permutations_of_a_reduced_path() -> None:
    """B1 reads (its record now sorts after B2's: the representative swaps them), then the
    representative's B1, which is the real B2, sends an fd to the representative's B2 (the real B1)."""
    swap = (0, 2, 1, 3)
    read = action("access", proc=1, addr=0, kind="read", byte=0)
    send = action("send", proc=1, fd=0, to=2)
    real = concrete_actions((0, 1, 2, 3), [(read, swap), (send, None)])
    assert real == [read, action("send", proc=2, fd=0, to=1)]


@pytest.mark.parametrize("clients", ["0", "5"])
def test_check_refuses_a_client_count_out_of_range(clients: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "check", "--engine", "explore", "--clients", clients)
    assert status == 2 and err.count("\n") == 1 and "--clients" in err and "between 1 and 4" in err
