"""`memview report`: the HTML page of verdicts, counterexamples, conformance, the state graph, the
kill matrix and the design's decisions (docs/report.md)."""

from __future__ import annotations

from pathlib import Path

import click

from memview import schemas
from memview.checker.executors import ExecutorSpec
from memview.cli.options import (
    depth_option,
    design_option,
    executor_option,
    jobs_option,
    json_option,
    out_dir_option,
    pool_size,
)
from memview.cli.output import emit_json, exit_with


@click.command()
@design_option(None, "Built-in name or TOML file [default: the design of a --from check/prove result, else seed].")
@out_dir_option("Directory for index.html, the results it shows and its pictures.", required=True)
@click.option("--run", "run_kinds", multiple=True, metavar="KIND[,KIND...]",
              default=("check,conform,mutants,graph",), show_default=True,
              help="Commands to run: check, prove, conform, mutants, graph, or none (a kind given by --from is "
              "read, not run).")
@click.option("--from", "from_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="A saved --json result of check, prove, conform, mutants or graph (repeatable).")
@click.option("--engine", "engines", default="bmc,explore", show_default=True, help="check's --engine.")
@depth_option("check's --depth.")  # check bounds it, and the report ends with check's own refusal
@jobs_option("check's, prove's and mutants' --jobs.")
@click.option("--backend", "backend_spec", default="model", show_default=True,
              help="conform's --backend: the implementation whose conformance on the corpus the page shows.")
@click.option("--mutant-engines", default="corpus", show_default=True, help="mutants' --engines.")
@click.option("--budget", type=float, default=30.0, show_default=True, help="mutants' --budget.")
@click.option("--graph-depth", type=int, default=2, show_default=True, help="graph's --depth.")
@click.option("--abstract", "abstraction", default="layout", show_default=True, help="graph's --abstract.")
@executor_option("check's, prove's and mutants' --executor (docs/distributed.md).")
@json_option
def report(design_spec: str | None, out_dir: Path, run_kinds: tuple[str, ...], from_files: tuple[Path, ...],
           engines: str, depth: int | None, jobs: int | None, backend_spec: str, mutant_engines: str, budget: float,
           graph_depth: int, abstraction: str, executor_spec: ExecutorSpec, as_json: bool) -> None:
    """Write an HTML report: verdicts, counterexamples drawn step by step, conformance, the state graph,
    the mutation kill matrix and the design's decisions (docs/report.md).

    Exit status 0: everything shown holds, conforms and is killed; 1: something does not.
    """
    from memview.report.build import Settings, build_report, parse_kinds

    settings = Settings(engines, depth, pool_size(jobs, executor_spec) if jobs is not None else None, backend_spec,
                        mutant_engines, budget, graph_depth, abstraction, executor_spec.text)
    outcome = build_report(design_spec, parse_kinds(run_kinds), from_files, out_dir, settings,
                           lambda line: None if as_json else click.echo(line, err=True))
    if as_json:
        emit_json(schemas.REPORT, outcome.to_json())
    else:
        click.echo(f"wrote {outcome.page} ({len(outcome.pictures)} timeline pictures in {out_dir / 'pictures'})")
        for line in outcome.failing:
            click.echo(line)
    exit_with(bool(outcome.failing))
