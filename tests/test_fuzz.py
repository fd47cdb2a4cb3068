"""Differential fuzzing with hypothesis: the model agrees with itself, an injected divergence is
found and shrunk, and the exported strategies work in a user's own tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memview.backends.base import StepLimit
from memview.backends.model import ModelBackend
from memview.checker.alphabet import default_scope
from memview.checker.fuzz import fuzz
from memview.checker.strategies import actions
from memview.model.design import SEED
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.traces.itf import read_trace

PREFIX = len(default_scope(SEED).prefix)


def test_the_model_never_diverges_from_itself() -> None:
    result = fuzz(SEED, ModelBackend, examples=40, steps=20, seed=1, database=None)
    assert result.failure is None and result.trace is None
    assert result.examples >= 40 and result.steps > 40 * PREFIX


def test_a_skipped_operation_is_never_drawn_after_the_set_up() -> None:
    drawn: list[str] = []

    class Recording(ModelBackend):
        def perform(self, act: Action, limit: StepLimit) -> Observation:
            drawn.append(act.name)
            return super().perform(act, limit)

    result = fuzz(SEED, Recording, examples=30, steps=20, seed=1, database=None, skip=frozenset({"ftruncate"}))
    assert result.failure is None and result.steps > 30 * PREFIX
    prefix_names = [act.name for act, _ in default_scope(SEED).prefix]
    after_set_up = [name for name in drawn if name == "ftruncate"]
    assert len(after_set_up) == result.examples * prefix_names.count("ftruncate")


def test_fuzz_skip_names_a_real_operation() -> None:
    done = subprocess.run([sys.executable, "-m", "memview.cli", "fuzz", "--backend", "model", "--skip", "nope"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--skip: unknown operation 'nope'" in done.stderr


@pytest.mark.slow
def test_a_backend_that_does_not_revoke_is_found_and_shrunk() -> None:
    no_zap = SEED.with_choices("no-zap", {"revocation": "skip"})
    result = fuzz(SEED, lambda: ModelBackend(no_zap), examples=1000, steps=30, seed=2, database=None)
    assert result.failure is not None and "requires SIGBUS/BUS_ADRERR, the backend showed ok" in result.failure
    assert result.trace is not None
    shrunk = [s.action.name for s in result.trace.steps[PREFIX:]]
    # The story: fault a page in, revoke it, use the stale translation. Hypothesis's draws vary
    # (with the project's own source, and from run to run), so one step of B1's own may come with
    # it: a fork or an mmap, before or after the revocation (seen in CI runs).
    revoked = shrunk.index("view_unmap_fd")
    assert "access" in shrunk[:revoked] and shrunk[-1] == "access" and len(shrunk) <= 4, shrunk


@settings(max_examples=30, deadline=None)
@given(st.lists(actions(SEED), max_size=10))
def test_exported_strategies_draw_valid_actions(acts: list[Action]) -> None:
    machine = Machine(SEED, default_scope(SEED).config)
    for act in acts:
        assert machine.run(act).outcome in ("ok", "errno", "signal")


def memview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memview.cli", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_cli_fuzz_writes_the_failing_and_minimal_traces(tmp_path: Path) -> None:
    design = tmp_path / "replacer.toml"
    design.write_text('name = "replacer"\n[decisions]\noverlap = "replace"\n')
    result = memview("fuzz", "--backend", f"model:{design}", "--examples", "50", "--seed", "3", "--json",
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert "requires EEXIST, the backend showed ok 0" in data["divergence"]
    minimal = read_trace(data["minimal"])
    assert [s.action.name for s in minimal.steps] == [
        "view_open", "view_set_size", "memfd_create", "view_map_fd", "view_map_fd"]


def test_cli_fuzz_clean_run_exits_0() -> None:
    result = memview("fuzz", "--backend", "model", "--examples", "10", "--steps", "5", "--seed", "4")
    assert result.returncode == 0, result.stderr
    assert "no divergence on model" in result.stdout


def test_cli_fuzz_bad_input() -> None:
    for args, fragment in ((["--examples", "0"], "--examples"), (["--steps", "0"], "--steps"),
                           (["--design", "nope"], "unknown design")):
        result = memview("fuzz", "--backend", "model", *args)
        assert result.returncode == 2 and fragment in result.stderr and result.stderr.count("\n") == 1
