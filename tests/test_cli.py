"""The command line as a user runs it: tables, JSON, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from memview.model.design import BUILTIN, DECISIONS
from memview.properties.catalogue import CATALOGUE


def memview(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memview.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, check=False)


def assert_bad_input(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_designs_lists_designs_and_decisions() -> None:
    result = memview("designs")
    assert result.returncode == 0
    for name in BUILTIN:
        assert name in result.stdout
    for decision in DECISIONS:
        assert (decision.name in result.stdout) != decision.broken


def test_designs_json_has_every_decision_with_broken() -> None:
    data = json.loads(memview("designs", "--json", "--broken").stdout)
    assert {d["name"] for d in data["decisions"]} == {d.name for d in DECISIONS}
    assert data["designs"]["seed"]["decisions"]["overlap"] == "eexist"
    assert data["designs"]["fuse-like"]["decisions"]["overlap"] == "replace"


def test_properties_lists_the_catalogue() -> None:
    data = json.loads(memview("properties", "--json").stdout)
    assert [p["id"] for p in data] == [p.id for p in CATALOGUE]
    assert all(p["sentence"] and p["source"] for p in data)
    table = memview("properties").stdout
    assert all(p.id in table for p in CATALOGUE)


def test_check_seed_holds_and_exits_0() -> None:
    result = memview("check", "--depth", "2")
    assert result.returncode == 0, result.stderr
    for prop in CATALOGUE:
        assert prop.id in result.stdout
    assert "holds (bounded)" in result.stdout and "violated" not in result.stdout


def test_check_broken_design_exits_1_and_writes_traces(tmp_path: Path) -> None:
    design = tmp_path / "no-zap.toml"
    design.write_text('name = "no-zap"\n[decisions]\nrevocation = "skip"\n')
    result = memview("check", "--design", str(design), "--depth", "3", "--property", "revoke", "--json",
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    (only,) = data["results"]
    assert only["property"] == "REVOKE" and only["verdict"] == "violated"
    trace_file = Path(only["trace"])
    assert trace_file.exists()
    explained = memview("explain", str(trace_file))
    assert explained.returncode == 0
    assert "view_unmap_fd" in explained.stdout and "Permissions" in explained.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["check", "--design", "nope"], ["--design", "unknown design 'nope'"]),
        (["check", "--property", "FOO"], ["--property", "unknown property 'FOO'"]),
        (["check", "--depth", "0"], ["--depth"]),
        (["check", "--depth", "x"], ["'x' is not a valid integer"]),
        (["check", "--frobnicate"], ["No such option"]),
        (["explain", "/nonexistent/trace.json"], ["/nonexistent/trace.json"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragments: list[str]) -> None:
    assert_bad_input(memview(*args), *fragments)


@pytest.mark.parametrize(
    ("toml", "fragments"),
    [
        ('[decisions]\noverlap = "sometimes"\n', ["decisions.overlap", "unknown variant 'sometimes'"]),
        ('[decisions]\ncolour = "blue"\n', ["decisions.colour", "unknown decision"]),
        ("[decisions\n", ["malformed TOML"]),
        ('base = "nope"\n', ["base", "unknown base design"]),
        ('extra = 1\n', ["extra", "unknown key"]),
    ],
)
def test_bad_design_files_are_located(tmp_path: Path, toml: str, fragments: list[str]) -> None:
    path = tmp_path / "d.toml"
    path.write_text(toml)
    assert_bad_input(memview("check", "--design", str(path), "--depth", "1"), str(path), *fragments)


def test_missing_design_file_is_located(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert_bad_input(memview("check", "--design", str(missing)), str(missing))


def test_bad_trace_is_located(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"#meta": {}, "vars": [], "states": [')
    assert_bad_input(memview("explain", str(path)), "t.json", "malformed JSON")
