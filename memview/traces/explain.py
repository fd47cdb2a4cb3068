"""A readable account of a trace: a timeline of its steps and the view's layout wherever it changes.

Explaining replays the trace on the model to learn the state after each step (a trace stores only
actions and observations). The observations shown are the recorded ones; a step where the model
now answers differently is flagged, since the trace then no longer describes the model (the model
changed, or the trace was edited by hand). Layout tables follow the seed's:

    Range (GiB)   Fd               Permissions
    0-8           big-file.iso     read
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memview.model.arguments import ARG_KINDS, perms_text, perms_words, who
from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.constants import ObjKind
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.queries import fd_offset_of
from memview.model.state import State
from memview.properties.catalogue import BY_ID, CATALOGUE
from memview.traces.isol_pair import HiddenSpan, IsolPair, isol_pair
from memview.traces.reached import reached
from memview.traces.replay import replay
from memview.traces.trace import Step, Trace

UNITS = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1))
# Integer arguments that are byte counts or offsets, shown in units; others in decimal or hex.
SIZE_ARGS = {"size", "length", "offset", "fd_offset", "mem_offset"}
# The seed's column widths (range, fd), widened when a cell needs more.
LAYOUT_WIDTHS = (14, 17)
GAP = 3


@dataclass(frozen=True)
class LayoutRow:
    lo: int  # bytes into the view
    hi: int
    slot: int | None  # object slot; None for a gap no range covers
    name: str | None
    fd_offset: int | None  # bytes into the object where the row starts
    perms: int | None


@dataclass(frozen=True)
class LayoutTable:
    """The view's layout as explain's table shows it: rows by address, gaps and object names included."""

    view_size: int  # bytes
    rows: list[LayoutRow]  # by address, gaps included up to view_size


@dataclass(frozen=True)
class StepReport:
    index: int
    step: Step
    who: str
    operation: str
    replayed: Observation
    layout: LayoutTable | None  # set when this step changed the layout
    violated: tuple[str, ...] = ()  # properties this step violates, replayed on the model
    reached: str | None = None  # for a client access that violates one: what it reached
    # The model's states around the step and the objects' names after it, for pictures (memview.report).
    before: State | None = None
    after: State | None = None
    names: tuple[tuple[int, str], ...] = ()

    @property
    def differs(self) -> bool:
        return self.replayed != self.step.observation


# ---------------------------------------------------------------------------------------------
# Replay


def size_text(value: int) -> str:
    for unit, scale in UNITS[:-1]:
        if value and value % scale == 0:
            return f"{value // scale} {unit}"
    return str(value)


def operation_text(step: Step) -> str:
    parts = []
    for (name, kind), word in zip(step.action.spec.args, step.action.args, strict=True):
        shown = size_text(word) if kind == "int" and name in SIZE_ARGS else ARG_KINDS[kind].text(word)
        parts.append(f"{name}={shown}")
    text = f"{step.action.name}({', '.join(parts)})"
    return f'{text} "{step.label}"' if step.label else text


def _layout_key(state: State) -> tuple[int, frozenset[tuple[int, ...]]]:
    # The size is part of the key as the table shows the gaps up to it.
    used = frozenset((r.lo, r.hi, r.obj, r.delta, r.perms) for r in state.view.ranges if r.used)
    return state.view.size, used


def _object_name(state: State, slot: int, names: dict[int, str]) -> str:
    if slot in names:
        return names[slot]
    kind = ObjKind(state.objs[slot].kind).name.lower() if slot < len(state.objs) else "object"
    return f"{kind}#{slot}"


def layout_of(state: State, config: Config, names: dict[int, str]) -> LayoutTable:
    page = config.page_size
    rows = []
    for r in sorted((r for r in state.view.ranges if r.used), key=lambda r: r.lo):
        fd_offset = fd_offset_of(CONCRETE, config.page_shift, r)
        rows.append(LayoutRow(r.lo * page, r.hi * page, r.obj, _object_name(state, r.obj, names), fd_offset, r.perms))
    gaps = []
    at = 0
    for row in [*rows, LayoutRow(state.view.size, state.view.size, None, None, None, None)]:
        if at < min(row.lo, state.view.size):
            gaps.append(LayoutRow(at, min(row.lo, state.view.size), None, None, None, None))
        at = max(at, row.hi)
    return LayoutTable(state.view.size, sorted(rows + gaps, key=lambda row: row.lo))


def _state_before(trace: Trace, index: int) -> tuple[State, dict[int, str]]:
    """The model's state just before step `index`, and the objects' names by slot."""
    names: dict[int, str] = {}
    state = Machine(trace.design, trace.config).state
    for replayed in replay(trace):
        if replayed.index == index:
            return replayed.pre, names
        _name_created(replayed.pre, replayed.post, replayed.step, names)
        state = replayed.post
    return state, names


def layout_before(trace: Trace, index: int) -> list[str]:
    """The view layout table as it stands just before step `index` of the trace."""
    state, names = _state_before(trace, index)
    return layout_table(layout_of(state, trace.config, names))


def _name_created(before: State, after: State, step: Step, names: dict[int, str]) -> None:
    """Objects a step created take its label (or kind#slot) as their name."""
    for slot, (old, new) in enumerate(zip(before.objs, after.objs, strict=True)):
        if new.exists and not old.exists:
            names[slot] = step.label or f"{ObjKind(new.kind).name.lower()}#{slot}"


def two_run_pair(trace: Trace) -> IsolPair | None:
    """The pair of runs of a trace recorded as a two-run property's counterexample (ISOL's)."""
    prop = BY_ID.get(str(trace.meta.get("property", "")))
    return isol_pair(trace, prop) if prop is not None and prop.second_run is not None else None


def report_steps(trace: Trace) -> list[StepReport]:
    names: dict[int, str] = {}  # object slot -> the label of the step that created it
    reports = []
    properties = list(CATALOGUE)
    for replayed in replay(trace):
        index, step, before, after, obs = replayed.index, replayed.step, replayed.pre, replayed.post, replayed.obs
        violated = tuple(replayed.violated(properties))
        what = reached(replayed.ctx, before, step.action, obs, names) if violated else None
        _name_created(before, after, step, names)
        changed = _layout_key(before) != _layout_key(after)
        layout = layout_of(after, trace.config, names) if changed else None
        reports.append(StepReport(index, step, who(step.action.proc, trace.config), operation_text(step),
                                  replayed.observed, layout, violated, what, before, after,
                                  tuple(sorted(names.items()))))
    return reports


# ---------------------------------------------------------------------------------------------
# Rendering


def _unit(layout: LayoutTable) -> tuple[str, int]:
    """The largest unit in which every boundary is a whole number."""
    bounds = [layout.view_size] + [b for row in layout.rows for b in (row.lo, row.hi)]
    return next((unit, scale) for unit, scale in UNITS if all(b % scale == 0 for b in bounds))


def _columns(rows: Sequence[Sequence[str]], widths: tuple[int, ...] = ()) -> list[str]:
    """Fixed-width columns, each at least as wide as widths asks; the last is not padded."""
    count = len(rows[0])
    sizes = [max(len(row[i]) for row in rows) + GAP for i in range(count - 1)]
    sizes = [max(size, widths[i] if i < len(widths) else 0) for i, size in enumerate(sizes)]
    return ["".join(cell.ljust(size) for cell, size in zip(row, sizes, strict=False)) + row[-1] for row in rows]


def layout_table(layout: LayoutTable) -> list[str]:
    unit, scale = _unit(layout)
    cells = [(f"Range ({unit})", "Fd", "Permissions")]
    for row in layout.rows:
        name = row.name if row.name is not None else "<none>"
        perms = perms_words(row.perms) if row.perms is not None else "<none>"
        cells.append((f"{row.lo // scale}-{row.hi // scale}", name, perms))
    return _columns(cells, LAYOUT_WIDTHS)


def _header(trace: Trace) -> list[str]:
    overrides = trace.design.overrides()
    changes = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "the seed's defaults"
    config = ", ".join(f"{k}={v}" for k, v in trace.config.to_json().items())
    lines = [f"Design: {trace.design.name} ({changes})", f"Config: {config}"]
    lines += [f"{key.capitalize()}: {value}" for key, value in trace.meta.items()]
    return lines


def explain(trace: Trace) -> str:
    reports = report_steps(trace)
    lines = [*_header(trace), ""]
    rows = [("step", "who", "operation", "observation")]
    rows += [(str(r.index), r.who, r.operation, str(r.step.observation)) for r in reports]
    timeline = _columns(rows)
    lines.append(timeline[0])
    for report, line in zip(reports, timeline[1:], strict=True):
        if report.differs:
            line += "   <-- DIFFERS"
        if report.violated:
            line += f"   <-- violates {', '.join(report.violated)}"
        lines.append(line)
        if report.reached is not None:
            lines.append(f"      ! {report.reached}")
        if report.differs:
            lines.append(
                f"      ! step {report.index}: the model now gives {report.replayed}, "
                f"the trace recorded {report.step.observation}"
            )
        if report.layout is not None:
            lines += ["", *(f"      {text}" for text in layout_table(report.layout)), ""]
    lines += ["", _summary(reports)]
    pair = two_run_pair(trace)
    if pair is not None:
        lines += ["", *_pair_lines(trace, reports, pair)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _span_text(span: HiddenSpan) -> str:
    end = "end" if span.hi == 1 << 64 else size_text(span.hi)
    return f"{size_text(span.lo) if span.lo else '0'}-{end}"


def _hidden_text(trace: Trace, pair: IsolPair) -> str:
    state, names = _state_before(trace, pair.step)
    by_object: dict[str, list[str]] = {}
    for span in pair.hidden:
        by_object.setdefault(_object_name(state, span.slot, names), []).append(_span_text(span))
    return "; ".join(f"{name} bytes {', '.join(spans)}" for name, spans in by_object.items())


def _pair_lines(trace: Trace, reports: list[StepReport], pair: IsolPair) -> list[str]:
    """Run 1 (the trace) and run 2 side by side, up to the step where a client tells them apart."""
    lines = [
        f"ISOL pair: run 2 performs the same operations, but just before step {pair.step} every backing byte",
        f"no range lets a client read holds {pair.value:#04x} ({_hidden_text(trace, pair)}).",
        f"At step {pair.step} {reports[pair.step].who} observes {pair.first} in run 1 and {pair.second} in run 2: "
        "it saw a byte it had no right to see.",
        "",
    ]
    rows = [("step", "who", "operation", "run 1", "run 2")]
    for report in reports[: pair.step + 1]:
        second = pair.second if report.index == pair.step else report.step.observation
        rows.append((str(report.index), report.who, report.operation, str(report.step.observation), str(second)))
    table = _columns(rows)
    table[-1] += "   <-- the runs differ"
    return lines + table


def _summary(reports: list[StepReport]) -> str:
    differing = [str(r.index) for r in reports if r.differs]
    if not differing:
        return f"Replay: the model gives every recorded observation ({len(reports)} steps)."
    return (
        f"Replay: {len(differing)} of {len(reports)} steps differ from the model "
        f"(step{'s' if len(differing) > 1 else ''} {', '.join(differing)})."
    )


def _row_json(row: LayoutRow) -> dict[str, Any]:
    return {
        "lo": row.lo,
        "hi": row.hi,
        "object": row.name,
        "slot": row.slot,
        "fd_offset": row.fd_offset,
        "perms": perms_text(row.perms) if row.perms is not None else None,
    }


def _layout_json(layout: LayoutTable) -> dict[str, Any]:
    unit, _ = _unit(layout)
    return {"view_size": layout.view_size, "unit": unit, "rows": [_row_json(row) for row in layout.rows]}


def explain_json(trace: Trace) -> dict[str, Any]:
    """What explain prints, as data (integers plain, sizes in bytes) for `memview explain --json`."""
    reports = report_steps(trace)
    steps = []
    for r in reports:
        entry: dict[str, Any] = {
            "step": r.index,
            "who": r.who,
            "action": r.step.action.readable(),
            "label": r.step.label,
            "operation": r.operation,
            "observation": str(r.step.observation),
            "replayed": str(r.replayed),
            "differs": r.differs,
            "layout": None if r.layout is None else _layout_json(r.layout),
            "violates": list(r.violated),
            "reached": r.reached,
        }
        steps.append(entry)
    out: dict[str, Any] = {
        "design": trace.design.to_json(),
        "config": trace.config.to_json(),
        "meta": dict(trace.meta),
        "steps": steps,
        "differing_steps": [r.index for r in reports if r.differs],
    }
    pair = two_run_pair(trace)
    if pair is not None:
        state, names = _state_before(trace, pair.step)
        out["isol_pair"] = {
            "step": pair.step,
            "value": pair.value,
            "run1": str(pair.first),
            "run2": str(pair.second),
            "hidden": [{"object": _object_name(state, span.slot, names), "slot": span.slot, "lo": span.lo,
                        "hi": span.hi} for span in pair.hidden],
        }
    return out
