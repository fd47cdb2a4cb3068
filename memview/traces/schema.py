"""The JSON Schema of memview's ITF traces, built from the model's catalogues.

trace.schema.json, beside this file, is this module's output. Regenerate it after the model's
operations, argument kinds, decisions, designs, errnos, signals or bounds change:

    python -m memview.traces.schema            # print the schema
    python -m memview.traces.schema --write    # rewrite trace.schema.json
    python -m memview.traces.schema --check    # exit 1 if trace.schema.json is out of date
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from memview.generated import argument_schema, closed, generated_file_main, ref
from memview.model.algebra import MASK
from memview.model.config import BOUND_LIMITS, MAX_PAGE_SIZE, Config
from memview.model.constants import SIGNAL_CODE_NAMES, Errno, Signal
from memview.model.design import BUILTIN, DECISIONS
from memview.model.mutations import MUTATIONS
from memview.model.ops import OPS

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


def _actions() -> list[dict[str, Any]]:
    actions = []
    for spec in OPS:
        properties: dict[str, Any] = {"op": {"const": spec.name}, "proc": ref("word"), "label": {"type": "string"}}
        for name, kind in spec.args:
            properties[name] = _argument(kind)
        actions.append({"title": spec.name, **closed(properties, ["op", "proc", *[name for name, _ in spec.args]])})
    return actions


def _observations() -> list[dict[str, Any]]:
    observations = [
        closed({"outcome": {"const": "ok"}, "value": ref("word")}, ["outcome", "value"]),
        closed({"outcome": {"const": "errno"}, "errno": {"enum": [e.name for e in Errno]}}, ["outcome", "errno"]),
    ]
    for signal in Signal:
        codes = [name for (sig, _), name in SIGNAL_CODE_NAMES.items() if sig == signal]
        observations.append(
            closed(
                {"outcome": {"const": "signal"}, "signal": {"const": signal.name}, "si_code": {"enum": codes}},
                ["outcome", "signal", "si_code"],
            )
        )
    return observations


def _config() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for field in dataclasses.fields(Config):
        if field.name == "page_size":
            properties[field.name] = {"enum": [1 << i for i in range(MAX_PAGE_SIZE.bit_length())]}
        else:
            low, high = BOUND_LIMITS[field.name]
            properties[field.name] = {"type": "integer", "minimum": low, "maximum": high}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _design() -> dict[str, Any]:
    decisions = {d.name: {"enum": list(d.variants)} for d in DECISIONS}
    return {
        "oneOf": [
            {"description": "a built-in design by name", "enum": list(BUILTIN)},
            closed(
                {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "decisions": {"type": "object", "properties": decisions, "additionalProperties": False},
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
            "bigint": closed(
                {"#bigint": {"type": "string", "pattern": f"^[0-9]{{1,{len(str(MASK))}}}$"}}, ["#bigint"]
            ),
            "word": {"oneOf": [ref("bigint"), {"type": "integer", "minimum": 0, "maximum": MASK}]},
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
            "config": _config(),
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
            "action": {"oneOf": _actions()},
            "observation": {"oneOf": _observations()},
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
