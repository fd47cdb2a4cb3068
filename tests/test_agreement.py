"""The z3 instance of the semantics, run on concrete inputs, gives exactly the concrete result.

This is what makes "every rule is written once" trustworthy: a rule that only works in one
instance (a Python `if` on a term, a missed case in a merge) shows up here as a disagreement.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memview.checker.alphabet import default_scope
from memview.checker.corpus_build import seed_scenario
from memview.checker.mutants import MUTANTS, MUTANTS_BY_NAME
from memview.checker.strategies import actions as memview_actions
from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.context import Ctx
from memview.model.design import DECISIONS, SEED, Design
from memview.model.interval_map import IntervalMap
from memview.model.machine import Machine
from memview.model.ops import Action
from memview.model.state import State
from memview.model.step import step
from memview.model.symbolic import SYMBOLIC, lift, lift_table
from memview.traces.corpus import load_corpus

CONFIG = Config(page_size=4096, ranges=3, objects=2, fds=5, clients=1, fork_slots=1, vmas=3)

P = CONFIG.page_size


SCOPE = default_scope(SEED)


def actions(design: Design) -> st.SearchStrategy[Action]:
    """memview's own strategy (mostly the explicit-search alphabet, the rest arbitrary words), with
    extra weight on B1's accesses and mapping calls so that successful accesses are common."""
    by_b1 = [a for a in default_scope(design).alphabet if a.proc == 1 and a.name in ("access", "mprotect", "munmap",
                                                                                        "mmap")]
    return st.one_of(memview_actions(design), st.sampled_from(by_b1))


@st.composite
def designs(draw: Any) -> Design:
    return SEED.with_choices("random", {d.name: draw(st.sampled_from(list(d.variants))) for d in DECISIONS})


def mismatches(sym: Any, conc: Any, path: str, maps: list[tuple[str, Any, IntervalMap]]) -> list[str]:
    """Leaf words and bits compared by simplification; tables collected for one solver call."""
    if isinstance(conc, bool):
        got = z3.simplify(sym)
        return [] if z3.is_true(got) == conc and (z3.is_true(got) or z3.is_false(got)) else [f"{path}: {got} != {conc}"]
    if isinstance(conc, int):
        got = z3.simplify(sym)
        return [] if z3.is_bv_value(got) and got.as_long() == conc else [f"{path}: {got} != {conc}"]
    if isinstance(conc, IntervalMap):
        maps.append((path, sym, conc))
        return []
    if isinstance(conc, tuple):
        pairs = enumerate(zip(sym, conc, strict=True))
        return [m for i, (a, b) in pairs for m in mismatches(a, b, f"{path}[{i}]", maps)]
    return [m for f in dataclasses.fields(conc)
            for m in mismatches(getattr(sym, f.name), getattr(conc, f.name), f"{path}.{f.name}", maps)]


def differing_tables(maps: list[tuple[str, Any, IntervalMap]]) -> list[str]:
    solver = z3.Solver()
    differs = [(path, z3.Not(SYMBOLIC.table_eq(sym, lift_table(conc)))) for path, sym, conc in maps]
    solver.add(z3.Or(*[d for _, d in differs]))
    if solver.check() == z3.unsat:
        return []
    model = solver.model()
    return [path for path, d in differs if z3.is_true(model.eval(d, model_completion=True))]


def check_agreement(design: Design, from_prefix: bool, history: list[Action], last: Action,
                    symbolic_opcode: bool) -> None:
    machine = Machine(design, CONFIG)
    if from_prefix:
        for act, _ in default_scope(design).prefix:
            machine.run(act)
    for act in history:
        machine.run(act)
    bad = disagreements(design, CONFIG, machine.state, last, symbolic_opcode)
    assert not bad, f"{last} after {len(history)} steps: {bad[:5]}"


def disagreements(design: Design, config: Config, pre: State, last: Action, symbolic_opcode: bool) -> list[str]:
    """Where the z3 step from the lifted state differs from the concrete step (empty: agreement)."""
    op = last.to_op(CONCRETE)
    concrete_post, concrete_obs = step(Ctx(CONCRETE, design, config), pre, op)
    symbolic_op = lift(op)
    if not symbolic_opcode:
        # The opcode as a Python int dispatches to the one rule, as a concrete engine does.
        symbolic_op = dataclasses.replace(symbolic_op, code=op.code)
    symbolic_post, symbolic_obs = step(Ctx(SYMBOLIC, design, config), lift(pre), symbolic_op)
    maps: list[tuple[str, Any, IntervalMap]] = []
    bad = mismatches(symbolic_obs, concrete_obs, "obs", maps) + mismatches(symbolic_post, concrete_post, "state", maps)
    return bad + differing_tables(maps)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_z3_instance_agrees_with_concrete(data: st.DataObject) -> None:
    design = data.draw(designs(), "design")
    from_prefix = data.draw(st.sampled_from([True, True, True, False]), "from_prefix")
    history = data.draw(st.lists(actions(design), max_size=6), "history")
    last = data.draw(actions(design), "last")
    check_agreement(design, from_prefix, history, last, symbolic_opcode=False)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_agreement_with_every_rule_merged(data: st.DataObject) -> None:
    """With the opcode a z3 term, all twenty rules are merged: the result is still exact."""
    design = data.draw(designs(), "design")
    history = data.draw(st.lists(actions(design), max_size=6), "history")
    check_agreement(design, True, history, data.draw(actions(design), "last"), symbolic_opcode=True)


def test_symbolic_opcode_merges_every_rule() -> None:
    """With the opcode left open, the step is one term that z3 can decide for each opcode."""
    machine = Machine(SEED, CONFIG)
    for act, _ in SCOPE.prefix:
        machine.run(act)
    code = z3.BitVec("code", 64)
    args = tuple(z3.BitVecVal(0, 64) for _ in range(6))
    from memview.model.ops import Op

    _, obs = step(Ctx(SYMBOLIC, SEED, CONFIG), lift(machine.state), Op(code, z3.BitVecVal(0, 64), args))
    solver = z3.Solver()
    # view_open (code 0) with a view already open must give ENFILE (23) whatever else is merged.
    solver.add(code == 0, obs.value != 23)
    assert solver.check() == z3.unsat


GIB = 1 << 30
SET_UP_STEPS = 15


@pytest.mark.parametrize(
    "last",
    [
        Action("access", 1, (MMAP_BASE + 4 * GIB, 1, 0)),  # big-file.iso at 8 GiB
        Action("access", 1, (MMAP_BASE + 9 * GIB + 5, 2, 7)),  # a write reaching guest-ram
        Action("access", 1, (MMAP_BASE + 11 * GIB, 1, 0)),  # unconfigured: SIGBUS
        Action("access", 1, (MMAP_BASE + 2 * GIB, 2, 1)),  # denied: SIGSEGV
        Action("view_unmap_fd", 0, (0, 8 * GIB, 2 * GIB)),
        Action("mprotect", 1, (MMAP_BASE, 16 * GIB, 7)),
    ],
    ids=str,
)
def test_z3_instance_at_the_seeds_literal_sizes(last: Action) -> None:
    """The seed's 16 GiB view and 32 GiB memfd are bit-vectors and lambdas, not enumerated pages."""
    config = Config()
    machine = Machine(SEED, config)
    for recorded in seed_scenario().steps[:SET_UP_STEPS]:  # up to B1's mapping of the whole view
        assert machine.run(recorded.action).ok, recorded.action
    assert not disagreements(SEED, config, machine.state, last, symbolic_opcode=False)


@pytest.mark.parametrize("name", [m.name for m in MUTANTS])
def test_z3_instance_agrees_with_concrete_on_each_mutant(name: str) -> None:
    """A mutation is a rule too: on its corpus trace, the step where the mutant shows (and every
    step before it) is the same in both instances."""
    mutant = MUTANTS_BY_NAME[name]
    trace = dict(load_corpus())[f"mutant-{name}.itf.json"]
    design = mutant.design()
    machine = Machine(design, trace.config)
    for index, recorded in enumerate(trace.steps):
        if index >= len(trace.steps) - 4:  # the steps after the set-up, where the search went
            bad = disagreements(design, trace.config, machine.state, recorded.action, symbolic_opcode=False)
            assert not bad, f"step {index} ({recorded.action}): {bad[:5]}"
        machine.run(recorded.action)
