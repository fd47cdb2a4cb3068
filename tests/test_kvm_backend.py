"""The kvm backend: the real driver (kernel/memory_view.ko) in a QEMU guest, judged on the corpus
and by fuzzing, with each divergence either fixed or pinned here as a finding (docs/findings.md);
a guest that does not boot or a module that does not load is a verdict, never a hang.

Slow tier. The first test installs what it needs through the project's own make targets
(`make kernel-deps kernel-module`: apt-get as root); it skips only when that could not install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from memview.backends.base import BackendFailure, StepLimit
from memview.model.design import SEED, load_design
from memview.model.ops import action
from memview.traces.conform import CONFORM, conform, judged_as
from memview.traces.corpus import regression_corpus
from memview.traces.itf import read_trace
from memview.traces.trace import Step, Trace

if TYPE_CHECKING:
    from memview.backends.kvm.backend import KvmBackend

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "memview" / "traces" / "corpus"
SEED_DRIVER = ROOT / "kernel" / "seed-driver.toml"

# Every corpus trace that does not conform to seed-driver on the real driver, and why: each is a
# finding of docs/findings.md. The test below requires exactly these, so a fix or a new divergence
# shows.
FINDINGS = {
    # F1: truncating a memfd under a mapped range leaves the view's PTE on a page the page cache
    # dropped; the kernel says so at the ftruncate.
    "mutant-stale-page-after-truncate.itf.json": (19, "BUG: Bad page cache"),
    # F2: a range without X stays executable through a PROT_EXEC mapping once its page is present.
    "mutant-mprotect-upgrades-ptes.itf.json": (20, '"observed": {"outcome": "ok"'),
}


def install() -> str | None:
    """Run the project's make targets; the reason they failed, or None."""
    if shutil.which("make") is None:
        return "make is missing"
    done = subprocess.run(["make", "--no-print-directory", "kernel-module"], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)
    if done.returncode != 0:
        return f"make kernel-module failed: {(done.stdout + done.stderr).strip().splitlines()[-1:]}"
    return None


@pytest.fixture(scope="module")
def kvm() -> Iterator[None]:
    reason = install()
    if reason is not None:
        pytest.skip(f"the kvm backend's parts could not be installed: {reason}")
    yield
    from memview.backends.kvm.backend import POOL

    POOL.discard()


def run_memview(*args: str, timeout: float = 1800, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "memview.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def verdict_of(name: str, design_spec: str | Path = SEED_DRIVER) -> object:
    from memview.backends.kvm.backend import KvmBackend

    trace = judged_as(read_trace(CORPUS / name), load_design(str(design_spec)))
    return conform(name, trace, KvmBackend(), limit=StepLimit(60.0))


@pytest.mark.usefixtures("kvm")
@pytest.mark.parametrize("name", [
    "seed-scenario.itf.json",  # the seed's own example, at literal sizes (16 GiB view, 32 GiB memfd)
    "cover-seed-edges-27.itf.json",  # UNMAP_FD revokes: B's read is SIGBUS before the ioctl returns
    "seed-shrink-not-ebusy.itf.json",  # a shrink revokes
    "mutant-revoke-skips-children.itf.json",  # revocation reaches a forked child
    "mutant-view-fd-accepts-ioctls.itf.json",  # the view fd answers ENOTTY
    "mutant-seal-write-ignores-view.itf.json",  # a writable range holds off F_SEAL_WRITE (EBUSY)
    "seed-private-not-cow.itf.json",  # MAP_PRIVATE of the view is EINVAL
])
def test_corpus_traces_conform_on_the_real_driver(name: str) -> None:
    verdict = verdict_of(name)
    assert verdict.status == CONFORM, verdict.report()  # type: ignore[attr-defined]


@pytest.mark.usefixtures("kvm")
def test_the_corpus_conforms_but_for_the_pinned_findings(tmp_path: Path) -> None:
    junit = tmp_path / "kvm.xml"
    done = run_memview("conform", "--backend", "kvm", "--design", str(SEED_DRIVER), "--corpus", "--json",
                       "--timeout", "60", "--junit", str(junit))
    assert done.returncode in (0, 1), done.stderr
    verdicts = json.loads(done.stdout)["verdicts"]
    failing = {Path(v["trace"]).name: v for v in verdicts if v["status"] != "conform"}
    assert set(failing) == set(FINDINGS), {k: v.get("message") or v for k, v in failing.items()}
    for name, (step, shown) in FINDINGS.items():
        assert failing[name]["step"] == step and shown in json.dumps(failing[name]), failing[name]
    assert len(verdicts) == len(regression_corpus())


@pytest.mark.usefixtures("kvm")
def test_truncating_a_mapped_memfd_is_a_kernel_report_naming_the_step() -> None:
    """F1: what the kernel printed becomes the verdict, with the console's tail."""
    verdict = verdict_of("mutant-stale-page-after-truncate.itf.json")
    text = verdict.report()  # type: ignore[attr-defined]
    assert "crash: step 19 (A: ftruncate" in text and "BUG: Bad page cache" in text, text
    assert "guest console" in text


@pytest.mark.usefixtures("kvm")
def test_f1_minimal_truncating_the_memfd_behind_a_present_page_is_a_bad_page_cache_bug() -> None:
    """F1's minimal trace (the corpus's 21 steps minimised on the driver to 10): B reads the view's
    only page, A truncates the memfd to 0, and the kernel reports the page cache page still mapped."""
    from memview.backends.kvm.backend import KvmBackend

    trace = read_trace(ROOT / "kernel" / "findings" / "F1-truncate-under-a-mapped-range.itf.json")
    verdict = conform("F1", trace, KvmBackend(), limit=StepLimit(60.0))
    assert verdict.step == 9 and "BUG: Bad page cache" in (verdict.failure or ""), verdict.report()


@pytest.mark.usefixtures("kvm")
def test_f2_a_range_without_x_executes_once_its_page_is_present() -> None:
    """F2's minimal trace (memview conform --out minimised the corpus's 21 steps to 11): a read makes
    the page present, mprotect(rwx) is allowed (lax), and the fetch runs where the range has no X."""
    from memview.backends.kvm.backend import KvmBackend

    trace = read_trace(ROOT / "kernel" / "findings" / "F2-exec-through-a-present-page.itf.json")
    verdict = conform("F2", trace, KvmBackend(), limit=StepLimit(60.0))
    assert verdict.step == 10 and verdict.observed is not None and verdict.observed.outcome == "ok", verdict.report()
    assert str(verdict.expected) == "SIGSEGV/SEGV_MAPERR"


@pytest.mark.usefixtures("kvm")
def test_a_denied_access_is_segv_maperr_where_the_seed_says_segv_accerr() -> None:
    """The documented deviation (kernel/seed-driver.toml): held to the seed itself, the driver's
    refusal of a write to guest-ram's read-only neighbour shows SEGV_MAPERR."""
    verdict = verdict_of("seed-scenario.itf.json", "seed")
    assert verdict.step == 19 and "SEGV_MAPERR" in str(verdict.observed)  # type: ignore[attr-defined]
    assert "SEGV_ACCERR" in str(verdict.expected)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("kvm")
def test_an_exec_seal_under_a_writable_range_is_the_drivers_ebusy_though_6_1_has_no_f_seal_exec() -> None:
    """Fuzzing in CI met 6.1's EINVAL for F_SEAL_EXEC (6.3 added it): the guest is asked for the
    write seals it implies, so the driver's EBUSY under a writable range is what is judged."""
    from memview.backends.kvm.backend import KvmBackend

    design = load_design(str(SEED_DRIVER))
    trace = read_trace(CORPUS / "mutant-seal-write-ignores-view.itf.json")
    at = next(i for i, s in enumerate(trace.steps) if s.action.name == "seal")
    steps = list(trace.steps)
    steps[at] = Step(action("seal", proc=steps[at].action.proc, fd=steps[at].action.arg("fd"), seals=["exec"]),
                     steps[at].observation)
    exec_seal = judged_as(Trace(trace.design, trace.config, steps, dict(trace.meta)), design)
    assert str(exec_seal.steps[at].observation) == "EBUSY"  # the model's answer: the test is not vacuous
    verdict = conform("exec-seal", exec_seal, KvmBackend(), limit=StepLimit(60.0))
    assert verdict.status == CONFORM, verdict.report()


@pytest.mark.usefixtures("kvm")
def test_a_design_the_driver_does_not_implement_is_refused_naming_the_difference() -> None:
    from memview.backends.kvm.backend import KvmBackend

    backend = KvmBackend()
    fuse_like = SEED.with_choices("replace", {"overlap": "replace"})
    trace = read_trace(CORPUS / "seed-scenario.itf.json")
    with pytest.raises(BackendFailure) as caught:
        backend.start(fuse_like, trace.config)
    backend.stop()
    assert caught.value.kind == "refused" and "overlap" in caught.value.message


@pytest.mark.usefixtures("kvm")
def test_fuzzing_runs_2000_steps_against_the_real_driver(tmp_path: Path) -> None:
    """ftruncate is left out: every run would otherwise stop at F1, which is pinned above. In a
    fresh directory, so no earlier run's hypothesis database replays its failures first."""
    done = run_memview("fuzz", "--backend", "kvm", "--design", str(SEED_DRIVER), "--examples", "70", "--steps", "30",
                       "--seed", "1", "--timeout", "60", "--skip", "ftruncate", "--json", cwd=tmp_path)
    out = json.loads(done.stdout)
    assert out["steps"] >= 2000, out
    assert done.returncode == 0 and out["divergence"] is None, out


@pytest.mark.usefixtures("kvm")
def test_a_module_that_does_not_load_is_a_verdict_with_the_console(tmp_path: Path) -> None:
    from memview.backends.kvm.guest import Guest, GuestFailure, find_kernel

    broken = tmp_path / "memory_view.ko"
    broken.write_bytes(b"not an ELF module")
    guest = Guest(replace(find_kernel(), driver=broken))
    try:
        with pytest.raises(GuestFailure) as caught:
            guest.boot(timeout=120)
    finally:
        guest.shutdown()
    assert "insmod memory_view.ko" in caught.value.message and "guest console" in caught.value.message


@pytest.mark.usefixtures("kvm")
def test_a_guest_that_does_not_boot_in_time_is_a_hang_verdict() -> None:
    from memview.backends.kvm.guest import Guest, GuestFailure, find_kernel

    guest = Guest(find_kernel())
    try:
        with pytest.raises(GuestFailure) as caught:
            guest.boot(timeout=0.5)
    finally:
        guest.shutdown()
    assert caught.value.kind == "hang" and "did not boot" in caught.value.message
    assert guest.process is None


def a_session_with_its_view_open() -> KvmBackend:
    """A kvm session on a booted guest, one step in (A opened the view)."""
    from memview.backends.kvm.backend import KvmBackend
    from memview.model.ops import action

    backend = KvmBackend()
    backend.start(load_design(str(SEED_DRIVER)), read_trace(CORPUS / "seed-scenario.itf.json").config)
    assert backend.perform(action("view_open"), StepLimit(60.0)).ok
    return backend


@pytest.mark.usefixtures("kvm")
def test_a_guest_that_dies_mid_trace_is_a_verdict_naming_the_step_and_the_next_trace_boots_again() -> None:
    from memview.backends.kvm.backend import POOL
    from memview.model.ops import action

    backend = a_session_with_its_view_open()
    assert POOL.guest is not None and POOL.guest.process is not None
    POOL.guest.process.kill()
    with pytest.raises(BackendFailure) as caught:
        backend.perform(action("view_set_size", fd=0, size=4096), StepLimit(60.0))
    backend.stop()
    assert caught.value.kind == "crash" and "step 1 (A: view_set_size" in caught.value.message
    assert "guest console" in caught.value.message
    assert verdict_of("cover-seed-edges-27.itf.json").status == CONFORM  # type: ignore[attr-defined]


@pytest.mark.usefixtures("kvm")
def test_a_hung_guest_is_a_hang_verdict_after_the_step_limit_never_a_hang_of_memview() -> None:
    """QEMU stopped (SIGSTOP) mid-trace stands for a guest that hangs: the step's limit ends it."""
    import signal
    import time

    from memview.backends.kvm.backend import POOL
    from memview.model.ops import action

    backend = a_session_with_its_view_open()
    assert POOL.guest is not None and POOL.guest.process is not None
    os.kill(POOL.guest.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(BackendFailure) as caught:
        backend.perform(action("view_set_size", fd=0, size=4096), StepLimit(3.0))
    backend.stop()
    assert time.monotonic() - started < 15
    assert caught.value.kind == "hang" and "step 1 (view_set_size): no answer within 3 s" in caught.value.message
    assert verdict_of("cover-seed-edges-27.itf.json").status == CONFORM  # type: ignore[attr-defined]


@pytest.mark.usefixtures("kvm")
def test_an_unmap_that_reaches_past_the_traces_mappings_still_unmaps_them() -> None:
    """Fuzzing found it (CI, 2026-11-28): a munmap whose span starts below the trace's mappings is
    answered by the model, so that it cannot land on the agent's own memory, but the trace's pages
    inside it must really go, or B's next read still finds them."""
    from memview.backends.kvm.backend import KvmBackend
    from memview.checker.alphabet import default_scope
    from memview.model.constants import MMAP_BASE
    from memview.model.machine import Machine
    from memview.model.ops import action
    from memview.traces.trace import Step, Trace

    design = load_design(str(SEED_DRIVER))
    scope = default_scope(design)
    machine = Machine(design, scope.config)
    acts = [act for act, _ in scope.prefix] + [
        action("access", proc=1, addr=MMAP_BASE, kind="read", byte=0),
        action("munmap", proc=1, addr=0, length=MMAP_BASE + scope.config.page_size),
        action("access", proc=1, addr=MMAP_BASE, kind="read", byte=0),
    ]
    trace = Trace(design, scope.config, [Step(act, machine.run(act)) for act in acts])
    assert str(trace.steps[-1].observation).startswith("SIGSEGV")  # the model: no mapping there any more
    verdict = conform("harness-span-munmap", trace, KvmBackend(), limit=StepLimit(60.0))
    assert verdict.status == CONFORM, verdict.report()
