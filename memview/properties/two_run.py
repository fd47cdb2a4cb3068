"""What a two-run property needs besides its comparison: how its second run differs from the first.

A two-run property (ISOL) is not a predicate of one transition: it compares what a client observes
in two runs that take the same operation from states that differ only in bytes no client may see.
`SecondRun` says which bytes those are, in the two forms the engines need: as concrete spans (a
concrete second run sets each of them to `value`) and as an algebra predicate over one byte (the bmc
engine's self-composition leaves each of them arbitrary). Engines ask a property for its
`second_run`; none of them names a property to know that it has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memview.model.algebra import Bit, replace
from memview.model.context import Ctx
from memview.model.interval_map import IntervalMap
from memview.model.ops import Op
from memview.model.state import Obs, State

Spans = Callable[[Ctx, State, int], list[tuple[int, int]]]  # (ctx, concrete state, object slot) -> [lo, hi)
ByteVisible = Callable[[Ctx, State, int, object], Bit]  # (ctx, state, object slot, byte offset)
Agreement = Callable[[Ctx, Op, Obs, Obs], Bit]  # (ctx, operation, first run's, second run's observation)


@dataclass(frozen=True, kw_only=True)
class SecondRun:
    hidden_spans: Spans  # the bytes of an object the second run changes
    visible: ByteVisible  # the complement, one byte at a time, over the algebra
    agree: Agreement  # what must be equal in both runs
    value: int  # what every hidden byte holds in a concrete second run
    clients_only: bool  # only a client's operation is judged (A sees its own bytes by right)

    def perturb(self, ctx: Ctx, state: State) -> State:
        """The concrete state of the second run: every hidden byte set to `value`."""
        objs = []
        for index, obj in enumerate(state.objs):
            data: IntervalMap = obj.data
            for lo, hi in self.hidden_spans(ctx, state, index):
                data = data.set_range(lo, hi, self.value)
            objs.append(replace(obj, data=data))
        return replace(state, objs=tuple(objs))
