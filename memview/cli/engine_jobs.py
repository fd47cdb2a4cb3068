"""`run_engines`: what check and prove share, from the engines' names to a report with its
counterexamples written.

Engine plumbing that could live in memview.checker is kept here, in this one function, while the
engine registry is reworked: each engine's default depth, which engines get active clients, and
which jobs keep their progress queue on a remote executor.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from memview.checker.alphabet import default_scope
from memview.checker.check import Report
from memview.checker.executors import LOCAL_EXECUTOR, ExecutorSpec
from memview.cli.options import pool_size
from memview.cli.output import err_console
from memview.model.design import load_design
from memview.properties.catalogue import select_properties

if TYPE_CHECKING:
    from memview.checker.engines import Job

DEFAULT_DEPTH = {"explore": 4, "bmc": 2}
DASK_PROGRESS_NOTE = "progress of jobs on dask workers is not shown; a line per finished job is"


def run_engines(design_spec: str, engine_names: tuple[str, ...], property_ids: tuple[str, ...], depth: int | None,
                jobs: int | None, as_json: bool, out_dir: Path | None, clients: int = 1,
                executor_spec: ExecutorSpec = LOCAL_EXECUTOR) -> Report:
    from dataclasses import replace

    from memview.checker.check import finish_counterexamples, prepare_out_dir
    from memview.checker.engines import parse_engines, plan, run_jobs
    from memview.checker.executors import open_executor
    from memview.checker.progress import progress_lines

    engines = parse_engines(engine_names)
    workers = pool_size(jobs, executor_spec)
    design = load_design(design_spec)
    props = select_properties(list(property_ids))
    # Explicit search gives every client B1's operations (interchangeable clients, reduced by
    # symmetry); the symbolic engines keep the others idle, as their cost measurements do.
    scopes = {engine: default_scope(design, depth or DEFAULT_DEPTH.get(engine, 1), clients=clients,
                                    active_clients=engine == "explore") for engine in engines}
    for scope in scopes.values():
        scope.start(design)  # a design the set-up cannot serve is bad input, before any job starts
    if out_dir is not None:
        prepare_out_dir(out_dir)
    err = err_console()

    def done(job: Job, finished: int, total: int) -> None:
        if not as_json:
            err.print(f"[{finished}/{total}] {job.describe()} done")

    with ExitStack() as stack:
        progress = None if as_json else stack.enter_context(progress_lines(err))
        job_list = plan(engines, design, scopes, [p.id for p in props], progress)
        opened = stack.enter_context(open_executor(executor_spec, workers))
        if opened.remote:
            # The progress queue lives on this machine: only induction, orchestrated from here, keeps it.
            job_list = [job if job.engine == "induction" else replace(job, progress=None) for job in job_list]
        if not as_json:
            err.print(f"running {len(job_list)} jobs ({', '.join(engines)}) on {opened.where}")
            if opened.remote:
                err.print(DASK_PROGRESS_NOTE)
        results = run_jobs(job_list, opened.executor, done)
    report = Report(design, results)
    finish_counterexamples(report, props, out_dir)
    return report
