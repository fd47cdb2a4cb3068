"""The engines' one seam: a set-up run once, one replay loop, one judge, one engine registry.

A two-run property is known by its type: a copy of ISOL under another ID must be judged by every
engine exactly as ISOL is, or some engine still recognises ISOL by its name.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import memview
from memview.checker.alphabet import default_scope
from memview.checker.bmc import bmc
from memview.checker.engines import parse_engines, plan
from memview.checker.explore import counterexample, explore
from memview.checker.kill_matrix import Row, run_cell
from memview.checker.mutants import ENGINES as MUTANT_ENGINES
from memview.checker.registry import CHECK_ENGINES, ENGINES, IMPLEMENTATION_ENGINES, MUTATION_ENGINES
from memview.model.concrete import CONCRETE
from memview.model.design import BUILTIN, SEED
from memview.model.step import step
from memview.properties.catalogue import BY_ID, Property
from memview.properties.judge import StateJudge, is_refusal
from memview.traces.isol_pair import isol_pair
from memview.traces.replay import replay, replay_on_model

FDPASS = BUILTIN["fdpass"]
ISOL_COPY = dataclasses.replace(BY_ID["ISOL"], id="HIDDEN-BYTES")


def test_a_property_is_a_step_predicate_or_a_second_run_never_both_nor_neither() -> None:
    isol = BY_ID["ISOL"]
    assert isol.kind == "two-run" and isol.predicate is None
    assert BY_ID["AND"].kind == "step" and BY_ID["AND"].second_run is None
    with pytest.raises(ValueError, match="either a step predicate or a second run"):
        Property("X", "s", "src")
    with pytest.raises(ValueError, match="either a step predicate or a second run"):
        Property("X", "s", "src", predicate=BY_ID["AND"].predicate, second_run=isol.second_run)


def test_explore_judges_a_two_run_property_by_its_type_not_its_name() -> None:
    scope = default_scope(FDPASS, depth=2)
    found = explore(FDPASS, scope, [BY_ID["ISOL"], ISOL_COPY], keep_graph=False, stop_when_all_violated=True)
    assert set(found.violations) == {"ISOL", "HIDDEN-BYTES"}
    assert found.violations["ISOL"].node == found.violations["HIDDEN-BYTES"].node
    trace = counterexample(FDPASS, scope, found, "HIDDEN-BYTES")
    # The copy's counterexample violates ISOL on replay, and its pair of runs is derived by the copy.
    assert "ISOL" in replay_on_model(trace, [BY_ID["ISOL"]])[-1].violated
    pair = isol_pair(trace, ISOL_COPY)
    assert pair is not None and pair.first != pair.second


def test_no_engine_or_judge_names_a_property_to_know_how_to_judge_it() -> None:
    """Data may name ISOL (a mutant's expected breaks, a corpus trace's property); code that judges
    must not."""
    root = Path(memview.__file__).parent
    judging = [*sorted((root / "checker").glob("*.py")), root / "properties" / "judge.py",
               *(root / "traces" / name for name in ("replay.py", "conform.py", "explain.py", "isol_pair.py"))]
    data_only = {"mutants.py", "corpus_build.py"}  # which properties a mutant or a shipped attack breaks
    named = [p.relative_to(root).as_posix() for p in judging
             if p.name not in data_only and re.search(r"""["']ISOL["']""", p.read_text())]
    assert named == [] or named == ["traces/isol_pair.py"], named  # isol_pair's default property is ISOL's


@pytest.mark.slow
def test_bmc_self_composes_a_two_run_property_by_its_type() -> None:
    scope = default_scope(FDPASS, depth=2)
    (result,) = bmc(FDPASS, scope, [ISOL_COPY], depth=2)
    assert result.violated and result.counterexample is not None
    assert "ISOL" in replay_on_model(result.counterexample, [BY_ID["ISOL"]])[-1].violated


def test_the_judge_skips_refusals_unless_asked_and_computes_a_second_run_once_per_state() -> None:
    scope = default_scope(SEED)
    machine = scope.start(SEED)
    refusals = 0
    for act in scope.alphabet:
        op = act.to_op(CONCRETE)
        post, obs = step(machine.ctx, machine.state, op)
        if not is_refusal(machine.state, obs, post):
            continue
        refusals += 1
        assert not StateJudge(machine.ctx, [BY_ID["CAP"]], machine.state).judges(obs, post)
        assert StateJudge(machine.ctx, [BY_ID["CAP"]], machine.state, judge_refusals=True).judges(obs, post)
    assert refusals > 0
    judge = StateJudge(machine.ctx, [BY_ID["ISOL"]], machine.state)
    assert judge.second_state(BY_ID["ISOL"]) is judge.second_state(BY_ID["ISOL"])


def test_the_set_up_is_run_once_and_begins_every_trace() -> None:
    scope = default_scope(SEED)
    set_up = scope.set_up(SEED)
    assert [s.action for s in set_up.steps] == [act for act, _ in scope.prefix]
    assert all(s.observation.ok for s in set_up.steps)
    assert set_up.machine().state == scope.start(SEED).state
    trace = set_up.trace(scope.alphabet[:5], {"engine": "test"})
    assert trace.steps[:len(set_up.steps)] == list(set_up.steps)
    assert all(r.matches for r in replay(trace))


def test_replay_under_another_design_gives_that_designs_observations() -> None:
    scope = default_scope(SEED)
    trace = scope.set_up(SEED).trace(scope.alphabet, {})
    other = BUILTIN["fuse-like"]
    replayed = list(replay(trace, other))
    assert [r.index for r in replayed] == list(range(len(trace.steps)))
    assert any(not r.matches for r in replayed)  # fuse-like replaces where the seed refuses: EEXIST
    assert all(r.pre is replayed[i - 1].post for i, r in enumerate(replayed) if i)


def test_one_registry_serves_check_prove_and_the_kill_matrix() -> None:
    assert parse_engines(("all",)) == list(CHECK_ENGINES)
    assert all(ENGINES[name].run is not None for name in CHECK_ENGINES)
    assert MUTANT_ENGINES == MUTATION_ENGINES == tuple(ENGINES)
    assert set(IMPLEMENTATION_ENGINES) == {"fuzz", "corpus"}
    jobs = plan(list(CHECK_ENGINES), SEED, {e: default_scope(SEED, 1) for e in CHECK_ENGINES}, ["AND", "REVOKE"])
    assert [(j.engine, j.property_ids) for j in jobs] == [
        ("explore", ("AND", "REVOKE")), ("bmc", ("AND",)), ("bmc", ("REVOKE",)), ("induction", ("AND", "REVOKE"))]


def test_an_engine_without_a_backend_hunt_is_not_given_an_implementation_row() -> None:
    row = Row("x", "implementation", "a bug", backend="model")
    assert row.engines(MUTATION_ENGINES) == IMPLEMENTATION_ENGINES
    cell = run_cell(row, "corpus", 120.0)
    assert cell.status == "survived" and cell.finding.startswith("all ")
