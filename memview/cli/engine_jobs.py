"""`run_engines`: what check and prove share, from the engines' names to a report with its
counterexamples written. What each engine needs (its default depth, its clients, where its progress
goes) is the registry's (memview.checker.registry); this is the command's side: options, output
directory, progress lines and the executor.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from memview.checker.check import Report
from memview.checker.executors import LOCAL_EXECUTOR, ExecutorSpec
from memview.cli.options import pool_size
from memview.cli.output import err_console
from memview.model.design import load_design
from memview.properties.catalogue import select_properties

if TYPE_CHECKING:
    from memview.checker.engines import Job

DASK_PROGRESS_NOTE = "progress of jobs on dask workers is not shown; a line per finished job is"


def run_engines(design_spec: str, engine_names: tuple[str, ...], property_ids: tuple[str, ...], depth: int | None,
                jobs: int | None, as_json: bool, out_dir: Path | None, clients: int = 1,
                executor_spec: ExecutorSpec = LOCAL_EXECUTOR) -> Report:
    from memview.checker.check import finish_counterexamples, prepare_out_dir
    from memview.checker.engines import parse_engines, plan, progress_kept_local, run_jobs, scopes_for
    from memview.checker.executors import open_executor
    from memview.checker.progress import progress_lines

    engines = parse_engines(engine_names)
    workers = pool_size(jobs, executor_spec)
    design = load_design(design_spec)
    props = select_properties(list(property_ids))
    scopes = scopes_for(engines, design, depth, clients)
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
            job_list = progress_kept_local(job_list)
        if not as_json:
            err.print(f"running {len(job_list)} jobs ({', '.join(engines)}) on {opened.where}")
            if opened.remote:
                err.print(DASK_PROGRESS_NOTE)
        results = run_jobs(job_list, opened.executor, done)
    report = Report(design, results)
    finish_counterexamples(report, props, out_dir)
    return report
