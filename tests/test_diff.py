"""Design comparison: a shortest distinguishing trace for every decision's variants, none for a
mere renaming, and the properties that hold in one design but fail in the other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from memview.checker.diff import compare_properties, lockstep
from memview.model.design import DECISIONS, SEED, Design
from memview.properties.catalogue import BY_ID
from memview.traces.itf import read_trace
from memview.traces.replay import replay_on_model

VARIANTS = [(d.name, v) for d in DECISIONS for v in list(d.variants)[1:]]
# Variants that only show after four steps: a stale translation in a forked child needs the fork,
# the child's fault, UNMAP_FD and the child's access; one beyond a shrunk view needs the view to
# grow back before the access.
DEEPER = {("revocation", "skip-children"): 4, ("shrink-zap", "keep"): 4}


@pytest.mark.parametrize(("decision", "variant"), VARIANTS, ids=[f"{d}={v}" for d, v in VARIANTS])
def test_every_variant_is_observably_different_from_the_seed(decision: str, variant: str) -> None:
    other = SEED.with_choices(f"{decision}={variant}", {decision: variant})
    result = lockstep(SEED, other, depth=DEEPER.get((decision, variant), 3))
    assert result.steps is not None
    *before, last = result.steps
    assert last.differs and not any(step.differs for step in before)
    # Each side of the trace is what that design's reference backend gives, step by step.
    for trace in result.traces():
        assert all(step.matches for step in replay_on_model(trace, []))


def test_a_renamed_design_shows_no_difference() -> None:
    renamed = Design("renamed", SEED.choices, "the seed under another name")
    result = lockstep(SEED, renamed, depth=3)
    assert result.steps is None
    assert result.pairs > 1000  # the whole product was searched, not cut short


def test_properties_that_differ_are_listed() -> None:
    broken = SEED.with_choices("no-zap", {"revocation": "skip"})
    result = lockstep(SEED, broken, depth=3)
    compare_properties(result, [BY_ID["REVOKE"], BY_ID["CAP"]], depth=3)
    assert result.verdicts["REVOKE"] == ("holds (bounded)", "violated")
    assert result.verdicts["CAP"] == ("holds (bounded)", "holds (bounded)")
    assert result.property_differences() == ["REVOKE"]


def memview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memview.cli", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_cli_diff_writes_both_traces(tmp_path: Path) -> None:
    result = memview("diff", "seed", "fuse-like", "--depth", "2", "--no-properties", "--json",
                     "--out", str(tmp_path))
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["differ"] and data["first_difference"] == 1
    assert data["steps"][1]["a"] == {"outcome": "ok", "value": {"#bigint": "0"}}
    assert data["steps"][1]["b"] == {"outcome": "errno", "errno": "ENOTTY"}
    designs = sorted(read_trace(path).design.name for path in data["traces"])
    assert designs == ["fuse-like", "seed"]


def test_cli_diff_of_identical_designs_exits_0(tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.toml"
    renamed.write_text('name = "renamed"\n')
    result = memview("diff", "seed", str(renamed), "--depth", "2", "--property", "AND")
    assert result.returncode == 0, result.stderr
    assert "no observable difference between seed and renamed up to depth 2" in result.stdout


def test_cli_diff_bad_input() -> None:
    result = memview("diff", "seed", "nope")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unknown design 'nope'" in result.stderr
