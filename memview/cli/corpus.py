"""`memview corpus check`: which recorded observations a change of the semantics changed."""

from __future__ import annotations

from pathlib import Path

import click

from memview import schemas
from memview.cli.options import design_option, json_option
from memview.cli.output import emit_json, exit_with
from memview.model.design import load_design


@click.group()
def corpus() -> None:
    """The regression corpus shipped with memview (memview/traces/corpus/)."""


@corpus.command("check")
@design_option(None, "Replay every trace under this design [default: each trace's own].")
@click.argument("trace_files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@json_option
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
    exit_with(bool(changed))
