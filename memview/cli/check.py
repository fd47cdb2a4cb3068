"""`memview check` and `memview prove`: verdicts of the properties, in a table or as JSON."""

from __future__ import annotations

from pathlib import Path

import click

from memview import schemas
from memview.checker.check import Report
from memview.checker.executors import ExecutorSpec
from memview.checker.result import Verdict
from memview.cli.engine_jobs import run_engines
from memview.cli.options import (
    SEARCH_DEPTH,
    Between,
    depth_option,
    design_option,
    executor_option,
    jobs_option,
    json_option,
    out_dir_option,
    property_option,
)
from memview.cli.output import emit_json, exit_with, out_console, table
from memview.properties.catalogue import BY_ID

MAX_CLIENTS = 4
CLIENTS = Between(click.INT, 1, MAX_CLIENTS, why="explicit search grows about tenfold per depth with each active "
                                                 "client")


def print_report(report: Report, title: str) -> None:
    console = out_console()
    verdicts = table(title)
    replayed = any(r.replay for r in report.results)
    for column in ("property", "engine", "verdict", "how", "time", *(("replay",) if replayed else ())):
        verdicts.add_column(column, no_wrap=column not in ("how", "replay"))
    for r in report.results:
        colour = "red" if r.violated else "green" if r.verdict in (Verdict.PROVED, Verdict.HOLDS_BOUNDED) else "yellow"
        how = r.how
        if r.trace_file:
            how += f" -> {r.trace_file}"
        cells = [r.property_id, r.engine, f"[{colour}]{r.verdict}[/{colour}]", how, f"{r.seconds:.1f}s"]
        if replayed:
            cells.append("; ".join(f"{rep.backend}: {rep.status}" for rep in r.replay))
        verdicts.add_row(*cells)
    console.print(verdicts)
    for r in report.results:
        for rep in r.replay:
            if rep.status != "reproduced":
                console.print(f"{r.property_id} on {rep.backend}: {rep.detail}", highlight=False)


@click.command()
@design_option()
@click.option("--engine", "engine_names", multiple=True, default=("bmc", "induction"), show_default=True,
              help="bmc, induction, explore or all (repeatable or comma-separated).")
@property_option()
@depth_option("Bound after the set-up prefix for bmc and explore [default: bmc 2, explore 4].", kind=SEARCH_DEPTH)
@jobs_option("Parallel jobs [default: the number of cores].")
@json_option
@out_dir_option("Directory for counterexample traces (ITF JSON).")
@click.option("--replay", "replay_specs", multiple=True, metavar="BACKEND",
              help="Replay each counterexample on this backend (repeatable) and say whether it reproduced.")
@click.option("--clients", type=CLIENTS, default=1, show_default=True,
              help="Clients B1..Bn: for explore each has B1's fds, mappings and operations (reduced by symmetry); "
              "for bmc and induction the others are idle.")
@executor_option()
def check(design_spec: str, engine_names: tuple[str, ...], property_ids: tuple[str, ...], depth: int | None,
          jobs: int | None, as_json: bool, out_dir: Path | None, replay_specs: tuple[str, ...], clients: int,
          executor_spec: ExecutorSpec) -> None:
    """Check the properties of a design; print a table and write counterexamples as traces."""
    from memview.backends.registry import open_backend
    from memview.checker.reproduce import reproduce_all

    for spec in replay_specs:
        open_backend(spec, "--replay")  # a bad backend is bad input, before any job starts
    report = run_engines(design_spec, engine_names, property_ids, depth, jobs, as_json, out_dir, clients,
                         executor_spec)
    reproduce_all(report.results, replay_specs)
    if as_json:
        emit_json(schemas.CHECK, report.to_json())
    else:
        print_report(report, f"memview check: design {report.design.name}")
    exit_with(report.violated)


@click.command()
@design_option()
@property_option()
@jobs_option("Parallel opcode queries [default: the number of cores; with dask, the cluster's workers].")
@json_option
@executor_option()
def prove(design_spec: str, property_ids: tuple[str, ...], jobs: int | None, as_json: bool,
          executor_spec: ExecutorSpec) -> None:
    """Prove properties for every depth by induction with the shipped lemmas.

    Exit status 0: every selected step property proved (ISOL, a two-run property, is listed as out
    of induction's reach); 1: some step property not proved (unknown, with the reason).
    """
    report = run_engines(design_spec, ("induction",), property_ids, None, jobs, as_json, None,
                         executor_spec=executor_spec)
    lemmas = report.results[0].extra.get("lemma_verdicts", {}) if report.results else {}
    if as_json:
        emit_json(schemas.PROVE, {**report.to_json(), "lemmas": lemmas})
    else:
        print_report(report, f"memview prove: design {report.design.name}")
        listed = table("lemmas")
        listed.add_column("lemma", no_wrap=True)
        listed.add_column("verdict")
        for lemma_id, verdict in lemmas.items():
            listed.add_row(lemma_id, verdict)
        out_console().print(listed)
    provable = [r for r in report.results if BY_ID[r.property_id].second_run is None]
    exit_with(not all(r.verdict == Verdict.PROVED for r in provable))
