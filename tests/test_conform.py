"""Conformance: replay and conform against the model backend, divergences found, located,
minimised, and reported as JUnit; the shipped corpus is current and pins every decision."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from memview.backends.base import BackendFailure, StepLimit
from memview.backends.model import ModelBackend
from memview.checker.corpus_build import CORPUS_PARTS, corpus_part
from memview.model.config import Config
from memview.model.design import DECISIONS, SEED, Design
from memview.model.observation import Observation
from memview.properties.catalogue import BY_ID
from memview.traces.conform import BACKEND_FAILED, CONFORM, DIVERGE, allowed, conform
from memview.traces.corpus import load_corpus, takes_broken_variant
from memview.traces.itf import read_trace, trace_to_itf
from memview.traces.junit import junit_xml
from memview.traces.minimise import minimise
from memview.traces.oracles import same_failure, violates

CORPUS = dict(load_corpus())


def memview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memview.cli", *args], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize("part", list(CORPUS_PARTS))
def test_the_committed_corpus_is_current(part: str) -> None:
    built = {f"{name}.itf.json": trace_to_itf(trace) for name, trace in CORPUS_PARTS[part]().items()}
    committed = {name: trace_to_itf(trace) for name, trace in CORPUS.items() if corpus_part(name) == part}
    assert committed == built, "run python -m memview.checker.corpus_build --write"


def test_every_committed_trace_belongs_to_a_part() -> None:
    assert [name for name in CORPUS if corpus_part(name) not in CORPUS_PARTS] == []


def test_the_corpus_pins_every_decision() -> None:
    for decision in DECISIONS:
        if decision.broken:
            continue
        for variant in list(decision.variants)[1:]:
            name = f"seed-{decision.name}-not-{variant}.itf.json"
            verdict = conform(name, CORPUS[name], ModelBackend(SEED.with_choices("v", {decision.name: variant})))
            assert verdict.status == DIVERGE, name
            assert verdict.step == len(CORPUS[name].steps) - 1  # the trace ends at the difference


def test_the_model_conforms_on_the_whole_corpus() -> None:
    for name, trace in CORPUS.items():
        assert conform(name, trace, ModelBackend()).status == CONFORM


def test_divergence_names_step_operation_expected_observed_and_layout() -> None:
    trace = CORPUS["seed-denied-not-sigbus.itf.json"]
    verdict = conform("t", trace, ModelBackend(SEED.with_choices("v", {"denied": "sigbus"})))
    assert verdict.status == DIVERGE and verdict.step is not None
    assert verdict.expected == Observation("signal", 11, 2)  # SIGSEGV/SEGV_ACCERR
    assert verdict.observed == Observation("signal", 7, 2)  # SIGBUS/BUS_ADRERR
    assert "requires SIGSEGV/SEGV_ACCERR, the backend showed SIGBUS/BUS_ADRERR" in verdict.report()
    assert any("read+write" in row for row in verdict.layout) and "Permissions" in verdict.layout[0]


def test_lenient_accepts_either_sigsegv_si_code_and_nothing_more() -> None:
    accerr, maperr, sigbus = Observation("signal", 11, 2), Observation("signal", 11, 1), Observation("signal", 7, 2)
    assert not allowed(accerr, lenient=False)(maperr)
    assert allowed(accerr, lenient=True)(maperr)
    assert not allowed(accerr, lenient=True)(sigbus)
    assert not allowed(Observation("ok", 7), lenient=True)(Observation("ok", 8))
    trace = CORPUS["seed-denied-not-sigsegv-maperr.itf.json"]
    maperr_backend = ModelBackend(SEED.with_choices("v", {"denied": "sigsegv-maperr"}))
    assert conform("t", trace, maperr_backend).status == DIVERGE
    assert conform("t", trace, maperr_backend, lenient=True).status == CONFORM


def test_a_divergence_is_minimised_to_the_smallest_trace() -> None:
    replacer = SEED.with_choices("replacer", {"overlap": "replace"})
    trace = CORPUS["seed-overlap-not-replace.itf.json"]
    verdict = conform("t", trace, ModelBackend(replacer))
    result = minimise(trace, same_failure(verdict, lambda: ModelBackend(replacer), False, StepLimit()))
    # open, size, a backing object, a first MAP_FD, the overlapping one: nothing less shows EEXIST.
    assert [s.action.name for s in result.minimal.steps] == [
        "view_open", "view_set_size", "memfd_create", "view_map_fd", "view_map_fd"]
    assert result.steps_removed == len(trace.steps) - 5
    assert result.minimal.steps[-1].observation.name == "EEXIST"
    assert result.original is trace


def test_a_property_violation_is_minimised() -> None:
    from memview.checker.alphabet import default_scope
    from memview.checker.check import run_check

    broken = SEED.with_choices("no-zap", {"revocation": "skip"})
    report = run_check(broken, default_scope(broken, 3), [BY_ID["REVOKE"]], None)
    trace = report.results[0].counterexample
    assert trace is not None
    result = minimise(trace, violates(BY_ID["REVOKE"]))
    names = [s.action.name for s in result.minimal.steps]
    assert len(names) < len(trace.steps)
    assert names[-3:] == ["access", "view_unmap_fd", "access"] and "mmap" in names


def test_junit_lists_each_trace_as_a_test_case() -> None:
    trace = CORPUS["seed-shrink-not-ebusy.itf.json"]
    verdicts = [conform("good", trace, ModelBackend()),
                conform("bad", trace, ModelBackend(SEED.with_choices("v", {"shrink": "ebusy"})))]
    suite = ET.fromstring(junit_xml(verdicts, "memview.conform"))
    assert suite.get("tests") == "2" and suite.get("failures") == "1" and suite.get("errors") == "0"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["good"].find("failure") is None
    failure = cases["bad"].find("failure")
    assert failure is not None and "requires ok 0, the backend showed EBUSY" in (failure.get("message") or "")
    assert failure.text is not None and "view layout before step" in failure.text


def test_cli_conform_writes_junit_and_minimised_traces(tmp_path: Path) -> None:
    result = memview("conform", "--corpus", "--backend", "model:strict", "--json", "--junit", str(tmp_path / "j.xml"),
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    statuses = {v["trace"]: v["status"] for v in data["verdicts"]}
    assert statuses["seed-mprotect-not-strict.itf.json"] == DIVERGE
    assert statuses["seed-overlap-not-replace.itf.json"] == DIVERGE  # strict's set-up needs a sealed memfd
    for entry in data["minimised"]:
        minimal = read_trace(entry["minimal"])
        assert len(minimal.steps) + entry["steps_removed"] == len(read_trace(entry["original"]).steps)
    # --corpus judges an implementation on every trace but the broken designs' counterexamples.
    judged = [name for name, trace in CORPUS.items() if not takes_broken_variant(trace.design)]
    assert any(name.startswith("broken-") for name in CORPUS) and not any(n.startswith("broken-") for n in judged)
    assert ET.parse(tmp_path / "j.xml").getroot().get("tests") == str(len(judged))


def test_cli_replay_conforming_trace_exits_0(tmp_path: Path) -> None:
    path = Path(__file__).parent.parent / "memview" / "traces" / "corpus" / "seed-scenario.itf.json"
    result = memview("replay", str(path), "--backend", "model")
    assert result.returncode == 0, result.stderr
    assert "conforms (27 steps)" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["replay", "x.json", "--backend", "nope"], "unknown backend 'nope'"),
        (["replay", "x.json", "--backend", "exec:/no/such/peer"], "exec command not found"),
        (["conform", "--backend", "model"], "name traces or pass --corpus"),
        (["conform", "--corpus", "--backend", "model", "--timeout", "0"], "--timeout"),
        (["replay", "/nonexistent.itf.json", "--backend", "model"], "/nonexistent.itf.json"),
    ],
)
def test_cli_bad_input(args: list[str], fragment: str) -> None:
    result = memview(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and fragment in result.stderr


def test_a_trace_recorded_for_other_semantics_is_refused(tmp_path: Path) -> None:
    data = trace_to_itf(CORPUS["seed-shrink-not-ebusy.itf.json"])
    data["states"][-1]["observation"] = {"outcome": "errno", "errno": "EBUSY"}  # not what the seed gives
    path = tmp_path / "stale.itf.json"
    path.write_text(json.dumps(data))
    result = memview("replay", str(path), "--backend", "model")
    assert result.returncode == 2 and "made for another design" in result.stderr


class RefusingBackend(ModelBackend):
    def start(self, design: Design, config: Config) -> None:
        raise BackendFailure("refused", "this peer implements no such design")


def test_backend_failure_before_any_step_is_a_verdict() -> None:
    verdict = conform("t", CORPUS["seed-scenario.itf.json"], RefusingBackend())
    assert verdict.status == BACKEND_FAILED and verdict.step is None
    assert "refused: this peer implements no such design" in (verdict.failure or "")
    assert "the backend failed at set-up" in verdict.headline()


def test_cli_junit_in_a_missing_directory_fails_before_running() -> None:
    result = memview("conform", "--corpus", "--backend", "model", "--junit", "/nonexistent-dir/j.xml")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--junit" in result.stderr


def test_the_corpus_ships_as_package_data() -> None:
    """Every corpus file is matched by a package-data pattern of pyproject.toml, so the wheel has it."""
    import fnmatch
    import tomllib

    root = Path(__file__).parent.parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["memview"]
    files = sorted((root / "memview" / "traces" / "corpus").glob("*.itf.json"))
    assert len(files) == len(CORPUS)
    for path in files:
        relative = path.relative_to(root / "memview").as_posix()
        assert any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns), relative
