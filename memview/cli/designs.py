"""`memview designs` and `memview properties`: the catalogues a user chooses from."""

from __future__ import annotations

import click
from rich.table import Table

from memview import schemas
from memview.cli.options import json_option
from memview.cli.output import emit_json, out_console, table
from memview.model.design import BUILTIN, DECISIONS
from memview.properties.catalogue import CATALOGUE


@click.command()
@json_option
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
    listed = table("Designs", "design", "differs from seed in", "description")
    for name, design in BUILTIN.items():
        diff = ", ".join(f"{k}={v}" for k, v in design.overrides().items()) or "-"
        listed.add_row(name, diff, design.description)
    console.print(listed)
    listed = table("Decisions (first variant is the seed's default)", "decision", "variants", "question")
    for d in decisions:
        listed.add_row(d.name + (" (broken)" if d.broken else ""), " | ".join(d.variants), d.question)
    console.print(listed)


@click.command()
@json_option
def properties(as_json: bool) -> None:
    """List the property catalogue."""
    if as_json:
        emit_json(schemas.PROPERTIES, {"properties": [{"id": p.id, "sentence": p.sentence, "source": p.source,
                                                       "kind": p.kind} for p in CATALOGUE]})
        return
    listed = Table(title="Properties", title_justify="left", show_lines=True)
    listed.add_column("id")
    listed.add_column("kind")
    listed.add_column("sentence", ratio=3)
    listed.add_column("source", ratio=2)
    for p in CATALOGUE:
        listed.add_row(p.id, p.kind, p.sentence, p.source)
    out_console().print(listed)
