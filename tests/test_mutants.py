"""Mutation analysis: each seeded bug is killed by the engine the recorded matrix says, equivalent
mutants are violation-free where the engines can tell, and `memview mutants` behaves as a command."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from test_cli import assert_bad_input, memview  # one rule for bad input, shared with the CLI tests

from memview.checker.alphabet import default_scope
from memview.checker.deadline import run_within
from memview.checker.explore import explore
from memview.checker.kill_matrix import BUDGET, KILLED, run_cell, semantic_row
from memview.checker.mutants import ENGINES, MUTANTS, MUTANTS_BY_NAME
from memview.errors import InputError
from memview.model.design import SEED, load_design
from memview.model.mutations import MUTATIONS
from memview.properties.catalogue import CATALOGUE
from memview.traces.corpus import load_corpus
from memview.traces.itf import read_trace, write_trace

GENEROUS = 240.0  # seconds: the matrix's budget is 30; a loaded CI machine is slower
EQUIVALENT = [m for m in MUTANTS if not m.breaks]


def test_the_catalogue_has_twenty_mutants_and_uses_every_mutation() -> None:
    assert len(MUTANTS) >= 20
    rule_mutants = {m.name for m in MUTANTS if m.decision is None}
    assert rule_mutants == {m.name for m in MUTATIONS}
    for mutant in MUTANTS:
        assert mutant.killers and set(mutant.killers) <= set(ENGINES)
        assert bool(mutant.breaks) != bool(mutant.equivalent), mutant.name  # a property, or why none
        assert {p.id for p in CATALOGUE} >= set(mutant.breaks)
        assert mutant.design() != mutant.base_design()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "engine"), [(m.name, engine) for m in MUTANTS for engine in m.killers])
def test_each_mutant_is_killed_by_the_engines_the_matrix_says(name: str, engine: str) -> None:
    mutant = MUTANTS_BY_NAME[name]
    cell = run_cell(semantic_row(mutant), engine, GENEROUS)
    assert cell.status == KILLED, f"{engine} no longer kills {name}: {cell.status} {cell.finding}"
    if engine != "corpus":
        assert cell.finding in mutant.breaks, f"{name} broke {cell.finding}, not one of {mutant.breaks}"
        assert cell.trace is not None and cell.trace.design == mutant.design()


@pytest.mark.parametrize("name", [m.name for m in EQUIVALENT])
def test_explicit_search_finds_no_violation_in_an_equivalent_mutant(name: str) -> None:
    mutant = MUTANTS_BY_NAME[name]
    design = mutant.design()
    found = explore(design, default_scope(design, 2), list(CATALOGUE), keep_graph=False)
    assert found.violations == {}


@pytest.mark.parametrize("name", [m.name for m in MUTANTS])
def test_the_corpus_trace_of_each_mutant_tells_it_from_its_design(name: str) -> None:
    from memview.backends.model import ModelBackend
    from memview.traces.conform import DIVERGE, conform

    mutant = MUTANTS_BY_NAME[name]
    trace = dict(load_corpus())[f"mutant-{name}.itf.json"]
    assert trace.design == mutant.base_design()
    verdict = conform(name, trace, ModelBackend(pinned=mutant.design()))
    assert verdict.status == DIVERGE and verdict.step == len(trace.steps) - 1


def test_a_mutated_design_survives_a_trace_file_and_a_design_file(tmp_path: Path) -> None:
    design = MUTANTS_BY_NAME["range-end-inclusive"].design()
    trace = dict(load_corpus())["mutant-range-end-inclusive.itf.json"]
    trace.design = design
    write_trace(trace, tmp_path / "t.itf.json")
    assert read_trace(tmp_path / "t.itf.json").design == design
    toml = tmp_path / "mutated.toml"
    toml.write_text('mutations = ["exec-checked-as-read"]\n[decisions]\nprivate = "cow"\n')
    loaded = load_design(str(toml))
    assert loaded.mutated("exec-checked-as-read") and loaded["private"] == "cow"
    toml.write_text('mutations = ["no-such-bug"]\n')
    with pytest.raises(InputError, match=r"mutations\[0\].*unknown mutation 'no-such-bug'"):
        load_design(str(toml))
    assert not SEED.mutated("exec-checked-as-read")


def _sleep_then(value: int) -> int:
    time.sleep(value)
    return value


def test_the_deadline_kills_work_that_outlives_its_budget() -> None:
    began = time.monotonic()
    outcome = run_within(0.5, lambda: _sleep_then(30))
    assert outcome.timed_out and outcome.value is None and time.monotonic() - began < 5
    assert run_within(10, lambda: _sleep_then(0)).value == 0
    failed = run_within(10, lambda: 1 // 0)
    assert failed.value is None and failed.error is not None and failed.error.startswith("ZeroDivisionError")
    died = run_within(10, lambda: os._exit(3))
    assert died.error is not None and "exit status 3" in died.error


def test_a_cell_past_its_budget_is_a_budget_verdict() -> None:
    cell = run_cell(semantic_row(MUTANTS_BY_NAME["revoke-skipped"]), "induction", 1.0)
    assert cell.status == BUDGET and cell.seconds < 10


def test_cli_lists_the_mutants() -> None:
    result = memview("mutants", "--list", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)["mutants"]
    names = [item["name"] for item in listed]
    assert names[:len(MUTANTS)] == [m.name for m in MUTANTS]
    assert {item["kind"] for item in listed} == {"semantic", "implementation"}
    table = memview("mutants", "--list")
    assert table.returncode == 0 and "range-end-inclusive" in table.stdout and "equivalent" in table.stdout


def test_cli_kill_matrix_of_two_mutants(tmp_path: Path) -> None:
    result = memview("mutants", "--mutant", "perms-ored", "--mutant", "translate-by-mem-offset", "--engines",
                     "explore,corpus", "--jobs", "2", "--json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "memview-mutants/1" and data["engines"] == ["explore", "corpus"]
    cells = {row["name"]: row["cells"] for row in data["mutants"]}
    assert cells["perms-ored"]["explore"]["status"] == "killed"
    assert cells["perms-ored"]["explore"]["finding"] == "AND"
    assert cells["translate-by-mem-offset"]["explore"] == {**cells["translate-by-mem-offset"]["explore"],
                                                            "status": "killed", "finding": "XLATE", "length": 1}
    assert data["summary"]["killed"] == data["summary"]["non_equivalent"] == 2
    assert data["summary"]["corpus_share"] == 1.0
    assert len(data["written"]) == 4
    explained = memview("explain", str(tmp_path / "translate-by-mem-offset-explore.itf.json"))
    assert explained.returncode == 0 and "XLATE" in explained.stdout
    table = memview("mutants", "--mutant", "perms-ored", "--engines", "explore", "--jobs", "1")
    assert table.returncode == 0, table.stderr
    assert "killed 1 of 1 non-equivalent semantic mutants" in table.stdout
    assert "[1/1] perms-ored / explore: killed" in table.stderr


def test_cli_a_survivor_exits_1() -> None:
    result = memview("mutants", "--mutant", "revoke-skipped", "--engines", "induction", "--budget", "1")
    assert result.returncode == 1, result.stderr
    assert "survivors: revoke-skipped" in result.stdout and "budget" in result.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (("--engines", "bmc,nope"), "--engines: unknown engine 'nope'"),
    (("--mutant", "nope"), "--mutant: unknown mutant 'nope'"),
    (("--budget", "0"), "--budget: must be between 1 and"),
    (("--jobs", "0"), "--jobs: must be between 1 and 256"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], fragment: str) -> None:
    assert_bad_input(memview("mutants", *args), fragment)


def test_cli_runs_an_implementation_mutant_alone() -> None:
    result = memview("mutants", "--mutant", "wrong-range-prot", "--engines", "corpus,bmc", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(row["name"], row["kind"]) for row in data["mutants"]] == [("wrong-range-prot", "implementation")]
    assert list(data["mutants"][0]["cells"]) == ["corpus"]  # bmc cannot see a bug that lives in code
    assert data["mutants"][0]["cells"]["corpus"]["status"] == "killed"
    assert data["summary"]["implementation_killed"] == data["summary"]["implementation"] == 1
