"""One transition of the machine: dispatch an operation to its rule."""

from __future__ import annotations

from collections.abc import Callable

from memview.model.algebra import merge_cases
from memview.model.constants import Errno
from memview.model.context import Ctx, Result
from memview.model.ops import OPS, Op
from memview.model.queries import proc_valid
from memview.model.rules_access import access
from memview.model.rules_backing import (
    file_create,
    ftruncate,
    memfd_create,
    pwrite,
    reopen,
    seal,
)
from memview.model.rules_process import (
    close,
    fork,
    ioctl,
    mmap,
    mprotect,
    mseal,
    munmap,
    send,
)
from memview.model.rules_view import (
    view_get_viewfd,
    view_map_fd,
    view_open,
    view_set_size,
    view_unmap_fd,
)
from memview.model.state import State

Rule = Callable[[Ctx, State, Op], Result]

RULES: dict[str, Rule] = {
    "view_open": view_open,
    "view_set_size": view_set_size,
    "view_map_fd": view_map_fd,
    "view_unmap_fd": view_unmap_fd,
    "view_get_viewfd": view_get_viewfd,
    "ioctl": ioctl,
    "send": send,
    "close": close,
    "memfd_create": memfd_create,
    "file_create": file_create,
    "reopen": reopen,
    "ftruncate": ftruncate,
    "pwrite": pwrite,
    "seal": seal,
    "mmap": mmap,
    "munmap": munmap,
    "mprotect": mprotect,
    "mseal": mseal,
    "access": access,
    "fork": fork,
}
assert set(RULES) == {spec.name for spec in OPS}


def step(ctx: Ctx, state: State, op: Op) -> Result:
    """The next state and the observation; a dead or unknown process gets ESRCH."""
    alg = ctx.alg

    def run() -> Result:
        if isinstance(op.code, int):
            return RULES[OPS[op.code].name](ctx, state, op)
        # A symbolic opcode: every rule, chosen by the opcode (unknown opcodes change nothing).
        cases = [(alg.eq(op.code, alg.word(spec.code)), RULES[spec.name](ctx, state, op)) for spec in OPS]
        return merge_cases(alg, cases, (state, ctx.errno(Errno.EINVAL)))

    return ctx.guarded(state, [(alg.not_(proc_valid(ctx, state, op.proc)), Errno.ESRCH)], run)
