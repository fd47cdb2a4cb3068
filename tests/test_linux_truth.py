"""Truth to Linux: every fact the model states about Linux on B's side, checked against the kernel.

Each test runs a small trace through the linux backend, requires the model's observation, and
requires that the answer really came from Linux (`backend.source`: a system call's result, or a
real access's byte or fault), not from the model standing in for the driver. Facts the model states
at A's MAP_FD (the driver's check, emulated) are checked by the same system call in this process.
The last tests pin the known disagreement left (docs/backends.md), so that the day the model changes it
says so.
"""

from __future__ import annotations

import fcntl
import mmap as mm
import os
import signal
import struct

import pytest
from linux_helpers import require_linux_backend, run_on_linux

from memview.backends.linux import native
from memview.model.config import Config
from memview.model.constants import F_SEAL_FUTURE_WRITE, MMAP_BASE
from memview.model.design import SEED, Design, load_design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action, action

pytestmark = pytest.mark.usefixtures("linux_backend_available")

P = 4096
F_ADD_SEALS = 1033
F_SEAL_EXEC = 0x20


@pytest.fixture
def linux_backend_available() -> None:
    require_linux_backend()


def view_given(mode: str = "rw", memfd_size: int = 2 * P, perms: str = "rw-", sealing: bool = True) -> list[Action]:
    """A's 4-page view with 2 pages of a memfd mapped at page 0; B1 holds a view fd of `mode`."""
    return [
        action("view_open"),
        action("view_set_size", fd=0, size=4 * P),
        action("memfd_create", sealing=sealing),
        action("ftruncate", fd=1, size=memfd_size),
        action("pwrite", fd=1, offset=P, byte=42),
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=2 * P, mem_offset=0, perms=perms),
        action("view_get_viewfd", fd=0, mode=mode),
        action("send", fd=2, to=1),
    ]


def run(acts: list[Action], design: Design = SEED) -> tuple[list[Observation], list[str]]:
    return run_on_linux(acts, design)


def mmap_b1(prot: str, length: int = 4 * P) -> Action:
    return action("mmap", proc=1, fd=0, length=length, prot=prot, flags="shared", offset=0)


def test_eacces_for_a_writable_shared_map_of_a_read_only_fd() -> None:
    seen, sources = run([*view_given(mode="ro"), mmap_b1("rw-")])
    assert (str(seen[-1]), sources[-1]) == ("EACCES", "kernel")


def test_eacces_for_mprotect_adding_write_on_a_read_only_fd() -> None:
    seen, sources = run([*view_given(mode="ro"), mmap_b1("r--"),
                         action("mprotect", proc=1, addr=MMAP_BASE, length=4 * P, prot="rw-")])
    assert (str(seen[-1]), sources[-1]) == ("EACCES", "kernel")


def test_sigbus_past_the_end_of_the_backing_object_and_after_a_truncation() -> None:
    seen, sources = run([*view_given(memfd_size=P + 100), mmap_b1("rw-"),
                         action("access", proc=1, addr=MMAP_BASE + P + 200, kind="read", byte=0),  # last page: ok
                         action("ftruncate", fd=1, size=P),
                         action("access", proc=1, addr=MMAP_BASE + P, kind="read", byte=0),
                         action("access", proc=1, addr=MMAP_BASE, kind="write", byte=1)])
    assert [str(o) for o in seen[-4:]] == ["ok 0", "ok 0", "SIGBUS/BUS_ADRERR", "ok 0"]
    assert sources[-4:] == ["cpu", "kernel", "cpu", "cpu"]


def test_eperm_for_a_writable_shared_map_of_a_future_write_sealed_memfd() -> None:
    acts = [*view_given()[:4], action("seal", fd=1, seals=["future-write"]),
            action("view_map_fd", fd=0, src=1, fd_offset=0, size=P, mem_offset=0, perms="rw-")]
    machine = Machine(SEED, Config())
    said = [str(machine.run(act)) for act in acts]
    assert said[-1] == "EPERM"  # the driver's check, which rests on the kernel's rule:
    memfd = os.memfd_create("truth", os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(memfd, P)
        fcntl.fcntl(memfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE)
        assert native.mmap(0, P, mm.PROT_READ | mm.PROT_WRITE, mm.MAP_SHARED, memfd, 0) == -1
        got = native.mmap(0, P, mm.PROT_READ, mm.MAP_SHARED, memfd, 0)
        assert got > 0 and native.munmap(got, P) == 0
    finally:
        os.close(memfd)


def test_ebusy_for_f_seal_write_while_a_writable_shared_mapping_exists() -> None:
    seen, sources = run([*view_given(), mmap_b1("rw-"), action("seal", fd=1, seals=["write"])])
    assert (str(seen[-1]), sources[-1]) == ("EBUSY", "kernel")


def test_a_mapping_outlives_closing_its_fds() -> None:
    seen, sources = run([*view_given(), mmap_b1("rw-"), action("close", proc=1, fd=0), action("close", fd=1),
                         action("access", proc=1, addr=MMAP_BASE + P, kind="read", byte=0)])
    assert [str(o) for o in seen[-3:]] == ["ok 0", "ok 0", "ok 42"]
    assert sources[-3:] == ["kernel", "kernel", "cpu"]


def test_a_sealed_mapping_refuses_munmap_and_mprotect() -> None:
    design = load_design("seed")
    design = Design("mseal-allowed", type(design.choices)({**design.choices, "mseal": "allow"}))
    seen, sources = run([*view_given(), mmap_b1("rw-"),
                         action("mseal", proc=1, addr=MMAP_BASE, length=4 * P),
                         action("munmap", proc=1, addr=MMAP_BASE, length=P),
                         action("mprotect", proc=1, addr=MMAP_BASE, length=P, prot="r--")], design)
    assert [str(o) for o in seen[-3:]] == ["ok 0", "EPERM", "EPERM"]
    assert sources[-3:] == ["kernel", "kernel", "kernel"]


def test_einval_for_ftruncate_of_a_character_device() -> None:
    machine = Machine(SEED, Config())
    said = [str(machine.run(act)) for act in [action("view_open"), action("ftruncate", fd=0, size=P)]]
    assert said[-1] == "EINVAL"  # the view's control fd is a character device:
    device = os.open("/dev/null", os.O_RDWR)
    try:
        with pytest.raises(OSError) as refused:
            os.ftruncate(device, P)
        assert refused.value.errno == 22
    finally:
        os.close(device)


# ---- facts the model once disagreed with, and the disagreement left (docs/backends.md)

def test_f_seal_exec_implies_the_write_seals_on_an_executable_memfd() -> None:
    """docs/semantics.md §2.14 (once §6 item 11): Linux 6.3+ F_SEAL_EXEC; the kernel answers."""
    acts = [action("memfd_create", sealing=True), action("seal", fd=0, seals=F_SEAL_EXEC),
            action("pwrite", fd=0, offset=0, byte=1), action("ftruncate", fd=0, size=P)]
    seen, sources = run(acts)
    assert [str(o) for o in seen[1:]] == ["ok 0", "EPERM", "EPERM"]
    assert sources[1:] == ["kernel"] * 3


def test_f_seal_exec_is_ebusy_under_a_writable_shared_mapping() -> None:
    acts = [*view_given(), mmap_b1("rw-"), action("access", proc=1, addr=MMAP_BASE, kind="write", byte=1),
            action("seal", fd=1, seals=F_SEAL_EXEC)]
    seen, sources = run(acts)
    assert str(seen[-1]) == "EBUSY" and sources[-1] == "kernel"


def test_a_memfd_keeps_bytes_written_past_its_end_when_it_grows() -> None:
    """docs/semantics.md §2.12 (once §6 item 3): shmem keeps them, and now so does the model."""
    acts = [*view_given(memfd_size=P + 100), mmap_b1("rw-"),
            action("access", proc=1, addr=MMAP_BASE + P + 200, kind="write", byte=7),
            action("ftruncate", fd=1, size=2 * P),
            action("access", proc=1, addr=MMAP_BASE + P + 200, kind="read", byte=0)]
    seen, sources = run(acts)
    assert str(seen[-1]) == "ok 7" and sources[-1] == "cpu"


def test_a_fetch_from_a_non_executable_page_that_is_not_present_is_a_read_fault_first() -> None:
    """x86's access_error() tests VM_EXEC only for a present page: a fetch from a PROT_READ mapping
    of an empty memfd raises the read's SIGBUS, where the model says SEGV_ACCERR (docs/semantics.md
    §6 item 12; the backend keeps the model's answer for this pair, `CHECK_ORDER`)."""
    acts = [action("view_open"), action("view_get_viewfd", fd=0, mode="ro"), action("send", fd=1, to=1),
            mmap_b1("r--", length=P), action("access", proc=1, addr=MMAP_BASE, kind="exec", byte=0)]
    machine = Machine(SEED, Config())
    assert str([machine.run(act) for act in acts][-1]) == "SIGSEGV/SEGV_ACCERR"
    memfd = os.memfd_create("truth")
    report_read, report_write = os.pipe()
    region = native.mmap(0, P, mm.PROT_READ, mm.MAP_SHARED, memfd, 0)
    pid = os.fork()
    if pid == 0:
        try:
            native.fetch(region, report_write)
        finally:
            os._exit(70)
    try:
        os.close(report_write)
        outcome, signo, code = struct.unpack("iii", os.read(report_read, 12))
    finally:
        os.waitpid(pid, 0)
        os.close(report_read)
        native.munmap(region, P)
        os.close(memfd)
    assert (outcome, signo, code) == (1, signal.SIGBUS, 2)  # the fetch faulted: SIGBUS/BUS_ADRERR
