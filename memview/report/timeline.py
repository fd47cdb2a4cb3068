"""A trace as a picture: one row per step, the view's layout after it drawn as coloured bars over the
view's address space, each process's mappings of the view and the translations it has cached drawn
under it, and the access of the step marked where it landed.

Every fact drawn comes from replaying the trace on the model (`explain.report_steps`): the layout is
`explain.layout_of`, where an access lands is `queries.place_of`, the violations and what a client
reached are the judge's and `reached`'s. A picture never works a rule out for itself.

Several lanes share the rows: one lane for a counterexample, two for `memview diff` (the same
operations under two designs), with the first step where the lanes' observations differ marked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from memview.model.arguments import mapping_text, perms_words, who
from memview.model.concrete import CONCRETE
from memview.model.constants import VMA_RAW
from memview.model.context import Ctx
from memview.model.encodings import cached_spans, raw_object
from memview.model.observation import Observation
from memview.model.queries import mapped_pages, place_of
from memview.model.state import Proc
from memview.report.svg import (
    BAD_COLOUR,
    CHAR_WIDTH,
    GAP_COLOUR,
    OBJECT_COLOURS,
    OK_COLOUR,
    Svg,
    fit,
)
from memview.traces.explain import StepReport, layout_of, report_steps, size_text
from memview.traces.trace import Trace

STEP_COLUMN = 380  # step number, process and operation
LANE_WIDTH = 520
LANE_GAP = 24
LAYOUT_HEIGHT = 18
CLIENT_HEIGHT = 10
CLIENT_PITCH = 14
REACHED_WRAP = 110  # characters of the 9 px font per line of what a client reached
LEGEND = ("each row: the state after the step. view: A's ranges (object +offset permissions), grey where no range, "
          "hatched where revoked; under it each process's mappings of the view (protection), a coloured strip where "
          "it caches a translation to that object; a triangle where the step's access landed")
RAW_NAMES = 220  # right of the last lane: the names of raw fd mappings (design fdpass)
WARN_COLOUR = "#e08a00"  # a signal the design asks for: not a violation, but not ok either


@dataclass(frozen=True)
class Lane:
    title: str
    trace: Trace


def _colour(slot: int) -> str:
    return OBJECT_COLOURS[slot % len(OBJECT_COLOURS)]


def _page_bytes(trace: Trace) -> int:
    return trace.config.page_size


def _axis_size(reports: Sequence[StepReport], trace: Trace) -> int:
    """The widest view the trace ever has (at least a page), so every row shares one axis."""
    sizes = [r.after.view.size for r in reports if r.after is not None]
    return int(max([*sizes, _page_bytes(trace)]))


def _shown_processes(report: StepReport, trace: Trace) -> list[int]:
    """Processes with a mapping of the view or a cached translation after the step, and the actor."""
    after = report.after
    assert after is not None
    shown = []
    for index, proc in enumerate(after.procs):
        has_mapping = any(v.used for v in proc.vmas)
        cached = bool(cached_spans(proc))
        if (proc.alive and (has_mapping or cached)) or (index == report.step.action.proc and index != 0):
            shown.append(index)
    return shown


class _Scale:
    def __init__(self, x: float, width: float, axis_bytes: int) -> None:
        self.x, self.width, self.axis = x, width, axis_bytes

    def at(self, byte: int) -> float:
        return self.x + self.width * min(byte, self.axis) / self.axis

    def span(self, lo: int, hi: int) -> tuple[float, float]:
        left, right = self.at(lo), self.at(hi)
        return left, max(right - left, 2.0)  # a page of a 16 GiB view stays visible


def _draw_layout(svg: Svg, report: StepReport, trace: Trace, scale: _Scale, y: float) -> None:
    after = report.after
    assert after is not None
    names = dict(report.names)
    layout = layout_of(after, trace.config, names)
    page = _page_bytes(trace)
    for row in layout.rows:
        x, w = scale.span(row.lo, row.hi)
        if row.slot is None:
            svg.rect(x, y, w, LAYOUT_HEIGHT, GAP_COLOUR, title=f"{size_text(row.lo)}-{size_text(row.hi)}: no range")
            continue
        label = f"{row.name} +{size_text(row.fd_offset or 0)} {perms_words(row.perms or 0)}"
        svg.rect(x, y, w, LAYOUT_HEIGHT, _colour(row.slot), title=f"{size_text(row.lo)}-{size_text(row.hi)}: {label}",
                 css_class="range")
        svg.text(x + 3, y + 13, fit(label, w - 4), size=10)
    for lo, hi, value in after.revoked.segments(0, max(after.view.size // page, 1)):
        if value:
            x, w = scale.span(lo * page, hi * page)
            svg.rect(x, y, w, LAYOUT_HEIGHT, "none", hatched=True, title="revoked, not mapped since")
    if after.view.size < scale.axis:  # past the view's end: no outline, nothing to draw
        svg.line(scale.at(after.view.size), y - 2, scale.at(after.view.size), y + LAYOUT_HEIGHT + 2, dash="2,2")


def _draw_process(svg: Svg, proc: Proc, trace: Trace, scale: _Scale, y: float, names: dict[int, str]) -> None:
    page = _page_bytes(trace)
    raw = []
    for vma in proc.vmas:
        if not vma.used:
            continue
        if vma.attrs & VMA_RAW:  # a mapping of a backing fd, not of the view: named, not placed on the axis
            slot = raw_object(CONCRETE, vma)
            lo, hi = (edge * page for edge in mapped_pages(CONCRETE, vma))
            raw.append(f"raw {names.get(slot, f'object#{slot}')} +{size_text(lo)}..{size_text(hi)} "
                       f"{mapping_text(vma.attrs)}")
            continue
        lo, hi = (edge * page for edge in mapped_pages(CONCRETE, vma))
        x, w = scale.span(lo, hi)
        svg.rect(x, y, w, CLIENT_HEIGHT, "#ffffff", stroke="#555555", title=f"mapped {mapping_text(vma.attrs)}",
                 css_class="mapping")
        svg.text(x + 2, y + 8, fit(mapping_text(vma.attrs), w - 4), size=8)
    for lo, hi, slot in cached_spans(proc, 0, scale.axis // page + 1):
        x, w = scale.span(lo * page, hi * page)
        svg.rect(x, y + CLIENT_HEIGHT - 3, w, 3, _colour(slot),
                 title=f"cached translation to {names.get(slot, f'object#{slot}')}", css_class="cached")
    if raw:
        svg.text(scale.x + scale.width + 14, y + 8, "; ".join(raw), size=8)


RAW = -1  # an access through a mapping of a raw backing fd: marked beside the raw mappings' names


def _access_place(report: StepReport, trace: Trace) -> int | None:
    """The view byte the step's access went to (RAW through a raw fd's mapping; None for none)."""
    act, before = report.step.action, report.before
    if act.name != "access" or before is None:
        return None
    ctx = Ctx(CONCRETE, trace.design, trace.config)
    place = place_of(ctx, before, before.procs[act.proc], act.arg("addr"))
    if not place.mapped:
        return None
    return RAW if place.raw else int(place.view_byte)


def _outcome_colour(report: StepReport, observation: Observation) -> str:
    if report.violated:
        return BAD_COLOUR
    return OK_COLOUR if observation.outcome == "ok" else WARN_COLOUR


@dataclass(frozen=True)
class _LaneRows:
    lane: Lane
    reports: list[StepReport]
    axis: int


COMPACT_HEIGHT = 20


def _compact(rows: list[_LaneRows], index: int, marked: int | None) -> bool:
    """A step that changed no layout and shows no process (most of a set-up) is one line of text."""
    if index == marked:
        return False
    for lane in rows:
        report = lane.reports[index]
        if report.layout is not None or report.violated or _shown_processes(report, lane.lane.trace):
            return False
    return True


def _row_height(rows: list[_LaneRows], index: int) -> float:
    processes = max(len(_shown_processes(lane.reports[index], lane.lane.trace)) for lane in rows)
    notes = max(len(textwrap.wrap(lane.reports[index].reached or "", REACHED_WRAP)) for lane in rows)
    return 22 + LAYOUT_HEIGHT + 6 + processes * CLIENT_PITCH + 11 * notes + 8


def first_difference(lanes: Sequence[Lane]) -> int | None:
    """The first step whose recorded observations differ between the lanes."""
    steps = [lane.trace.steps for lane in lanes]
    for index, group in enumerate(zip(*steps, strict=False)):
        if len({str(step.observation) for step in group}) > 1:
            return index
    return None


def timeline_svg(lanes: Sequence[Lane], ident: str, title: str, marked: int | None = None,
                 mark_label: str = "diverged here") -> str:
    """The lanes' traces step by step (they must perform the same operations, as diff's do); the
    marked step (by default, with several lanes, the first whose observations differ) is framed."""
    rows = []
    for lane in lanes:
        reports = report_steps(lane.trace)
        rows.append(_LaneRows(lane, reports, _axis_size(reports, lane.trace)))
    count = min(len(r.reports) for r in rows)
    if marked is None and len(lanes) > 1:
        marked, mark_label = first_difference(lanes), "first difference"
    svg = Svg(STEP_COLUMN + len(lanes) * (LANE_WIDTH + LANE_GAP) + RAW_NAMES, ident, "memview-picture timeline")
    svg.text(8, 16, title, size=13, bold=True)
    for number, line in enumerate(textwrap.wrap(LEGEND, int((svg.width - 16) / CHAR_WIDTH * 10 / 9))):
        svg.text(8, 32 + 11 * number, line, size=9, colour="#555555", css_class="legend")
    y = svg.height + 10
    for number, lane_rows in enumerate(rows):
        lane_x = STEP_COLUMN + number * (LANE_WIDTH + LANE_GAP)
        svg.text(lane_x, y + 10, fit(lane_rows.lane.title, LANE_WIDTH), size=12, bold=True)
        svg.text(lane_x, y + 24, "0", size=9)
        svg.text(lane_x + LANE_WIDTH, y + 24, f"{size_text(lane_rows.axis)} of view", size=9, anchor="end")
    y += 32
    for index in range(count):
        compact = _compact(rows, index, marked)
        height = COMPACT_HEIGHT if compact else _row_height(rows, index)
        first = rows[0].reports[index]
        violated = any(r.reports[index].violated for r in rows)
        if violated or index == marked:
            svg.rect(2, y - 2, svg.width - 4, height - 4, "#fdecea" if violated else "#fff4e0",
                     stroke=BAD_COLOUR if index == marked else "none",
                     css_class="step violated" if violated else "step differs")
        svg.text(8, y + 12, f"{index:>2} {first.who:<3} {fit(first.operation, STEP_COLUMN - 60)}", size=11,
                 tooltip=first.operation)
        if index == marked:
            svg.text(8, y + 26, mark_label, size=10, colour=BAD_COLOUR, bold=True)
        for number, lane_rows in enumerate(rows):
            lane_x = STEP_COLUMN + number * (LANE_WIDTH + LANE_GAP)
            if compact:
                report = lane_rows.reports[index]
                svg.text(lane_x, y + 12, str(report.step.observation), size=11,
                         colour=_outcome_colour(report, report.step.observation), css_class="observation")
            else:
                _draw_lane_step(svg, lane_rows, index, lane_x, y)
        svg.line(4, y + height - 4, svg.width - 4, y + height - 4, colour="#dddddd")
        y += height
    return svg.render(title)


def _draw_lane_step(svg: Svg, lane_rows: _LaneRows, index: int, x: float, y: float) -> None:
    report, trace = lane_rows.reports[index], lane_rows.lane.trace
    observation = report.step.observation
    colour = _outcome_colour(report, observation)
    verdict = f"  violates {', '.join(report.violated)}" if report.violated else ""
    svg.text(x, y + 12, f"{observation}{verdict}", size=11, colour=colour, bold=bool(report.violated),
             css_class="observation")
    scale = _Scale(x + 34, LANE_WIDTH - 34, lane_rows.axis)
    layout_y = y + 20
    svg.text(x, layout_y + 13, "view", size=9)
    _draw_layout(svg, report, trace, scale, layout_y)
    after = report.after
    assert after is not None
    names = dict(report.names)
    process_y = layout_y + LAYOUT_HEIGHT + 6
    target = _access_place(report, trace)
    for proc_index in _shown_processes(report, trace):
        svg.text(x, process_y + 8, who(proc_index, trace.config), size=9)
        _draw_process(svg, after.procs[proc_index], trace, scale, process_y, names)
        if target is not None and proc_index == report.step.action.proc:
            at = scale.x + scale.width + 8 if target == RAW else scale.at(target)
            svg.marker(at, process_y + CLIENT_HEIGHT, colour,
                       report.reached or f"{report.who} access: {observation}")
        process_y += CLIENT_PITCH
    if report.reached:
        for number, line in enumerate(textwrap.wrap(report.reached, REACHED_WRAP)):
            svg.text(x, process_y + 10 + 11 * number, line, size=9, colour=BAD_COLOUR, css_class="reached")


def trace_svg(trace: Trace, ident: str, title: str) -> str:
    return timeline_svg([Lane(trace.design.name, trace)], ident, title)
