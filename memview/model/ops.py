"""The operation catalogue: names and argument lists; `Op` (words) and `Action` (readable).

An operation is an opcode, the acting process and a fixed number of argument words, so that a
symbolic engine can leave all of them open at once. Traces spell arguments readably ("rw",
"private", "write"); each argument's kind (`memview.model.arguments.ARG_KINDS`) converts between
the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memview.errors import InputError
from memview.model.algebra import Algebra, Word
from memview.model.arguments import ARG_KINDS
from memview.model.words import parse_word

ARITY = 6


@dataclass(frozen=True)
class Op:
    code: Word
    proc: Word
    args: tuple[Word, ...]  # always ARITY words; unused ones are 0


@dataclass(frozen=True)
class OpSpec:
    name: str
    code: int
    args: tuple[tuple[str, str], ...]  # (argument name, argument type)
    summary: str
    by: str = "any"  # "A" when the seed has only A do it; documentation only


OPS: tuple[OpSpec, ...] = (
    OpSpec("view_open", 0, (), "open(\"/dev/memory-view\", O_RDWR): a new view and its control fd", "A"),
    OpSpec("view_set_size", 1, (("fd", "fd"), ("size", "int")), "ioctl MEMVIEW_SET_SIZE on the control fd", "A"),
    OpSpec(
        "view_map_fd",
        2,
        (("fd", "fd"), ("src", "fd"), ("fd_offset", "int"), ("size", "int"), ("mem_offset", "int"),
         ("perms", "perms")),
        "ioctl MEMVIEW_MAP_FD {fd, fd_offset, size, mem_offset, flags}",
        "A",
    ),
    OpSpec("view_unmap_fd", 3, (("fd", "fd"), ("mem_offset", "int"), ("size", "int")),
           "ioctl MEMVIEW_UNMAP_FD {mem_offset, size}", "A"),
    OpSpec("view_get_viewfd", 4, (("fd", "fd"), ("mode", "mode")), "ioctl MEMVIEW_GET_VIEWFD: a new view fd", "A"),
    OpSpec("ioctl", 5, (("fd", "fd"), ("cmd", "int")), "any other ioctl command number"),
    OpSpec("send", 6, (("fd", "fd"), ("to", "proc")), "pass a view fd to another process (SCM_RIGHTS)"),
    OpSpec("close", 7, (("fd", "fd"),), "close(fd)"),
    OpSpec("memfd_create", 8, (("sealing", "bool"),), "memfd_create(name, sealing ? MFD_ALLOW_SEALING : 0)"),
    OpSpec("file_create", 9, (), "create and open O_RDWR a sparse regular file in a private directory"),
    OpSpec("reopen", 10, (("fd", "fd"), ("mode", "mode")), "open(\"/proc/self/fd/N\", mode): another fd"),
    OpSpec("ftruncate", 11, (("fd", "fd"), ("size", "int")), "ftruncate(fd, size)"),
    OpSpec("pwrite", 12, (("fd", "fd"), ("offset", "int"), ("byte", "byte")), "pwrite one byte at offset"),
    OpSpec("seal", 13, (("fd", "fd"), ("seals", "seals")), "fcntl(fd, F_ADD_SEALS, seals)"),
    OpSpec(
        "mmap",
        14,
        (("fd", "fd"), ("length", "int"), ("prot", "perms"), ("flags", "flags"), ("offset", "int")),
        "mmap(NULL, length, prot, flags, fd, offset)",
    ),
    OpSpec("munmap", 15, (("addr", "int"), ("length", "int")), "munmap(addr, length)"),
    OpSpec("mprotect", 16, (("addr", "int"), ("length", "int"), ("prot", "perms")), "mprotect(addr, length, prot)"),
    OpSpec("mseal", 17, (("addr", "int"), ("length", "int")), "mseal(addr, length, 0)"),
    OpSpec("access", 18, (("addr", "int"), ("kind", "kind"), ("byte", "byte")),
           "a load, store or instruction fetch of one byte"),
    OpSpec("fork", 19, (), "fork(): the child gets a copy of the fd table and mappings"),
)

OPS_BY_NAME = {spec.name: spec for spec in OPS}
assert all(kind in ARG_KINDS for spec in OPS for _, kind in spec.args), "an argument kind missing from ARG_KINDS"


@dataclass(frozen=True)
class Action:
    """A concrete operation in readable form: what traces store and engines enumerate."""

    name: str
    proc: int
    args: tuple[int, ...]  # one word per argument of the OpSpec

    @property
    def spec(self) -> OpSpec:
        return OPS_BY_NAME[self.name]

    def arg(self, name: str) -> int:
        for (arg_name, _), value in zip(self.spec.args, self.args, strict=True):
            if arg_name == name:
                return value
        raise KeyError(name)

    def to_op(self, alg: Algebra) -> Op:
        words = [alg.word(a) for a in self.args] + [alg.word(0)] * (ARITY - len(self.args))
        return Op(self.spec.code, alg.word(self.proc), tuple(words))

    def readable(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.name, "proc": self.proc}
        for (arg_name, kind), value in zip(self.spec.args, self.args, strict=True):
            out[arg_name] = ARG_KINDS[kind].decode(value)
        return out

    def __str__(self) -> str:
        parts = []
        for (arg_name, kind), value in zip(self.spec.args, self.args, strict=True):
            arg_kind = ARG_KINDS[kind]
            shown = arg_kind.decode(value)
            if arg_kind.hex_from is not None and isinstance(shown, int) and shown >= arg_kind.hex_from:
                shown = hex(shown)
            parts.append(f"{arg_name}={shown}")
        who = "A" if self.proc == 0 else f"P{self.proc}"
        return f"{who}: {self.name}({', '.join(parts)})"


def action(name: str, proc: int = 0, **kwargs: Any) -> Action:
    """Build an Action from readable keyword arguments (used by tests, scenarios and the CLI)."""
    return action_from_json({"op": name, "proc": proc, **kwargs}, f"action {name}")


def action_from_json(data: Any, place: str) -> Action:
    if not isinstance(data, dict):
        raise InputError(place, "expected an object with 'op' and its arguments")
    name = data.get("op")
    if not isinstance(name, str) or name not in OPS_BY_NAME:
        raise InputError(f"{place}.op", f"unknown operation {name!r} (choose from {', '.join(OPS_BY_NAME)})")
    spec = OPS_BY_NAME[name]
    proc = parse_word(data.get("proc", 0), f"{place}.proc")
    expected = {arg for arg, _ in spec.args} | {"op", "proc"}
    for key in data:
        if key not in expected:
            raise InputError(f"{place}.{key}", f"{name} takes no argument {key!r}")
    args = []
    for arg_name, kind in spec.args:
        if arg_name not in data:
            raise InputError(f"{place}.{arg_name}", f"{name} needs argument {arg_name!r}")
        args.append(ARG_KINDS[kind].encode(data[arg_name], f"{place}.{arg_name}"))
    return Action(name, proc, tuple(args))
