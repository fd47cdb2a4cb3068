"""What commands print and how they end: the console, tables, `--json` outputs under their schema
name (docs/json.md), the traces a command writes, and the exit status."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from memview.traces.trace import Trace

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def out_console() -> Console:
    return Console(soft_wrap=False, width=max(100, Console().width))


def err_console(soft_wrap: bool = False) -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=soft_wrap)


def table(title: str, *columns: str, show_lines: bool = False) -> Table:
    """A table titled on the left with plain columns (commands add styled columns themselves)."""
    made = Table(title=title, title_justify="left", show_lines=show_lines)
    for column in columns:
        made.add_column(column)
    return made


def emit_json(schema: str, data: dict[str, Any]) -> None:
    """Print a --json output: one object whose first key names its schema (memview/schemas, docs/json.md)."""
    if data.get("schema", schema) != schema:
        raise AssertionError(f"an output of schema {data['schema']} emitted as {schema}")
    click.echo(json.dumps({"schema": schema, **data}, indent=2))


def write_traces(out_dir: Path, traces: Iterable[tuple[str, Trace]]) -> list[str]:
    """Write each (stem, trace) as `out_dir/STEM.itf.json`; the paths written, in order."""
    from memview.traces.itf import write_trace

    written = []
    for stem, trace in traces:
        path = out_dir / f"{stem}.itf.json"
        write_trace(trace, path)
        written.append(str(path))
    return written


def exit_with(failed: bool) -> NoReturn:
    """End a command that judged something: 1 when it found a violation, divergence or difference."""
    sys.exit(EXIT_VIOLATION if failed else EXIT_OK)
