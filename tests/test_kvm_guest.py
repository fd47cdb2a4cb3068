"""The kvm backend's guest, without booting it: the initramfs and the modules' order. Skips where
Debian's kernel parts are not installed (`make kernel-deps kernel-module`; the slow tier installs)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from memview.backends.kvm import guest
from memview.errors import InputError


@pytest.fixture
def kernel() -> guest.KernelFiles:
    try:
        return guest.find_kernel()
    except InputError as exc:
        pytest.skip(str(exc))


def test_modules_come_after_what_they_depend_on(kernel: guest.KernelFiles) -> None:
    order = [path.name.split(".ko")[0] for path in guest.module_order(kernel.modules, guest.GUEST_MODULES)]
    for first, then in (("virtio", "virtio_pci"), ("virtio_ring", "virtio_console"), ("9pnet", "9pnet_virtio"),
                         ("netfs", "9p"), ("9pnet", "9p")):
        assert order.index(first) < order.index(then), order
    assert len(order) == len(set(order))


def test_the_initramfs_unpacks_with_busybox_and_init_loads_the_driver(kernel: guest.KernelFiles,
                                                                     tmp_path: Path) -> None:
    archive = tmp_path / "initramfs.cpio"
    archive.write_bytes(guest.build_initramfs(kernel, guest.shares()))
    unpacked = tmp_path / "root"
    unpacked.mkdir()
    with archive.open("rb") as stream:
        subprocess.run([guest.BUSYBOX, "cpio", "-id"], stdin=stream, cwd=unpacked, check=True, capture_output=True)
    assert os.access(unpacked / "init", os.X_OK) and os.access(unpacked / "bin" / "busybox", os.X_OK)
    assert (unpacked / "kmod" / "memory_view.ko").read_bytes() == kernel.driver.read_bytes()
    assert os.readlink(unpacked / "lib64") == "usr/lib64"
    init = (unpacked / "init").read_text()
    assert init.index("insmod /kmod/9p.ko") < init.index("mount -t 9p") < init.index("insmod /kmod/memory_view.ko")
    assert "memview.backends.kvm.agent" in init


def test_shares_cover_usr_and_memview_and_are_never_nested() -> None:
    paths = [share.path for share in guest.shares()]
    assert "/usr" in paths
    root = str(guest.repo_root())
    assert any(root == p or root.startswith(p + "/") for p in paths)
    for outer in paths:
        assert not any(inner != outer and inner.startswith(outer.rstrip("/") + "/") for inner in paths)


def test_kvm_is_used_only_where_the_cpu_virtualises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMVIEW_KVM", "0")
    assert not guest.kvm_works()
    monkeypatch.delenv("MEMVIEW_KVM")
    flags = Path("/proc/cpuinfo").read_text()
    if " vmx" not in flags and " svm" not in flags:
        assert not guest.kvm_works()
