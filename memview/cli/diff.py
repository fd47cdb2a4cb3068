"""`memview diff`: a shortest operation sequence two designs observe differently, as a table,
traces and a picture."""

from __future__ import annotations

from pathlib import Path

import click

from memview import schemas
from memview.cli.options import SEARCH_DEPTH, depth_option, json_option, out_dir_option, property_option
from memview.cli.output import emit_json, err_console, exit_with, out_console, table, write_traces
from memview.errors import InputError
from memview.model.design import load_design
from memview.properties.catalogue import select_properties


class SearchProgress:
    """Progress on stderr: a live line on a terminal, one line per finished depth otherwise."""

    def __init__(self, depth: int, quiet: bool) -> None:
        self.err = err_console()
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


@click.command()
@click.argument("design_a")
@click.argument("design_b")
@depth_option("Search depth after the set-up prefix.", default=3, kind=SEARCH_DEPTH)
@property_option("Compare these properties only (repeatable).")
@click.option("--no-properties", is_flag=True, help="Only look for an observable difference.")
@json_option
@out_dir_option("Directory for the distinguishing trace, once per design.")
@click.option("--picture", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE.svg",
              help="Draw the distinguishing trace under both designs side by side (SVG), the first difference marked.")
def diff(design_a: str, design_b: str, depth: int, property_ids: tuple[str, ...], no_properties: bool,
         as_json: bool, out_dir: Path | None, picture: Path | None) -> None:
    """Find a shortest operation sequence on which two designs' observations differ.

    Exit status 0: no observable difference up to the depth; 1: the designs differ.
    """
    from memview.checker.check import file_stem, prepare_out_dir
    from memview.checker.diff import compare_properties, lockstep

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
        pair = f"{file_stem(first.name)}-vs-{file_stem(second.name)}"
        written = write_traces(out_dir, ((f"{pair}.{file_stem(design.name)}", trace)
                                         for design, trace in zip((first, second), result.traces(), strict=True)))
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
        exit_with(result.differ)
    console = out_console()
    if result.steps is None:
        console.print(f"no observable difference between {first.name} and {second.name} up to depth {depth}")
    else:
        steps_table = table(f"{first.name} vs {second.name}: first difference at step {len(result.steps) - 1}",
                            "step", "operation", first.name, second.name)
        for index, step in enumerate(result.steps):
            mark = "[bold red]" if step.differs else ""
            steps_table.add_row(str(index), str(step.action), f"{mark}{step.seen_by_a}", f"{mark}{step.seen_by_b}")
        console.print(steps_table)
    if result.verdicts:
        verdicts = table("Properties (explicit search of each design)", "property", first.name, second.name)
        for prop, (a, b) in result.verdicts.items():
            style = "[bold]" if a != b else ""
            verdicts.add_row(f"{style}{prop}", f"{style}{a}", f"{style}{b}")
        console.print(verdicts)
    for trace_path in written:
        console.print(f"wrote {trace_path}")
    if drawn is not None:
        console.print(f"drew {drawn}")
    elif picture is not None:
        console.print(f"no picture: no difference to draw up to depth {depth}")
    console.print(f"searched: {result.scope.describe()}; {result.pairs} state pairs")
    exit_with(result.differ)
