"""The induction engine: unbounded proofs of step properties from lemmas proved alongside them.

1. The lemmas (memview.properties.lemmas) are candidate invariants. Those false in the initial
   state are dropped; then, Houdini-style, any lemma that one step from an arbitrary state
   satisfying the remaining ones can break is dropped, until the remaining set is inductive.
2. A step property is proved when one step from an arbitrary state satisfying the proved lemmas
   cannot violate it. Since the lemmas hold in every reachable state, so does the property, at
   every depth (1-induction strengthened by the lemmas).

The pre-state is arbitrary: fresh constants, and uninterpreted functions for its tables. A lemma
about one page is instantiated at every page key the query reads the pre-state's tables at; a
weaker hypothesis than the universal one, so an "unsat" is still a proof.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from memview.checker.symbolic_terms import KeyLog, arbitrary_state, decode_action, op_shape, symbolic_op
from memview.model.config import Config
from memview.model.context import Ctx
from memview.model.design import Design
from memview.model.ops import OPS, Op
from memview.model.state import initial_state
from memview.model.step import step
from memview.model.symbolic import SYMBOLIC, WORD_SORT
from memview.properties.catalogue import Property
from memview.properties.lemmas import LEMMAS, Lemma


@dataclass
class LemmaVerdict:
    lemma: Lemma
    proved: bool
    reason: str = ""


@dataclass
class PropertyProof:
    property_id: str
    proved: bool
    reason: str
    lemmas_used: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Induction:
    lemmas: list[LemmaVerdict]
    proofs: list[PropertyProof]
    seconds: float


def _status(result: z3.CheckSatResult, solver: z3.Solver) -> str:
    if result == z3.unknown:
        return f"unknown ({solver.reason_unknown()})"
    return str(result)


@dataclass
class _OpcodeQuery:
    """One opcode's step by one process from an arbitrary state, with a literal per lemma hypothesis and per goal."""

    solver: z3.Solver
    op: Op
    assume: dict[str, z3.BoolRef]
    goals: dict[str, z3.BoolRef]


def _opcode_query(ctx: Ctx, code: int, proc: int, lemmas: tuple[Lemma, ...], properties: list[Property],
                  timeout_ms: int) -> _OpcodeQuery:
    log = KeyLog()
    pre = arbitrary_state(ctx.config, "pre", log)
    free = symbolic_op(f"op{code}.{proc}")
    op = Op(code, z3.BitVecVal(proc, 64), free.args)
    post, obs = step(ctx, pre, op)
    witness = {kind: z3.Const(f"witness.{kind}", WORD_SORT) for kind in ("page", "byte")}
    kept = {lemma.id: lemma.predicate(ctx, post, witness[lemma.keyed]) for lemma in lemmas}
    violated = {prop.id: z3.Not(prop.predicate(ctx, pre, op, obs, post)) for prop in properties
                if prop.predicate is not None}
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(op_shape(Op(z3.BitVecVal(code, 64), op.proc, op.args), ctx.config))
    assume = {}
    for lemma in lemmas:
        keys = [*log.keys(lemma.keyed), witness[lemma.keyed]]
        literal = z3.Bool(f"assume:{lemma.id}")
        solver.add(z3.Implies(literal, z3.And(*(lemma.predicate(ctx, pre, key) for key in keys))))
        assume[lemma.id] = literal
    goals = {name: z3.Bool(f"goal:{name}") for name in [*kept, *violated]}
    for lemma_id, holds in kept.items():
        solver.add(z3.Implies(goals[lemma_id], z3.Not(holds)))
    for prop_id, bad in violated.items():
        solver.add(z3.Implies(goals[prop_id], bad))
    return _OpcodeQuery(solver, op, assume, goals)


def _describe(query: _OpcodeQuery) -> str:
    model = query.solver.model()
    free = Op(z3.BitVecVal(query.op.code, 64), query.op.proc, query.op.args)
    return str(decode_action(model, free))


def prove(design: Design, config: Config, properties: list[Property], timeout_ms: int = 60_000,
          lemmas: tuple[Lemma, ...] = LEMMAS) -> Induction:
    start = time.monotonic()
    ctx = Ctx(SYMBOLIC, design, config)
    verdicts = {lemma.id: LemmaVerdict(lemma, True) for lemma in lemmas}

    # Base: every lemma at an arbitrary key of the initial state.
    init = initial_state(SYMBOLIC, config)
    key = z3.Const("key", WORD_SORT)
    for lemma in lemmas:
        solver = z3.Solver()
        solver.set("timeout", timeout_ms)
        solver.add(z3.Not(lemma.predicate(ctx, init, key)))
        result = solver.check()
        if result != z3.unsat:
            verdicts[lemma.id] = LemmaVerdict(lemma, False, "false in the initial state" if result == z3.sat
                                              else _status(result, solver))

    # Step: one transition from an arbitrary state, split by opcode and acting process: each query
    # holds one rule's terms for one process (constants fold the rest away) instead of twenty rules
    # merged over every process slot.
    queries = [_opcode_query(ctx, spec.code, proc, lemmas, properties, timeout_ms)
               for spec in OPS for proc in range(config.processes)]

    def hypotheses(query: _OpcodeQuery) -> list[z3.BoolRef]:
        return [query.assume[i] for i, v in verdicts.items() if v.proved]

    def first_failure(goal: str, sat_reason: str) -> str:
        """Why some query can reach the goal under the proved lemmas; empty when none can."""
        for query in queries:
            result = query.solver.check(*hypotheses(query), query.goals[goal])
            if result == z3.sat:
                return sat_reason.format(_describe(query))
            if result != z3.unsat:
                return _status(result, query.solver)
        return ""

    changed = True
    while changed:
        changed = False
        for lemma in lemmas:
            if not verdicts[lemma.id].proved:
                continue
            failure = first_failure(lemma.id, "not inductive: {} breaks it")
            if failure:
                verdicts[lemma.id] = LemmaVerdict(lemma, False, failure)
                changed = True

    used = [i for i, v in verdicts.items() if v.proved]
    proofs = []
    for prop in properties:
        began = time.monotonic()
        if prop.predicate is None:
            proofs.append(PropertyProof(prop.id, False, "a two-run property: bounded by bmc's self-composition only"))
            continue
        failure = first_failure(prop.id, "not implied by the proved lemmas: {} from some state")
        proofs.append(PropertyProof(prop.id, not failure, failure or f"1-induction with {len(used)} lemmas",
                                    used, time.monotonic() - began))
    return Induction(list(verdicts.values()), proofs, time.monotonic() - start)
