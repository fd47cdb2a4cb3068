"""The options commands share, as decorators, and how bounded numbers are refused.

click.IntRange and click.FloatRange would refuse `--jobs 0` as "0 is not in the range 1<=x<=256."
and add the range to --help; users, scripts and tests know memview's wording instead ("--jobs: must
be between 1 and 256, got 0"), so `Between` keeps click's number parsing ("'x' is not a valid
integer") and refuses an out-of-range value as an InputError, one line like any other bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from memview.checker.executors import LOCAL, LOCAL_EXECUTOR, ExecutorSpec, parse_executor
from memview.errors import InputError

Command = TypeVar("Command", bound=Callable[..., Any])

MAX_DEPTH = 12  # bmc and explore after the set-up prefix (check, diff)
MAX_JOBS = 256
EXECUTOR_HELP = ("Where jobs run: local (a process pool here) or dask://HOST:PORT (the workers of a dask "
                 "scheduler; docs/distributed.md).")


def number_text(number: float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


class Between(click.ParamType[float, Any]):
    """A number from `low` to `high` (both included), `unit` and `why` added to a refusal."""

    def __init__(self, number: click.ParamType[float, Any], low: float, high: float, unit: str = "",
                 why: str = "") -> None:
        self.number, self.low, self.high = number, low, high
        self.name = number.name
        self.unit = f" {unit}" if unit else ""
        self.why = f" ({why})" if why else ""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        given = self.number.convert(value, param, ctx)
        if not self.low <= given <= self.high:
            place = param.opts[0] if param is not None else "value"
            raise InputError(place, f"must be between {number_text(self.low)} and {number_text(self.high)}"
                                    f"{self.unit}, got {number_text(given)}{self.why}")
        return given


SEARCH_DEPTH = Between(click.INT, 1, MAX_DEPTH)
JOBS = Between(click.INT, 1, MAX_JOBS)


def json_option(command: Command) -> Command:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(command)


def design_option(default: str | None = "seed", help: str = "Built-in name or TOML file.",
                  ) -> Callable[[Command], Command]:
    return click.option("--design", "design_spec", default=default, show_default=default is not None, help=help)


def property_option(help: str = "Property ID (repeatable); default all.") -> Callable[[Command], Command]:
    return click.option("--property", "property_ids", multiple=True, help=help)


def depth_option(help: str, default: int | None = None, kind: click.ParamType[Any, Any] = click.INT,
                 ) -> Callable[[Command], Command]:
    """--depth; `kind` SEARCH_DEPTH where this command bounds it, plain where the engine it calls does."""
    return click.option("--depth", type=kind, default=default, show_default=default is not None, help=help)


def jobs_option(help: str) -> Callable[[Command], Command]:
    return click.option("--jobs", type=JOBS, default=None, help=help)


def parsed_executor(_ctx: click.Context, _param: click.Parameter, text: str) -> ExecutorSpec:
    return parse_executor(text)


def executor_option(help: str = EXECUTOR_HELP) -> Callable[[Command], Command]:
    return click.option("--executor", "executor_spec", default=LOCAL, show_default=True,
                        metavar="local|dask://HOST:PORT", help=help, callback=parsed_executor)


def pool_size(jobs: int | None, executor: ExecutorSpec = LOCAL_EXECUTOR) -> int | None:
    """The local pool's size; None on dask, where the cluster's workers (their --nthreads) decide
    how many jobs run at once, so an explicit --jobs is refused rather than silently ignored."""
    from memview.checker.engines import default_jobs

    if executor.distributed:
        if jobs is not None:
            raise InputError("--jobs", f"has no meaning with --executor {executor.text}: the cluster's workers "
                                       "decide how many jobs run at once (dask worker --nthreads)")
        return None
    return default_jobs() if jobs is None else jobs


def out_dir_option(help: str, required: bool = False) -> Callable[[Command], Command]:
    return click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        required=required, help=help)


def timeout_option(command: Command) -> Command:
    return click.option("--timeout", type=float, default=10.0, show_default=True,
                        help="Seconds a backend may take per step.")(command)


def backend_options(command: Command) -> Command:
    """What replay and conform share: the backend, the design it is held to, and what to write."""
    options = [
        click.option("--backend", "backend_spec", required=True,
                     help="model, linux, linux-fdpass, linux-mutant:NAME, kvm, or exec:'COMMAND ARGS'."),
        design_option(None, "Judge against this design (default: each trace's own)."),
        click.option("--lenient", is_flag=True,
                     help="Accept every observation the design allows (either SIGSEGV si_code)."),
        timeout_option,
        click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write JUnit XML here."),
        out_dir_option("Write each divergence's original and minimised trace here."),
        json_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command
