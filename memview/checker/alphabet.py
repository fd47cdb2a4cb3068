"""The small concrete configuration explicit search explores: bounds, a set-up prefix, an alphabet.

Reaching anything interesting from the empty state takes a dozen set-up steps (open the view, size
it, create and size backing objects, hand a view fd to B, B maps it). Searching those breadth-first
would spend the whole budget on set-up orderings, so the search starts after a fixed prefix that
does them once, and explores an alphabet of operations that exercise every rule from there. The
prefix and the alphabet are reported with every result.
"""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.ops import Action, action


@dataclass(frozen=True)
class Scope:
    config: Config
    prefix: tuple[tuple[Action, str], ...]  # (action, label)
    alphabet: tuple[Action, ...]
    depth: int

    def describe(self) -> str:
        pages = 2
        return (
            f"BFS to depth {self.depth} after a {len(self.prefix)}-step set-up; {len(self.alphabet)} actions; "
            f"view of {pages} pages of {self.config.page_size} B, 1 memfd + 1 read-only file, "
            f"{self.config.clients} client + {self.config.fork_slots} fork slot"
        )


def default_scope(depth: int = 4, page_size: int = 4096) -> Scope:
    p = page_size
    config = Config(page_size=p, ranges=2, objects=2, fds=4, clients=1, fork_slots=1, vmas=2)
    base = MMAP_BASE
    # fds of A after the prefix: 0 control, 1 ram (memfd, rw, sealable), 3 file (read-only),
    # 2 a view fd (sent to B1, where it is fd 0).
    prefix = (
        (action("view_open"), ""),
        (action("view_set_size", fd=0, size=2 * p), ""),
        (action("memfd_create", sealing=True), "ram"),
        (action("ftruncate", fd=1, size=2 * p), ""),
        # A distinct byte at backing offset p: translation through fd_offset must find it.
        (action("pwrite", fd=1, offset=p, byte=7), ""),
        (action("file_create"), "file"),
        (action("ftruncate", fd=2, size=2 * p), ""),
        (action("pwrite", fd=2, offset=0, byte=9), ""),
        (action("reopen", fd=2, mode="ro"), ""),
        (action("close", fd=2), ""),
        # The seed's layout in miniature: view page 0 is ram's page 1 read+write, view page 1 is
        # the file's page 0 read-only.
        (action("view_map_fd", fd=0, src=1, fd_offset=p, size=p, mem_offset=0, perms="rw"), ""),
        (action("view_map_fd", fd=0, src=3, fd_offset=0, size=p, mem_offset=p, perms="r"), ""),
        (action("view_get_viewfd", fd=0, mode="rw"), ""),
        (action("send", fd=2, to=1), ""),
        (action("mmap", proc=1, fd=0, length=2 * p, prot="rw", flags="shared", offset=0), ""),
    )
    alphabet: list[Action] = []
    for src, perms_set in ((1, ("r", "rw", "rwx")), (3, ("r", "rw"))):
        for fd_offset in (0, p):
            for mem_offset in (0, p):
                for perms in perms_set:
                    alphabet.append(action("view_map_fd", fd=0, src=src, fd_offset=fd_offset, size=p,
                                           mem_offset=mem_offset, perms=perms))
    alphabet += [
        action("view_map_fd", fd=0, src=1, fd_offset=0, size=2 * p, mem_offset=0, perms="rw"),
        action("view_unmap_fd", fd=0, mem_offset=0, size=p),
        action("view_unmap_fd", fd=0, mem_offset=p, size=p),
        action("view_unmap_fd", fd=0, mem_offset=0, size=2 * p),
        action("view_set_size", fd=0, size=p),
        action("view_set_size", fd=0, size=2 * p),
        action("pwrite", fd=1, offset=0, byte=1),
        action("ftruncate", fd=1, size=p),
        action("ftruncate", fd=1, size=2 * p),
        action("seal", fd=1, seals=["write"]),
        action("seal", fd=1, seals=["shrink"]),
        action("close", fd=0),
    ]
    for proc in (1, 2):  # B1 and the child it may fork
        for offset in (0, p):
            for kind in ("read", "write", "exec"):
                alphabet.append(action("access", proc=proc, addr=base + offset, kind=kind, byte=2))
    alphabet += [
        action("mprotect", proc=1, addr=base, length=2 * p, prot="r"),
        action("mprotect", proc=1, addr=base, length=2 * p, prot="rwx"),
        action("munmap", proc=1, addr=base + p, length=p),
        action("mseal", proc=1, addr=base, length=2 * p),
        action("mmap", proc=1, fd=0, length=p, prot="rw", flags="private", offset=0),
        action("fork", proc=1),
        action("close", proc=1, fd=0),
        action("ioctl", proc=1, fd=0, cmd=0),
        action("view_unmap_fd", proc=1, fd=0, mem_offset=0, size=p),
        action("view_map_fd", proc=1, fd=0, src=0, fd_offset=0, size=p, mem_offset=0, perms="rw"),
    ]
    return Scope(config, prefix, tuple(alphabet), depth)
