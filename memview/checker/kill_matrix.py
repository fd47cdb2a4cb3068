"""The kill matrix: every engine against every mutant, each cell within a time budget.

A cell runs one engine on one mutated design in a forked child (`deadline.run_within`) on a
`concurrent.futures.Executor` (a process pool by default), and records whether the engine killed the
mutant, how long it took to its first counterexample, and that counterexample's length.

What kills a mutant, per engine:
- bmc, explore, fuzz: a transition of the mutated model that violates a property (bmc and explore
  stop at the first; fuzz is `fuzz_properties`, hypothesis judging every step); the length is the
  number of steps after the scope's set-up.
- induction: a step property it cannot prove on the mutated design (an alarm, without a trace:
  induction proves every step property of the seed, so on a seed mutant an unproved property is the
  mutation's doing); it has no counterexample length.
- corpus: a trace of the shipped regression corpus whose recorded observations the mutated model
  does not reproduce (each trace replayed with the mutation applied to its own design); the length
  is the divergent step's index plus one.
Implementation mutants (`linux-mutant:NAME` backends) are rows too, for the engines that drive a
backend: corpus (conformance of the regression corpus) and fuzz (lockstep fuzzing of `seed`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import Any

from memview.backends.base import Backend
from memview.checker.alphabet import Scope, default_scope
from memview.checker.deadline import run_within
from memview.checker.mutants import ENGINES, Mutant
from memview.model.design import SEED, Design
from memview.properties.catalogue import CATALOGUE
from memview.schemas import MUTANTS as MUTANTS_SCHEMA
from memview.traces.trace import Trace

KILLED, SURVIVED, BUDGET, ERROR, NOT_APPLICABLE = "killed", "survived", "budget", "error", "n/a"
STATUSES = (KILLED, SURVIVED, BUDGET, ERROR, NOT_APPLICABLE)
EXPLORE_DEPTH = 5  # BFS stops at the first violation; the budget ends deeper searches
BMC_DEPTH = 4
FUZZ_EXAMPLES, FUZZ_STEPS, FUZZ_SEED = 300, 25, 0
IMPLEMENTATION_ENGINES = ("fuzz", "corpus")


@dataclass
class Cell:
    mutant: str
    engine: str
    status: str
    seconds: float  # to the first counterexample when killed; otherwise the time spent
    length: int | None = None
    finding: str = ""  # the property violated, the divergent trace and step, or why not
    trace: Trace | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "seconds": round(self.seconds, 3), "finding": self.finding}
        if self.length is not None:
            out["length"] = self.length
        return out


@dataclass(frozen=True)
class Row:
    """A mutant as the matrix sees it: a semantic mutant, or an implementation mutant's backend."""

    name: str
    kind: str  # "semantic" or "implementation"
    mistake: str
    breaks: tuple[str, ...] = ()
    equivalent: str = ""
    mutant: Mutant | None = None
    backend: str = ""

    def engines(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        return wanted if self.kind == "semantic" else tuple(e for e in wanted if e in IMPLEMENTATION_ENGINES)


@dataclass
class Matrix:
    rows: list[Row]
    engines: tuple[str, ...]
    budget: float
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    seconds: float = 0.0

    def best(self, row: Row, engines: tuple[str, ...] | None = None) -> Cell | None:
        kills = [c for e in engines or self.engines if (c := self.cells.get((row.name, e))) and c.status == KILLED]
        return min(kills, key=lambda c: c.seconds) if kills else None

    def summary(self) -> dict[str, Any]:
        semantic = [r for r in self.rows if r.kind == "semantic"]
        target = [r for r in semantic if r.breaks]
        killed = [r for r in target if self.best(r) is not None]
        by_corpus = [r for r in semantic if (c := self.cells.get((r.name, "corpus"))) and c.status == KILLED]
        best_times = [c.seconds for r in target if (c := self.best(r)) is not None]
        implementation = [r for r in self.rows if r.kind == "implementation"]
        out: dict[str, Any] = {
            "non_equivalent": len(target),
            "killed": len(killed),
            "survivors": [r.name for r in target if r not in killed],
            "equivalent": [r.name for r in semantic if not r.breaks],
            "equivalent_violations": [f"{r.name}: {c.engine} {c.finding}" for r in semantic if not r.breaks
                                      for e in self.engines if e != "corpus" and
                                      (c := self.cells.get((r.name, e))) and c.status == KILLED],
            "implementation_killed": sum(1 for r in implementation if self.best(r) is not None),
            "implementation": len(implementation),
        }
        if "corpus" in self.engines and semantic:
            out["corpus_killed"] = len(by_corpus)
            out["corpus_share"] = round(len(by_corpus) / len(semantic), 3)
        if best_times:
            out["best_median_seconds"] = round(statistics.median(best_times), 3)
            out["best_max_seconds"] = round(max(best_times), 3)
        # The same without the corpus, whose mutant-* traces were made from these very mutants.
        checkers = tuple(e for e in self.engines if e != "corpus")
        checked = [c for r in target if (c := self.best(r, checkers)) is not None]
        if checkers and checked:
            out["checkers_killed"] = len(checked)
            out["checkers_median_seconds"] = round(statistics.median(c.seconds for c in checked), 3)
            out["checkers_max_seconds"] = round(max(c.seconds for c in checked), 3)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": MUTANTS_SCHEMA,
            "budget_seconds": self.budget,
            "engines": list(self.engines),
            "seconds": round(self.seconds, 1),
            "mutants": [
                {"name": r.name, "kind": r.kind, "mistake": r.mistake, "breaks": list(r.breaks),
                 "equivalent": r.equivalent, **({"backend": r.backend} if r.backend else {}),
                 "cells": {e: self.cells[r.name, e].to_json() for e in self.engines if (r.name, e) in self.cells}}
                for r in self.rows
            ],
            "summary": self.summary(),
        }


def semantic_row(mutant: Mutant) -> Row:
    return Row(mutant.name, "semantic", mutant.mistake, mutant.breaks, mutant.equivalent, mutant)


def scope_for(mutant: Mutant, design: Design, depth: int) -> Scope:
    return default_scope(design, depth, clients=mutant.clients, active_clients=mutant.clients > 1)


# ---- one cell: runs in a forked child under the budget

def _explore(mutant: Mutant) -> Cell:
    from memview.checker.explore import counterexample, explore

    design = mutant.design()
    scope = scope_for(mutant, design, EXPLORE_DEPTH)
    found = explore(design, scope, list(CATALOGUE), keep_graph=False, reduce_symmetry=False, stop_at_first=True)
    if not found.violations:
        return Cell(mutant.name, "explore", SURVIVED, found.seconds,
                    finding=f"no violation in {len(found.states):,} states to depth {scope.depth}")
    prop, violation = next(iter(found.violations.items()))
    trace = counterexample(design, scope, found, prop)
    return Cell(mutant.name, "explore", KILLED, violation.seconds, len(trace.steps) - len(scope.prefix), prop, trace)


def _bmc(mutant: Mutant) -> Cell:
    from memview.checker.bmc import bmc
    from memview.checker.result import HOLDS_BOUNDED, VIOLATED

    design = mutant.design()
    scope = scope_for(mutant, design, BMC_DEPTH)
    started = time.monotonic()
    results = bmc(design, scope, list(CATALOGUE), BMC_DEPTH, stop_at_first=True)
    for result in results:
        if result.verdict == VIOLATED and result.counterexample is not None:
            trace = result.counterexample
            return Cell(mutant.name, "bmc", KILLED, result.seconds, len(trace.steps) - len(scope.prefix),
                        result.property_id, trace)
    unknown = [r.property_id for r in results if r.verdict != HOLDS_BOUNDED]
    note = f"; unknown: {', '.join(unknown)}" if unknown else ""
    return Cell(mutant.name, "bmc", SURVIVED, time.monotonic() - started,
                finding=f"no violation to depth {BMC_DEPTH}{note}")


def _induction(mutant: Mutant) -> Cell:
    from memview.checker.induction import prove

    design = mutant.design()
    scope = scope_for(mutant, design, 1)
    proof = prove(design, scope.config, list(CATALOGUE))
    unproved = [p.property_id for p in proof.proofs if not p.proved]
    if unproved:
        return Cell(mutant.name, "induction", KILLED, proof.seconds, None, "not proved: " + ", ".join(unproved))
    return Cell(mutant.name, "induction", SURVIVED, proof.seconds, finding="every step property proved")


def _fuzz(mutant: Mutant) -> Cell:
    from memview.checker.fuzz import fuzz_properties

    design = mutant.design()
    scope = scope_for(mutant, design, 1)
    result = fuzz_properties(design, scope, list(CATALOGUE), FUZZ_EXAMPLES, FUZZ_STEPS, FUZZ_SEED)
    if result.trace is None:
        return Cell(mutant.name, "fuzz", SURVIVED, result.seconds,
                    finding=f"no violation in {result.examples} examples, {result.steps} steps")
    return Cell(mutant.name, "fuzz", KILLED, result.first_failure_seconds or result.seconds,
                len(result.trace.steps) - len(scope.prefix), str(result.trace.meta.get("property", "")), result.trace)


def _first_divergence(name: str, backend_for: Callable[[Trace], Backend]) -> Cell:
    """The regression corpus replayed on a backend per trace, up to the first trace it fails."""
    from memview.traces.conform import DIVERGE, conform
    from memview.traces.corpus import regression_corpus

    started = time.monotonic()
    traces = regression_corpus()
    for trace_name, trace in traces:
        verdict = conform(trace_name, trace, backend_for(trace))
        if not verdict.conforms:
            step = verdict.step if verdict.step is not None else 0
            return Cell(name, "corpus", KILLED, time.monotonic() - started, step + 1,
                        f"{trace_name} {'diverges' if verdict.status == DIVERGE else 'fails the backend'} at step "
                        f"{step}", trace)
    return Cell(name, "corpus", SURVIVED, time.monotonic() - started,
                finding=f"all {len(traces)} regression traces conform")


def _corpus(mutant: Mutant) -> Cell:
    from memview.backends.model import ModelBackend

    return _first_divergence(mutant.name, lambda trace: ModelBackend(pinned=mutant.apply(trace.design)))


def _implementation_corpus(row: Row) -> Cell:
    from memview.backends.registry import open_backend

    return _first_divergence(row.name, lambda _trace: open_backend(row.backend))


def _implementation_fuzz(row: Row) -> Cell:
    from memview.backends.registry import open_backend
    from memview.checker.fuzz import fuzz

    scope = default_scope(SEED)
    result = fuzz(SEED, lambda: open_backend(row.backend), FUZZ_EXAMPLES, FUZZ_STEPS, FUZZ_SEED, database=None)
    if result.trace is None:
        return Cell(row.name, "fuzz", SURVIVED, result.seconds,
                    finding=f"conforms in {result.examples} examples, {result.steps} steps")
    return Cell(row.name, "fuzz", KILLED, result.first_failure_seconds or result.seconds,
                len(result.trace.steps) - len(scope.prefix), (result.failure or "")[:160], result.trace)


SEMANTIC_ENGINES: dict[str, Callable[[Mutant], Cell]] = {
    "bmc": _bmc, "induction": _induction, "explore": _explore, "fuzz": _fuzz, "corpus": _corpus,
}
IMPLEMENTATION_CELLS: dict[str, Callable[[Row], Cell]] = {
    "corpus": _implementation_corpus, "fuzz": _implementation_fuzz,
}
assert tuple(SEMANTIC_ENGINES) == ENGINES


def run_cell(row: Row, engine: str, budget: float) -> Cell:
    """One engine on one mutant, in a child process killed at the budget. Module-level, so a
    process pool (or any executor that pickles its calls) can run it."""
    if row.mutant is not None:
        mutant = row.mutant
        outcome = run_within(budget, lambda: SEMANTIC_ENGINES[engine](mutant))
    else:
        outcome = run_within(budget, lambda: IMPLEMENTATION_CELLS[engine](row))
    if outcome.value is not None:
        return outcome.value
    if outcome.timed_out:
        return Cell(row.name, engine, BUDGET, outcome.seconds, finding=f"no answer within {budget:g} s")
    return Cell(row.name, engine, ERROR, outcome.seconds, finding=outcome.error or "")


def run_matrix(rows: list[Row], engines: tuple[str, ...], budget: float, executor: Executor,
               done: Callable[[Cell, int, int], None] | None = None) -> Matrix:
    """Every cell on the executor; `done` hears of each as it finishes (for progress lines)."""
    started = time.monotonic()
    matrix = Matrix(rows, engines, budget)
    futures = [executor.submit(run_cell, row, engine, budget) for row in rows for engine in row.engines(engines)]
    for finished, future in enumerate(as_completed(futures), 1):
        cell = future.result()
        matrix.cells[cell.mutant, cell.engine] = cell
        if done is not None:
            done(cell, finished, len(futures))
    matrix.seconds = time.monotonic() - started
    return matrix
