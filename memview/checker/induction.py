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
from collections.abc import Callable
from concurrent.futures import Executor
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
from memview.properties.catalogue import BY_ID, Property
from memview.properties.lemmas import LEMMAS, LEMMAS_BY_ID, Lemma


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


@dataclass(frozen=True)
class Budget:
    """How much work z3 may spend on one query. The resource limit is what normally stops it: it
    counts z3's own steps, so a query gets the same answer on a busy machine as on an idle one,
    where a wall-clock timeout would drop a lemma only when the machine is loaded. The timeout
    is a backstop. The slowest query of the seed proof (mprotect under mappings-wf) takes about
    106 million units, 25 s on the project's machine (docs/performance.md)."""

    rlimit: int = 300_000_000
    timeout_ms: int = 600_000

    def apply(self, solver: z3.Solver) -> None:
        solver.set("rlimit", self.rlimit)
        solver.set("timeout", self.timeout_ms)


DEFAULT_BUDGET = Budget()


@dataclass
class _OpcodeQuery:
    """One opcode's step by one process from an arbitrary state: each lemma as a hypothesis over
    the keys the step reads, and each goal (a lemma broken afterwards, a property violated)."""

    op: Op
    shape: z3.BoolRef
    hypotheses: dict[str, z3.BoolRef]
    goals: dict[str, z3.BoolRef]
    budget: Budget
    incremental: z3.Solver = field(init=False)

    def __post_init__(self) -> None:
        self.incremental = z3.Solver()
        self.budget.apply(self.incremental)
        self.incremental.add(self.shape)
        # Lemma ids name both a hypothesis (before the step) and a goal (broken after it): the
        # literals must be distinct, or assuming a lemma would also assume it broken.
        for name, formula in self.hypotheses.items():
            self.incremental.add(z3.Implies(z3.Bool(f"assume:{name}"), formula))
        for name, formula in self.goals.items():
            self.incremental.add(z3.Implies(z3.Bool(f"goal:{name}"), formula))

    def check(self, assumed: tuple[str, ...], goal: str) -> tuple[z3.CheckSatResult, z3.Solver]:
        """One incremental solver answers every question of this query under assumption literals
        (a fresh solver per question re-preprocesses the whole formula each time: measured slower)."""
        literals = [*(z3.Bool(f"assume:{name}") for name in assumed), z3.Bool(f"goal:{goal}")]
        return self.incremental.check(*literals), self.incremental


def _opcode_query(ctx: Ctx, code: int, proc: int, lemmas: tuple[Lemma, ...], properties: list[Property],
                  budget: Budget) -> _OpcodeQuery:
    log = KeyLog()
    pre = arbitrary_state(ctx.config, "pre", log)
    free = symbolic_op(f"op{code}.{proc}")
    op = Op(code, z3.BitVecVal(proc, 64), free.args)
    post, obs = step(ctx, pre, op)
    witness = {kind: z3.Const(f"witness.{kind}", WORD_SORT) for kind in ("page", "byte")}
    goals = {lemma.id: z3.Not(lemma.predicate(ctx, post, witness[lemma.keyed])) for lemma in lemmas}
    goals.update({prop.id: z3.Not(prop.predicate(ctx, pre, op, obs, post)) for prop in properties
                  if prop.predicate is not None})
    shape = op_shape(Op(z3.BitVecVal(code, 64), op.proc, op.args), ctx.config)
    hypotheses = {}
    for lemma in lemmas:
        keys = [*log.keys(lemma.keyed), witness[lemma.keyed]]
        hypotheses[lemma.id] = z3.And(*(lemma.predicate(ctx, pre, key) for key in keys))
    return _OpcodeQuery(op, shape, hypotheses, goals, budget)


def _describe(query: _OpcodeQuery, solver: z3.Solver) -> str:
    free = Op(z3.BitVecVal(query.op.code, 64), query.op.proc, query.op.args)
    return str(decode_action(solver.model(), free))


@dataclass(frozen=True)
class OpcodeJob:
    """Every goal for one opcode (each acting process) under the assumed lemmas: a unit of work
    that a process pool can run (plain data in, plain data out)."""

    design: Design
    config: Config
    code: int
    assumed: tuple[str, ...]  # lemma ids taken as hypotheses
    lemma_goals: tuple[str, ...]  # lemma ids whose preservation is checked
    property_ids: tuple[str, ...]
    budget: Budget


def check_opcode(job: OpcodeJob) -> dict[str, str]:
    """goal id -> "" when no step of this opcode can reach it, else why one can (or "unknown ...")."""
    ctx = Ctx(SYMBOLIC, job.design, job.config)
    lemmas = tuple(LEMMAS_BY_ID[i] for i in (*job.assumed, *job.lemma_goals) if i in LEMMAS_BY_ID)
    lemmas = tuple(dict.fromkeys(lemmas))
    properties = [BY_ID[i] for i in job.property_ids]
    outcome = {goal: "" for goal in (*job.lemma_goals, *job.property_ids)}
    for proc in range(job.config.processes):
        query = _opcode_query(ctx, job.code, proc, lemmas, properties, job.budget)
        for goal, reason in _goal_reasons(job).items():
            if outcome[goal]:
                continue
            result, solver = query.check(job.assumed, goal)
            if result == z3.sat:
                outcome[goal] = reason.format(_describe(query, solver))
            elif result != z3.unsat:
                outcome[goal] = _status(result, solver)
    return outcome


def _goal_reasons(job: OpcodeJob) -> dict[str, str]:
    reasons = {goal: "not inductive: {} breaks it" for goal in job.lemma_goals}
    reasons.update({goal: "not implied by the proved lemmas: {} from some state" for goal in job.property_ids})
    return reasons


def prove(design: Design, config: Config, properties: list[Property], budget: Budget = DEFAULT_BUDGET,
          lemmas: tuple[Lemma, ...] = LEMMAS, executor: Executor | None = None,
          progress: Callable[[str], None] | None = None) -> Induction:
    """Houdini in rounds: every opcode checks every goal under the lemmas still believed; lemmas
    some step breaks are dropped and the round repeats, until none is. The last round's property
    answers are then under exactly the proved lemmas. With an executor, opcodes run in parallel."""
    start = time.monotonic()
    ctx = Ctx(SYMBOLIC, design, config)
    verdicts = {lemma.id: LemmaVerdict(lemma, True) for lemma in lemmas}

    # Base: every lemma at an arbitrary key of the initial state.
    init = initial_state(SYMBOLIC, config)
    key = z3.Const("key", WORD_SORT)
    for lemma in lemmas:
        solver = z3.Solver()
        budget.apply(solver)
        solver.add(z3.Not(lemma.predicate(ctx, init, key)))
        result = solver.check()
        if result != z3.unsat:
            verdicts[lemma.id] = LemmaVerdict(lemma, False, "false in the initial state" if result == z3.sat
                                              else _status(result, solver))

    step_props = tuple(p.id for p in properties if p.predicate is not None)
    rounds = 0
    while True:
        believed = tuple(i for i, v in verdicts.items() if v.proved)
        jobs = [OpcodeJob(design, config, spec.code, believed, believed, step_props, budget) for spec in OPS]
        rounds += 1
        outcomes = []
        for done, outcome in enumerate(executor.map(check_opcode, jobs) if executor else map(check_opcode, jobs), 1):
            outcomes.append(outcome)
            if progress is not None:
                progress(f"round {rounds}, {len(believed)} lemmas: {OPS[done - 1].name} checked ({done}/{len(jobs)})")
        broken = {}
        for outcome in outcomes:  # opcode order: the first opcode's reason wins, whatever finished first
            for lemma_id in believed:
                if outcome[lemma_id] and lemma_id not in broken:
                    broken[lemma_id] = outcome[lemma_id]
        for lemma_id, reason in broken.items():
            verdicts[lemma_id] = LemmaVerdict(verdicts[lemma_id].lemma, False, reason)
        if not broken:
            break

    proofs = []
    for prop in properties:
        if prop.predicate is None:
            proofs.append(PropertyProof(prop.id, False, "a two-run property: bounded by bmc's self-composition only"))
            continue
        failure = next((o[prop.id] for o in outcomes if o[prop.id]), "")
        proofs.append(PropertyProof(prop.id, not failure, failure or f"1-induction with {len(believed)} lemmas",
                                    list(believed)))
    return Induction(list(verdicts.values()), proofs, time.monotonic() - start)
