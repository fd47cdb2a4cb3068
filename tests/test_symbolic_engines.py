"""The z3 engines: bmc finds the broken designs' violations (and they replay on the reference
backend), induction proves every step property of seed and none that a broken design breaks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_json_schemas import schema_registry, validator

from memview import schemas
from memview.checker.alphabet import default_scope
from memview.checker.bmc import bmc
from memview.checker.check import Report, finish_counterexamples
from memview.checker.engines import make_executor, plan, run_jobs
from memview.checker.induction import Budget, prove
from memview.model.constants import MMAP_BASE
from memview.model.design import BUILTIN
from memview.model.machine import Machine
from memview.model.ops import action
from memview.properties.catalogue import CATALOGUE, select_properties
from memview.properties.lemmas import LEMMAS_BY_ID
from memview.traces.explain import explain, explain_json
from memview.traces.isol_pair import isol_pair
from memview.traces.replay import replay_on_model
from memview.traces.trace import Step, Trace

SEED = BUILTIN["seed"]


@pytest.mark.parametrize(
    ("decision", "variant", "prop", "depth"),
    [
        ("perm-combine", "or", "AND", 2),
        ("translation", "mem-offset", "XLATE", 2),
        ("translation", "mem-offset", "ISOL", 2),
        ("perm-combine", "or", "FAULT", 2),
        ("perm-combine", "or", "INTEG", 2),
        ("revocation", "skip", "REVOKE", 3),
        ("view-fd-ioctl", "accept", "CAP", 1),
    ],
)
def test_bmc_counterexample_replays_to_the_same_violation(decision: str, variant: str, prop: str, depth: int) -> None:
    design = SEED.with_choices(f"{decision}={variant}", {decision: variant})
    props = select_properties([prop])
    [result] = bmc(design, default_scope(design, depth), props, depth)
    assert result.violated, result.how
    report = Report(design, [result])
    finish_counterexamples(report, props, None)  # self-check, minimise, self-check again
    trace = result.counterexample
    assert trace is not None
    assert prop in replay_on_model(trace, props)[-1].violated
    if prop == "ISOL":
        assert_isol_pair_shown(trace)


def assert_isol_pair_shown(trace: Trace) -> None:
    """The counterexample's second run differs from the first at its last step, and explain shows both."""
    pair = isol_pair(trace)
    assert pair is not None and pair.step == len(trace.steps) - 1
    assert pair.first == trace.steps[-1].observation and pair.second != pair.first
    assert pair.hidden, "run 2 must have changed some bytes"
    text = explain(trace)
    assert "ISOL pair" in text and f"{pair.second}   <-- the runs differ" in text
    assert explain_json(trace)["isol_pair"]["run2"] == str(pair.second)


def test_no_isol_pair_where_isol_holds() -> None:
    """On seed, B1 reading both of its mapped pages sees only bytes it may read: no pair."""
    scope = default_scope(SEED, 1)
    machine = Machine(SEED, scope.config)
    reads = [(action("access", proc=1, addr=MMAP_BASE + offset, kind="read", byte=0), "")
             for offset in (0, 2 * scope.config.page_size)]
    steps = [Step(act, machine.run(act), label) for act, label in [*scope.prefix, *reads]]
    assert [s.observation.ok for s in steps[-2:]] == [True, True]
    trace = Trace(SEED, scope.config, steps, {"property": "ISOL"})
    assert isol_pair(trace) is None
    assert "ISOL pair" not in explain(trace)


@pytest.mark.slow
def test_bmc_finds_a_four_step_revocation_bug() -> None:
    """shrink-zap=keep shows only when the view grows back: access, shrink, grow, access."""
    design = SEED.with_choices("shrink-zap=keep", {"shrink-zap": "keep"})
    props = select_properties(["REVOKE"])
    [result] = bmc(design, default_scope(design, 4), props, 4)
    assert result.violated, result.how
    finish_counterexamples(Report(design, [result]), props, None)


def test_bmc_finds_nothing_in_seed_to_depth_two() -> None:
    results = bmc(SEED, default_scope(SEED, 2), list(CATALOGUE), 2)
    assert [r.verdict for r in results] == ["holds (bounded)"] * len(CATALOGUE)


@pytest.mark.slow
def test_induction_proves_every_step_property_of_seed(tmp_path: Path) -> None:
    # Through the command line, whose --json is held to its schema here too: the suite's one proof
    # of the seed (minutes), rather than one here and one in test_json_schemas.
    done = subprocess.run([sys.executable, "-m", "memview.cli", "prove", "--jobs", "2", "--json"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    errors = [e.message for e in validator(schemas.PROVE, schema_registry()).iter_errors(out)]
    assert not errors, errors
    assert set(out["lemmas"]) == set(LEMMAS_BY_ID) and set(out["lemmas"].values()) == {"proved"}, out["lemmas"]
    proved = {r["property"] for r in out["results"] if r["verdict"] == "proved"}
    assert proved == {p.id for p in CATALOGUE if p.predicate is not None}
    isol = next(r for r in out["results"] if r["property"] == "ISOL")
    assert isol["verdict"] != "proved" and "two-run" in isol["how"]


@pytest.mark.slow
@pytest.mark.parametrize(("decision", "variant", "prop"), [
    ("perm-combine", "or", "AND"),
    ("revocation", "skip", "REVOKE"),
])
def test_induction_does_not_prove_what_a_broken_design_breaks(decision: str, variant: str, prop: str) -> None:
    design = SEED.with_choices(f"{decision}={variant}", {decision: variant})
    # A small budget (about 5 s a query): "unknown" is as much "not proved" as a counterexample.
    with make_executor(2) as pool:
        induction = prove(design, default_scope(design).config, select_properties([prop, "LIFE"]),
                          budget=Budget(rlimit=20_000_000), executor=pool)
    verdicts = {p.property_id: p.proved for p in induction.proofs}
    assert verdicts == {prop: False, "LIFE": True}


def test_parallel_jobs_give_the_serial_results() -> None:
    design = SEED.with_choices("or", {"perm-combine": "or"})
    ids = ["AND", "LIFE", "NOESC"]
    jobs = plan(["bmc"], design, {"bmc": default_scope(design, 2)}, ids)
    with make_executor(1) as one:
        serial = run_jobs(jobs, one)
    with make_executor(2) as pool:
        parallel = run_jobs(jobs, pool)
    assert [(r.property_id, r.verdict, r.how) for r in serial] == [(r.property_id, r.verdict, r.how) for r in parallel]
    assert [r.counterexample.actions() if r.counterexample else None for r in serial] == \
        [r.counterexample.actions() if r.counterexample else None for r in parallel]
