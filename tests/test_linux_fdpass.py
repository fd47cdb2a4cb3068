"""Today's practice on real processes: raw backing fds passed by SCM_RIGHTS and mapped by B itself.

The `linux` backend held to a raw-fds design (fdpass), and `linux-fdpass` held to any design, pass
A's real memfds and files to B and let B map them with real MAP_SHARED mappings that no view logic
touches. Here: bmc's counterexamples against fdpass happen for real; the same exploit held to the
seed is the seed's EINVAL on `linux` and the divergence of today's practice on `linux-fdpass`; each
fact the model states about raw mappings is the kernel's or the CPU's answer (`backend.source`);
fuzzing the fdpass design against `linux` finds no divergence.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from linux_helpers import require_linux_backend, run_on_linux, trace_of

from memview.backends.linux.backend import LinuxBackend, LinuxFdpassBackend
from memview.backends.registry import open_backend
from memview.checker.alphabet import default_scope
from memview.checker.bmc import bmc
from memview.checker.check import Report, finish_counterexamples
from memview.checker.fuzz import fuzz
from memview.checker.reproduce import reproduce
from memview.checker.result import REPRODUCED, PropertyResult
from memview.model.constants import MMAP_BASE
from memview.model.design import BUILTIN, SEED, Design
from memview.model.ops import Action, action
from memview.properties.catalogue import select_properties
from memview.traces.conform import CONFORM, DIVERGE, conform, judged_as
from memview.traces.trace import Step

pytestmark = pytest.mark.usefixtures("linux_backend_available")

P = 4096
FDPASS = BUILTIN["fdpass"]
RAW = MMAP_BASE  # where B1's first mapping lands


@pytest.fixture
def linux_backend_available() -> None:
    require_linux_backend()


# ---- bmc's counterexamples, reproduced for real

@pytest.fixture(scope="module")
def counterexamples() -> dict[str, PropertyResult]:
    """bmc's fdpass counterexamples for REVOKE and ISOL at depth 2, minimised as `check` writes them."""
    require_linux_backend()
    props = select_properties(["REVOKE", "ISOL"])
    results = bmc(FDPASS, default_scope(FDPASS, 2), props, 2)
    finish_counterexamples(Report(FDPASS, results), props, None)
    found = {result.property_id: result for result in results}
    assert all(found[p].counterexample is not None for p in ("REVOKE", "ISOL")), found
    return found


@pytest.mark.parametrize("prop", ["REVOKE", "ISOL"])
@pytest.mark.parametrize("backend", ["linux-fdpass", "linux"])
def test_fdpass_counterexamples_reproduce_on_real_processes(counterexamples: dict[str, PropertyResult],
                                                            prop: str, backend: str) -> None:
    """Found symbolically, reproduced for real: B keeps (REVOKE) or reads (ISOL) backing bytes
    through its own raw mapping, on `linux-fdpass` and on `linux` held to fdpass alike."""
    reproduction = reproduce(counterexamples[prop], backend)
    assert reproduction.status == REPRODUCED, reproduction.detail


def test_a_bmc_counterexample_held_to_the_seed_is_einval_on_linux_and_diverges_on_linux_fdpass(
        counterexamples: dict[str, PropertyResult]) -> None:
    trace = counterexamples["REVOKE"].counterexample
    assert trace is not None
    seed_trace = judged_as(trace, SEED)
    raw_send = first_raw_send(seed_trace.steps)
    assert str(seed_trace.steps[raw_send].observation) == "EINVAL"
    on_linux = conform("revoke-as-seed", seed_trace, LinuxBackend())
    assert on_linux.status == CONFORM, on_linux.report()
    today = conform("revoke-as-seed", seed_trace, LinuxFdpassBackend())
    assert (today.status, today.step) == (DIVERGE, raw_send), today.report()
    assert (str(today.expected), today.observed is not None and today.observed.ok) == ("EINVAL", True)


def first_raw_send(steps: list[Step]) -> int:
    """The first send the seed refuses with EINVAL: the first raw backing fd A passes."""
    for index, step in enumerate(steps):
        if step.action.name == "send" and str(step.observation) == "EINVAL":
            return index
    raise AssertionError("no raw send in the trace")


# ---- the exploit by hand: B maps the raw memfd and reads a byte no range grants

def exploit() -> list[Action]:
    """A maps only page 1 of a 2-page memfd (byte 42 there) into a 4-page view, keeps a secret (99)
    on page 0 and passes B1 its raw memfd fd (step 7), which B1 maps whole and reads."""
    return [
        action("view_open"),
        action("view_set_size", fd=0, size=4 * P),
        action("memfd_create", sealing=True),
        action("ftruncate", fd=1, size=2 * P),
        action("pwrite", fd=1, offset=P, byte=42),
        action("pwrite", fd=1, offset=0, byte=99),
        action("view_map_fd", fd=0, src=1, fd_offset=P, size=P, mem_offset=0, perms="r--"),
        action("send", fd=1, to=1),
        action("mmap", proc=1, fd=0, length=2 * P, prot="rw-", flags="shared", offset=0),
        action("access", proc=1, addr=RAW, kind="read", byte=0),
        action("access", proc=1, addr=RAW + P, kind="write", byte=7),
    ]


def test_the_exploit_conforms_to_fdpass_on_both_backends() -> None:
    trace = trace_of(FDPASS, exploit())
    assert [str(s.observation) for s in trace.steps[-4:]] == ["ok 0", f"ok {RAW:#x}", "ok 99", "ok 0"]
    for backend in (LinuxBackend(), LinuxFdpassBackend()):
        verdict = conform("exploit", trace, backend)
        assert verdict.status == CONFORM, verdict.report()


def test_the_exploit_held_to_the_seed_is_einval_on_linux_and_real_on_linux_fdpass() -> None:
    trace = trace_of(SEED, exploit())
    assert str(trace.steps[7].observation) == "EINVAL"
    on_linux = conform("exploit-as-seed", trace, LinuxBackend())
    assert on_linux.status == CONFORM, on_linux.report()
    today = conform("exploit-as-seed", trace, open_backend("linux-fdpass"))
    assert (today.status, today.step) == (DIVERGE, 7), today.report()
    assert (str(today.expected), str(today.observed)) == ("EINVAL", "ok 0")  # B1's fd 0: A's real memfd


# ---- truth to Linux for raw mappings: each answer the kernel's or the CPU's

def run(acts: list[Action], design: Design = FDPASS,
        inspect: Callable[[LinuxBackend], None] | None = None) -> tuple[list[str], list[str]]:
    seen, sources = run_on_linux(acts, design, inspect)
    return [str(o) for o in seen], sources


def raw_given(size: int = 2 * P, seals: list[str] | None = None, mode: str = "rw") -> list[Action]:
    """A's memfd of `size` bytes (byte 42 at P), sealed with `seals`, passed to B1 as its fd 0
    (through a read-only reopen when mode is "ro")."""
    acts = [action("memfd_create", sealing=True), action("ftruncate", fd=0, size=size),
            action("pwrite", fd=0, offset=P, byte=42)]
    if seals:
        acts.append(action("seal", fd=0, seals=seals))
    if mode == "ro":
        return [*acts, action("reopen", fd=0, mode="ro"), action("send", fd=1, to=1)]
    return [*acts, action("send", fd=0, to=1)]


def raw_map(prot: str, length: int = 2 * P, proc: int = 1) -> Action:
    return action("mmap", proc=proc, fd=0, length=length, prot=prot, flags="shared", offset=0)


def test_eacces_for_a_writable_shared_map_of_a_read_only_raw_fd() -> None:
    seen, sources = run([*raw_given(mode="ro"), raw_map("rw-")])
    assert (seen[-1], sources[-1]) == ("EACCES", "kernel")


def test_eacces_for_mprotect_adding_write_to_a_read_only_raw_mapping() -> None:
    seen, sources = run([*raw_given(mode="ro"), raw_map("r--"),
                         action("mprotect", proc=1, addr=RAW, length=P, prot="rw-")])
    assert seen[-2:] == [f"ok {RAW:#x}", "EACCES"] and sources[-2:] == ["kernel", "kernel"]


@pytest.mark.parametrize("seal", ["future-write", "write"])
def test_eperm_for_a_writable_shared_map_of_a_write_sealed_memfd(seal: str) -> None:
    """And a read-only map of it has no VM_MAYWRITE: mprotect(+W) is EACCES."""
    seen, sources = run([*raw_given(seals=[seal]), raw_map("rw-"), raw_map("r--"),
                         action("mprotect", proc=1, addr=RAW, length=P, prot="rw-")])
    assert seen[-3:] == ["EPERM", f"ok {RAW:#x}", "EACCES"]
    assert sources[-3:] == ["kernel", "kernel", "kernel"]


@pytest.mark.parametrize("prot", ["rw-", "r--"])
def test_ebusy_for_f_seal_write_while_a_raw_shared_mapping_may_write(prot: str) -> None:
    """A shared map of a read-write fd may write (VM_MAYWRITE) even without PROT_WRITE."""
    seen, sources = run([*raw_given(), raw_map(prot), action("seal", fd=0, seals=["write"]),
                         action("munmap", proc=1, addr=RAW, length=2 * P), action("seal", fd=0, seals=["write"])])
    assert seen[-3:] == ["EBUSY", "ok 0", "ok 0"] and sources[-3:] == ["kernel", "kernel", "kernel"]


def test_a_private_map_of_a_raw_fd_is_the_models_einval_which_the_kernel_is_not_asked() -> None:
    """The model's scope choice: raw mappings are shared only. The kernel would map it privately."""
    seen, sources = run([*raw_given(), action("mmap", proc=1, fd=0, length=P, prot="rw-", flags="private",
                                              offset=0), raw_map("r--")])
    assert seen[-2:] == ["EINVAL", f"ok {RAW:#x}"] and sources[-2:] == ["model", "kernel"]


def test_f_seal_future_write_leaves_an_existing_writable_raw_mapping_writable() -> None:
    """The seal checks only later mmaps; the mapping keeps VM_MAYWRITE, so PROT_WRITE comes back too."""
    seen, sources = run([*raw_given(), raw_map("rw-"), action("seal", fd=0, seals=["future-write"]),
                         action("access", proc=1, addr=RAW + P, kind="write", byte=3),
                         action("mprotect", proc=1, addr=RAW, length=P, prot="r--"),
                         action("mprotect", proc=1, addr=RAW, length=P, prot="rw-"),
                         action("access", proc=1, addr=RAW, kind="write", byte=4)])
    assert seen[-5:] == ["ok 0"] * 5 and sources[-5:] == ["kernel", "cpu", "kernel", "kernel", "cpu"]


def test_b_truncates_as_object_through_the_raw_fd() -> None:
    seen, sources = run([*raw_given(), raw_map("rw-"), action("ftruncate", proc=1, fd=0, size=0),
                         action("access", proc=1, addr=RAW, kind="read", byte=0),
                         action("ftruncate", proc=1, fd=0, size=2 * P),
                         action("access", proc=1, addr=RAW + P, kind="read", byte=0)])
    assert seen[-4:] == ["ok 0", "SIGBUS/BUS_ADRERR", "ok 0", "ok 0"]  # A's byte 42 is gone
    assert sources[-4:] == ["kernel", "cpu", "kernel", "cpu"]


def test_sigbus_past_the_end_of_a_raw_mapping_and_after_a_truncation() -> None:
    seen, sources = run([*raw_given(size=P + 100), raw_map("rw-"),
                         action("access", proc=1, addr=RAW + P + 200, kind="read", byte=0),  # last page: ok
                         action("access", proc=1, addr=RAW + P, kind="write", byte=5),
                         action("ftruncate", fd=0, size=P),
                         action("access", proc=1, addr=RAW + P, kind="read", byte=0),
                         action("access", proc=1, addr=RAW, kind="write", byte=1)])
    assert seen[-5:] == ["ok 0", "ok 0", "ok 0", "SIGBUS/BUS_ADRERR", "ok 0"]
    assert sources[-5:] == ["cpu", "cpu", "kernel", "cpu", "cpu"]


def test_a_raw_mapping_outlives_closing_its_fds() -> None:
    seen, sources = run([*raw_given(), raw_map("rw-"), action("close", proc=1, fd=0), action("close", fd=0),
                         action("access", proc=1, addr=RAW + P, kind="read", byte=0)])
    assert seen[-3:] == ["ok 0", "ok 0", "ok 42"] and sources[-3:] == ["kernel", "kernel", "cpu"]


def test_a_raw_mapping_is_kept_after_a_unmaps_the_range_over_it() -> None:
    """A's UNMAP_FD revokes the view's pages, not B's raw mapping: B still reads the bytes and still
    writes them into the object (read back here from the coordinator's own fd of it)."""
    raw = RAW + 5 * P  # the model places the raw mapping after the view's 4 pages and a guard page
    acts = [action("view_open"), action("view_set_size", fd=0, size=4 * P),
            action("memfd_create", sealing=True), action("ftruncate", fd=1, size=2 * P),
            action("pwrite", fd=1, offset=P, byte=42),
            action("view_map_fd", fd=0, src=1, fd_offset=0, size=2 * P, mem_offset=0, perms="rw-"),
            action("view_get_viewfd", fd=0, mode="rw"), action("send", fd=2, to=1), action("send", fd=1, to=1),
            action("mmap", proc=1, fd=0, length=4 * P, prot="rw-", flags="shared", offset=0),  # the view
            action("mmap", proc=1, fd=1, length=2 * P, prot="rw-", flags="shared", offset=0),  # raw
            action("access", proc=1, addr=RAW + P, kind="read", byte=0),
            action("access", proc=1, addr=raw + P, kind="read", byte=0),
            action("view_unmap_fd", fd=0, mem_offset=0, size=2 * P),
            action("access", proc=1, addr=RAW + P, kind="read", byte=0),
            action("access", proc=1, addr=raw + P, kind="read", byte=0),
            action("access", proc=1, addr=raw + P, kind="write", byte=7)]
    written: list[bytes] = []

    def object_bytes(backend: LinuxBackend) -> None:
        written.append(os.pread(backend.objects[0], 1, P))

    seen, sources = run(acts, inspect=object_bytes)
    assert seen[-7:] == [f"ok {raw:#x}", "ok 42", "ok 42", "ok 0", "SIGBUS/BUS_ADRERR", "ok 42", "ok 0"]
    assert sources[-7:] == ["kernel", "cpu", "cpu", "model", "cpu", "cpu", "cpu"]
    assert written == [b"\x07"]


def test_a_forked_child_inherits_a_raw_mapping() -> None:
    seen, sources = run([*raw_given(), raw_map("rw-"), action("fork", proc=1),
                         action("access", proc=3, addr=RAW + P, kind="read", byte=0),
                         action("access", proc=3, addr=RAW + P, kind="write", byte=8),
                         action("access", proc=1, addr=RAW + P, kind="read", byte=0)])
    assert seen[-4:] == ["ok 3", "ok 42", "ok 0", "ok 8"] and sources[-3:] == ["cpu"] * 3


# ---- fuzzing

def test_fuzzing_fdpass_on_linux_finds_no_divergence() -> None:
    """From fdpass's set-up (B1 holds both raw fds and maps a page of each), so raw mappings are
    mapped, accessed, re-protected, unmapped, forked and sealed against from the first step."""
    result = fuzz(FDPASS, LinuxBackend, examples=20, steps=30, seed=5, database=None)
    assert result.failure is None, result.failure
    assert result.steps >= 500
