"""The `memview` command line: designs, properties, check, prove, diff, replay, conform, fuzz, graph, explain,
generate, corpus check, mutants, report.

Exit codes: 0 all hold, 1 a violation, 2 bad input (one line on stderr, no traceback), 3 an
internal error of memview (one line naming where, never a traceback).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from memview import __version__, schemas
from memview.checker.alphabet import default_scope
from memview.checker.check import Report
from memview.checker.executors import LOCAL, LOCAL_EXECUTOR, ExecutorFailure, ExecutorSpec, parse_executor
from memview.errors import InputError
from memview.model.design import BUILTIN, DECISIONS, load_design
from memview.properties.catalogue import CATALOGUE, select_properties

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
MAX_DEPTH = 12


def out_console() -> Console:
    return Console(soft_wrap=False, width=max(100, Console().width))


def emit_json(schema: str, data: dict[str, Any]) -> None:
    """Print a --json output: one object whose first key names its schema (memview/schemas, docs/json.md)."""
    if data.get("schema", schema) != schema:
        raise AssertionError(f"an output of schema {data['schema']} emitted as {schema}")
    click.echo(json.dumps({"schema": schema, **data}, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memview")
def cli() -> None:
    """A formal model and model-checker harness for the 2020 memory-view proposal."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--broken", is_flag=True, help="Also list the deliberately broken decisions tests use.")
def designs(as_json: bool, broken: bool) -> None:
    """List the built-in designs and every decision with its variants."""
    decisions = [d for d in DECISIONS if broken or not d.broken]
    shown = {d.name for d in decisions}
    if as_json:
        emit_json(schemas.DESIGNS, {
            "designs": {
                name: {"description": d.description,
                       "decisions": {k: v for k, v in d.decisions().items() if k in shown}}
                for name, d in BUILTIN.items()
            },
            "decisions": [
                {"name": d.name, "question": d.question, "default": d.default, "variants": d.variants,
                 "source": d.source, "broken": d.broken}
                for d in decisions
            ],
        })
        return
    console = out_console()
    table = Table(title="Designs", title_justify="left")
    table.add_column("design")
    table.add_column("differs from seed in")
    table.add_column("description")
    for name, design in BUILTIN.items():
        diff = ", ".join(f"{k}={v}" for k, v in design.overrides().items()) or "-"
        table.add_row(name, diff, design.description)
    console.print(table)
    table = Table(title="Decisions (first variant is the seed's default)", title_justify="left")
    table.add_column("decision")
    table.add_column("variants")
    table.add_column("question")
    for d in decisions:
        table.add_row(d.name + (" (broken)" if d.broken else ""), " | ".join(d.variants), d.question)
    console.print(table)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def properties(as_json: bool) -> None:
    """List the property catalogue."""
    if as_json:
        emit_json(schemas.PROPERTIES, {"properties": [{"id": p.id, "sentence": p.sentence, "source": p.source,
                                                       "kind": p.kind} for p in CATALOGUE]})
        return
    table = Table(title="Properties", title_justify="left", show_lines=True)
    table.add_column("id")
    table.add_column("kind")
    table.add_column("sentence", ratio=3)
    table.add_column("source", ratio=2)
    for p in CATALOGUE:
        table.add_row(p.id, p.kind, p.sentence, p.source)
    out_console().print(table)


class SearchProgress:
    """Progress on stderr: a live line on a terminal, one line per finished depth otherwise."""

    def __init__(self, depth: int, quiet: bool) -> None:
        self.err = Console(stderr=True, highlight=False)
        self.depth, self.quiet, self.live = depth, quiet, self.err.is_terminal
        self.level, self.states = 0, 0

    def __call__(self, level: int, states: int, transitions: int) -> None:
        if self.quiet:
            return
        if self.live:
            self.err.print(f"\rdepth {level}/{self.depth}: {states} states, {transitions} transitions ", end="")
        elif level != self.level and self.level:
            self.err.print(f"depth {self.level}/{self.depth} done: {self.states} states")
        self.level, self.states = level, states

    def finish(self) -> None:
        if self.quiet:
            return
        if self.live:
            self.err.print()
        elif self.level:
            self.err.print(f"depth {self.level}/{self.depth} done: {self.states} states")


DEFAULT_DEPTH = {"explore": 4, "bmc": 2}


def check_jobs(jobs: int | None, executor: ExecutorSpec = LOCAL_EXECUTOR) -> int | None:
    """The local pool's size; None on dask, where the cluster's workers (their --nthreads) decide
    how many jobs run at once, so an explicit --jobs is refused rather than silently ignored."""
    from memview.checker.engines import default_jobs

    if executor.distributed:
        if jobs is not None:
            raise InputError("--jobs", f"has no meaning with --executor {executor.text}: the cluster's workers "
                                       "decide how many jobs run at once (dask worker --nthreads)")
        return None
    if jobs is None:
        return default_jobs()
    if not 1 <= jobs <= 256:
        raise InputError("--jobs", f"must be between 1 and 256, got {jobs}")
    return jobs


EXECUTOR_HELP = ("Where jobs run: local (a process pool here) or dask://HOST:PORT (the workers of a dask "
                 "scheduler; docs/distributed.md).")
DASK_PROGRESS_NOTE = "progress of jobs on dask workers is not shown; a line per finished job is"


MAX_CLIENTS = 4


def run_engines(design_spec: str, engine_names: tuple[str, ...], property_ids: tuple[str, ...], depth: int | None,
                jobs: int | None, as_json: bool, out_dir: Path | None, clients: int = 1,
                executor_spec: ExecutorSpec = LOCAL_EXECUTOR) -> Report:
    from dataclasses import replace

    from memview.checker.check import Report, finish_counterexamples, prepare_out_dir
    from memview.checker.engines import parse_engines, plan, run_jobs
    from memview.checker.executors import open_executor
    from memview.checker.progress import progress_lines

    engines = parse_engines(engine_names)
    if depth is not None and not 1 <= depth <= MAX_DEPTH:
        raise InputError("--depth", f"must be between 1 and {MAX_DEPTH}, got {depth}")
    workers = check_jobs(jobs, executor_spec)
    design = load_design(design_spec)
    props = select_properties(list(property_ids))
    if not 1 <= clients <= MAX_CLIENTS:
        raise InputError("--clients", f"must be between 1 and {MAX_CLIENTS}, got {clients} (explicit search grows "
                         "about tenfold per depth with each active client)")
    # Explicit search gives every client B1's operations (interchangeable clients, reduced by
    # symmetry); the symbolic engines keep the others idle, as their cost measurements do.
    scopes = {engine: default_scope(design, depth or DEFAULT_DEPTH.get(engine, 1), clients=clients,
                                    active_clients=engine == "explore") for engine in engines}
    for scope in scopes.values():
        scope.start(design)  # a design the set-up cannot serve is bad input, before any job starts
    if out_dir is not None:
        prepare_out_dir(out_dir)
    err = Console(stderr=True, highlight=False)

    def done(job: Any, finished: int, total: int) -> None:
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


def print_report(report: Report, title: str) -> None:
    console = out_console()
    table = Table(title=title, title_justify="left")
    replayed = any(r.replay for r in report.results)
    for column in ("property", "engine", "verdict", "how", "time", *(("replay",) if replayed else ())):
        table.add_column(column, no_wrap=column not in ("how", "replay"))
    for r in report.results:
        colour = "red" if r.violated else "green" if r.verdict in ("proved", "holds (bounded)") else "yellow"
        how = r.how
        if r.trace_file:
            how += f" -> {r.trace_file}"
        cells = [r.property_id, r.engine, f"[{colour}]{r.verdict}[/{colour}]", how, f"{r.seconds:.1f}s"]
        if replayed:
            cells.append("; ".join(f"{rep.backend}: {rep.status}" for rep in r.replay))
        table.add_row(*cells)
    console.print(table)
    for r in report.results:
        for rep in r.replay:
            if rep.status != "reproduced":
                console.print(f"{r.property_id} on {rep.backend}: {rep.detail}", highlight=False)


@cli.command()
@click.option("--design", "design_spec", default="seed", show_default=True, help="Built-in name or TOML file.")
@click.option("--engine", "engine_names", multiple=True, default=("bmc", "induction"), show_default=True,
              help="bmc, induction, explore or all (repeatable or comma-separated).")
@click.option("--property", "property_ids", multiple=True, help="Property ID (repeatable); default all.")
@click.option("--depth", type=int, default=None,
              help="Bound after the set-up prefix for bmc and explore [default: bmc 2, explore 4].")
@click.option("--jobs", type=int, default=None, help="Parallel jobs [default: the number of cores].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for counterexample traces (ITF JSON).")
@click.option("--replay", "replay_specs", multiple=True, metavar="BACKEND",
              help="Replay each counterexample on this backend (repeatable) and say whether it reproduced.")
@click.option("--clients", type=int, default=1, show_default=True,
              help="Clients B1..Bn: for explore each has B1's fds, mappings and operations (reduced by symmetry); "
              "for bmc and induction the others are idle.")
@click.option("--executor", "executor_text", default=LOCAL, show_default=True, metavar="local|dask://HOST:PORT",
              help=EXECUTOR_HELP)
def check(design_spec: str, engine_names: tuple[str, ...], property_ids: tuple[str, ...], depth: int | None,
          jobs: int | None, as_json: bool, out_dir: Path | None, replay_specs: tuple[str, ...], clients: int,
          executor_text: str) -> None:
    """Check the properties of a design; print a table and write counterexamples as traces."""
    from memview.backends.registry import open_backend
    from memview.checker.reproduce import reproduce_all

    executor_spec = parse_executor(executor_text)
    for spec in replay_specs:
        open_backend(spec, "--replay")  # a bad backend is bad input, before any job starts
    report = run_engines(design_spec, engine_names, property_ids, depth, jobs, as_json, out_dir, clients,
                         executor_spec)
    reproduce_all(report.results, replay_specs)
    if as_json:
        emit_json(schemas.CHECK, report.to_json())
    else:
        print_report(report, f"memview check: design {report.design.name}")
    sys.exit(EXIT_VIOLATION if report.violated else EXIT_OK)


@cli.command()
@click.option("--design", "design_spec", default="seed", show_default=True, help="Built-in name or TOML file.")
@click.option("--property", "property_ids", multiple=True, help="Property ID (repeatable); default all.")
@click.option("--jobs", type=int, default=None,
              help="Parallel opcode queries [default: the number of cores; with dask, the cluster's workers].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--executor", "executor_text", default=LOCAL, show_default=True, metavar="local|dask://HOST:PORT",
              help=EXECUTOR_HELP)
def prove(design_spec: str, property_ids: tuple[str, ...], jobs: int | None, as_json: bool,
          executor_text: str) -> None:
    """Prove properties for every depth by induction with the shipped lemmas.

    Exit status 0: every selected step property proved (ISOL, a two-run property, is listed as out
    of induction's reach); 1: some step property not proved (unknown, with the reason).
    """
    executor_spec = parse_executor(executor_text)
    report = run_engines(design_spec, ("induction",), property_ids, None, jobs, as_json, None,
                         executor_spec=executor_spec)
    lemmas = report.results[0].extra.get("lemma_verdicts", {}) if report.results else {}
    if as_json:
        emit_json(schemas.PROVE, {**report.to_json(), "lemmas": lemmas})
    else:
        print_report(report, f"memview prove: design {report.design.name}")
        table = Table(title="lemmas", title_justify="left")
        table.add_column("lemma", no_wrap=True)
        table.add_column("verdict")
        for lemma_id, verdict in lemmas.items():
            table.add_row(lemma_id, verdict)
        out_console().print(table)
    from memview.properties.catalogue import BY_ID

    provable = [r for r in report.results if BY_ID[r.property_id].predicate is not None]
    sys.exit(EXIT_OK if all(r.verdict == "proved" for r in provable) else EXIT_VIOLATION)


@cli.command()
@click.argument("design_a")
@click.argument("design_b")
@click.option("--depth", type=int, default=3, show_default=True, help="Search depth after the set-up prefix.")
@click.option("--property", "property_ids", multiple=True, help="Compare these properties only (repeatable).")
@click.option("--no-properties", is_flag=True, help="Only look for an observable difference.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the distinguishing trace, once per design.")
@click.option("--picture", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE.svg",
              help="Draw the distinguishing trace under both designs side by side (SVG), the first difference marked.")
def diff(design_a: str, design_b: str, depth: int, property_ids: tuple[str, ...], no_properties: bool,
         as_json: bool, out_dir: Path | None, picture: Path | None) -> None:
    """Find a shortest operation sequence on which two designs' observations differ.

    Exit status 0: no observable difference up to the depth; 1: the designs differ.
    """
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.checker.diff import compare_properties, lockstep
    from memview.traces.itf import write_trace

    if not 1 <= depth <= MAX_DEPTH:
        raise InputError("--depth", f"must be between 1 and {MAX_DEPTH}, got {depth}")
    first, second = load_design(design_a), load_design(design_b)
    props = [] if no_properties else select_properties(list(property_ids))
    if picture is not None and (picture.suffix.lower() != ".svg" or not picture.parent.is_dir()):
        raise InputError("--picture", f"{picture}: expected a .svg file in an existing directory")
    if out_dir is not None:
        prepare_out_dir(out_dir)
    progress = SearchProgress(depth, quiet=as_json)
    result = lockstep(first, second, depth, progress)
    progress.finish()
    if props:
        compare_properties(result, props, depth)
    written = []
    if out_dir is not None and result.differ:
        for design, trace in zip((first, second), result.traces(), strict=True):
            path = out_dir / f"{file_stem(first.name)}-vs-{file_stem(second.name)}.{file_stem(design.name)}.itf.json"
            write_trace(trace, path)
            written.append(str(path))
    drawn = None
    if picture is not None and result.differ:
        from memview.report.timeline import Lane, timeline_svg

        lanes = [Lane(design.name, trace) for design, trace in zip((first, second), result.traces(), strict=True)]
        steps = len(result.steps or [])
        title = f"{first.name} vs {second.name}: the same operations, first difference at step {steps - 1}"
        picture.write_text(timeline_svg(lanes, "diff", title) + "\n", encoding="utf-8")
        drawn = str(picture)
    if as_json:
        emit_json(schemas.DIFF, {**result.to_json(), "traces": written, "picture": drawn})
        sys.exit(EXIT_VIOLATION if result.differ else EXIT_OK)
    console = out_console()
    if result.steps is None:
        console.print(f"no observable difference between {first.name} and {second.name} up to depth {depth}")
    else:
        table = Table(title=f"{first.name} vs {second.name}: first difference at step {len(result.steps) - 1}",
                      title_justify="left")
        for column in ("step", "operation", first.name, second.name):
            table.add_column(column)
        for index, step in enumerate(result.steps):
            mark = "[bold red]" if step.differs else ""
            table.add_row(str(index), str(step.action), f"{mark}{step.seen_by_a}", f"{mark}{step.seen_by_b}")
        console.print(table)
    if result.verdicts:
        table = Table(title="Properties (explicit search of each design)", title_justify="left")
        for column in ("property", first.name, second.name):
            table.add_column(column)
        for prop, (a, b) in result.verdicts.items():
            style = "[bold]" if a != b else ""
            table.add_row(f"{style}{prop}", f"{style}{a}", f"{style}{b}")
        console.print(table)
    for trace_path in written:
        console.print(f"wrote {trace_path}")
    if drawn is not None:
        console.print(f"drew {drawn}")
    elif picture is not None:
        console.print(f"no picture: no difference to draw up to depth {depth}")
    console.print(f"searched: {result.scope.describe()}; {result.pairs} state pairs")
    sys.exit(EXIT_VIOLATION if result.differ else EXIT_OK)


def judge_traces(named: list[tuple[str, Any]], backend_spec: str, design_spec: str | None, lenient: bool,
                 timeout: float, junit: Path | None, out_dir: Path | None, as_json: bool, suite: str,
                 schema: str) -> None:
    """Shared by replay and conform: run, report, minimise divergences, write JUnit; `schema` names
    the command's --json output."""
    from memview.backends.registry import open_backend
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.traces.conform import conform, held_to, step_limit
    from memview.traces.itf import write_trace
    from memview.traces.junit import write_junit
    from memview.traces.minimise import minimise
    from memview.traces.oracles import same_failure

    limit = step_limit(timeout)
    design = load_design(design_spec) if design_spec else None
    if out_dir is not None:
        prepare_out_dir(out_dir)
    if junit is not None and not junit.parent.is_dir():
        raise InputError("--junit", f"{junit}: no such directory {junit.parent}")  # before any trace runs
    verdicts = []
    minimised: list[dict[str, Any]] = []
    for name, trace in named:
        held = held_to(name, trace, design)
        verdict = conform(name, held, open_backend(backend_spec), lenient, limit)
        verdicts.append(verdict)
        if not as_json:
            click.echo(verdict.report() + ("\n" if not verdict.conforms else ""))
        if not verdict.conforms and out_dir is not None:
            oracle = same_failure(verdict, lambda: open_backend(backend_spec), lenient, limit)
            result = minimise(held, oracle)
            stem = file_stem(Path(name).name.removesuffix(".itf.json"))
            original, minimal = out_dir / f"{stem}.original.itf.json", out_dir / f"{stem}.minimal.itf.json"
            write_trace(result.original, original)
            write_trace(result.minimal, minimal)
            minimised.append({"trace": name, "original": str(original), "minimal": str(minimal),
                              "steps_removed": result.steps_removed, "oracle_calls": result.oracle_calls})
            if not as_json:
                click.echo(f"minimised: {len(result.minimal.steps)} of {len(result.original.steps)} steps "
                           f"({result.steps_removed} removed, {result.oracle_calls} runs) -> {minimal}\n")
    if junit is not None:
        write_junit(verdicts, suite, junit)
    failed = [v for v in verdicts if not v.conforms]
    if as_json:
        emit_json(schema, {"backend": backend_spec, "lenient": lenient, "verdicts": [v.to_json() for v in verdicts],
                           "minimised": minimised, "conform": not failed})
    else:
        click.echo(f"{len(verdicts) - len(failed)} of {len(verdicts)} traces conform on {backend_spec}")
    sys.exit(EXIT_VIOLATION if failed else EXIT_OK)


def backend_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option("--backend", "backend_spec", required=True,
                     help="model, linux, linux-fdpass, linux-mutant:NAME, kvm, or exec:'COMMAND ARGS'."),
        click.option("--design", "design_spec", default=None,
                     help="Judge against this design (default: each trace's own)."),
        click.option("--lenient", is_flag=True,
                     help="Accept every observation the design allows (either SIGSEGV si_code)."),
        click.option("--timeout", type=float, default=10.0, show_default=True,
                     help="Seconds a backend may take per step."),
        click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write JUnit XML here."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Write each divergence's original and minimised trace here."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@click.argument("trace_files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@backend_options
def replay(trace_files: tuple[Path, ...], backend_spec: str, design_spec: str | None, lenient: bool, timeout: float,
           junit: Path | None, out_dir: Path | None, as_json: bool) -> None:
    """Replay traces on a backend and judge every observation (exit 0 conform, 1 divergence)."""
    from memview.backends.registry import open_backend
    from memview.traces.itf import read_trace

    open_backend(backend_spec)  # a bad name or a missing command fails before any trace is read

    named = [(str(path), read_trace(path)) for path in trace_files]
    judge_traces(named, backend_spec, design_spec, lenient, timeout, junit, out_dir, as_json, "memview.replay",
                 schemas.REPLAY)


@cli.command()
@click.argument("trace_files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--corpus", is_flag=True, help="Also run the regression corpus shipped with memview (all but the "
              "broken designs' counterexamples).")
@backend_options
def conform(trace_files: tuple[Path, ...], corpus: bool, backend_spec: str, design_spec: str | None, lenient: bool,
            timeout: float, junit: Path | None, out_dir: Path | None, as_json: bool) -> None:
    """Check a backend's conformance on the corpus and/or given traces."""
    from memview.backends.registry import open_backend
    from memview.traces.corpus import regression_corpus
    from memview.traces.itf import read_trace

    open_backend(backend_spec)  # a bad name or a missing command fails before any trace is read

    if not corpus and not trace_files:
        raise InputError("conform", "name traces or pass --corpus")
    named = [(str(path), read_trace(path)) for path in trace_files]
    if corpus:
        named = [*regression_corpus(), *named]
    judge_traces(named, backend_spec, design_spec, lenient, timeout, junit, out_dir, as_json, "memview.conform",
                 schemas.CONFORM)


@cli.command()
@click.option("--backend", "backend_spec", required=True,
              help="model, model:DESIGN, linux, linux-fdpass, linux-mutant:NAME, kvm, or exec:'COMMAND ARGS'.")
@click.option("--design", "design_spec", default="seed", show_default=True, help="The design the backend is held to.")
@click.option("--examples", type=int, default=100, show_default=True, help="Operation sequences to try.")
@click.option("--steps", type=int, default=30, show_default=True, help="Operations per sequence after the set-up.")
@click.option("--seed", "seed", type=int, default=None, help="Fix hypothesis's randomness for a reproducible run.")
@click.option("--lenient", is_flag=True, help="Accept either SIGSEGV si_code.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds a backend may take per step.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the failing trace, and its minimised form, here.")
@click.option("--skip", "skipped", multiple=True, metavar="OP",
              help="Never draw this operation after the set-up (repeatable), e.g. one whose divergence is a "
              "known finding.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def fuzz(backend_spec: str, design_spec: str, examples: int, steps: int, seed: int | None, lenient: bool,
         timeout: float, out_dir: Path | None, skipped: tuple[str, ...], as_json: bool) -> None:
    """Differential fuzzing: hypothesis runs the model and a backend in lockstep (exit 1 on a divergence)."""
    from memview.backends.base import StepLimit
    from memview.backends.registry import open_backend
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.checker.fuzz import fuzz as run_fuzz
    from memview.traces.conform import conform
    from memview.traces.itf import write_trace
    from memview.traces.minimise import minimise
    from memview.traces.oracles import same_failure

    if not 1 <= examples <= 1_000_000:
        raise InputError("--examples", f"must be between 1 and 1000000, got {examples}")
    if not 1 <= steps <= 10_000:
        raise InputError("--steps", f"must be between 1 and 10000, got {steps}")
    if not 0 < timeout <= 3600:
        raise InputError("--timeout", f"must be between 0 and 3600 seconds, got {timeout}")
    from memview.model.ops import OPS_BY_NAME

    for name in skipped:
        if name not in OPS_BY_NAME:
            raise InputError("--skip", f"unknown operation {name!r} (choose from {', '.join(OPS_BY_NAME)})")
    open_backend(backend_spec)
    design = load_design(design_spec)
    if out_dir is not None:
        prepare_out_dir(out_dir)
    limit = StepLimit(timeout)
    result = run_fuzz(design, lambda: open_backend(backend_spec), examples, steps, seed, lenient, limit,
                      skip=frozenset(skipped))
    out: dict[str, Any] = {"backend": backend_spec, "design": design.name, "examples": result.examples,
                           "steps": result.steps, "seconds": round(result.seconds, 2), "divergence": result.failure}
    if result.trace is not None and out_dir is not None:
        verdict = conform("fuzz", result.trace, open_backend(backend_spec), lenient, limit)
        found = out_dir / f"fuzz-{file_stem(design.name)}.itf.json"
        write_trace(result.trace, found)
        out["trace"] = str(found)
        if not verdict.conforms:
            minimal = minimise(result.trace, same_failure(verdict, lambda: open_backend(backend_spec), lenient, limit))
            minimal_path = out_dir / f"fuzz-{file_stem(design.name)}.minimal.itf.json"
            write_trace(minimal.minimal, minimal_path)
            out.update(minimal=str(minimal_path), steps_removed=minimal.steps_removed)
    if as_json:
        emit_json(schemas.FUZZ, out)
    else:
        rate = result.steps / result.seconds if result.seconds else 0.0
        click.echo(f"{result.examples} examples, {result.steps} steps in {result.seconds:.1f}s ({rate:.0f} steps/s)")
        click.echo(f"divergence: {result.failure}" if result.failure else f"no divergence on {backend_spec}")
        for key in ("trace", "minimal"):
            if key in out:
                click.echo(f"wrote {out[key]}")
    sys.exit(EXIT_VIOLATION if result.failure else EXIT_OK)


@cli.command()
@click.option("--design", "design_spec", default="seed", show_default=True, help="Built-in name or TOML file.")
@click.option("--depth", type=int, default=2, show_default=True, help="Explicit-search depth after the set-up prefix.")
@click.option("--abstract", "abstraction", default="layout", show_default=True,
              help="none (the concrete graph), layout, client or layout+client.")
@click.option("--config", "settings", multiple=True, metavar="BOUND=N",
              help="Change a bound of the small configuration (repeatable), e.g. ranges=1.")
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml", "png", "svg"]), default=None,
              help="Output format [default: from --out's suffix].")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--transitions", type=click.Choice(["all", "recorded"]), default="all", show_default=True,
              help="Every action from every expanded state, or only the edges explicit search recorded (one per pair "
              "of states: none's graph is then explore's own).")
@click.option("--max-nodes", type=int, default=2000, show_default=True,
              help="Refuse a graph with more nodes than this (before exploring where the estimate says so).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def graph(design_spec: str, depth: int, abstraction: str, settings: tuple[str, ...], fmt: str | None, out: Path,
          transitions: str, max_nodes: int, as_json: bool) -> None:
    """Write the reachable state graph of a small configuration, or its quotient under an abstraction.

    Edges are labelled by operation and outcome; the post-set-up state is marked. PNG and SVG are
    drawn by Graphviz's dot (`make graphviz` installs it).
    """
    from memview.checker.abstraction import get_abstraction
    from memview.checker.graphs import Limits, build_graph, output_format, title_of, write_graph

    get_abstraction(abstraction)
    fmt = output_format(fmt, out)
    design = load_design(design_spec)
    _, result = build_graph(design, depth, abstraction, Limits(max_nodes), settings, transitions)
    write_graph(result, fmt, out, title_of(design, result, depth, transitions))
    if as_json:
        emit_json(schemas.GRAPH, {"design": design.name, "depth": depth, "abstraction": abstraction,
                                  "transitions": transitions, "format": fmt, "out": str(out), "nodes": result.nodes,
                                  "edges": result.edges,
                                  "concrete": {"nodes": result.concrete_nodes, "edges": result.concrete_edges}})
    else:
        click.echo(f"wrote {out}: {abstraction} graph of {design.name} at depth {depth}, {result.nodes} nodes and "
                   f"{result.edges} edges (from {result.concrete_nodes} states and {result.concrete_edges} "
                   f"{'transitions' if transitions == 'all' else 'recorded edges'})")


@cli.command()
@click.option("--design", "design_spec", default="seed", show_default=True, help="Built-in name or TOML file.")
@click.option("--coverage", "kinds", multiple=True, default=("edges",), show_default=True,
              help="edges (of the abstract state graph), decisions or properties (repeatable).")
@click.option("--depth", type=int, default=None,
              help="Explicit-search depth after the set-up prefix [default: edges 2, decisions and properties 3].")
@click.option("--abstract", "abstraction", default="layout", show_default=True,
              help="The abstraction whose edges --coverage edges covers: layout, client, layout+client or none.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the traces here (ITF JSON), one file each.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def generate(design_spec: str, kinds: tuple[str, ...], depth: int | None, abstraction: str, out_dir: Path | None,
             as_json: bool) -> None:
    """Generate regression traces that together cover the abstract graph's edges, the design's
    decisions or the properties' interesting steps; each carries the design's observations."""
    from memview.checker.check import prepare_out_dir
    from memview.checker.coverage import check_request, generate_traces
    from memview.traces.itf import write_trace

    check_request(kinds, depth, abstraction)
    design = load_design(design_spec)
    if out_dir is not None:
        prepare_out_dir(out_dir)
    results = generate_traces(design, kinds, depth, abstraction)
    written = []
    if out_dir is not None:
        for result in results:
            for name, trace in result.traces:
                path = out_dir / f"{name}.itf.json"
                write_trace(trace, path)
                written.append(str(path))
    if as_json:
        emit_json(schemas.GENERATE, {"design": design.name, "results": [r.to_json() for r in results],
                                     "written": written})
    else:
        table = Table(title=f"memview generate: design {design.name}", title_justify="left")
        for column in ("coverage", "goals", "covered", "traces", "steps", "lower bound (steps)"):
            table.add_column(column, justify="left" if column == "coverage" else "right")
        for r in results:
            bound = f"{r.lower_bound} ({r.steps / r.lower_bound:.2f}x)" if r.lower_bound else "-"
            what = f"edges ({abstraction})" if r.kind == "edges" else r.kind
            table.add_row(what, str(r.goals), f"{r.covered} ({100 * r.covered // max(r.goals, 1)}%)",
                          str(len(r.traces)), str(r.steps), bound)
        out_console().print(table)
        for r in results:
            for missing in r.uncovered:
                click.echo(f"not covered ({r.kind}): {missing}")
        if out_dir is not None:
            click.echo(f"wrote {len(written)} traces to {out_dir}")
    sys.exit(EXIT_OK)


@cli.command()
@click.argument("trace_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def explain(trace_file: Path, as_json: bool) -> None:
    """Print a trace as a timeline with the view layout wherever it changes."""
    from memview.traces.explain import explain as explain_text
    from memview.traces.explain import explain_json
    from memview.traces.itf import read_trace

    trace = read_trace(trace_file)
    if as_json:
        emit_json(schemas.EXPLAIN, explain_json(trace))
    else:
        click.echo(explain_text(trace), nl=False)


@cli.group()
def corpus() -> None:
    """The regression corpus shipped with memview (memview/traces/corpus/)."""


@corpus.command("check")
@click.option("--design", "design_spec", default=None,
              help="Replay every trace under this design [default: each trace's own].")
@click.argument("trace_files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def corpus_check(design_spec: str | None, trace_files: tuple[Path, ...], as_json: bool) -> None:
    """Replay the corpus (and any traces given) on the model: which traces' observations changed
    (exit 0 none, 1 some)."""
    from memview.traces.corpus import load_corpus
    from memview.traces.corpus_check import corpus_changes
    from memview.traces.itf import read_trace

    design = load_design(design_spec) if design_spec else None
    named = [*load_corpus(), *((str(path), read_trace(path)) for path in trace_files)]
    changes = corpus_changes(named, design)
    changed = [c for c in changes if c.changed]
    under = f"design {design.name}" if design else "each trace's own design"
    if as_json:
        emit_json(schemas.CORPUS_CHECK, {"design": design.to_json() if design else None, "traces": len(changes),
                                         "changed": len(changed), "results": [c.to_json() for c in changes]})
    else:
        for change in changed:
            click.echo(change.headline())
        click.echo(f"{len(changed)} of {len(changes)} corpus traces changed under {under}"
                   + ("" if changed else ": the model gives every recorded observation"))
    sys.exit(EXIT_VIOLATION if changed else EXIT_OK)


MAX_BUDGET = 3600.0


def parse_mutation_engines(names: tuple[str, ...]) -> tuple[str, ...]:
    from memview.checker.mutants import ENGINES

    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()] or list(ENGINES)
    for name in wanted:
        if name not in ENGINES:
            raise InputError("--engines", f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")
    return tuple(e for e in ENGINES if e in wanted)


def cell_text(cell: Any) -> str:
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


@cli.command()
@click.option("--engines", "engine_names", multiple=True, metavar="E[,E...]",
              help="Engines to run (bmc, induction, explore, fuzz, corpus) [default: all].")
@click.option("--mutant", "mutant_names", multiple=True,
              help="Only this mutant, semantic or implementation (repeatable) [default: all].")
@click.option("--implementation/--no-implementation", default=True, show_default=True,
              help="Also the linux backend's implementation mutants (engines fuzz and corpus).")
@click.option("--budget", type=float, default=30.0, show_default=True, help="Seconds each engine gets per mutant.")
@click.option("--jobs", type=int, default=None, help="Parallel cells [default: the number of cores].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each kill's counterexample (ITF) here.")
@click.option("--list", "list_only", is_flag=True, help="List the mutants and exit.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--executor", "executor_text", default=LOCAL, show_default=True, metavar="local|dask://HOST:PORT",
              help=EXECUTOR_HELP)
def mutants(engine_names: tuple[str, ...], mutant_names: tuple[str, ...], implementation: bool, budget: float,
            jobs: int | None, out_dir: Path | None, list_only: bool, as_json: bool, executor_text: str) -> None:
    """Mutation analysis: every engine against every seeded bug, and the kill matrix (exit 0 every
    non-equivalent mutant killed and no equivalent one flagged, 1 otherwise)."""
    from memview.backends.linux.mutants import IMPLEMENTATION_MUTANTS, backend_spec
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.checker.executors import open_executor
    from memview.checker.kill_matrix import KILLED, Row, run_matrix, semantic_row
    from memview.checker.mutants import select_mutants
    from memview.traces.itf import write_trace

    engines = parse_mutation_engines(engine_names)
    semantic_names = [n for n in mutant_names if n not in IMPLEMENTATION_MUTANTS]
    rows = [semantic_row(m) for m in select_mutants(semantic_names)] if semantic_names or not mutant_names else []
    if implementation or any(n in IMPLEMENTATION_MUTANTS for n in mutant_names):
        rows += [Row(name, "implementation", m.mistake, backend=backend_spec(name))
                 for name, m in IMPLEMENTATION_MUTANTS.items() if not mutant_names or name in mutant_names]
    if list_only:
        listing = [{"name": r.name, "kind": r.kind, "rule": r.mutant.rule if r.mutant else r.backend,
                    "breaks": list(r.breaks), "equivalent": r.equivalent, "mistake": r.mistake} for r in rows]
        if as_json:
            emit_json(schemas.MUTANTS_LIST, {"mutants": listing})
        else:
            table = Table(title="Mutants", title_justify="left", show_lines=True)
            for column in ("mutant", "where", "breaks", "mistake"):
                table.add_column(column)
            for item in listing:
                breaks = ", ".join(item["breaks"]) or f"equivalent: {item['equivalent']}"
                table.add_row(str(item["name"]), str(item["rule"]), breaks, str(item["mistake"]))
            out_console().print(table)
        sys.exit(EXIT_OK)
    if not 1 <= budget <= MAX_BUDGET:
        raise InputError("--budget", f"must be between 1 and {MAX_BUDGET:g} seconds, got {budget:g}")
    executor_spec = parse_executor(executor_text)
    workers = check_jobs(jobs, executor_spec)
    if out_dir is not None:
        prepare_out_dir(out_dir)
    err = Console(stderr=True, highlight=False, soft_wrap=True)

    def done(cell: Any, finished: int, total: int) -> None:
        if not as_json:
            err.print(f"[{finished}/{total}] {cell.mutant} / {cell.engine}: {cell.status} {cell.finding[:70]}")

    with open_executor(executor_spec, workers) as opened:
        if not as_json:
            err.print(f"{len(rows)} mutants x {len(engines)} engines, {budget:g} s each, on {opened.where}")
        matrix = run_matrix(rows, engines, budget, opened.executor, done)
    written = []
    if out_dir is not None:
        for (name, engine), cell in sorted(matrix.cells.items()):
            if cell.status == KILLED and cell.trace is not None:
                path = out_dir / f"{file_stem(name)}-{engine}.itf.json"
                write_trace(cell.trace, path)
                written.append(str(path))
    summary = matrix.summary()
    failed = bool(summary["survivors"] or summary["equivalent_violations"]
                  or summary["implementation_killed"] < summary["implementation"])
    if as_json:
        emit_json(schemas.MUTANTS, {**matrix.to_json(), "written": written})
        sys.exit(EXIT_VIOLATION if failed else EXIT_OK)
    table = Table(title=f"Kill matrix: property or trace, seconds to the first counterexample (its length in "
                        f"steps); '-' survived; budget {budget:g} s", title_justify="left")
    table.add_column("mutant", no_wrap=True)
    table.add_column("breaks")
    for engine in engines:
        table.add_column(engine)
    for row in rows:
        breaks = ",".join(row.breaks) if row.kind == "semantic" and row.breaks else \
            ("equivalent" if row.kind == "semantic" else "(implementation)")
        table.add_row(row.name, breaks, *(cell_text(matrix.cells.get((row.name, e))) for e in engines))
    out_console().print(table)
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
    if written:
        click.echo(f"wrote {len(written)} counterexamples to {out_dir}")
    click.echo(f"{matrix.seconds:.0f} s in all")
    sys.exit(EXIT_VIOLATION if failed else EXIT_OK)


@cli.command()
@click.option("--design", "design_spec", default=None,
              help="Built-in name or TOML file [default: the design of a --from check/prove result, else seed].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for index.html, the results it shows and its pictures.")
@click.option("--run", "run_kinds", multiple=True, metavar="KIND[,KIND...]",
              default=("check,conform,mutants,graph",), show_default=True,
              help="Commands to run: check, prove, conform, mutants, graph, or none (a kind given by --from is "
              "read, not run).")
@click.option("--from", "from_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="A saved --json result of check, prove, conform, mutants or graph (repeatable).")
@click.option("--engine", "engines", default="bmc,explore", show_default=True, help="check's --engine.")
@click.option("--depth", type=int, default=None, help="check's --depth.")
@click.option("--jobs", type=int, default=None, help="check's, prove's and mutants' --jobs.")
@click.option("--backend", "backend_spec", default="model", show_default=True,
              help="conform's --backend: the implementation whose conformance on the corpus the page shows.")
@click.option("--mutant-engines", default="corpus", show_default=True, help="mutants' --engines.")
@click.option("--budget", type=float, default=30.0, show_default=True, help="mutants' --budget.")
@click.option("--graph-depth", type=int, default=2, show_default=True, help="graph's --depth.")
@click.option("--abstract", "abstraction", default="layout", show_default=True, help="graph's --abstract.")
@click.option("--executor", "executor_text", default=LOCAL, show_default=True, metavar="local|dask://HOST:PORT",
              help="check's, prove's and mutants' --executor (docs/distributed.md).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def report(design_spec: str | None, out_dir: Path, run_kinds: tuple[str, ...], from_files: tuple[Path, ...],
           engines: str, depth: int | None, jobs: int | None, backend_spec: str, mutant_engines: str, budget: float,
           graph_depth: int, abstraction: str, executor_text: str, as_json: bool) -> None:
    """Write an HTML report: verdicts, counterexamples drawn step by step, conformance, the state graph,
    the mutation kill matrix and the design's decisions (docs/report.md).

    Exit status 0: everything shown holds, conforms and is killed; 1: something does not.
    """
    from memview.report.build import Settings, build_report, parse_kinds

    executor_spec = parse_executor(executor_text)  # bad input here, before any command runs
    settings = Settings(engines, depth, check_jobs(jobs, executor_spec) if jobs is not None else None, backend_spec,
                        mutant_engines, budget, graph_depth, abstraction, executor_spec.text)
    outcome = build_report(design_spec, parse_kinds(run_kinds), from_files, out_dir, settings,
                           lambda line: None if as_json else click.echo(line, err=True))
    if as_json:
        emit_json(schemas.REPORT, outcome.to_json())
    else:
        click.echo(f"wrote {outcome.page} ({len(outcome.pictures)} timeline pictures in {out_dir / 'pictures'})")
        for line in outcome.failing:
            click.echo(line)
    sys.exit(EXIT_VIOLATION if outcome.failing else EXIT_OK)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="memview", standalone_mode=False)
    except InputError as exc:
        click.echo(f"memview: error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except ExecutorFailure as exc:  # the cluster lost work (docs/distributed.md): not memview's bug to report
        click.echo(f"memview: error: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
    except click.exceptions.Abort:
        click.echo("memview: aborted", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as exc:
        click.echo(f"memview: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("memview: interrupted", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # a bug in memview, never the user's input: say so in one line
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where is not None else ""
        click.echo(f"memview: internal error: {type(exc).__name__}: {exc}{at} (please report it)", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK)

