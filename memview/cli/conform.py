"""`memview replay` and `memview conform`: traces judged on a backend, divergences minimised."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from memview import schemas
from memview.cli.options import backend_options
from memview.cli.output import emit_json, exit_with, write_traces
from memview.errors import InputError
from memview.model.design import load_design

if TYPE_CHECKING:
    from memview.traces.trace import Trace


def judge_traces(named: list[tuple[str, Trace]], backend_spec: str, design_spec: str | None, lenient: bool,
                 timeout: float, junit: Path | None, out_dir: Path | None, as_json: bool, suite: str,
                 schema: str) -> None:
    """Shared by replay and conform: run, report, minimise divergences, write JUnit; `schema` names
    the command's --json output."""
    from memview.backends.registry import open_backend
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.traces.conform import conform, held_to, step_limit
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
            original, minimal = write_traces(out_dir, [(f"{stem}.original", result.original),
                                                       (f"{stem}.minimal", result.minimal)])
            minimised.append({"trace": name, "original": original, "minimal": minimal,
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
    exit_with(bool(failed))


@click.command()
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


@click.command()
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
