"""Running engines as jobs on a `concurrent.futures.Executor`: property x engine, in parallel.

What each engine runs comes from the registry (memview.checker.registry). bmc runs one job per
property (each its own unrolling and solver), explore one job for all properties (one state graph),
induction one job per opcode and Houdini round (one set of lemmas, orchestrated from the calling
process). Jobs are plain functions of picklable
values, so a process pool, or any other Executor, can run them; results are put back in a fixed
order (engine, then catalogue order), so the output is the same whatever ran first.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from memview.checker.alphabet import Scope, default_scope
from memview.checker.registry import CHECK_ENGINES, ProgressSink
from memview.checker.registry import ENGINES as REGISTRY
from memview.checker.result import PropertyResult
from memview.errors import InputError
from memview.model.design import Design
from memview.properties.catalogue import BY_ID

ENGINES = CHECK_ENGINES


@dataclass(frozen=True)
class Job:
    engine: str
    design: Design
    scope: Scope  # its depth is the bound for explore and bmc
    property_ids: tuple[str, ...]
    # Where progress lines go: anything with put(str) that survives pickling to a worker (a
    # multiprocessing.Manager queue), or None for no progress.
    progress: Any = None

    def describe(self) -> str:
        what = self.property_ids[0] if len(self.property_ids) == 1 else f"{len(self.property_ids)} properties"
        return f"{self.engine} {what}"

    def sink(self) -> ProgressSink | None:
        queue = self.progress
        if queue is None:
            return None
        return lambda text: queue.put(f"{self.describe()}: {text}")


def run_job(job: Job, executor: Executor | None = None) -> list[PropertyResult]:
    """One job's results, by its engine's entry in the registry."""
    run = REGISTRY[job.engine].run
    assert run is not None, f"{job.engine} has no check run"
    return run(job.design, job.scope, [BY_ID[i] for i in job.property_ids], job.sink(), executor)


def scopes_for(engines: list[str], design: Design, depth: int | None, clients: int = 1) -> dict[str, Scope]:
    """Each engine's scope: the depth given, or the engine's own default. A design the set-up cannot
    serve is bad input here, before any job starts."""
    scopes = {engine: default_scope(design, depth or REGISTRY[engine].default_depth, clients=clients,
                                    active_clients=REGISTRY[engine].active_clients) for engine in engines}
    for scope in scopes.values():
        scope.set_up(design)
    return scopes


def progress_kept_local(jobs: list[Job]) -> list[Job]:
    """The jobs as a remote executor runs them: the progress queue lives on this machine, so only an
    orchestrating engine's jobs, which run here, keep it."""
    return [job if REGISTRY[job.engine].orchestrates else replace(job, progress=None) for job in jobs]


def plan(engines: list[str], design: Design, scopes: dict[str, Scope], property_ids: list[str],
         progress: Any = None) -> list[Job]:
    jobs = []
    for engine in engines:
        if REGISTRY[engine].jobs_per_property:
            jobs += [Job(engine, design, scopes[engine], (p,), progress) for p in property_ids]
        else:
            jobs.append(Job(engine, design, scopes[engine], tuple(property_ids), progress))
    return jobs


def parse_engines(names: tuple[str, ...]) -> list[str]:
    chosen: list[str] = []
    for name in names:
        for part in name.split(","):
            expanded = list(ENGINES) if part == "all" else [part]
            for engine in expanded:
                if engine not in ENGINES:
                    raise InputError("--engine", f"unknown engine {engine!r} (choose from {', '.join(ENGINES)}, all)")
                if engine not in chosen:
                    chosen.append(engine)
    return chosen


def default_jobs() -> int:
    return len(os.sched_getaffinity(0))


def make_executor(jobs: int) -> Executor:
    """A process pool that runs every job in a fresh process.

    z3's search depends on what its (process-wide) context has seen, so a worker that ran an
    earlier job could find a different counterexample than a fresh one: one job per process makes
    the results the same for any number of workers.
    """
    return ProcessPoolExecutor(max_workers=jobs, max_tasks_per_child=1)


def run_jobs(jobs: list[Job], executor: Executor, done: Callable[[Job, int, int], None] | None = None,
             ) -> list[PropertyResult]:
    # An orchestrating engine (induction) hands its pieces to the executor itself, from this process,
    # after the other jobs are queued so that they share the workers.
    futures = [(job, executor.submit(run_job, job)) for job in jobs if not REGISTRY[job.engine].orchestrates]
    collected: list[PropertyResult] = []
    finished = 0
    for job in jobs:
        if REGISTRY[job.engine].orchestrates:
            collected += run_job(job, executor)
            finished += 1
            if done:
                done(job, finished, len(jobs))
    for job, future in futures:
        collected += future.result()
        finished += 1
        if done:
            done(job, finished, len(jobs))
    order = {engine: i for i, engine in enumerate(ENGINES)}
    ids = list(BY_ID)
    return sorted(collected, key=lambda r: (order[r.engine], ids.index(r.property_id)))
