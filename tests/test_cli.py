"""The command line as a user runs it: tables, JSON, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from memview.model.config import Config
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
    listed = json.loads(memview("properties", "--json").stdout)["properties"]
    assert [p["id"] for p in listed] == [p.id for p in CATALOGUE]
    assert all(p["sentence"] and p["source"] for p in listed)
    table = memview("properties").stdout
    assert all(p.id in table for p in CATALOGUE)


@pytest.mark.parametrize("engine", ["bmc", "explore"])
def test_check_seed_holds_and_exits_0(engine: str) -> None:
    result = memview("check", "--engine", engine, "--depth", "2", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    for prop in CATALOGUE:
        assert prop.id in result.stdout
    assert "holds (bounded)" in result.stdout and "violated" not in result.stdout
    assert "[11/11] bmc SEAL done" in result.stderr if engine == "bmc" else "[1/1] explore" in result.stderr
    # Progress from the worker processes: which job is at which depth.
    assert "bmc AND: depth 2/2" in result.stderr if engine == "bmc" else "depth 2/2" in result.stderr


def test_check_bmc_counterexample_is_minimised_and_explained(tmp_path: Path) -> None:
    design = tmp_path / "or.toml"
    design.write_text('name = "or"\n[decisions]\nperm-combine = "or"\n')
    result = memview("check", "--design", str(design), "--engine", "bmc", "--depth", "2", "--property", "AND",
                     "--json", "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    (only,) = json.loads(result.stdout)["results"]
    assert (only["engine"], only["verdict"]) == ("bmc", "violated")
    explained = memview("explain", only["trace"])
    assert explained.returncode == 0 and "access" in explained.stdout


def test_check_replay_says_where_the_counterexample_reproduces(tmp_path: Path) -> None:
    """The ORed-permissions bug reproduces on a backend of that design (in-process and served by a
    separate process) and not on one that ANDs them, which shows where it diverges."""
    design = tmp_path / "or.toml"
    design.write_text('name = "or"\n[decisions]\nperm-combine = "or"\n')
    served = f"exec:{sys.executable} -m memview.backends.serve model"
    args = ["check", "--design", str(design), "--engine", "bmc", "--depth", "2", "--property", "AND",
            "--replay", "model", "--replay", "model:seed", "--replay", served]
    result = memview(*args, "--json")
    assert result.returncode == 1, result.stderr
    (only,) = json.loads(result.stdout)["results"]
    statuses = {r["backend"]: r["status"] for r in only["replay"]}
    assert statuses == {"model": "reproduced", "model:seed": "not reproduced", served: "reproduced"}
    (seed_replay,) = [r for r in only["replay"] if r["backend"] == "model:seed"]
    assert "diverges at step" in seed_replay["detail"] and "SIGSEGV" in seed_replay["detail"]
    table = memview(*args)
    assert "not reproduced" in table.stdout and "AND on model:seed:" in table.stdout


def test_check_broken_design_exits_1_and_writes_traces(tmp_path: Path) -> None:
    design = tmp_path / "no-zap.toml"
    design.write_text('name = "no-zap"\n[decisions]\nrevocation = "skip"\n')
    result = memview("check", "--design", str(design), "--engine", "explore", "--depth", "3", "--property", "revoke",
                     "--json",
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
        (["check", "--replay", "nope"], ["--replay", "unknown backend 'nope'"]),
        (["check", "--property", "FOO"], ["--property", "unknown property 'FOO'"]),
        (["check", "--depth", "0"], ["--depth"]),
        (["check", "--engine", "magic"], ["--engine", "unknown engine 'magic'"]),
        (["check", "--jobs", "0"], ["--jobs", "between 1 and 256"]),
        (["prove", "--property", "NOPE"], ["--property", "unknown property 'NOPE'"]),
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


def test_designs_json_hides_broken_decisions_unless_asked() -> None:
    plain = json.loads(memview("designs", "--json").stdout)
    broken = {d.name for d in DECISIONS if d.broken}
    assert not broken & set(plain["designs"]["seed"]["decisions"])
    assert not broken & {d["name"] for d in plain["decisions"]}


def test_unwritable_out_fails_before_the_search(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_bad_input(memview("check", "--depth", "1", "--out", str(blocker / "sub")), "--out", "Not a directory")


def test_non_utf8_design_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_bytes(b"\xff\xfe")
    assert_bad_input(memview("check", "--design", str(path)), str(path), "not UTF-8")


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("action", "op"), ["x"], "op"),
        (("action", "seals"), [["write"]], "seals"),
        (("observation", "si_code"), ["x"], "si_code"),
    ],
)
def test_wrongly_typed_trace_fields_are_located(tmp_path: Path, path: tuple[str, str], value: object,
                                                fragment: str) -> None:
    from memview.model.design import SEED
    from memview.model.machine import Machine
    from memview.model.ops import action
    from memview.traces.itf import trace_to_itf
    from memview.traces.trace import Step, Trace

    machine = Machine(SEED, default_config())
    steps = [Step(a, machine.run(a)) for a in (action("view_open"), action("memfd_create", sealing=True),
                                               action("seal", fd=1, seals=["write"]))]
    data = trace_to_itf(Trace(SEED, default_config(), steps))
    target = data["states"][2]
    if path[0] == "observation":
        target["observation"] = {"outcome": "signal", "signal": "SIGBUS", "si_code": value}
    else:
        target["action"][path[1]] = value
    trace_file = tmp_path / "t.itf.json"
    trace_file.write_text(json.dumps(data))
    assert_bad_input(memview("explain", str(trace_file)), "t.itf.json", "states[2]", fragment)


def default_config() -> Config:
    return Config()
