"""memview report and memview diff --picture: the page's sections, what its pictures draw (compared
with the model's own states), reading saved results, and bad input. The page in a real browser is
tests/test_report_browser.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from memview.checker.diff import lockstep
from memview.model.design import BUILTIN, load_design
from memview.report.page import SECTIONS
from memview.report.sources import linked
from memview.report.timeline import Lane, first_difference, timeline_svg, trace_svg
from memview.traces.corpus import CORPUS_DIR
from memview.traces.explain import report_steps
from memview.traces.itf import read_trace

ROOT = Path(__file__).resolve().parent.parent
NO_REVOKE = ROOT / "designs" / "no-revoke.toml"


def memview(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # memview importable from any working directory
    return subprocess.run([sys.executable, "-c", "from memview.cli import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Saved --json results: explore on a design that forgets to revoke, and two mutants' matrix."""
    where = tmp_path_factory.mktemp("results")
    files = {
        "check": ["check", "--design", str(NO_REVOKE), "--engine", "explore", "--depth", "3", "--jobs", "1"],
        "mutants": ["mutants", "--engines", "corpus", "--mutant", "perms-ored", "--mutant", "viewfd-always-rw",
                    "--no-implementation"],
    }
    paths = {}
    for kind, args in files.items():
        done = memview(*args, "--json")
        assert done.returncode in (0, 1), done.stderr
        paths[kind] = where / f"{kind}.json"
        paths[kind].write_text(done.stdout, encoding="utf-8")
    return paths


def sections_of(page: str) -> dict[str, str]:
    found = dict(re.findall(r'<section id="([a-z-]+)" class="report-section">(.*?)</section>', page, re.S))
    assert list(found) == [ident for ident, _ in SECTIONS]
    return found


def test_a_broken_design_report_draws_each_counterexample_once_and_exits_1(saved: dict[str, Path],
                                                                             tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = memview("report", "--out", str(out), "--run", "conform,graph", "--from", str(saved["check"]),
                   "--from", str(saved["mutants"]), "--json")
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["schema"] == "memview-report/1"
    assert summary["design"]["name"] == "no-revoke"
    assert summary["failing"] == ["check: a property is violated"]
    page = (out / "index.html").read_text(encoding="utf-8")
    sections = sections_of(page)
    check = json.loads(saved["check"].read_text(encoding="utf-8"))
    violated = [r for r in check["results"] if r["verdict"] == "violated"]
    assert violated
    for result in violated:  # every violated verdict links to a drawn counterexample
        anchor = f"cx-{result['property'].lower()}-explore"
        assert f'href="#{anchor}"' in sections["verdicts"]
        assert f'id="{anchor}"' in sections["counterexamples"]
    traces = {json.dumps(r["counterexample"]["states"]) for r in violated}
    assert len(summary["pictures"]) == len(traces)  # one picture per distinct trace
    assert sections["counterexamples"].count("<svg") == len(traces)
    assert "access-marker" in sections["counterexamples"]
    assert "1 of 1 non-equivalent mutants killed; survivors: none; equivalent: viewfd-always-rw" in sections["mutants"]
    assert re.search(r"<th>perms-ored</th><td>semantic</td><td>[^<]*</td><td class=\"good\"[^>]*>killed",
                     sections["mutants"])
    assert "<svg" in sections["state-graph"]  # Graphviz's picture, inline
    assert "162 of 162 traces conform" in sections["conformance"]
    assert '<span class="changed">skip</span>' in sections["decisions"]
    for path in summary["pictures"]:
        assert Path(path).read_text(encoding="utf-8").startswith("<svg")
    saved_results = sorted(p.name for p in (out / "results").iterdir())
    assert saved_results == ["check.json", "conform.json", "graph.json", "mutants.json"]


def test_a_seed_report_holds_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = memview("report", "--design", "seed", "--out", str(out), "--run", "check", "--engine", "explore",
                   "--depth", "2", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "report: running memview check --design seed" in done.stderr
    sections = sections_of((out / "index.html").read_text(encoding="utf-8"))
    assert "No property was violated." in sections["counterexamples"]
    assert "violated" not in sections["verdicts"]
    assert sections["verdicts"].count('class="good"') == 11  # each property, explore's one column
    for kind in ("conform", "mutants", "graph"):  # not run, not given: the section says how to get it
        assert f"--run {kind}" in (sections["conformance"] + sections["mutants"] + sections["state-graph"])


def test_a_timeline_draws_the_models_ranges_and_mappings_at_every_step() -> None:
    trace = read_trace(CORPUS_DIR / "seed-scenario.itf.json")
    svg = trace_svg(trace, "scenario", "seed scenario")
    reports = report_steps(trace)
    rows = re.split(r'<text x="8\.0" y="[0-9.]+" font-size="11"[^>]*>(?:<title>.*?</title>)?\s*\d+ ', svg)[1:]
    assert len(rows) == len(reports)
    for report, row in zip(reports, rows, strict=True):
        assert report.after is not None
        ranges = sum(1 for r in report.after.view.ranges if r.used)
        mappings = sum(1 for p in report.after.procs for v in p.vmas if v.used)
        if report.layout is None and 'class="mapping"' not in row:
            continue  # a compact row: nothing changed and no process to show
        assert row.count('class="range"') == ranges, report.index
        assert row.count('class="mapping"') == mappings, report.index
    # The seed's own table: big-file.iso 4 GiB in at read, guest-ram 8 GiB in at read+write.
    assert "big-file.iso +4 GiB read" in svg and "guest-ram +8 GiB read+write" in svg


def test_a_diff_picture_marks_the_first_step_where_the_designs_differ(tmp_path: Path) -> None:
    picture = tmp_path / "diff.svg"
    done = memview("diff", "seed", "fuse-like", "--no-properties", "--picture", str(picture), "--json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["picture"] == str(picture)
    svg = picture.read_text(encoding="utf-8")
    result = lockstep(BUILTIN["seed"], BUILTIN["fuse-like"], 3)
    assert result.steps is not None
    lanes = [Lane(name, trace) for name, trace in zip(("seed", "fuse-like"), result.traces(), strict=True)]
    assert first_difference(lanes) == len(result.steps) - 1
    assert svg == timeline_svg(lanes, "diff", f"seed vs fuse-like: the same operations, first difference at step "
                               f"{len(result.steps) - 1}") + "\n"
    assert "first difference" in svg and ">seed<" in svg and ">fuse-like<" in svg
    same = memview("diff", "seed", "seed", "--no-properties", "--depth", "1", "--picture", str(tmp_path / "no.svg"))
    assert same.returncode == 0 and "no picture" in same.stdout and not (tmp_path / "no.svg").exists()


def test_sources_link_man_pages_and_precedents() -> None:
    html = linked("munmap(2) and vfio-user DMA_UNMAP accept part of a region; vhost-user REM_MEM_REG <x>")
    assert '<a href="https://man7.org/linux/man-pages/man2/munmap.2.html">munmap(2)</a>' in html
    assert ">vfio-user</a>" in html and ">vhost-user</a>" in html and "&lt;x&gt;" in html


@pytest.mark.parametrize(("args", "message"), [
    (["--run", "bogus"], "--run: unknown result 'bogus'"),
    (["--from", "missing.json"], "missing.json: no such file"),
    (["--executor", "dask:/nowhere"], "--executor"),
    (["--run", "none", "--engine", "bmc"], None),  # nothing run, nothing given: a page of notes, exit 0
])
def test_report_input(args: list[str], message: str | None, tmp_path: Path) -> None:
    done = memview("report", "--out", str(tmp_path / "r"), *args, cwd=tmp_path)
    if message is None:
        assert done.returncode == 0, done.stderr
        sections_of((tmp_path / "r" / "index.html").read_text(encoding="utf-8"))
        return
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"memview: error: {message}"), done.stderr


def test_results_of_another_design_or_kind_are_refused(saved: dict[str, Path], tmp_path: Path) -> None:
    done = memview("report", "--design", "seed", "--out", str(tmp_path / "r"), "--run", "none",
                   "--from", str(saved["check"]))
    assert done.returncode == 2
    assert "results for design no-revoke, but the report is for design seed" in done.stderr
    designs = tmp_path / "designs.json"
    designs.write_text(json.dumps({"schema": "memview-designs/1", "designs": []}), encoding="utf-8")
    done = memview("report", "--out", str(tmp_path / "r"), "--run", "none", "--from", str(designs))
    assert done.returncode == 2 and "a report shows only check, prove, conform, mutants, graph" in done.stderr
    future = tmp_path / "check2.json"
    future.write_text(json.dumps({"schema": "memview-check/2", "results": []}), encoding="utf-8")
    done = memview("report", "--out", str(tmp_path / "r"), "--run", "none", "--from", str(future))
    assert done.returncode == 2 and "a memview-check/2 result: this memview reads memview-check/1" in done.stderr
    done = memview("report", "--out", str(tmp_path / "r"), "--run", "none", "--from", str(saved["check"]),
                   "--from", str(saved["check"]))
    assert done.returncode == 2 and "a second check result" in done.stderr
    assert load_design(str(NO_REVOKE)).name == "no-revoke"


def test_a_bad_diff_picture_path_is_bad_input(tmp_path: Path) -> None:
    done = memview("diff", "seed", "fuse-like", "--picture", str(tmp_path / "diff.png"))
    assert done.returncode == 2 and "--picture" in done.stderr and "expected a .svg file" in done.stderr


def test_divergences_are_tabled_and_drawn_up_to_the_divergent_step(tmp_path: Path) -> None:
    traces = sorted(str(p) for p in CORPUS_DIR.glob("seed-*.itf.json"))
    done = memview("conform", "--backend", "model:fuse-like", "--design", "seed", *traces, "--json")
    assert done.returncode == 1, done.stderr
    saved = tmp_path / "conform.json"
    saved.write_text(done.stdout, encoding="utf-8")
    failed = [v for v in json.loads(done.stdout)["verdicts"] if v["status"] != "conform"]
    assert failed
    out = tmp_path / "report"
    done = memview("report", "--design", "seed", "--out", str(out), "--run", "none", "--from", str(saved))
    assert done.returncode == 1 and "conform: a trace does not conform" in done.stdout
    section = sections_of((out / "index.html").read_text(encoding="utf-8"))["conformance"]
    assert f"{len(traces) - len(failed)} of {len(traces)} traces conform on backend" in section
    assert section.count("<svg") == min(len(failed), 6)
    for verdict in failed[:6]:
        assert f"step {verdict['step']} expected" in section
    assert section.count("diverged here") == min(len(failed), 6)


def test_an_access_through_a_raw_fd_is_marked_beside_the_raw_mapping() -> None:
    trace = read_trace(CORPUS_DIR / "fdpass-keeps-after-unmap.itf.json")
    svg = trace_svg(trace, "fdpass", "fdpass")
    accesses = [s for s in trace.steps if s.action.name == "access" and s.observation.ok]
    assert len(accesses) == 3
    assert svg.count('class="access-marker"') == len(accesses)
    assert "raw guest-ram +4 KiB..8 KiB rw-" in svg
    assert "through its own mapping of a raw fd" in svg


def test_a_command_the_report_runs_refusing_its_input_ends_the_report_with_its_own_error(tmp_path: Path) -> None:
    done = memview("report", "--out", str(tmp_path / "r"), "--run", "check", "--depth", "99")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("memview: error:")]
    assert errors == ["memview: error: --depth: must be between 1 and 12, got 99"], done.stderr
    assert "Traceback" not in done.stderr
