"""`memview report`'s page: one self-contained HTML file (styles, pictures and its one small script
inline, nothing fetched) with a section per kind of result.

Sections, each a `<section class="report-section">` with a fixed id: the verdicts per property and
engine (`verdicts`), every counterexample as a timeline picture (`counterexamples`), conformance
(`conformance`), the abstract state graph (`state-graph`), the mutation kill matrix (`mutants`) and
the design's decisions with their sources (`decisions`). A section whose results were neither run
nor given says so and how to get them, so a page always has every section.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import memview
from memview.errors import InputError
from memview.model.design import DECISIONS, Design
from memview.properties.catalogue import CATALOGUE
from memview.report.results import Results
from memview.report.sources import linked
from memview.report.timeline import Lane, timeline_svg, trace_svg
from memview.traces.conform import judged_as
from memview.traces.explain import explain
from memview.traces.itf import read_trace, trace_from_itf
from memview.traces.trace import Trace

SECTIONS = (
    ("verdicts", "Verdicts per property and engine"),
    ("counterexamples", "Counterexamples"),
    ("conformance", "Conformance"),
    ("state-graph", "Abstract state graph"),
    ("mutants", "Mutation kill matrix"),
    ("decisions", "Design decisions"),
)
DIVERGENCE_PICTURES = 6  # a backend that fails everything would otherwise make a page of pictures
GOOD = {"proved", "holds (bounded)", "conform", "killed"}
BAD = {"violated", "diverge", "backend-failed", "survived", "error"}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;opacity:.9}nav{padding:8px 24px;background:#e8eef5;font-size:14px}
nav a{margin-right:14px}main{padding:8px 24px 40px}section{margin:18px 0 28px}
h2{border-bottom:2px solid #1f3a5f;padding-bottom:4px}table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#eef}
td.good{background:#e3f4e3}td.bad{background:#fbe0de;font-weight:bold}td.other{background:#fff5d6}
.picture{overflow-x:auto;background:#fff;border:1px solid #ddd;padding:6px;margin:8px 0}
pre{background:#fff;border:1px solid #ddd;padding:8px;overflow-x:auto;font-size:12px}
.note{color:#555;font-style:italic}.changed{font-weight:bold;color:#a33}code{font-size:12px}
"""
# The page's one script: a summary line per section in the navigation bar. The page reads fully
# without it; the browser test checks it runs without errors (data-memview-ready).
SCRIPT = """
document.addEventListener("DOMContentLoaded", function () {
  var nav = document.getElementById("nav");
  document.querySelectorAll("section.report-section").forEach(function (section) {
    var link = document.createElement("a");
    var bad = section.querySelectorAll("td.bad").length;
    link.href = "#" + section.id;
    link.textContent = section.querySelector("h2").textContent + (bad ? " (" + bad + " \\u2717)" : "");
    nav.appendChild(link);
  });
  document.documentElement.setAttribute("data-memview-ready", "yes");
});
"""


def _cell_class(verdict: str) -> str:
    return "good" if verdict in GOOD else "bad" if verdict in BAD else "other"


def _ident(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9]+", "-", part).strip("-").lower() for part in parts)


def _not_run(what: str) -> str:
    return (f'<p class="note">No {what} results: pass <code>--run {what}</code> to run it, or '
            f"<code>--from FILE</code> with the saved output of <code>memview {what} --json</code>.</p>")


def _property_results(results: Results) -> list[dict[str, Any]]:
    found = []
    for kind in ("check", "prove"):
        data = results.get(kind)
        if data is not None:
            found += [r for r in data.get("results", []) if isinstance(r, dict)]
    return found


def verdicts_section(results: Results) -> str:
    rows = _property_results(results)
    if not rows:
        return _not_run("check")
    engines = sorted({str(r.get("engine")) for r in rows})
    by_cell = {(r.get("property"), r.get("engine")): r for r in rows}
    head = "".join(f"<th>{escape(e)}</th>" for e in engines)
    body = []
    for prop in CATALOGUE:
        cells = []
        for engine in engines:
            result = by_cell.get((prop.id, engine))
            if result is None:
                cells.append('<td class="note">-</td>')
                continue
            verdict = str(result.get("verdict"))
            text = escape(verdict)
            if "counterexample" in result:
                text = f'<a href="#{_ident("cx", prop.id, engine)}">{text}</a>'
            how = escape(str(result.get("how", "")))
            cells.append(f'<td class="{_cell_class(verdict)}" title="{how}">{text}</td>')
        body.append(f"<tr><th>{escape(prop.id)}</th><td>{escape(prop.sentence)}</td>{''.join(cells)}</tr>")
    return (f"<table><tr><th>property</th><th>sentence</th>{head}</tr>{''.join(body)}</table>"
            '<p class="note">Hover a verdict for how the engine reached it.</p>')


def counterexamples_section(results: Results, pictures: dict[str, str]) -> str:
    # One engine's search often ends several properties on the same trace: draw each trace once.
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for result in _property_results(results):
        itf = result.get("counterexample")
        if itf is not None:
            key = json.dumps(itf.get("states"), sort_keys=True) + str(result.get("engine"))
            groups.setdefault(key, []).append((str(result.get("property")), str(result.get("engine")), itf))
    parts = []
    for group in groups.values():
        props = [prop for prop, _, _ in group]
        engine, itf = group[0][1], group[0][2]
        trace = trace_from_itf(itf, f"{props[0]} {engine} counterexample")
        ident = _ident("cx", props[0], engine)
        title = f"{', '.join(props)} violated: {engine}'s counterexample, {len(trace.steps)} steps"
        pictures[ident] = trace_svg(trace, ident + "-svg", title)
        anchors = "".join(f'<a id="{_ident("cx", prop, engine)}"></a>' for prop in props[1:])
        parts.append(f'<article id="{ident}">{anchors}<h3>{escape(title)}</h3>'
                     f'<div class="picture">{pictures[ident]}</div>'
                     f"<details><summary>explain (text)</summary><pre>{escape(explain(trace))}</pre></details>"
                     "</article>")
    if not parts:
        ran = _property_results(results)
        return '<p class="note">No property was violated.</p>' if ran else _not_run("check")
    return "".join(parts)


def _divergent_trace(name: str) -> Trace | None:
    from memview.traces.corpus import CORPUS_DIR

    for path in (Path(name), CORPUS_DIR / name):
        if path.is_file():
            try:
                return read_trace(path)
            except InputError:
                return None
    return None


def conformance_section(results: Results, pictures: dict[str, str], design: Design) -> str:
    data = results.get("conform")
    if data is None:
        return _not_run("conform")
    verdicts = [v for v in data.get("verdicts", []) if isinstance(v, dict)]
    failed = [v for v in verdicts if v.get("status") != "conform"]
    parts = [f"<p>{len(verdicts) - len(failed)} of {len(verdicts)} traces conform on backend "
             f"<code>{escape(str(data.get('backend')))}</code>.</p>"]
    rows = []
    for v in failed or verdicts[:0]:
        rows.append(f"<tr><td>{escape(str(v.get('trace')))}</td><td class=\"{_cell_class(str(v.get('status')))}\">"
                    f"{escape(str(v.get('status')))}</td><td>{escape(str(v.get('step', '')))}</td>"
                    f"<td>{escape(_observation_text(v.get('expected')))}</td>"
                    f"<td>{escape(_observation_text(v.get('observed')) or str(v.get('failure', '')))}</td></tr>")
    if rows:
        parts.append("<table><tr><th>trace</th><th>verdict</th><th>step</th><th>expected</th><th>observed</th></tr>"
                     + "".join(rows) + "</table>")
    for number, verdict in enumerate(failed[:DIVERGENCE_PICTURES]):
        trace = _divergent_trace(str(verdict.get("trace")))
        step = verdict.get("step")
        if trace is None or not isinstance(step, int):
            continue
        ident = _ident("diverge", str(number))
        title = (f"{verdict.get('trace')}: step {step} expected {_observation_text(verdict.get('expected'))}, "
                 f"observed {_observation_text(verdict.get('observed')) or verdict.get('failure')}")
        held = judged_as(trace, design)  # what the model expects under the report's design
        prefix = Trace(held.design, held.config, held.steps[: step + 1], dict(held.meta))
        pictures[ident] = timeline_svg([Lane("expected (the model)", prefix)], ident + "-svg", title, marked=step)
        parts.append(f'<h3>{escape(title)}</h3><div class="picture">{pictures[ident]}</div>')
    if len(failed) > DIVERGENCE_PICTURES:
        parts.append(f'<p class="note">Pictures of the first {DIVERGENCE_PICTURES} of {len(failed)} failures.</p>')
    return "".join(parts)


def _observation_text(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    from memview.model.observation import Observation

    try:
        return str(Observation.from_json(data, "observation"))
    except InputError:
        return str(data)


def graph_section(results: Results) -> str:
    data = results.get("graph")
    if data is None:
        return _not_run("graph")
    caption = (f"{data.get('abstraction')} abstraction of design {data.get('design')} to depth {data.get('depth')}: "
               f"{data.get('nodes')} nodes, {data.get('edges')} edges (from {data.get('concrete', {}).get('nodes')} "
               "states)")
    if results.graph_svg is None:
        return f"<p>{escape(caption)}</p><p class=\"note\">The picture ({escape(str(data.get('out')))}) is not " \
               "an SVG file the report can read.</p>"
    return f"<p>{escape(caption)}</p><div class=\"picture\">{results.graph_svg}</div>"


def mutants_section(results: Results) -> str:
    data = results.get("mutants")
    if data is None:
        return _not_run("mutants")
    engines = [str(e) for e in data.get("engines", [])]
    rows = []
    for mutant in data.get("mutants", []):
        cells = []
        for engine in engines:
            cell = mutant.get("cells", {}).get(engine)
            if cell is None:
                cells.append('<td class="note">-</td>')
                continue
            status = str(cell.get("status"))
            shown = status if status == "n/a" else f"{status} {cell.get('seconds')} s"
            cells.append(f'<td class="{_cell_class(status)}" title="{escape(str(cell.get("finding", "")))}">'
                         f"{escape(shown)}</td>")
        kind = "equivalent" if mutant.get("equivalent") else str(mutant.get("kind"))
        rows.append(f"<tr><th>{escape(str(mutant.get('name')))}</th><td>{escape(kind)}</td>"
                    f"<td>{escape(str(mutant.get('mistake')))}</td>{''.join(cells)}</tr>")
    summary = data.get("summary", {})
    line = (f"{summary.get('killed')} of {summary.get('non_equivalent')} non-equivalent mutants killed; survivors: "
            f"{', '.join(summary.get('survivors', [])) or 'none'}; equivalent: "
            f"{', '.join(summary.get('equivalent', [])) or 'none'}; budget {data.get('budget_seconds')} s per cell. "
            "The corpus kills an equivalent mutant by its mutant-* trace: equivalent means no property tells.")
    head = "".join(f"<th>{escape(e)}</th>" for e in engines)
    return (f"<p>{escape(line)}</p><table><tr><th>mutant</th><th>kind</th><th>mistake</th>{head}</tr>"
            + "".join(rows) + "</table>")


def decisions_section(design: Design) -> str:
    rows = []
    for decision in DECISIONS:
        chosen = design[decision.name]
        changed = chosen != decision.default
        label = f'<span class="changed">{escape(chosen)}</span> (seed: {escape(decision.default)})' if changed \
            else escape(chosen)
        broken = " <b>broken on purpose</b>" if decision.broken else ""
        rows.append(f"<tr><th>{escape(decision.name)}{broken}</th><td>{label}</td>"
                    f"<td>{escape(decision.variants[chosen])}</td><td>{escape(decision.question)}</td>"
                    f"<td>{linked(decision.source)}</td></tr>")
    mutations = (f"<p>Seeded bugs (mutations): {escape(', '.join(sorted(design.mutations)))}</p>"
                 if design.mutations else "")
    return (f"{mutations}<table><tr><th>decision</th><th>variant</th><th>meaning</th><th>question</th>"
            f"<th>source</th></tr>{''.join(rows)}</table>"
            '<p class="note">Each decision\'s reasoning is in docs/semantics.md.</p>')


@dataclass(frozen=True)
class Page:
    html: str
    pictures: dict[str, str]  # name -> SVG of each timeline on the page, also written beside it


def render_page(design: Design, results: Results) -> Page:
    pictures: dict[str, str] = {}
    bodies = {
        "verdicts": verdicts_section(results),
        "counterexamples": counterexamples_section(results, pictures),
        "conformance": conformance_section(results, pictures, design),
        "state-graph": graph_section(results),
        "mutants": mutants_section(results),
        "decisions": decisions_section(design),
    }
    sections = "".join(f'<section id="{ident}" class="report-section"><h2>{escape(title)}</h2>{bodies[ident]}'
                       "</section>" for ident, title in SECTIONS)
    overrides = ", ".join(f"{k}={v}" for k, v in design.overrides().items()) or "the seed's defaults"
    sources = "; ".join(f"{kind}: {source}" for kind, source in results.sources.items()) or "nothing"
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Page(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>memview report: '
            f"{escape(design.name)}</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
            f"<header><h1>memview report: design {escape(design.name)}</h1><p>{escape(design.description)}</p>"
            f"<p>Decisions: {escape(overrides)}</p><p>memview {escape(memview.__version__)}, {when}; results from "
            f"{escape(sources)}</p></header><nav id=\"nav\"></nav><main>{sections}</main></body></html>\n", pictures)
