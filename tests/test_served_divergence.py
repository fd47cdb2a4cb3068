"""A divergence injected into a served backend (the reference peer behind the exec protocol,
deviating from one decision) is found by conform on the corpus and by fuzz, and minimised to the
smallest trace that shows it."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from memview.traces.corpus import CORPUS_DIR
from memview.traces.itf import read_trace

SERVED = "exec:" + shlex.join([sys.executable, "-m", "memview.backends.serve", "model", "--deviate",
                               "overlap=replace"])
SMALLEST = ["view_open", "view_set_size", "memfd_create", "view_map_fd", "view_map_fd"]


def memview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memview.cli", *args], capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.mark.slow
def test_conform_on_the_corpus_finds_and_minimises_it(tmp_path: Path) -> None:
    result = memview("conform", "--corpus", "--backend", SERVED, "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    diverged = [v for v in data["verdicts"] if v["status"] == "diverge"]
    assert {v["trace"] for v in diverged} >= {"seed-overlap-not-replace.itf.json"}
    assert all(v["status"] != "backend-failed" for v in data["verdicts"])
    # Minimising every divergent corpus trace through a peer process per attempt takes minutes;
    # the decision's own trace is the one whose minimum is known.
    result = memview("conform", str(CORPUS_DIR / "seed-overlap-not-replace.itf.json"), "--backend", SERVED, "--json",
                     "--out", str(tmp_path))
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    minimal = {Path(m["trace"]).name: read_trace(m["minimal"]) for m in data["minimised"]}
    overlap = minimal["seed-overlap-not-replace.itf.json"]
    assert [s.action.name for s in overlap.steps] == SMALLEST
    assert overlap.steps[-1].observation.name == "EEXIST"  # the seed's answer; the peer said ok


@pytest.mark.slow
def test_fuzz_finds_and_minimises_it(tmp_path: Path) -> None:
    result = memview("fuzz", "--backend", SERVED, "--examples", "20", "--steps", "10", "--seed", "3", "--json",
                     "--out", str(tmp_path))
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert "requires EEXIST, the backend showed ok 0" in data["divergence"]
    assert [s.action.name for s in read_trace(data["minimal"]).steps] == SMALLEST
