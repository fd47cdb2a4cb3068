"""The bmc engine: bounded model checking over the z3 instance of the semantics.

From the explicit engine's post-prefix state, k steps are unrolled with a fully open operation at
each (opcode, process and argument words are z3 constants), once, and each depth asks z3 under an
assumption literal whether some property's negation holds at the last step: the unrolling grows
incrementally and is never re-encoded. A two-run property (ISOL) is checked by self-composition: at
every step a second copy of the pre-state, whose backing bytes are arbitrary wherever the property's
second run hides them (for ISOL: no range lets a client read them), takes the same operation, and
the two observations must agree as the property says.

A model decodes to actions; they are run on the reference backend from the prefix, and the trace
must violate the same property there (memview.checker.check.self_check) before it is minimised
and reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import z3

from memview.checker.alphabet import Scope
from memview.checker.result import PropertyResult, Verdict
from memview.checker.symbolic_terms import decode_action, op_shape, symbolic_op
from memview.model.algebra import Bit, replace
from memview.model.context import Ctx
from memview.model.design import Design
from memview.model.ops import Op
from memview.model.state import Obs, State
from memview.model.step import step
from memview.model.symbolic import SYMBOLIC, SymTable, lift
from memview.properties.catalogue import Property
from memview.properties.two_run import SecondRun


def perturbed(ctx: Ctx, state: State, run: SecondRun, tag: str) -> State:
    """The second run's state: every byte the run hides replaced by an arbitrary one."""
    objs = []
    for index, obj in enumerate(state.objs):
        other = z3.Function(f"{tag}.obj{index}", z3.BitVecSort(64), z3.BitVecSort(64))
        data = obj.data

        def read(key: object, data: SymTable = data, index: int = index, other: z3.FuncDeclRef = other) -> object:
            return SYMBOLIC.ite(run.visible(ctx, state, index, key), data.at(key), other(key))

        objs.append(replace(obj, data=SymTable(read)))
    return replace(state, objs=tuple(objs))


def violation(ctx: Ctx, prop: Property, pre: State, op: Op, obs: Obs, post: State, depth: int) -> Bit:
    if prop.second_run is None:
        assert prop.predicate is not None
        return z3.Not(prop.predicate(ctx, pre, op, obs, post))
    # Self-composition: the second copy takes the same operation from its perturbed pre-state.
    _, other_obs = step(ctx, perturbed(ctx, pre, prop.second_run, f"{prop.id.lower()}{depth}"), op)
    return z3.Not(prop.second_run.agree(ctx, op, obs, other_obs))


def bmc(design: Design, scope: Scope, properties: list[Property], depth: int, timeout_ms: int = 300_000,
        progress: Callable[[str], None] | None = None, stop_at_first: bool = False) -> list[PropertyResult]:
    """Each property checked at depth 1, 2, ... up to depth. stop_at_first ends the search at the
    first counterexample of any property; the properties not yet checked at that depth are left
    out of the results (mutation analysis's time to the first counterexample)."""
    start = time.monotonic()
    set_up = scope.set_up(design)
    ctx = Ctx(SYMBOLIC, design, scope.config)
    state: State = lift(set_up.state)
    # z3's default solver: its QF_BV solver was faster on most properties at depth 3 but answered
    # unknown on CAP within 300 s where this one takes 34 s (docs/performance.md).
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    ops: list[Op] = []
    open_props = list(properties)
    results: dict[str, PropertyResult] = {}
    for d in range(1, depth + 1):
        if progress is not None:
            progress(f"depth {d}/{depth}")
        op = symbolic_op(f"step{d}")
        ops.append(op)
        solver.add(op_shape(op, scope.config))
        post, obs = step(ctx, state, op)
        for prop in list(open_props):
            literal = z3.Bool(f"violates:{prop.id}@{d}")
            solver.add(z3.Implies(literal, violation(ctx, prop, state, op, obs, post, d)))
            began = time.monotonic()
            result = solver.check(literal)
            if result == z3.unsat:
                continue
            open_props.remove(prop)
            if result == z3.unknown:
                results[prop.id] = bmc_result(prop, Verdict.UNKNOWN, f"unknown at depth {d}: "
                                              f"{solver.reason_unknown()}", start)
                continue
            actions = [decode_action(solver.model(), o) for o in ops]
            trace = set_up.trace(actions, {"property": prop.id, "engine": "bmc"})
            results[prop.id] = bmc_result(prop, Verdict.VIOLATED, f"counterexample at depth {d}", start,
                                          counterexample=trace,
                                          extra={"depth": d, "solve_seconds": round(time.monotonic() - began, 3)})
            if stop_at_first:
                return [results[p.id] for p in properties if p.id in results]
        if not open_props:
            break
        state = post
    for prop in open_props:
        results[prop.id] = bmc_result(prop, Verdict.HOLDS_BOUNDED, f"bmc: no violation to depth {depth}", start)
    return [results[p.id] for p in properties]


def bmc_result(prop: Property, verdict: Verdict, how: str, started: float, **more: Any) -> PropertyResult:
    return PropertyResult(property_id=prop.id, verdict=verdict, engine="bmc", how=how, states=0, transitions=0,
                          seconds=time.monotonic() - started, **more)
