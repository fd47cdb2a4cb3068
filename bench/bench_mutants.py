"""Mutation analysis against its targets: the kill matrix (`memview mutants`), the share the corpus
kills, the best engine's time per mutant, and SPIN on the Promela peer model side by side.

Prints a table per mutant (each engine's status and seconds to the first counterexample, the best
engine, SPIN's time where memview.pml has the same bug) and the targets, and writes
bench/results/mutants.json (the matrix's JSON under "matrix"). docs/mutants.md's matrix is this
run's. Run: .venv/bin/python bench/bench_mutants.py [--budget S] [--jobs N] [--no-spin]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from bench_spin import SpinUnavailable, spin_mutant_times
from report import report

from memview.checker.engines import make_executor
from memview.checker.kill_matrix import KILLED, Cell, Matrix, Row, run_matrix, semantic_row
from memview.checker.mutants import ENGINES, MUTANTS


def cell_text(cell: Cell | None) -> str:
    if cell is None:
        return ""
    if cell.status == KILLED:
        length = f"/{cell.length}" if cell.length is not None else ""
        return f"{cell.seconds:.2f}{length}"
    return "-" if cell.status == "survived" else cell.status


def rows_of(matrix: Matrix, spin: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in matrix.rows:
        best = matrix.best(row)
        spin_row = spin.get(row.name)
        rows.append({
            "mutant": row.name,
            "breaks": ",".join(row.breaks) or ("equivalent" if row.kind == "semantic" else "(impl)"),
            **{engine: cell_text(matrix.cells.get((row.name, engine))) for engine in matrix.engines},
            "best": f"{best.engine} {best.seconds:.2f}s" if best else "none",
            "spin_s": (f"{spin_row['wall_s']:.3f}" if spin_row and spin_row.get("found") == "yes" else ""),
        })
    return rows


def targets(matrix: Matrix) -> list[str]:
    summary = matrix.summary()
    lines = [f"non-equivalent semantic mutants killed: {summary['killed']} of {summary['non_equivalent']} "
             f"(target: all){'; survivors: ' + ', '.join(summary['survivors']) if summary['survivors'] else ''}"]
    if "corpus_share" in summary:
        lines.append(f"the corpus alone kills {100 * summary['corpus_share']:.0f}% of the semantic mutants "
                     "(target: at least 90%)")
    if "best_median_seconds" in summary:
        lines.append(f"best engine per mutant: median {summary['best_median_seconds']:.2f} s (target <= 1 s), "
                     f"max {summary['best_max_seconds']:.2f} s (target <= 10 s)")
    if "checkers_killed" in summary:
        lines.append("without the corpus (whose mutant-* traces come from these mutants): "
                     f"{summary['checkers_killed']} of {summary['non_equivalent']} killed, best engine median "
                     f"{summary['checkers_median_seconds']:.2f} s, max {summary['checkers_max_seconds']:.2f} s")
    if summary["implementation"]:
        caught, total = summary["implementation_killed"], summary["implementation"]
        lines.append(f"implementation mutants caught: {caught} of {total}")
    for disagreement in summary["equivalent_violations"]:
        lines.append(f"an equivalent mutant violates a property: {disagreement}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per engine and mutant")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--no-spin", action="store_true", help="leave SPIN out")
    parser.add_argument("--no-implementation", action="store_true", help="leave the linux backend's mutants out")
    args = parser.parse_args()
    rows = [semantic_row(m) for m in MUTANTS]
    if not args.no_implementation:
        from memview.backends.linux.mutants import IMPLEMENTATION_MUTANTS, backend_spec

        rows += [Row(name, "implementation", m.mistake, backend=backend_spec(name))
                 for name, m in IMPLEMENTATION_MUTANTS.items()]
    spin: dict[str, dict[str, Any]] = {}
    if not args.no_spin:
        try:
            spin = {r["mutant"]: r for r in spin_mutant_times()}
        except SpinUnavailable as why:
            print(f"SPIN left out: {why}")
    with make_executor(args.jobs) as executor:
        matrix = run_matrix(rows, ENGINES, args.budget, executor,
                            lambda cell, done, total: print(f"[{done}/{total}] {cell.mutant} / {cell.engine}: "
                                                            f"{cell.status}", flush=True))
    # The matrix first, so that nothing after it can lose a run of a quarter of an hour.
    raw = Path(__file__).parent / "results" / "mutants-matrix.json"
    raw.write_text(json.dumps(matrix.to_json(), indent=2) + "\n")
    columns = [("mutant", "mutant"), ("breaks", "breaks"), *((e, e) for e in ENGINES), ("best", "best"),
               ("spin_s", "SPIN s")]
    out = report("mutants", rows_of(matrix, spin), columns)
    # The matrix itself, SPIN's rows and the targets, beside the table's rows.
    data = json.loads(Path(out).read_text())
    data.update(matrix=matrix.to_json(), spin=list(spin.values()), targets=targets(matrix),
                load=os.getloadavg(), jobs=args.jobs)
    Path(out).write_text(json.dumps(data, indent=2) + "\n")
    for line in targets(matrix):
        print(line)


if __name__ == "__main__":
    main()
