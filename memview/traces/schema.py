"""The JSON Schema of memview's ITF traces, built from the model's catalogues.

trace.schema.json, beside this file, is this module's output. Regenerate it after the model's
operations, argument kinds, decisions, designs, errnos, signals or bounds change:

    python -m memview.traces.schema            # print the schema
    python -m memview.traces.schema --write    # rewrite trace.schema.json
    python -m memview.traces.schema --check    # exit 1 if trace.schema.json is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from memview.generated import (
    action_schemas,
    argument_schema,
    bigint,
    closed,
    config_properties,
    decision_variants,
    generated_file_main,
    observation_schemas,
    ref,
    uint64,
)
from memview.model.design import BUILTIN
from memview.model.mutations import MUTATIONS

SCHEMA_PATH = Path(__file__).with_name("trace.schema.json")
REGENERATE = "python -m memview.traces.schema --write"

DESCRIPTION = (
    "A memview trace: #meta names the design and config; states[i] is step i with the action taken and the"
    " observation the model gave. There is no init state. Integers are {\"#bigint\": \"...\"} or plain JSON"
    " integers, 0 <= n < 2^64 (the reader checks the upper bound exactly; this schema bounds the digits)."
    f" Generated from memview.model by `{REGENERATE}`; tests/test_traces.py checks it is current."
)

# A #bigint holding 0..255, leading zeros allowed.
BYTE_PATTERN = "^(0*)([0-9]{1,2}|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$"


def _argument(kind: str) -> dict[str, Any]:
    """The schema of an action argument in a trace (the reader accepts any order of letters)."""
    return argument_schema(kind, ref("word"), ref("byte"), {"type": "string", "pattern": "^[rwx-]*$"})


def _design() -> dict[str, Any]:
    return {
        "oneOf": [
            {"description": "a built-in design by name", "enum": list(BUILTIN)},
            closed(
                {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "decisions": {"type": "object", "properties": decision_variants(), "additionalProperties": False},
                    "mutations": {"description": "seeded bugs the rules apply (memview mutants)", "type": "array",
                                  "items": {"enum": [m.name for m in MUTATIONS]}, "uniqueItems": True},
                },
                ["name", "decisions"],
            ),
        ]
    }


def build_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a trace file, as memview.traces.itf writes and reads it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "memview trace (ITF, Apalache ADR-015)",
        "description": DESCRIPTION,
        "type": "object",
        "properties": {
            "#meta": ref("meta"),
            "vars": {
                "type": "array",
                "items": {"enum": ["step", "action", "observation"]},
                "minItems": 3,
                "maxItems": 3,
                "uniqueItems": True,
            },
            "states": {"type": "array", "items": ref("state")},
        },
        "required": ["#meta", "vars", "states"],
        "additionalProperties": False,
        "$defs": {
            "bigint": bigint(),
            "word": {"oneOf": [ref("bigint"), uint64()]},
            "byte": {
                "oneOf": [
                    closed({"#bigint": {"type": "string", "pattern": BYTE_PATTERN}}, ["#bigint"]),
                    {"type": "integer", "minimum": 0, "maximum": 255},
                ]
            },
            "meta": {
                "type": "object",
                "description": "ITF leaves #meta open: entries beyond these are the trace's own metadata.",
                "properties": {
                    "format": {"const": "ITF"},
                    "format-description": {"type": "string"},
                    "source": {"type": "string"},
                    "memview_version": {"type": "string"},
                    "design": ref("design"),
                    "config": ref("config"),
                    "property": {"type": "string"},
                    "engine": {"type": "string"},
                    "description": {"type": "string"},
                },
                "required": ["format", "source", "memview_version", "design", "config"],
            },
            "design": _design(),
            "config": {"type": "object", "properties": config_properties(), "additionalProperties": False},
            "state": closed(
                {
                    "#meta": {
                        "type": "object",
                        "properties": {"index": {"type": "integer", "minimum": 0}},
                        "additionalProperties": False,
                    },
                    "step": ref("word"),
                    "action": ref("action"),
                    "observation": ref("observation"),
                },
                ["step", "action", "observation"],
            ),
            "action": {"oneOf": action_schemas(_argument, ref("word"), {"label": {"type": "string"}})},
            "observation": {"oneOf": observation_schemas()},
        },
    }


def main(argv: list[str] | None = None) -> int:
    return generated_file_main(
        "python -m memview.traces.schema",
        "Print the JSON Schema of memview's ITF traces.",
        SCHEMA_PATH, build_schema, argv,
    )


if __name__ == "__main__":
    sys.exit(main())
