"""The kill matrix: every engine against every mutant, each cell within a time budget.

A cell runs one engine on one mutated design in a forked child (`deadline.run_within`) on a
`concurrent.futures.Executor` (a process pool by default), and records whether the engine killed the
mutant, how long it took to its first counterexample, and that counterexample's length.

What kills a mutant, per engine (each engine's `hunt` in memview.checker.registry):
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
from enum import StrEnum
from typing import Any

from memview.checker.deadline import run_within
from memview.checker.mutants import Mutant
from memview.checker.registry import ENGINES, IMPLEMENTATION_ENGINES, Hunt
from memview.schemas import MUTANTS as MUTANTS_SCHEMA
from memview.traces.trace import Trace


class CellStatus(StrEnum):
    """What one engine did to one mutant; the value is what the matrix and its JSON show."""

    KILLED = "killed"
    SURVIVED = "survived"
    BUDGET = "budget"  # no answer within the budget
    ERROR = "error"  # the engine itself failed: an error of the matrix, never a kill or a survival
    NOT_APPLICABLE = "n/a"


KILLED, SURVIVED, BUDGET, ERROR, NOT_APPLICABLE = CellStatus
STATUSES = tuple(status.value for status in CellStatus)


@dataclass(kw_only=True)
class Cell:
    mutant: str
    engine: str
    status: CellStatus
    seconds: float  # to the first counterexample when killed; otherwise the time spent
    length: int | None = None
    finding: str = ""  # the property violated, the divergent trace and step, or why not
    trace: Trace | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status.value, "seconds": round(self.seconds, 3),
                               "finding": self.finding}
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
                                      for e in self.engines if not ENGINES[e].made_from_mutants and
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
        checkers = tuple(e for e in self.engines if not ENGINES[e].made_from_mutants)
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


def cell_of(name: str, engine: str, hunt: Hunt) -> Cell:
    return Cell(mutant=name, engine=engine, status=CellStatus.KILLED if hunt.found else CellStatus.SURVIVED,
                seconds=hunt.seconds, length=hunt.length, finding=hunt.finding, trace=hunt.trace)


def run_cell(row: Row, engine: str, budget: float) -> Cell:
    """One engine on one mutant, in a child process killed at the budget. Module-level, so a
    process pool (or any executor that pickles its calls) can run it."""
    spec = ENGINES[engine]
    if row.mutant is not None:
        mutant, hunt = row.mutant, spec.hunt
        assert hunt is not None
        outcome = run_within(budget, lambda: cell_of(row.name, engine, hunt(mutant)))
    else:
        hunt_backend = spec.hunt_backend
        assert hunt_backend is not None
        outcome = run_within(budget, lambda: cell_of(row.name, engine, hunt_backend(row.backend)))
    if outcome.value is not None:
        return outcome.value
    if outcome.timed_out:
        return Cell(mutant=row.name, engine=engine, status=CellStatus.BUDGET, seconds=outcome.seconds,
                    finding=f"no answer within {budget:g} s")
    return Cell(mutant=row.name, engine=engine, status=CellStatus.ERROR, seconds=outcome.seconds,
                finding=outcome.error or "")


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
