"""Facts the linux backend measured on the real kernel where the model used to disagree, now rules
of the model (docs/semantics.md §2.12–2.14; the linux backend's truth tests check the same facts
against the kernel)."""

from __future__ import annotations

import pytest
from scenario import B1, BASE, CTL, MEMFD, OK, P, Sim, standard

from memview.model.constants import (
    F_SEAL_EXEC,
    F_SEAL_FUTURE_WRITE,
    F_SEAL_GROW,
    F_SEAL_SHRINK,
    F_SEAL_WRITE,
)


def test_f_seal_exec_adds_the_write_seals_on_an_executable_memfd() -> None:
    s = Sim()
    fd = s.memfd(1)
    assert s.run("seal", fd=fd, seals=["exec"]) == OK
    implied = F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE
    assert s.state.objs[0].seals == implied
    assert s.run("pwrite", fd=fd, offset=0, byte=1) == "EPERM"
    assert s.run("ftruncate", fd=fd, size=2 * P) == "EPERM"


def test_f_seal_exec_is_ebusy_under_a_writable_range_as_f_seal_write_is() -> None:
    s = standard(mapped=1)
    assert s.run("seal", fd=MEMFD, seals=["exec"]) == "EBUSY"
    assert s.state.objs[0].seals == 0


def test_an_unknown_seal_bit_is_still_einval() -> None:
    s = Sim()
    fd = s.memfd(1)
    assert s.run("seal", fd=fd, seals=0x40) == "EINVAL"


@pytest.mark.parametrize("grow", ["ftruncate", "pwrite"])
def test_a_memfd_keeps_bytes_a_mapping_wrote_past_its_end_when_it_grows(grow: str) -> None:
    s = standard()
    assert s.run("ftruncate", fd=MEMFD, size=P // 2) == OK
    assert s.map_fd(MEMFD, 0, 1) == OK
    assert s.mmap(B1, 1) == f"ok {BASE:#x}"
    assert s.write(B1, BASE + P // 2 + 8, 7) == OK  # past the end, in its last page
    if grow == "ftruncate":
        assert s.run("ftruncate", fd=MEMFD, size=P) == OK
    else:
        assert s.run("pwrite", fd=MEMFD, offset=P - 1, byte=1) == "ok 1"
    assert s.read(B1, BASE + P // 2 + 8) == "ok 7"
    # Truncating to the same size or below zeroes them, as on any file.
    assert s.run("ftruncate", fd=MEMFD, size=P // 2) == OK
    assert s.run("ftruncate", fd=MEMFD, size=P) == OK
    assert s.read(B1, BASE + P // 2 + 8) == "ok 0"


def test_a_regular_file_zeroes_them() -> None:
    s = standard()
    file = s.ok("file_create")
    assert s.run("ftruncate", fd=file, size=P // 2) == OK
    assert s.run("view_map_fd", fd=CTL, src=file, fd_offset=0, size=P, mem_offset=P, perms="rw") == OK
    assert s.mmap(B1, 2) == f"ok {BASE:#x}"
    assert s.write(B1, BASE + P + P // 2 + 8, 7) == OK
    assert s.run("ftruncate", fd=file, size=P) == OK
    assert s.read(B1, BASE + P + P // 2 + 8) == "ok 0"

