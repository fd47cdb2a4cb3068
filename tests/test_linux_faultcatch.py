"""The fault-catching helper: real faults become observations, the handler comes back after
something displaces it, and a fault it did not arm for still kills the process."""

from __future__ import annotations

import ctypes
import faulthandler
import mmap as mm
import os
import resource
import signal

import pytest
from linux_helpers import require_linux_backend

from memview.backends.linux import native

pytestmark = pytest.mark.usefixtures("linux_backend_available")

P = 4096


@pytest.fixture
def linux_backend_available() -> None:
    require_linux_backend()


def test_a_fault_in_this_process_is_reported_with_its_code_and_address() -> None:
    region = native.mmap(0, P, 0, mm.MAP_PRIVATE | mm.MAP_ANONYMOUS, -1, 0)  # PROT_NONE
    assert region > 0
    try:
        assert native.access(region + 5, 1, 0) == native.Fault(signal.SIGSEGV, 2, region + 5)  # SEGV_ACCERR
    finally:
        native.munmap(region, P)


def test_the_handler_is_installed_again_after_faulthandler_displaces_it() -> None:
    region = native.mmap(0, P, 0, mm.MAP_PRIVATE | mm.MAP_ANONYMOUS, -1, 0)
    was_enabled = faulthandler.is_enabled()
    try:
        faulthandler.enable()  # installs its own SIGSEGV and SIGBUS handlers over ours
        got = native.access(region, 2, 1)
        assert isinstance(got, native.Fault) and got.signo == signal.SIGSEGV
    finally:
        native.munmap(region, P)
        faulthandler.disable()
        if was_enabled:
            faulthandler.enable()  # give pytest its crash reports back


def test_a_fault_outside_an_access_still_kills_the_process() -> None:
    pid = os.fork()
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file from the intended crash
            native.access(0, 1, 0)  # installs the handler (and faults, caught)
            ctypes.string_at(16, 1)  # a fault the helper did not arm for
        finally:
            os._exit(0)  # not reached: the fault kills the child
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV
