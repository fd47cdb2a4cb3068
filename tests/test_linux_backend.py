"""The linux backend: the shipped corpus and fuzzing agree with the model on real processes, and a
failing process is a verdict naming the step, never a crash or a hang of memview."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linux_helpers import holdings, require_linux_backend, trace_of

from memview.backends.base import BackendFailure, StepLimit
from memview.backends.linux import wire
from memview.backends.linux.backend import LinuxBackend
from memview.checker.alphabet import default_scope
from memview.checker.bmc import bmc
from memview.checker.check import Report, finish_counterexamples
from memview.checker.corpus_build import seed_scenario
from memview.checker.fuzz import fuzz
from memview.checker.reproduce import reproduce
from memview.checker.result import REPRODUCED
from memview.checker.strategies import actions
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import BUILTIN, SEED
from memview.model.machine import Machine
from memview.model.ops import Action, action
from memview.model.state import State
from memview.properties.catalogue import select_properties
from memview.traces.conform import CONFORM, conform, judged_as
from memview.traces.corpus import regression_corpus

pytestmark = pytest.mark.usefixtures("linux_backend_available")

P = 4096


@pytest.fixture
def linux_backend_available() -> None:
    require_linux_backend()


def shared_view(clients: int = 1) -> list[Action]:
    """A sizes a 4-page view, maps 2 pages of a memfd read+write, and gives B1 a view fd it maps."""
    acts = [
        action("view_open"),
        action("view_set_size", fd=0, size=4 * P),
        action("memfd_create", sealing=True),
        action("ftruncate", fd=1, size=2 * P),
        action("pwrite", fd=1, offset=P, byte=42),
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=2 * P, mem_offset=0, perms="rw-"),
        action("view_get_viewfd", fd=0, mode="rw"),
    ]
    for client in range(1, clients + 1):
        acts += [action("send", fd=2, to=client),
                 action("mmap", proc=client, fd=0, length=4 * P, prot="rw-", flags="shared", offset=0)]
    return acts


@pytest.mark.parametrize("design", sorted(BUILTIN))
def test_the_corpus_conforms_on_linux(design: str) -> None:
    for name, trace in regression_corpus():
        verdict = conform(name, judged_as(trace, BUILTIN[design]), LinuxBackend())
        assert verdict.status == CONFORM, verdict.report()


def test_fuzzing_finds_no_divergence() -> None:
    result = fuzz(SEED, LinuxBackend, examples=25, steps=30, seed=3, database=None)
    assert result.failure is None, result.failure
    assert result.steps > 500


def test_a_revocation_reaches_a_forked_child_before_the_unmap_returns() -> None:
    read = P + 1
    acts = [*shared_view(),
            action("access", proc=1, addr=MMAP_BASE + P, kind="read", byte=0),
            action("fork", proc=1),
            action("access", proc=3, addr=MMAP_BASE + P, kind="read", byte=0),
            action("access", proc=3, addr=MMAP_BASE + read, kind="write", byte=9),
            action("view_unmap_fd", fd=0, mem_offset=0, size=2 * P),
            action("access", proc=3, addr=MMAP_BASE + P, kind="read", byte=0),
            action("access", proc=1, addr=MMAP_BASE + P, kind="read", byte=0)]
    trace = trace_of(SEED, acts)
    backend = LinuxBackend()
    verdict = conform("fork-revoke", trace, backend)
    assert verdict.status == CONFORM, verdict.report()
    assert [str(s.observation) for s in trace.steps[-2:]] == ["SIGBUS/BUS_ADRERR"] * 2


def test_exec_accesses_are_real_instruction_fetches() -> None:
    """A fetch from a page without PROT_EXEC, from an unconfigured page, past the mapping, and two
    that succeed (the bytes 0x00 and 0xc3 there execute, harmlessly, in a throwaway child)."""
    acts = [action("view_open"), action("view_set_size", fd=0, size=4 * P), action("memfd_create", sealing=True),
            action("ftruncate", fd=1, size=2 * P), action("pwrite", fd=1, offset=P, byte=0xC3),
            action("view_map_fd", fd=0, src=1, fd_offset=0, size=P, mem_offset=0, perms="r-x"),
            action("view_map_fd", fd=0, src=1, fd_offset=P, size=P, mem_offset=P, perms="r--"),
            action("view_map_fd", fd=0, src=1, fd_offset=P, size=P, mem_offset=2 * P, perms="r-x"),
            action("view_get_viewfd", fd=0, mode="rw"), action("send", fd=2, to=1),
            action("mmap", proc=1, fd=0, length=4 * P, prot="r-x", flags="shared", offset=0)]
    fetches = [action("access", proc=1, addr=MMAP_BASE + offset, kind="exec", byte=0)
               for offset in (0, P, 2 * P, 3 * P, 8 * P)]
    machine, backend = Machine(SEED, Config()), LinuxBackend()
    backend.start(SEED, Config())
    try:
        for act in acts:
            assert backend.perform(act, StepLimit()) == machine.run(act), act
        seen = []
        for act in fetches:
            observed = backend.perform(act, StepLimit())
            assert observed == machine.run(act) and backend.source == "cpu", act
            seen.append(str(observed))
    finally:
        backend.stop()
    assert seen == ["ok 0", "SIGSEGV/SEGV_ACCERR", "ok 195", "SIGBUS/BUS_ADRERR", "SIGSEGV/SEGV_MAPERR"]


def driver_state(state: State) -> State:
    """What the emulated driver reads: the state less what only accesses change."""
    procs = tuple(replace(p, pte=None, pte_page=None, cow=None, cow_data=None) for p in state.procs)
    objs = tuple(replace(o, data=None) for o in state.objs)
    return replace(state, procs=procs, objs=objs)


@given(st.lists(actions(SEED), max_size=30))
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_an_access_changes_nothing_the_driver_reads(acts: list[Action]) -> None:
    """Why the backend may skip the model for real accesses (LinuxBackend.real_access)."""
    scope = default_scope(SEED)
    machine = Machine(SEED, scope.config)
    for act in [a for a, _ in scope.prefix] + acts:
        before = machine.state
        machine.run(act)
        if act.name == "access":
            assert driver_state(machine.state) == driver_state(before), act


def started(acts: list[Action], config: Config | None = None) -> LinuxBackend:
    backend = LinuxBackend()
    backend.start(SEED, config or Config())
    for act in acts:
        backend.perform(act, StepLimit())
    return backend


def test_a_killed_client_is_a_crash_naming_the_step() -> None:
    backend = started(shared_view())
    try:
        os.kill(backend.processes[1].pid, signal.SIGKILL)
        with pytest.raises(BackendFailure) as failed:
            backend.perform(action("access", proc=1, addr=MMAP_BASE, kind="read", byte=0), StepLimit())
        assert failed.value.kind == "crash"
        assert "step 9 " in failed.value.message and "killed by SIGKILL" in failed.value.message
    finally:
        backend.stop()


def test_a_client_that_exits_is_an_early_exit_and_a_revocation_needing_it_fails_there() -> None:
    backend = started(shared_view())
    try:
        wire.send(backend.processes[1].channel, ("exit",))
        with pytest.raises(BackendFailure) as failed:
            backend.perform(action("view_unmap_fd", fd=0, mem_offset=0, size=P), StepLimit())
        assert failed.value.kind == "early-exit"
        assert "step 9 (A: view_unmap_fd" in failed.value.message and "exited with status 0" in failed.value.message
    finally:
        backend.stop()


def test_a_killed_forked_child_is_a_verdict_too() -> None:
    backend = started([*shared_view(), action("fork", proc=1)])
    try:
        os.kill(backend.processes[3].pid, signal.SIGTERM)
        with pytest.raises(BackendFailure) as failed:
            backend.perform(action("access", proc=3, addr=MMAP_BASE, kind="read", byte=0), StepLimit())
        assert failed.value.kind == "crash" and "step 10 " in failed.value.message
        assert "P3" in failed.value.message
    finally:
        backend.stop()


def test_a_silent_client_is_a_hang_after_the_step_limit_and_is_reaped() -> None:
    backend = started(shared_view())
    pid = backend.processes[1].pid
    try:
        os.kill(pid, signal.SIGSTOP)
        began = time.monotonic()
        with pytest.raises(BackendFailure) as failed:
            backend.perform(action("access", proc=1, addr=MMAP_BASE, kind="read", byte=0), StepLimit(0.3))
        assert failed.value.kind == "hang" and "step 9 " in failed.value.message
        assert time.monotonic() - began < 2
    finally:
        backend.stop()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def replay_corpus_many(times: int) -> None:
    corpus = regression_corpus()
    for index in range(times):
        name, trace = corpus[index % len(corpus)]
        verdict = conform(name, trace, LinuxBackend())
        assert verdict.status == CONFORM, verdict.report()


def test_replays_leave_nothing_behind() -> None:
    before = holdings()
    replay_corpus_many(20)
    assert holdings() == before


@pytest.mark.slow
def test_a_thousand_replays_leave_nothing_behind() -> None:
    before = holdings()
    replay_corpus_many(1000)
    assert holdings() == before


@pytest.mark.slow
def test_fuzzing_ten_thousand_steps_finds_no_divergence() -> None:
    result = fuzz(SEED, LinuxBackend, examples=300, steps=40, seed=20261128, database=None)
    assert result.failure is None, result.failure
    assert result.steps >= 10_000


def test_without_a_compiler_the_command_says_so_in_one_line(tmp_path: os.PathLike[str]) -> None:
    env = {**os.environ, "MEMVIEW_CACHE": str(tmp_path), "CC": "/nonexistent/cc"}
    done = subprocess.run([sys.executable, "-m", "memview.cli", "conform", "--corpus", "--backend", "linux"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "needs a C compiler" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_off_linux_the_backend_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from memview.backends.linux import build
    from memview.backends.registry import open_backend
    from memview.errors import InputError

    monkeypatch.setattr(build.sys, "platform", "darwin")
    with pytest.raises(InputError, match="runs only on Linux"):
        open_backend("linux")


def resident_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def test_the_seed_scenario_at_literal_sizes_holds_for_real_without_allocating_it() -> None:
    """The proposal's example (a 16 GiB view over a 32 GiB memfd and a 12 GiB file) on real memory:
    every observation as the model gives it, in well under a minute, with only the touched pages
    allocated in the backing objects and the client."""
    scenario = seed_scenario()
    backend = LinuxBackend()
    started_at = time.monotonic()
    backend.start(scenario.design, scenario.config)
    # The client is forked from this process, so it starts with whatever this test process holds
    # (z3, hypothesis, ...): what the view may add is measured from there.
    resident_at_start = resident_kib(backend.processes[1].pid)
    grown_kib = -1
    try:
        for index, step in enumerate(scenario.steps):
            observed = backend.perform(step.action, StepLimit())
            assert observed == step.observation, f"step {index} ({step.action}): {observed}"
            if index == len(scenario.steps) - 2:  # before the last revocation's access: B's RSS
                grown_kib = resident_kib(backend.processes[1].pid) - resident_at_start
        sizes = {slot: os.fstat(fd) for slot, fd in backend.objects.items()}
    finally:
        backend.stop()
    seconds = time.monotonic() - started_at
    assert seconds < 30, f"{seconds:.1f} s"
    assert sorted(s.st_size for s in sizes.values()) == [12 << 30, 32 << 30]
    # st_blocks counts 512-byte blocks actually allocated: the bytes written, a page or so each.
    assert all(s.st_blocks * 512 <= 64 << 10 for s in sizes.values()), [s.st_blocks for s in sizes.values()]
    # The 16 GiB view adds only the pages touched, and the page tables and messages around them.
    assert 0 <= grown_kib < 64 << 10, f"the client grew by {grown_kib} KiB for a 16 GiB view"


def test_a_bmc_counterexample_reproduces_on_real_processes() -> None:
    """Found symbolically, reproduced for real: the ORed-permissions bug's bmc trace, replayed on
    the linux backend of that design, shows the forbidden access succeeding on real memory."""
    design = SEED.with_choices("or", {"perm-combine": "or"})
    props = select_properties(["AND"])
    [result] = bmc(design, default_scope(design, 2), props, 2)
    finish_counterexamples(Report(design, [result]), props, None)
    reproduction = reproduce(result, "linux")
    assert reproduction.status == REPRODUCED, reproduction.detail
