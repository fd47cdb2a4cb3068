"""`memview fuzz`: hypothesis runs the model and a backend in lockstep; a divergence is written as a
trace and minimised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from memview import schemas
from memview.cli.options import Between, design_option, json_option, out_dir_option, timeout_option
from memview.cli.output import emit_json, exit_with, write_traces
from memview.errors import InputError
from memview.model.design import load_design


@click.command()
@click.option("--backend", "backend_spec", required=True,
              help="model, model:DESIGN, linux, linux-fdpass, linux-mutant:NAME, kvm, or exec:'COMMAND ARGS'.")
@design_option(help="The design the backend is held to.")
@click.option("--examples", type=Between(click.INT, 1, 1_000_000), default=100, show_default=True,
              help="Operation sequences to try.")
@click.option("--steps", type=Between(click.INT, 1, 10_000), default=30, show_default=True,
              help="Operations per sequence after the set-up.")
@click.option("--seed", "seed", type=int, default=None, help="Fix hypothesis's randomness for a reproducible run.")
@click.option("--lenient", is_flag=True, help="Accept either SIGSEGV si_code.")
@timeout_option
@out_dir_option("Write the failing trace, and its minimised form, here.")
@click.option("--skip", "skipped", multiple=True, metavar="OP",
              help="Never draw this operation after the set-up (repeatable), e.g. one whose divergence is a "
              "known finding.")
@json_option
def fuzz(backend_spec: str, design_spec: str, examples: int, steps: int, seed: int | None, lenient: bool,
         timeout: float, out_dir: Path | None, skipped: tuple[str, ...], as_json: bool) -> None:
    """Differential fuzzing: hypothesis runs the model and a backend in lockstep (exit 1 on a divergence)."""
    from memview.backends.registry import open_backend
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.checker.fuzz import fuzz as run_fuzz
    from memview.model.ops import OPS_BY_NAME
    from memview.traces.conform import conform, step_limit
    from memview.traces.minimise import minimise
    from memview.traces.oracles import same_failure

    limit = step_limit(timeout)
    for name in skipped:
        if name not in OPS_BY_NAME:
            raise InputError("--skip", f"unknown operation {name!r} (choose from {', '.join(OPS_BY_NAME)})")
    open_backend(backend_spec)
    design = load_design(design_spec)
    if out_dir is not None:
        prepare_out_dir(out_dir)
    result = run_fuzz(design, lambda: open_backend(backend_spec), examples, steps, seed, lenient, limit,
                      skip=frozenset(skipped))
    out: dict[str, Any] = {"backend": backend_spec, "design": design.name, "examples": result.examples,
                           "steps": result.steps, "seconds": round(result.seconds, 2), "divergence": result.failure}
    if result.trace is not None and out_dir is not None:
        verdict = conform("fuzz", result.trace, open_backend(backend_spec), lenient, limit)
        stem = f"fuzz-{file_stem(design.name)}"
        (out["trace"],) = write_traces(out_dir, [(stem, result.trace)])
        if not verdict.conforms:
            minimal = minimise(result.trace, same_failure(verdict, lambda: open_backend(backend_spec), lenient, limit))
            (out["minimal"],) = write_traces(out_dir, [(f"{stem}.minimal", minimal.minimal)])
            out.update(steps_removed=minimal.steps_removed)
    if as_json:
        emit_json(schemas.FUZZ, out)
    else:
        rate = result.steps / result.seconds if result.seconds else 0.0
        click.echo(f"{result.examples} examples, {result.steps} steps in {result.seconds:.1f}s ({rate:.0f} steps/s)")
        click.echo(f"divergence: {result.failure}" if result.failure else f"no divergence on {backend_spec}")
        for key in ("trace", "minimal"):
            if key in out:
                click.echo(f"wrote {out[key]}")
    exit_with(bool(result.failure))
