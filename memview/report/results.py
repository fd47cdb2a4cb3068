"""The results a report shows: the JSON that `memview check`, `prove`, `conform`, `mutants` and
`graph` print with `--json`, either read from files or got by running those commands.

The report runs the commands as child processes rather than calling into them, so it reads exactly
what a user or CI job would have saved: one format, one path from results to pages, and a report
can be made again later from saved files (`--from`) without running anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memview import schemas
from memview.errors import InputError

# A result file says what it is by its schema name (docs/json.md); older files by their shape.
READABLE = {schemas.CHECK: "check", schemas.PROVE: "prove", schemas.CONFORM: "conform", schemas.MUTANTS: "mutants",
            schemas.GRAPH: "graph"}
KINDS = tuple(READABLE.values())


@dataclass
class Results:
    by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # kind -> the file or command it came from
    graph_svg: str | None = None  # the abstract state graph, as Graphviz drew it

    def get(self, kind: str) -> dict[str, Any] | None:
        return self.by_kind.get(kind)


def kind_of(data: Any, place: str) -> str:
    if not isinstance(data, dict):
        raise InputError(place, "not the --json output of a memview command (expected a JSON object)")
    schema = data.get("schema")
    if isinstance(schema, str):
        if schema in READABLE:
            return READABLE[schema]
        for name in READABLE:
            if schema.rsplit("/", 1)[0] == name.rsplit("/", 1)[0]:
                raise InputError(place, f"a {schema} result: this memview reads {name} (docs/json.md)")
        raise InputError(place, f"a {schema} result: a report shows only {', '.join(KINDS)}")
    # Saved before outputs named their schema: told apart by their shape.
    if "lemmas" in data and "results" in data:
        return "prove"
    if "results" in data and "design" in data:
        return "check"
    if "verdicts" in data and "backend" in data:
        return "conform"
    if "mutants" in data and "engines" in data:
        return "mutants"
    if "nodes" in data and "abstraction" in data:
        return "graph"
    raise InputError(place, "not the --json output of memview check, prove, conform, mutants or graph")


def read_result(path: Path) -> tuple[str, dict[str, Any]]:
    place = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(place, "no such file") from None
    except OSError as exc:
        raise InputError(place, exc.strerror or "cannot read") from None
    except UnicodeDecodeError:
        raise InputError(place, "not UTF-8 text: a result file is JSON") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{place}: line {exc.lineno}", f"malformed JSON: {exc.msg}") from None
    kind = kind_of(data, place)
    return kind, data


@dataclass(frozen=True)
class Command:
    """One memview command the report runs, with --json added."""

    kind: str
    arguments: list[str]

    def describe(self) -> str:
        return "memview " + " ".join(self.arguments)


def memview_argv(arguments: list[str]) -> list[str]:
    # The same interpreter and package as the report's own, whatever is on PATH.
    return [sys.executable, "-c", "from memview.cli import main; main()", *arguments]


def run_command(command: Command, say: Callable[[str], None]) -> dict[str, Any]:
    """Run it (its progress goes to our stderr) and parse its JSON; exit 0 and 1 are both results."""
    say(f"report: running {command.describe()}")
    try:
        done = subprocess.run(memview_argv([*command.arguments, "--json"]), stdout=subprocess.PIPE,
                              stderr=None, check=False)
    except OSError as exc:
        raise InputError(command.kind, f"cannot run {command.describe()}: {exc.strerror}") from None
    if done.returncode not in (0, 1):
        # The command has already printed its own one-line error (bad input 2, internal error 3):
        # the report ends with its status rather than a second line about the same thing.
        raise SystemExit(done.returncode)
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise InputError(command.kind, f"{command.describe()} printed no JSON") from None
    if not isinstance(data, dict):
        raise InputError(command.kind, f"{command.describe()} printed JSON that is not an object")
    return data
