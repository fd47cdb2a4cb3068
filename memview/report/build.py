"""`memview report`: get the results (read `--from` files, run the rest), then write the page, the
results it was made from and its pictures into one directory.

    OUT/index.html            the page (self-contained)
    OUT/results/KIND.json     each result the page shows, as the command printed it
    OUT/graph.svg             the abstract state graph (when graph ran)
    OUT/pictures/NAME.svg     each timeline picture on the page, on its own
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memview.errors import InputError
from memview.model.design import SEED, Design, design_from_json, load_design
from memview.report.page import render_page
from memview.report.results import KINDS, Command, Results, read_result, run_command
from memview.schemas import REPORT as SCHEMA


@dataclass(frozen=True)
class Settings:
    """What the commands the report runs are asked for (each as the command's own option)."""

    engines: str = "bmc,explore"
    depth: int | None = None
    jobs: int | None = None
    backend: str = "model"
    mutant_engines: str = "corpus"
    budget: float = 30.0
    graph_depth: int = 2
    abstraction: str = "layout"
    executor: str = "local"


@dataclass
class WrittenReport:
    """A report written to disk: its design, its page, the results it shows and its pictures."""

    design: Design
    page: Path
    results: Results
    pictures: list[Path] = field(default_factory=list)

    @property
    def failing(self) -> list[str]:
        """What the page shows going wrong, per kind (empty when everything holds, conforms, is killed)."""
        found = []
        for kind in ("check", "prove"):
            data = self.results.get(kind)
            if data and any(r.get("verdict") == "violated" for r in data.get("results", [])):
                found.append(f"{kind}: a property is violated")
        conform = self.results.get("conform")
        if conform and not conform.get("conform", True):
            found.append("conform: a trace does not conform")
        mutants = self.results.get("mutants")
        if mutants and mutants.get("summary", {}).get("survivors"):
            found.append("mutants: a mutant survives")
        return found

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "design": self.design.to_json(), "page": str(self.page),
                "results": dict(self.results.sources), "pictures": [str(p) for p in self.pictures],
                "failing": self.failing}


def parse_kinds(values: tuple[str, ...]) -> tuple[str, ...]:
    kinds: list[str] = []
    for value in values:
        for kind in filter(None, (part.strip() for part in value.split(","))):
            if kind == "none":
                continue
            if kind not in KINDS:
                raise InputError("--run", f"unknown result {kind!r} (choose from {', '.join(KINDS)}, or none)")
            if kind not in kinds:
                kinds.append(kind)
    return tuple(kinds)


def commands(design_spec: str, kinds: tuple[str, ...], settings: Settings, out: Path) -> list[Command]:
    jobs = ["--jobs", str(settings.jobs)] if settings.jobs is not None else []
    depth = ["--depth", str(settings.depth)] if settings.depth is not None else []
    executor = ["--executor", settings.executor]
    made = {
        "check": ["check", "--design", design_spec, "--engine", settings.engines, *depth, *jobs, *executor],
        "prove": ["prove", "--design", design_spec, *jobs, *executor],
        "conform": ["conform", "--backend", settings.backend, "--design", design_spec, "--corpus"],
        "mutants": ["mutants", "--engines", settings.mutant_engines, "--budget", str(settings.budget), *jobs,
                    *executor],
        "graph": ["graph", "--design", design_spec, "--depth", str(settings.graph_depth), "--abstract",
                  settings.abstraction, "--out", str(out / "graph.svg")],
    }
    return [Command(kind, made[kind]) for kind in kinds]


def _recorded_design(kind: str, data: dict[str, Any], place: str) -> Design | None:
    if kind not in ("check", "prove") or "design" not in data:
        return None
    return design_from_json(data["design"], f"{place}: design")


def _graph_svg(data: dict[str, Any]) -> str | None:
    path = Path(str(data.get("out", "")))
    if data.get("format") != "svg" or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    start = text.find("<svg")  # inline: drop Graphviz's XML prolog and doctype
    return text[start:] if start >= 0 else None


def build_report(design_spec: str | None, run: tuple[str, ...], from_files: tuple[Path, ...], out: Path,
                 settings: Settings, say: Callable[[str], None]) -> WrittenReport:
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a directory")
    results = Results()
    design = load_design(design_spec) if design_spec is not None else None
    for path in from_files:
        kind, data = read_result(path)
        if kind in results.by_kind:
            raise InputError(str(path), f"a second {kind} result (the first came from {results.sources[kind]})")
        recorded = _recorded_design(kind, data, str(path))
        if recorded is not None:
            if design is not None and recorded.to_json() != design.to_json():
                raise InputError(str(path), f"results for design {recorded.name}, but the report is for design "
                                 f"{design.name} (pass the same --design, or leave it out)")
            design = recorded
        results.by_kind[kind] = data
        results.sources[kind] = str(path)
    design = design or SEED
    spec = design_spec if design_spec is not None else _spec_for(design, out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    for command in commands(spec, tuple(k for k in run if k not in results.by_kind), settings, out):
        results.by_kind[command.kind] = run_command(command, say)
        results.sources[command.kind] = command.describe()
    for kind, data in results.by_kind.items():
        (out / "results" / f"{kind}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if "graph" in results.by_kind:
        results.graph_svg = _graph_svg(results.by_kind["graph"])
    page = render_page(design, results)
    outcome = WrittenReport(design, out / "index.html", results)
    outcome.page.write_text(page.html, encoding="utf-8")
    (out / "pictures").mkdir(exist_ok=True)
    for name, svg in page.pictures.items():
        path = out / "pictures" / f"{name}.svg"
        path.write_text(svg + "\n", encoding="utf-8")
        outcome.pictures.append(path)
    return outcome


def _spec_for(design: Design, out: Path) -> str:
    """A design read from a result file, as a --design the commands the report runs can take."""
    from memview.model.design import BUILTIN

    if design.name in BUILTIN and BUILTIN[design.name].to_json() == design.to_json():
        return design.name
    lines = ['base = "seed"', f"name = {json.dumps(design.name)}", "", "[decisions]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in design.overrides().items()]
    if design.mutations:
        lines.insert(3, f"mutations = {json.dumps(sorted(design.mutations))}")
    path = out / "design.toml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
