"""`memview graph` and `memview generate`: the state graph of a small configuration, and regression
traces that cover it (or the design's decisions, or the properties)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from memview import schemas
from memview.cli.options import depth_option, design_option, json_option, out_dir_option
from memview.cli.output import EXIT_OK, emit_json, out_console, write_traces
from memview.model.design import load_design


@click.command()
@design_option()
@depth_option("Explicit-search depth after the set-up prefix.", default=2)
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
@json_option
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


@click.command()
@design_option()
@click.option("--coverage", "kinds", multiple=True, default=("edges",), show_default=True,
              help="edges (of the abstract state graph), decisions or properties (repeatable).")
@depth_option("Explicit-search depth after the set-up prefix [default: edges 2, decisions and properties 3].")
@click.option("--abstract", "abstraction", default="layout", show_default=True,
              help="The abstraction whose edges --coverage edges covers: layout, client, layout+client or none.")
@out_dir_option("Write the traces here (ITF JSON), one file each.")
@json_option
def generate(design_spec: str, kinds: tuple[str, ...], depth: int | None, abstraction: str, out_dir: Path | None,
             as_json: bool) -> None:
    """Generate regression traces that together cover the abstract graph's edges, the design's
    decisions or the properties' interesting steps; each carries the design's observations."""
    from memview.checker.check import prepare_out_dir
    from memview.checker.coverage import check_request, generate_traces

    check_request(kinds, depth, abstraction)
    design = load_design(design_spec)
    if out_dir is not None:
        prepare_out_dir(out_dir)
    results = generate_traces(design, kinds, depth, abstraction)
    written = []
    if out_dir is not None:
        written = write_traces(out_dir, (trace for result in results for trace in result.traces))
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
