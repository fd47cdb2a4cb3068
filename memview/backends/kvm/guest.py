"""The guest: Debian's 6.1 kernel in QEMU, an initramfs of busybox, the module and the agent's start.

The host's Python, its libraries and memview's own code reach the guest read-only over 9p, each at
the same path as on the host, so the guest runs exactly the interpreter and the code that started
it. The initramfs holds only busybox, Debian's virtio, virtio-serial and 9p modules (in dependency
order, from modules.dep), kernel/memory_view.ko and /init. The serial console goes to a file that
memview reads after every step: a kernel BUG, oops, WARNING or KASAN report there is a verdict.
docs/kernel.md describes the whole harness.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import io
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import memview
from memview.errors import InputError

QEMU = "qemu-system-x86_64"
BUSYBOX = "/bin/busybox"
AGENT_PORT_NAME = "org.memview.agent"
BOOT_TIMEOUT = 180.0  # seconds from QEMU's start to the agent's "ready" under TCG on a loaded machine
READY = "memview-guest: agent ready"
FAILED = "memview-guest: FAILED"
# Modules the guest needs before it can reach the host: virtio-serial for the agent, 9p for /usr.
GUEST_MODULES = ("virtio_pci", "virtio_console", "9pnet_virtio", "9p")
# What the kernel prints when something is wrong; each is a verdict naming the step.
KERNEL_REPORTS = re.compile(
    r"(BUG: |Oops|WARNING: |general protection fault|Kernel panic|KASAN|UBSAN|kernel BUG at|"
    r"Unable to handle|Call Trace:|segfault at)")
CONSOLE_TAIL = 40  # lines of the console quoted in a verdict
PR_SET_PDEATHSIG = 1


class GuestFailure(Exception):
    """The guest failed as a whole (no boot, no module, a kernel report, a dead QEMU): a verdict."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class KernelFiles:
    release: str  # e.g. 6.1.0-56-amd64
    image: Path
    modules: Path  # /lib/modules/RELEASE
    driver: Path  # kernel/memory_view.ko, built against this release's headers


def repo_root() -> Path:
    return Path(memview.__file__).resolve().parent.parent


def find_kernel() -> KernelFiles:
    """Debian's 6.1 kernel and the driver built for it; InputError (one line) naming what is missing."""
    images = sorted(glob.glob("/boot/vmlinuz-6.1.*-amd64"))
    if not images or shutil.which(QEMU) is None or not os.path.exists(BUSYBOX):
        raise InputError("--backend", "the kvm backend needs QEMU, Debian's 6.1 kernel and busybox-static: "
                         "run 'make kernel-deps' (as root)")
    image = Path(images[-1])
    release = image.name.removeprefix("vmlinuz-")
    driver = repo_root() / "kernel" / "memory_view.ko"
    if not driver.exists():
        raise InputError("--backend", f"{driver} is not built: run 'make kernel-module'")
    vermagic = re.search(rb"vermagic=(\S+)", driver.read_bytes())
    if vermagic is None or vermagic.group(1).decode() != release:
        raise InputError("--backend", f"{driver} was not built for {release}: run 'make kernel-module'")
    return KernelFiles(release, image, Path("/lib/modules") / release, driver)


def module_order(modules: Path, wanted: tuple[str, ...]) -> list[Path]:
    """The .ko files of `wanted` and everything they depend on, each after its dependencies."""
    deps: dict[str, list[str]] = {}
    for line in (modules / "modules.dep").read_text().splitlines():
        path, _, needs = line.partition(":")
        deps[path] = needs.split()
    by_name = {Path(p).name.split(".ko")[0].replace("-", "_"): p for p in deps}
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        for dep in deps.get(path, []):
            visit(dep)
        order.append(path)

    for name in wanted:
        visit(by_name[name])
    return [modules / p for p in order]


class Cpio:
    """A newc cpio archive, as the kernel unpacks an initramfs."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.inode = 1

    def _entry(self, name: str, mode: int, data: bytes) -> None:
        header = "070701" + "".join(f"{v:08x}" for v in (
            self.inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
        self.inode += 1
        self.out.write(header.encode() + name.encode() + b"\0")
        self.out.write(b"\0" * (-self.out.tell() % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-self.out.tell() % 4))

    def directory(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755, b"")

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0, b"")
        return self.out.getvalue()


@dataclass(frozen=True)
class Share:
    tag: str
    path: str  # on the host, and where the guest mounts it


def shares() -> list[Share]:
    """What the guest mounts read-only from the host, each at its own path: the system's /usr (libc,
    busybox's neighbours), the interpreter's installation and environment, memview's code, and the
    cache holding the fault-catching helper built on the host."""
    from memview.backends.linux.build import cache_dir

    paths = ["/usr", sys.base_prefix, sys.prefix, str(repo_root()), str(cache_dir())]
    kept: list[str] = []
    for path in dict.fromkeys(os.path.realpath(p) for p in paths):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept = [k for k in kept if not k.startswith(path.rstrip("/") + "/")] + [path]
    return [Share(f"mv{index}", path) for index, path in enumerate(sorted(kept, key=len))]


def init_script(modules: list[Path], mounts: list[Share], release: str) -> str:
    python = os.path.realpath(sys.executable) if sys.prefix == sys.base_prefix else sys.executable
    insmods = "\n".join(f"insmod /kmod/{m.name} || fail 'insmod {m.name}'" for m in modules)
    mount_lines = "\n".join(
        f"mkdir -p '{s.path}' && mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose {s.tag} '{s.path}' "
        f"|| fail 'mount {s.path}'" for s in mounts)
    return f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() {{ echo "{FAILED} $*"; poweroff -f; }}
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /tmp /root && mount -t tmpfs tmp /tmp
{insmods}
{mount_lines}
insmod /kmod/memory_view.ko || fail 'insmod memory_view.ko'
port=
for name in /sys/class/virtio-ports/*/name; do
  [ "$(cat "$name")" = {AGENT_PORT_NAME} ] && port=/dev/$(basename "$(dirname "$name")")
done
[ -n "$port" ] || fail 'no virtio-serial port {AGENT_PORT_NAME}'
echo "memview-guest: Linux {release} up, module loaded, agent on $port"
cd /tmp
HOME=/root PYTHONDONTWRITEBYTECODE=1 PYTHONPATH='{repo_root()}' \\
  '{python}' -m memview.backends.kvm.agent "$port" || fail "the agent exited with status $?"
poweroff -f
"""


def build_initramfs(kernel: KernelFiles, mounts: list[Share]) -> bytes:
    archive = Cpio()
    for name in ("bin", "dev", "proc", "sys", "kmod", "usr"):
        archive.directory(name)
    archive.symlink("lib", "usr/lib")
    archive.symlink("lib64", "usr/lib64")
    archive.file("bin/busybox", Path(BUSYBOX).read_bytes(), 0o755)
    modules = module_order(kernel.modules, GUEST_MODULES)
    for module in modules:
        archive.file(f"kmod/{module.name}", module.read_bytes())
    archive.file("kmod/memory_view.ko", kernel.driver.read_bytes())
    archive.file("init", init_script(modules, mounts, kernel.release).encode(), 0o755)
    return archive.finish()


def kvm_works() -> bool:
    """KVM only where it is real: a hardware-virtualising CPU and a /dev/kvm we may open. A nested
    software layer without vmx/svm lets KVM_CREATE_VM succeed and then crawls (facts), so the CPU
    flags decide, and MEMVIEW_KVM=0/1 overrides."""
    wanted = os.environ.get("MEMVIEW_KVM")
    if wanted in ("0", "1"):
        return wanted == "1"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    has_virt = re.search(r"^flags\s*:.*\b(vmx|svm)\b", flags, re.M) is not None
    return has_virt and os.access("/dev/kvm", os.R_OK | os.W_OK)


def _die_with_parent() -> None:
    """In QEMU's child: die when memview does, so no guest outlives the run that started it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setsid()


@dataclass
class Guest:
    """One booted VM, reused by every session of a batch of traces."""

    kernel: KernelFiles
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=f"memview-kvm-{os.getpid()}-")))
    process: subprocess.Popen[bytes] | None = None
    console_read: int = 0  # how much of the console memview has looked at for kernel reports
    accelerator: str = "tcg"
    boot_seconds: float = 0.0

    @property
    def console(self) -> Path:
        return self.workdir / "console.log"

    @property
    def socket_path(self) -> Path:
        return self.workdir / "agent.sock"

    def boot(self, timeout: float = BOOT_TIMEOUT) -> None:
        from memview.backends.linux import native

        native.helper()  # built on the host, found by the guest in the shared cache
        mounts = shares()
        initrd = self.workdir / "initramfs.cpio"
        initrd.write_bytes(build_initramfs(self.kernel, mounts))
        self.accelerator = "kvm" if kvm_works() else "tcg"
        cpu = ["-cpu", "host"] if self.accelerator == "kvm" else ["-cpu", "max"]
        command = [
            QEMU, "-machine", f"q35,accel={self.accelerator}", *cpu, "-smp", "1", "-m", "1024",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", str(self.kernel.image), "-initrd", str(initrd),
            # oops=panic and panic_on_warn end the guest at the first report (-no-reboot: QEMU
            # exits), so what follows a kernel bug is never taken for the driver's behaviour.
            "-append", "console=ttyS0 oops=panic panic=-1 panic_on_warn=1 la57=off loglevel=5 "
                       "tsc=reliable no_timer_check",
            "-chardev", f"file,id=console,path={self.console}", "-serial", "chardev:console",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=agent,path={self.socket_path},server=on,wait=off",
            "-device", f"virtserialport,chardev=agent,name={AGENT_PORT_NAME}",
        ]
        for share in mounts:
            command += ["-virtfs", f"local,path={share.path},mount_tag={share.tag},security_model=none,readonly=on"]
        started = time.monotonic()
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(self.workdir / "qemu.stderr", "wb"),  # noqa: SIM115
                                        preexec_fn=_die_with_parent)
        deadline = started + timeout
        while True:
            text = self.console_text()
            if READY in text:
                break
            if FAILED in text:
                raise GuestFailure("crash", f"the guest failed at boot: "
                                   f"{text[text.index(FAILED) + len(FAILED):].splitlines()[0].strip()}"
                                   f"{self.tail()}")
            if self.process.poll() is not None:
                raise GuestFailure("crash", f"QEMU exited with status {self.process.returncode} before the "
                                   f"agent was ready{self.qemu_errors()}{self.tail()}")
            if time.monotonic() > deadline:
                raise GuestFailure("hang", f"the guest did not boot to its agent within {timeout:.0f}s "
                                   f"({self.accelerator}){self.tail()}")
            time.sleep(0.1)
        self.boot_seconds = time.monotonic() - started
        self.console_read = len(self.console_text())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exited_within(self, seconds: float) -> bool:
        """QEMU has exited, or does within `seconds`: a closed port is seen before the process's
        end, since the kernel closes a dying process's fds before it becomes a zombie."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def connect(self, timeout: float = 10.0) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(str(self.socket_path))
        sock.settimeout(None)
        return sock

    def console_text(self) -> str:
        try:
            return self.console.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def new_reports(self) -> str | None:
        """The kernel's reports printed since the last look, or None."""
        text = self.console_text()
        fresh, self.console_read = text[self.console_read:], len(text)
        lines = [line for line in fresh.splitlines() if KERNEL_REPORTS.search(line)]
        return "\n".join(lines[:5]) if lines else None

    def tail(self, lines: int = CONSOLE_TAIL) -> str:
        text = self.console_text().replace("\r", "")
        return "\n--- guest console (last lines) ---\n" + "\n".join(text.splitlines()[-lines:])

    def qemu_errors(self) -> str:
        with contextlib.suppress(OSError):
            text = (self.workdir / "qemu.stderr").read_text(errors="replace").strip()
            if text:
                return f" (QEMU: {text.splitlines()[-1]})"
        return ""

    def shutdown(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)
