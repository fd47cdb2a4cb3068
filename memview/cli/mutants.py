"""`memview mutants`: mutation analysis, every engine against every seeded bug, and its kill matrix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from memview import schemas
from memview.checker.executors import ExecutorSpec
from memview.cli.options import Between, executor_option, jobs_option, json_option, out_dir_option, pool_size
from memview.cli.output import EXIT_OK, emit_json, err_console, exit_with, out_console, table, write_traces
from memview.errors import InputError

if TYPE_CHECKING:
    from memview.checker.kill_matrix import Cell, Matrix, Row

MAX_BUDGET = 3600.0


def parse_mutation_engines(names: tuple[str, ...]) -> tuple[str, ...]:
    from memview.checker.mutants import ENGINES

    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()] or list(ENGINES)
    for name in wanted:
        if name not in ENGINES:
            raise InputError("--engines", f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")
    return tuple(e for e in ENGINES if e in wanted)


def cell_text(cell: Cell | None) -> str:
    from memview.checker.kill_matrix import KILLED, SURVIVED

    if cell is None:
        return ""
    if cell.status == KILLED:
        what = cell.finding.split(".itf.json")[0] if cell.engine == "corpus" else cell.finding
        length = f" ({cell.length})" if cell.length is not None else ""
        return f"{what[:34]} {cell.seconds:.2f}s{length}"
    if cell.status == SURVIVED:
        return f"- {cell.seconds:.1f}s"
    return f"{cell.status} {cell.seconds:.0f}s"


def print_listing(rows: list[Row], as_json: bool) -> None:
    listing = [{"name": r.name, "kind": r.kind, "rule": r.mutant.rule if r.mutant else r.backend,
                "breaks": list(r.breaks), "equivalent": r.equivalent, "mistake": r.mistake} for r in rows]
    if as_json:
        emit_json(schemas.MUTANTS_LIST, {"mutants": listing})
        return
    listed = table("Mutants", "mutant", "where", "breaks", "mistake", show_lines=True)
    for item in listing:
        breaks = ", ".join(item["breaks"]) or f"equivalent: {item['equivalent']}"
        listed.add_row(str(item["name"]), str(item["rule"]), breaks, str(item["mistake"]))
    out_console().print(listed)


def print_matrix(matrix: Matrix, rows: list[Row], engines: tuple[str, ...], budget: float,
                 summary: dict[str, Any]) -> None:
    kills = Table(title=f"Kill matrix: property or trace, seconds to the first counterexample (its length in "
                        f"steps); '-' survived; budget {budget:g} s", title_justify="left")
    kills.add_column("mutant", no_wrap=True)
    kills.add_column("breaks")
    for engine in engines:
        kills.add_column(engine)
    for row in rows:
        breaks = ",".join(row.breaks) if row.kind == "semantic" and row.breaks else \
            ("equivalent" if row.kind == "semantic" else "(implementation)")
        kills.add_row(row.name, breaks, *(cell_text(matrix.cells.get((row.name, e))) for e in engines))
    out_console().print(kills)
    survivors = f"; survivors: {', '.join(summary['survivors'])}" if summary["survivors"] else ""
    click.echo(f"killed {summary['killed']} of {summary['non_equivalent']} non-equivalent semantic mutants{survivors}")
    if "corpus_share" in summary:
        semantic = len(matrix.rows) - summary["implementation"]
        click.echo(f"the corpus alone kills {summary['corpus_killed']} of {semantic} semantic mutants "
                   f"({100 * summary['corpus_share']:.0f}%)")
    if "best_median_seconds" in summary:
        click.echo(f"best engine per mutant: median {summary['best_median_seconds']:.2f} s, "
                   f"max {summary['best_max_seconds']:.2f} s to the first counterexample")
    for disagreement in summary["equivalent_violations"]:
        click.echo(f"an equivalent mutant violates a property: {disagreement}")
    if summary["implementation"]:
        click.echo(f"implementation mutants caught: {summary['implementation_killed']} of {summary['implementation']}")


@click.command()
@click.option("--engines", "engine_names", multiple=True, metavar="E[,E...]",
              help="Engines to run (bmc, induction, explore, fuzz, corpus) [default: all].")
@click.option("--mutant", "mutant_names", multiple=True,
              help="Only this mutant, semantic or implementation (repeatable) [default: all].")
@click.option("--implementation/--no-implementation", default=True, show_default=True,
              help="Also the linux backend's implementation mutants (engines fuzz and corpus).")
@click.option("--budget", type=Between(click.FLOAT, 1, MAX_BUDGET, unit="seconds"), default=30.0, show_default=True,
              help="Seconds each engine gets per mutant.")
@jobs_option("Parallel cells [default: the number of cores].")
@out_dir_option("Write each kill's counterexample (ITF) here.")
@click.option("--list", "list_only", is_flag=True, help="List the mutants and exit.")
@json_option
@executor_option()
def mutants(engine_names: tuple[str, ...], mutant_names: tuple[str, ...], implementation: bool, budget: float,
            jobs: int | None, out_dir: Path | None, list_only: bool, as_json: bool,
            executor_spec: ExecutorSpec) -> None:
    """Mutation analysis: every engine against every seeded bug, and the kill matrix (exit 0 every
    non-equivalent mutant killed and no equivalent one flagged, 1 otherwise)."""
    from memview.backends.linux.mutants import IMPLEMENTATION_MUTANTS, backend_spec
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.checker.executors import open_executor
    from memview.checker.kill_matrix import KILLED, Row, run_matrix, semantic_row
    from memview.checker.mutants import select_mutants

    engines = parse_mutation_engines(engine_names)
    semantic_names = [n for n in mutant_names if n not in IMPLEMENTATION_MUTANTS]
    rows = [semantic_row(m) for m in select_mutants(semantic_names)] if semantic_names or not mutant_names else []
    if implementation or any(n in IMPLEMENTATION_MUTANTS for n in mutant_names):
        rows += [Row(name, "implementation", m.mistake, backend=backend_spec(name))
                 for name, m in IMPLEMENTATION_MUTANTS.items() if not mutant_names or name in mutant_names]
    if list_only:
        print_listing(rows, as_json)
        sys.exit(EXIT_OK)
    workers = pool_size(jobs, executor_spec)
    if out_dir is not None:
        prepare_out_dir(out_dir)
    err = err_console(soft_wrap=True)

    def done(cell: Cell, finished: int, total: int) -> None:
        if not as_json:
            err.print(f"[{finished}/{total}] {cell.mutant} / {cell.engine}: {cell.status} {cell.finding[:70]}")

    with open_executor(executor_spec, workers) as opened:
        if not as_json:
            err.print(f"{len(rows)} mutants x {len(engines)} engines, {budget:g} s each, on {opened.where}")
        matrix = run_matrix(rows, engines, budget, opened.executor, done)
    written = []
    if out_dir is not None:
        written = write_traces(out_dir, ((f"{file_stem(name)}-{engine}", cell.trace)
                                         for (name, engine), cell in sorted(matrix.cells.items())
                                         if cell.status == KILLED and cell.trace is not None))
    summary = matrix.summary()
    failed = bool(summary["survivors"] or summary["equivalent_violations"]
                  or summary["implementation_killed"] < summary["implementation"])
    if as_json:
        emit_json(schemas.MUTANTS, {**matrix.to_json(), "written": written})
        exit_with(failed)
    print_matrix(matrix, rows, engines, budget, summary)
    if written:
        click.echo(f"wrote {len(written)} counterexamples to {out_dir}")
    click.echo(f"{matrix.seconds:.0f} s in all")
    exit_with(failed)
