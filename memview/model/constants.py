"""Numbers the semantics speaks in: Linux's errno, signal, si_code, seal and protection values."""

from __future__ import annotations

from enum import IntEnum


class Errno(IntEnum):
    # Linux asm-generic/errno-base.h values, so traces read like strace output.
    EPERM = 1
    ESRCH = 3
    E2BIG = 7
    EBADF = 9
    EAGAIN = 11
    ENOMEM = 12
    EACCES = 13
    EBUSY = 16
    EEXIST = 17
    ENODEV = 19
    EINVAL = 22
    ENFILE = 23
    EMFILE = 24
    ENOTTY = 25
    EFBIG = 27
    ENOSPC = 28
    EOVERFLOW = 75


class Signal(IntEnum):
    SIGBUS = 7
    SIGSEGV = 11


class SiCode(IntEnum):
    # SEGV_* and BUS_* share numbers; the signal disambiguates.
    SEGV_MAPERR = 1
    SEGV_ACCERR = 2
    BUS_ADRERR = 2


SIGNAL_CODE_NAMES: dict[tuple[int, int], str] = {
    (Signal.SIGSEGV, 1): "SEGV_MAPERR",
    (Signal.SIGSEGV, 2): "SEGV_ACCERR",
    (Signal.SIGBUS, 2): "BUS_ADRERR",
}


class Outcome(IntEnum):
    """The kind of an observation."""

    OK = 0
    ERRNO = 1
    SIGNAL = 2


# Permissions of a view range and protections of a mapping share one encoding (PROT_* values).
PERM_R = 1
PERM_W = 2
PERM_X = 4
PERM_ALL = PERM_R | PERM_W | PERM_X

# Open modes of a file descriptor, in the same bit encoding: O_RDONLY grants R, O_RDWR R|W.
MODE_RO = PERM_R
MODE_RW = PERM_R | PERM_W

# fcntl(2) F_ADD_SEALS values from include/uapi/linux/fcntl.h.
F_SEAL_SEAL = 0x1
F_SEAL_SHRINK = 0x2
F_SEAL_GROW = 0x4
F_SEAL_WRITE = 0x8
F_SEAL_FUTURE_WRITE = 0x10
F_SEAL_EXEC = 0x20  # Linux 6.3+: no chmod of the exec bits; on an executable memfd, the write seals too
SEALS_ALL = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC
# memfd_add_seals: "SEAL_EXEC implys SEAL_WRITE, making W^X from the start" (every memfd the model
# creates is executable: memfd_create without MFD_NOEXEC_SEAL, vm.memfd_noexec = 0).
F_SEAL_EXEC_IMPLIES = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE


class FdKind(IntEnum):
    NONE = 0
    CONTROL = 1  # /dev/memory-view opened by A: accepts the MEMVIEW_* ioctls
    VIEW = 2  # the fd MEMVIEW_GET_VIEWFD returns: mmap and close only
    BACKING = 3  # a memfd or regular file


class ObjKind(IntEnum):
    MEMFD = 0
    FILE = 1


class MapFlag(IntEnum):
    SHARED = 1  # MAP_SHARED
    PRIVATE = 2  # MAP_PRIVATE


# Bits of a client mapping's attribute word beside its protection bits.
VMA_MAYWRITE = 0x10  # the view fd was opened for writing (VM_MAYWRITE in Linux)
VMA_PRIVATE = 0x20
VMA_SEALED = 0x40
# A mapping of a raw backing fd (design delivery=raw-fds only): its object slot sits at OBJ_SHIFT
# and its delta is backing page - process page, not view page - process page.
VMA_RAW = 0x80
OBJ_SHIFT = 16  # where a cached translation, and a raw mapping's attributes, keep an object slot

# Bits of a cached translation (the model's PTE): valid, then the range's permissions.
PTE_VALID = 0x100

# Sizes and offsets are loff_t in Linux: anything at or above 2^63 is negative there.
LOFF_LIMIT = 1 << 63

# Where the model places a process's first mmap, and the end of its address space (x86-64's
# TASK_SIZE: 47 bits less one guard page), in bytes.
MMAP_BASE = 1 << 40
USER_VA_END = (1 << 47) - 4096
