"""Every engine, by name, in one table: what `memview check` and `prove` run, and what the kill matrix runs.

An engine serves up to three uses, each a plain function of picklable values:
- `run`: judge the selected properties on a design within a scope (check, prove); its results come
  back as `PropertyResult`s;
- `hunt`: the first counterexample of any property on a mutated design (mutation analysis): a
  `Hunt` saying whether it found one, how fast, and how long it is after the set-up;
- `hunt_backend`: the same against an implementation, a backend by its command-line name (only the
  engines that drive a backend: fuzz and corpus).
A new engine is one entry here; the check command, prove, the kill matrix and the JSON schemas read
their engine lists from this table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memview.checker.alphabet import Scope, default_scope
from memview.checker.result import PropertyResult, Verdict
from memview.model.design import SEED, Design
from memview.properties.catalogue import CATALOGUE, Property
from memview.traces.trace import Trace

if TYPE_CHECKING:  # the catalogue of mutants is data the kill matrix hands in; no import at run time
    from memview.backends.base import Backend
    from memview.checker.mutants import Mutant

ProgressSink = Callable[[str], None]  # receives one line per event: which depth or round
EngineRun = Callable[[Design, Scope, list[Property], ProgressSink | None, Executor | None], list[PropertyResult]]

# The kill matrix's bounds: explore and bmc stop at the first violation, the budget ends deeper searches.
HUNT_EXPLORE_DEPTH = 5
HUNT_BMC_DEPTH = 4
HUNT_FUZZ_EXAMPLES, HUNT_FUZZ_STEPS, HUNT_FUZZ_SEED = 300, 25, 0


@dataclass(frozen=True, kw_only=True)
class Hunt:
    """An engine's search for a first counterexample (mutation analysis's cell, before it is placed)."""

    found: bool
    seconds: float  # to the first counterexample when found; otherwise the time spent
    finding: str  # the property violated, the divergent trace and step, or what was searched
    length: int | None = None  # steps after the set-up (corpus: the divergent step's index plus one)
    trace: Trace | None = None


@dataclass(frozen=True, kw_only=True)
class Engine:
    name: str
    summary: str
    run: EngineRun | None = None  # memview check / prove
    jobs_per_property: bool = False  # one job per property (each its own solver) instead of one for all
    # Runs in the calling process and hands its own pieces to the executor (induction's opcode queries).
    orchestrates: bool = False
    default_depth: int = 1  # steps after the set-up when the user names none (induction has no depth)
    # Every client gets B1's operations (interchangeable, reduced by symmetry) rather than staying
    # idle: explicit search's cost grows with the clients, the symbolic engines' measurements keep them idle.
    active_clients: bool = False
    # Its counterexamples carry a solver's arbitrary argument words: minimised before they are shown.
    minimise_counterexamples: bool = False
    # It searches traces made from the mutants themselves (the corpus's mutant-* traces): the kill
    # matrix's summary counts it apart, or it would measure the mutants against themselves.
    made_from_mutants: bool = False
    hunt: Callable[[Mutant], Hunt] | None = None
    hunt_backend: Callable[[str], Hunt] | None = None


def mutant_scope(mutant: Mutant, design: Design, depth: int) -> Scope:
    return default_scope(design, depth, clients=mutant.clients, active_clients=mutant.clients > 1)


# ---- explore

def _explore_progress(sink: ProgressSink, bound: int) -> Callable[[int, int, int], None]:
    """explore reports every expanded state; a line per new depth is enough across processes."""
    reached = [0]

    def report(depth: int, states: int, transitions: int) -> None:
        if depth != reached[0]:
            reached[0] = depth
            sink(f"depth {depth}/{bound}, {states} states so far")

    return report


def run_explore(design: Design, scope: Scope, properties: list[Property], sink: ProgressSink | None,
                executor: Executor | None) -> list[PropertyResult]:
    from memview.checker.explore import explore, results

    # Counterexamples need only each state's BFS parent, not the graph of every edge.
    progress = _explore_progress(sink, scope.depth) if sink else None
    explored = explore(design, scope, properties, progress, keep_graph=False)
    return results(design, scope, explored, properties)


def hunt_explore(mutant: Mutant) -> Hunt:
    from memview.checker.explore import counterexample, explore

    design = mutant.design()
    scope = mutant_scope(mutant, design, HUNT_EXPLORE_DEPTH)
    found = explore(design, scope, list(CATALOGUE), keep_graph=False, reduce_symmetry=False, stop_at_first=True)
    if not found.violations:
        return Hunt(found=False, seconds=found.seconds,
                    finding=f"no violation in {len(found.states):,} states to depth {scope.depth}")
    prop, violation = next(iter(found.violations.items()))
    trace = counterexample(design, scope, found, prop)
    return Hunt(found=True, seconds=violation.seconds, length=len(trace.steps) - len(scope.prefix), finding=prop,
                trace=trace)


# ---- bmc

def run_bmc(design: Design, scope: Scope, properties: list[Property], sink: ProgressSink | None,
            executor: Executor | None) -> list[PropertyResult]:
    from memview.checker.bmc import bmc

    return bmc(design, scope, properties, scope.depth, progress=sink)


def hunt_bmc(mutant: Mutant) -> Hunt:
    from memview.checker.bmc import bmc

    design = mutant.design()
    scope = mutant_scope(mutant, design, HUNT_BMC_DEPTH)
    started = time.monotonic()
    results = bmc(design, scope, list(CATALOGUE), HUNT_BMC_DEPTH, stop_at_first=True)
    for result in results:
        if result.verdict == Verdict.VIOLATED and result.counterexample is not None:
            trace = result.counterexample
            return Hunt(found=True, seconds=result.seconds, length=len(trace.steps) - len(scope.prefix),
                        finding=result.property_id, trace=trace)
    unknown = [r.property_id for r in results if r.verdict != Verdict.HOLDS_BOUNDED]
    note = f"; unknown: {', '.join(unknown)}" if unknown else ""
    return Hunt(found=False, seconds=time.monotonic() - started,
                finding=f"no violation to depth {HUNT_BMC_DEPTH}{note}")


# ---- induction

def run_induction(design: Design, scope: Scope, properties: list[Property], sink: ProgressSink | None,
                  executor: Executor | None) -> list[PropertyResult]:
    """Induction is itself split by opcode: it runs its pieces on the executor."""
    from memview.checker.induction import prove

    induction = prove(design, scope.config, properties, executor=executor, progress=sink)
    lemma_verdicts = {v.lemma.id: v.reason or "proved" for v in induction.lemmas}
    return [PropertyResult(property_id=proof.property_id,
                           verdict=Verdict.PROVED if proof.proved else Verdict.UNKNOWN,
                           engine="induction", how=proof.reason, states=0, transitions=0, seconds=induction.seconds,
                           extra={"lemmas": proof.lemmas_used, "lemma_verdicts": lemma_verdicts})
            for proof in induction.proofs]


def hunt_induction(mutant: Mutant) -> Hunt:
    """An alarm without a trace: induction proves every step property of the seed, so on a seed
    mutant an unproved property is the mutation's doing."""
    from memview.checker.induction import prove

    design = mutant.design()
    proof = prove(design, mutant_scope(mutant, design, 1).config, list(CATALOGUE))
    unproved = [p.property_id for p in proof.proofs if not p.proved]
    if unproved:
        return Hunt(found=True, seconds=proof.seconds, finding="not proved: " + ", ".join(unproved))
    return Hunt(found=False, seconds=proof.seconds, finding="every step property proved")


# ---- fuzz

def hunt_fuzz(mutant: Mutant) -> Hunt:
    from memview.checker.fuzz import fuzz_properties

    design = mutant.design()
    scope = mutant_scope(mutant, design, 1)
    result = fuzz_properties(design, scope, list(CATALOGUE), HUNT_FUZZ_EXAMPLES, HUNT_FUZZ_STEPS, HUNT_FUZZ_SEED)
    if result.trace is None:
        return Hunt(found=False, seconds=result.seconds,
                    finding=f"no violation in {result.examples} examples, {result.steps} steps")
    return Hunt(found=True, seconds=result.first_failure_seconds or result.seconds,
                length=len(result.trace.steps) - len(scope.prefix),
                finding=str(result.trace.meta.get("property", "")), trace=result.trace)


def hunt_fuzz_backend(backend: str) -> Hunt:
    """Lockstep fuzzing of the seed design against the backend."""
    from memview.backends.registry import open_backend
    from memview.checker.fuzz import fuzz

    scope = default_scope(SEED)
    result = fuzz(SEED, lambda: open_backend(backend), HUNT_FUZZ_EXAMPLES, HUNT_FUZZ_STEPS, HUNT_FUZZ_SEED,
                  database=None)
    if result.trace is None:
        return Hunt(found=False, seconds=result.seconds,
                    finding=f"conforms in {result.examples} examples, {result.steps} steps")
    return Hunt(found=True, seconds=result.first_failure_seconds or result.seconds,
                length=len(result.trace.steps) - len(scope.prefix), finding=(result.failure or "")[:160],
                trace=result.trace)


# ---- corpus

def first_divergence(backend_for: Callable[[Trace], Backend]) -> Hunt:
    """The regression corpus replayed on a backend per trace, up to the first trace it fails."""
    from memview.traces.conform import DIVERGE, conform
    from memview.traces.corpus import regression_corpus

    started = time.monotonic()
    traces = regression_corpus()
    for trace_name, trace in traces:
        verdict = conform(trace_name, trace, backend_for(trace))
        if not verdict.conforms:
            step = verdict.step if verdict.step is not None else 0
            failed = "diverges" if verdict.status == DIVERGE else "fails the backend"
            return Hunt(found=True, seconds=time.monotonic() - started, length=step + 1,
                        finding=f"{trace_name} {failed} at step {step}", trace=trace)
    return Hunt(found=False, seconds=time.monotonic() - started,
                finding=f"all {len(traces)} regression traces conform")


def hunt_corpus(mutant: Mutant) -> Hunt:
    """Each corpus trace replayed with the mutation applied to its own design."""
    from memview.backends.model import ModelBackend

    return first_divergence(lambda trace: ModelBackend(pinned=mutant.apply(trace.design)))


def hunt_corpus_backend(backend: str) -> Hunt:
    from memview.backends.registry import open_backend

    return first_divergence(lambda _trace: open_backend(backend))


# In the kill matrix's column order; `CHECK_ENGINES` gives check's order.
ENGINES: dict[str, Engine] = {engine.name: engine for engine in (
    Engine(name="bmc", summary="bounded model checking with z3, from the scope's set-up", run=run_bmc,
           jobs_per_property=True, default_depth=2, minimise_counterexamples=True, hunt=hunt_bmc),
    Engine(name="induction", summary="unbounded proof: Houdini over strengthening lemmas, one query per opcode",
           run=run_induction, orchestrates=True, hunt=hunt_induction),
    Engine(name="explore", summary="explicit-state breadth-first search of the scope", run=run_explore,
           default_depth=4, active_clients=True, hunt=hunt_explore),
    Engine(name="fuzz", summary="hypothesis stateful testing, every step judged", hunt=hunt_fuzz,
           hunt_backend=hunt_fuzz_backend),
    Engine(name="corpus", summary="the shipped regression corpus replayed", made_from_mutants=True,
           hunt=hunt_corpus, hunt_backend=hunt_corpus_backend),
)}
CHECK_ENGINES = ("explore", "bmc", "induction")  # check's tables and JSON list results in this order
MUTATION_ENGINES = tuple(name for name, engine in ENGINES.items() if engine.hunt is not None)
IMPLEMENTATION_ENGINES = tuple(name for name, engine in ENGINES.items() if engine.hunt_backend is not None)
assert all(ENGINES[name].run is not None for name in CHECK_ENGINES)
