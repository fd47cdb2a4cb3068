"""The state updates rules are built from: a copy of the state with one record's fields changed.

Each works for a possibly symbolic index (`update_at`, `update_fields_at`), so a rule says which
fd, process or object it changes and never how the change is merged.
"""

from __future__ import annotations

from typing import Any

from memview.model.algebra import Word, replace, update_at, update_fields_at
from memview.model.context import Ctx
from memview.model.queries import proc_at
from memview.model.state import Fd, State


def with_fd(ctx: Ctx, state: State, proc: Word, fd: Word, entry: Fd) -> State:
    """state with fd slot `fd` of process `proc` holding entry."""
    fds = update_at(ctx.alg, proc_at(ctx, state, proc).fds, fd, entry)
    return replace(state, procs=update_fields_at(ctx.alg, state.procs, proc, fds=fds))


def with_proc(ctx: Ctx, state: State, index: Word, **changes: Any) -> State:
    """state with the given fields of process `index` changed."""
    return replace(state, procs=update_fields_at(ctx.alg, state.procs, index, **changes))


def with_obj(ctx: Ctx, state: State, index: Word, **changes: Any) -> State:
    """state with the given fields of object `index` changed."""
    return replace(state, objs=update_fields_at(ctx.alg, state.objs, index, **changes))
