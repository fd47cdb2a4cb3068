"""The pytest plugin, as an implementer uses it: a separate temporary project configures it in its
pytest.ini and runs pytest in a subprocess; each trace is an item memview::NAME, a divergence fails
with the explain view and conform's verdict, bad configuration is a usage error naming the option.

The plugin comes in through its `pytest11` entry point, so memview must be pip-installed (as
`make setup` does) in the interpreter running these tests."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from memview.backends.exec import serve_command
from memview.backends.model import ModelBackend
from memview.errors import InputError
from memview.model.constants import Errno
from memview.model.design import BUILTIN, SEED, load_design
from memview.model.observation import Observation
from memview.trace_selection import select_traces
from memview.traces.conform import conform
from memview.traces.corpus import CORPUS_DIR, regression_corpus
from memview.traces.explain import explain
from memview.traces.itf import read_trace, write_trace
from memview.traces.trace import Step, Trace

REPO = Path(__file__).resolve().parent.parent
SCENARIO = "seed-scenario"  # 27 steps: A builds the seed's view, B maps it, A revokes, B reads again
SHORT = "fdpass-min-read"  # 5 steps; conforms under every deviation these tests use
USAGE_ERROR = 4  # pytest's exit status for a usage error


def project(tmp_path: Path, copies: tuple[str, ...] = (SCENARIO, SHORT), **ini: str) -> Path:
    """A project of its own: a pytest.ini with the memview_* options given, the corpus traces named
    copied under traces/, and no tests of its own."""
    (tmp_path / "traces").mkdir()
    for name in copies:
        shutil.copy(CORPUS_DIR / f"{name}.itf.json", tmp_path / "traces" / f"{name}.itf.json")
    options = "".join(f"memview_{key} = {value}\n" for key, value in ini.items())
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{options}", encoding="utf-8")
    return tmp_path


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The outer run's PYTEST_* settings (addopts, xdist worker ids) must not leak into the project's run.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "400"  # the short summary keeps the whole verdict headline
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rf", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def outcomes(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Node id -> PASSED/FAILED, from a -v run's progress lines."""
    return dict(re.findall(r"^(memview::\S+) (PASSED|FAILED)", result.stdout, re.MULTILINE))


def exec_backend(*serve_args: str) -> str:
    return "exec:" + shlex.join(serve_command(*serve_args))


def failure_section(result: subprocess.CompletedProcess[str], name: str) -> str:
    """The FAILURES section of one item (its title names the trace and the backend)."""
    sections = re.split(r"^_+ memview ", result.stdout, flags=re.MULTILINE)
    found = [section for section in sections if section.startswith(f"{name} on ")]
    assert len(found) == 1, result.stdout
    return found[0].split("= short test summary info =")[0]


def test_the_entry_point_is_registered() -> None:
    plugins = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert plugins.get("memview") == "memview.pytest_plugin", "pip install -e . (make setup) registers it"


def test_unconfigured_it_adds_nothing_and_imports_nothing_of_memview(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "test_own.py").write_text(
        "import sys\n\n"
        "def test_memview_stays_unimported():\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('memview.') and m != 'memview.pytest_plugin')\n"
        "    assert loaded == []\n", encoding="utf-8")
    result = run_pytest(root, "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "memview::" not in result.stdout


def test_the_model_conforms_on_the_whole_corpus_one_item_per_trace(tmp_path: Path) -> None:
    root = project(tmp_path, backend="model", traces="corpus")
    result = run_pytest(root, "-v")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    expected = {f"memview::corpus/{name.removesuffix('.itf.json')}" for name, _ in regression_corpus()}
    assert outcomes(result) == dict.fromkeys(expected, "PASSED")
    assert f"collected {len(expected)} items" in result.stdout


def test_a_pinned_model_held_to_the_seed_fails_with_the_explain_view_and_the_divergent_step(tmp_path: Path) -> None:
    # The design is a TOML file relative to the rootdir; the command-line flag overrides the ini backend.
    root = project(tmp_path, backend="model", design="designs/my-seed.toml", traces="traces/*.itf.json")
    (root / "designs").mkdir()
    (root / "designs" / "my-seed.toml").write_text('base = "seed"\nname = "my-seed"\n', encoding="utf-8")
    result = run_pytest(root, "-v", "--memview-backend", "model:fuse-like")
    assert result.returncode == 1, result.stdout + result.stderr
    assert outcomes(result) == {"memview::traces/seed-scenario": "FAILED", "memview::traces/fdpass-min-read": "PASSED"}

    recorded = read_trace(CORPUS_DIR / f"{SCENARIO}.itf.json")
    held = Trace(load_design(str(root / "designs" / "my-seed.toml")), recorded.config, recorded.steps, recorded.meta)
    verdict = conform("traces/seed-scenario", held, ModelBackend(pinned=BUILTIN["fuse-like"]))
    assert verdict.step == 1 and verdict.observed == Observation("errno", int(Errno.ENOTTY))  # sized by ftruncate
    shown = Trace(held.design, held.config, held.steps[:2], held.meta)
    section = failure_section(result, "traces/seed-scenario")
    assert explain(shown) in section  # the timeline up to and including the divergent step, and no further
    assert verdict.report() in section  # the verdict as memview conform prints it
    assert "the design my-seed requires ok 0, the backend showed ENOTTY" in section
    assert f"FAILED memview::traces/seed-scenario - {verdict.headline()}\n" in result.stdout


def test_an_exec_peer_conforms(tmp_path: Path) -> None:
    root = project(tmp_path, backend=exec_backend(), traces="traces/*.itf.json")
    result = run_pytest(root, "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcomes(result) == {"memview::traces/seed-scenario": "PASSED", "memview::traces/fdpass-min-read": "PASSED"}


@pytest.mark.parametrize(("serve_args", "failing", "says"), [
    # A peer skipping revocation: B still reads the revoked page where the seed requires SIGBUS.
    (("--deviate", "revocation=skip"), ("seed-scenario",),
     "diverges at step 26 (P1: access(addr=0x10240000000, kind=read, byte=0)): the design seed requires "
     "SIGBUS/BUS_ADRERR, the backend showed ok 90"),
    (("--fault", "wrong", "--at", "3"), ("seed-scenario", "fdpass-min-read"), "diverges at step 3"),
    (("--fault", "silence", "--at", "2"), ("seed-scenario", "fdpass-min-read"),
     "the backend failed: hang: step 2 ("),
    (("--fault", "segv", "--at", "2"), ("seed-scenario", "fdpass-min-read"), "the backend failed: crash: step 2"),
], ids=["deviation", "wrong-answer", "hang", "crash"])
def test_a_faulty_exec_peer_fails_with_the_verdict(tmp_path: Path, serve_args: tuple[str, ...],
                                                   failing: tuple[str, ...], says: str) -> None:
    root = project(tmp_path, backend=exec_backend(*serve_args), traces="traces/*.itf.json", timeout="1")
    result = run_pytest(root, "-v")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "INTERNALERROR" not in result.stdout + result.stderr and "Traceback" not in result.stdout
    expected = {f"memview::traces/{name}": "FAILED" if name in failing else "PASSED" for name in (SCENARIO, SHORT)}
    assert outcomes(result) == expected
    for name in failing:
        section = failure_section(result, f"traces/{name}")
        assert says in section
        assert "step   who   operation" in section  # the explain view's timeline


@pytest.mark.parametrize("lenient", ["false", "true"])
def test_lenient_accepts_the_other_sigsegv_si_code_only_when_set(tmp_path: Path, lenient: str) -> None:
    # A peer answering SEGV_MAPERR where the seed says SEGV_ACCERR: a mechanism the design leaves open.
    denied = "seed-denied-not-sigsegv-maperr"
    root = project(tmp_path, copies=(denied,), backend=exec_backend("--deviate", "denied=sigsegv-maperr"),
                   traces="traces/*.itf.json", lenient=lenient)
    result = run_pytest(root, "-v")
    if lenient == "true":
        assert result.returncode == 0, result.stdout + result.stderr
        assert outcomes(result) == {f"memview::traces/{denied}": "PASSED"}
    else:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "requires SIGSEGV/SEGV_ACCERR, the backend showed SIGSEGV/SEGV_MAPERR" in result.stdout


def test_keyword_selection_applies_to_trace_items(tmp_path: Path) -> None:
    root = project(tmp_path, backend="model", traces="traces/*.itf.json")
    result = run_pytest(root, "-v", "-k", "min-read")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcomes(result) == {"memview::traces/fdpass-min-read": "PASSED"}
    assert "1 deselected" in result.stdout


@pytest.mark.slow
def test_generated_traces_are_items_and_xdist_workers_agree_on_them(tmp_path: Path) -> None:
    # Each xdist worker collects on its own: generation must give every worker the same items.
    root = project(tmp_path, backend="model", traces="generate:decisions traces/*.itf.json")
    result = run_pytest(root, "-v", "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.findall(r"PASSED (memview::\S+)", result.stdout)  # xdist prints the outcome first
    generated = sorted(name for name in passed if name.startswith("memview::generate/"))
    assert len(generated) == len(set(generated)) == 18  # one per other variant of each decision
    assert f"memview::generate/{SEED.name}-sizing-not-inode" in generated
    assert len(passed) == 18 + 2


def stale_trace(root: Path) -> None:
    """A trace whose recorded observation its own design no longer gives."""
    trace = read_trace(CORPUS_DIR / f"{SHORT}.itf.json")
    steps = [*trace.steps[:-1], Step(trace.steps[-1].action, Observation("ok", 12345))]
    write_trace(Trace(trace.design, trace.config, steps, trace.meta), root / "traces" / "stale.itf.json")


@pytest.mark.parametrize(("ini", "message"), [
    ({"backend": "nope"}, "memview_backend: unknown backend 'nope' (choose from model, "),
    ({"backend": "exec:no-such-peer --serve"}, "memview_backend: exec command not found: no-such-peer"),
    ({"backend": "model:nope"}, "memview_backend: unknown design 'nope'"),
    ({"backend": "model", "design": "nope"}, "memview_design: unknown design 'nope'"),
    ({"backend": "model", "design": "missing.toml"}, "memview_design: "),
    ({"backend": "model", "traces": "corpus missing/*.itf.json"},
     "memview_traces: no trace file matches 'missing/*.itf.json'"),
    ({"backend": "model", "traces": "traces/malformed.itf.json"}, "memview_traces: "),
    ({"backend": "model", "traces": "traces/stale.itf.json"},
     "made for another design (judge it against one with memview_design)"),
    ({"backend": "model", "traces": "generate:everything"}, "memview_traces: unknown coverage 'everything'"),
    ({"backend": "model", "timeout": "soon"}, "memview_timeout: expected seconds, got 'soon'"),
    ({"backend": "model", "timeout": "0"}, "memview_timeout: must be between 0 and 3600 seconds"),
], ids=["backend", "exec-command", "pinned-design", "design", "design-file", "trace-glob", "malformed-trace",
        "stale-trace", "coverage", "timeout-text", "timeout-range"])
def test_bad_configuration_is_a_usage_error_naming_the_option(tmp_path: Path, ini: dict[str, str],
                                                              message: str) -> None:
    root = project(tmp_path, copies=(), **ini)
    (root / "traces" / "malformed.itf.json").write_text('{"#meta": ', encoding="utf-8")
    stale_trace(root)
    result = run_pytest(root)
    assert result.returncode == USAGE_ERROR, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert errors[0].startswith(f"ERROR: memview_{next(reversed(ini))}: "), errors[0]  # the option at fault
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# The selection behind memview_traces, in process


def test_overlapping_globs_select_a_trace_once_in_the_order_given(tmp_path: Path) -> None:
    root = project(tmp_path)
    selected = select_traces(["traces/seed-*.itf.json", "traces/*.itf.json"], root, None, "memview_traces")
    assert [s.name for s in selected] == ["traces/seed-scenario", "traces/fdpass-min-read"]
    assert selected[0].source == root / "traces" / "seed-scenario.itf.json"


def test_two_traces_with_one_name_are_refused(tmp_path: Path) -> None:
    # A file at corpus/STEM.itf.json under the rootdir would share its item name with the shipped trace.
    root = project(tmp_path, copies=())
    (root / "corpus").mkdir()
    shutil.copy(CORPUS_DIR / f"{SHORT}.itf.json", root / "corpus" / f"{SHORT}.itf.json")
    with pytest.raises(InputError, match=f"two traces would both be named 'corpus/{SHORT}'"):
        select_traces(["corpus", "corpus/*.itf.json"], root, None, "memview_traces")


@pytest.mark.parametrize(("specs", "problem"), [
    ([], "no traces selected"),
    (["generate:"], "name a coverage after generate:"),
    (["generate:edges,"], "name a coverage after generate:"),
])
def test_an_empty_selection_is_refused(tmp_path: Path, specs: list[str], problem: str) -> None:
    with pytest.raises(InputError, match=problem) as raised:
        select_traces(specs, tmp_path, None, "memview_traces")
    assert raised.value.place == "memview_traces"
