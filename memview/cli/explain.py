"""`memview explain`: a trace as a timeline, with the view's layout wherever it changes."""

from __future__ import annotations

from pathlib import Path

import click

from memview import schemas
from memview.cli.options import json_option
from memview.cli.output import emit_json


@click.command()
@click.argument("trace_file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
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
