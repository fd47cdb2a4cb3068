"""The versioned JSON outputs of memview's commands: each output's schema name and schema file.

Every `--json` output is one object whose first key is "schema", naming the output and its major
version ("memview-check/1"); the JSON Schema of that output is `<stem>.schema.json` beside this
module, with `$id` "urn:memview:schema:" + the name. docs/json.md has the convention and when a
major version changes.

This module holds only names and paths, so the command line and the code producing each output can
import it cheaply; `memview.schemas.build` generates the files (`python -m memview.schemas.build`).
Adding a command with `--json` means one `Output` below and its schema file (a builder in
`build.BUILDERS`, or a handwritten file); tests/test_json_schemas.py holds every click command with
`--json` to that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent
URI_PREFIX = "urn:memview:schema:"
# The ITF trace schema (memview/traces/trace.schema.json) has no `$id` of its own; the output schemas
# reference it (check's and prove's counterexamples, actions and observations) by this URI.
TRACE_SCHEMA_URI = URI_PREFIX + "trace"
TRACE_SCHEMA_PATH = SCHEMA_DIR.parent / "traces" / "trace.schema.json"

DESIGNS = "memview-designs/1"
PROPERTIES = "memview-properties/1"
CHECK = "memview-check/1"
PROVE = "memview-prove/1"
DIFF = "memview-diff/1"
EXPLAIN = "memview-explain/1"
REPLAY = "memview-replay/1"
CONFORM = "memview-conform/1"
FUZZ = "memview-fuzz/1"
CORPUS_CHECK = "memview-corpus-check/1"
GRAPH = "memview-graph/1"
GENERATE = "memview-generate/1"
MUTANTS = "memview-mutants/1"
# `mutants --list` prints the catalogue instead of a kill matrix: another document, another name.
MUTANTS_LIST = "memview-mutants-list/1"
REPORT = "memview-report/1"


@dataclass(frozen=True)
class Output:
    """One kind of document a command prints with --json."""

    command: str  # the command as typed after `memview`, e.g. "corpus check"
    name: str  # the "schema" value, "memview-<what>/<major>"

    @property
    def stem(self) -> str:
        """The file stem: the name without its prefix and version ("corpus-check")."""
        return self.name.removeprefix("memview-").rsplit("/", 1)[0]

    @property
    def path(self) -> Path:
        return SCHEMA_DIR / f"{self.stem}.schema.json"

    @property
    def uri(self) -> str:
        return URI_PREFIX + self.name


OUTPUTS: tuple[Output, ...] = (
    Output("designs", DESIGNS),
    Output("properties", PROPERTIES),
    Output("check", CHECK),
    Output("prove", PROVE),
    Output("diff", DIFF),
    Output("explain", EXPLAIN),
    Output("replay", REPLAY),
    Output("conform", CONFORM),
    Output("fuzz", FUZZ),
    Output("corpus check", CORPUS_CHECK),
    Output("graph", GRAPH),
    Output("generate", GENERATE),
    Output("mutants", MUTANTS),
    Output("mutants", MUTANTS_LIST),
    Output("report", REPORT),
)
OUTPUTS_BY_NAME = {output.name: output for output in OUTPUTS}


def documents() -> dict[str, dict[str, Any]]:
    """Every committed schema an output schema may reference, by URI (for a validator's registry)."""
    found = {TRACE_SCHEMA_URI: json.loads(TRACE_SCHEMA_PATH.read_text(encoding="utf-8"))}
    for output in OUTPUTS:
        found[output.uri] = json.loads(output.path.read_text(encoding="utf-8"))
    return found
