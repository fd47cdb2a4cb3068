"""Traces stored as ITF JSON (Apalache ADR-015), so Quint and Apalache tooling can read them.

A file is {"#meta", "vars", "states"}. "#meta" names the design and configuration and carries the
trace's metadata (property, engine, description, ...). The variables are step, action and
observation, and there is one state per step: states[i] holds step i, the action taken and the
observation the model gave. There is no "init" state: the initial state is implicit (the model's
initial state for the configuration: nothing opened), so states[i] is step i everywhere, in the
file, in error messages and in `memview explain`, and no pseudo-action needs a meaning.

Integers are written as {"#bigint": "..."} (ITF's only exact integer form, as words are 64-bit);
the reader also accepts plain JSON integers. Reading never re-runs the model: the observations are
what the model gave when the trace was made. trace.schema.json, beside this file, describes the
format; tests keep the two in step.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

import memview
from memview.errors import InputError
from memview.model.config import Config
from memview.model.design import BUILTIN, Design, design_from_json
from memview.model.observation import Observation
from memview.model.ops import Action, action_from_json
from memview.model.words import bigint, parse_word
from memview.traces.trace import Step, Trace

FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
VARS = ("step", "action", "observation")
# #meta keys the format itself fills in; every other #meta entry is the trace's own metadata.
RESERVED_META = ("format", "format-description", "source", "memview_version", "design", "config")
# Metadata every engine may set; checked for type so a typo'd value does not pass silently.
STRING_META = ("property", "engine", "description")
OBSERVATION_FIELDS = {"ok": {"value"}, "errno": {"errno"}, "signal": {"signal", "si_code"}}

PathArg = str | os.PathLike[str]


# ---------------------------------------------------------------------------------------------
# Writing


def _itf_value(value: Any) -> Any:
    """Readable argument values with every integer as #bigint (booleans stay booleans)."""
    if isinstance(value, bool) or not isinstance(value, int | list):
        return value
    if isinstance(value, list):
        return [_itf_value(item) for item in value]
    return bigint(value)


def _action_to_itf(step: Step) -> dict[str, Any]:
    out = {key: _itf_value(value) for key, value in step.action.readable().items()}
    if step.label:
        out["label"] = step.label
    return out


def _design_to_json(design: Design) -> dict[str, Any]:
    out = design.to_json()
    if design.description:  # kept so a built-in design reads back equal to itself
        out["description"] = design.description
    return out


def trace_to_itf(trace: Trace) -> dict[str, Any]:
    clash = sorted(set(trace.meta) & set(RESERVED_META))
    if clash:
        raise ValueError(f"trace metadata may not set {', '.join(clash)}: the format fills them in")
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": FORMAT_DESCRIPTION,
        "source": "memview",
        "memview_version": memview.__version__,
        "design": _design_to_json(trace.design),
        "config": trace.config.to_json(),
        **trace.meta,
    }
    states = [
        {
            "#meta": {"index": index},
            "step": bigint(index),
            "action": _action_to_itf(step),
            "observation": step.observation.to_json(),
        }
        for index, step in enumerate(trace.steps)
    ]
    return {"#meta": meta, "vars": list(VARS), "states": states}


def _dumps(itf: dict[str, Any]) -> str:
    """The metadata indented, then one line per state, so a trace reads and diffs step by step."""
    meta = json.dumps(itf["#meta"], indent=2).replace("\n", "\n  ")  # strings hold no raw newlines
    states = ",\n    ".join(json.dumps(state) for state in itf["states"])
    states = f"[\n    {states}\n  ]" if states else "[]"
    return f'{{\n  "#meta": {meta},\n  "vars": {json.dumps(itf["vars"])},\n  "states": {states}\n}}\n'


def write_trace(trace: Trace, path: PathArg) -> None:
    text = _dumps(trace_to_itf(trace))
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from None


# ---------------------------------------------------------------------------------------------
# Reading: every error names the file and the field, e.g. "t.json: states[3].action.size".


def _fields(data: Any, place: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """data as an object with exactly the required fields and perhaps the optional ones."""
    if not isinstance(data, dict):
        raise InputError(place, f"expected an object with fields {', '.join(required + optional)}")
    for key in data:
        if key not in required and key not in optional:
            raise InputError(f"{place}.{key}", f"unknown field (allowed: {', '.join(required + optional)})")
    for key in required:
        if key not in data:
            raise InputError(f"{place}.{key}", "missing")
    return data


def _plain(value: Any, place: str) -> Any:
    """An action argument with #bigint objects made plain integers (the op catalogue checks the rest)."""
    if isinstance(value, dict):
        return parse_word(value, place)
    if isinstance(value, list):
        return [_plain(item, f"{place}[{i}]") for i, item in enumerate(value)]
    return value


def _action(data: Any, place: str) -> tuple[Action, str]:
    if not isinstance(data, dict):
        raise InputError(place, "expected an object with 'op', 'proc' and the operation's arguments")
    if "proc" not in data:
        raise InputError(f"{place}.proc", "missing")
    label = data.get("label", "")
    if not isinstance(label, str):
        raise InputError(f"{place}.label", f"expected a string, got {label!r}")
    # Unknown operations and unknown or missing arguments are reported by the op catalogue.
    plain = {key: _plain(value, f"{place}.{key}") for key, value in data.items() if key != "label"}
    return action_from_json(plain, place), label


def _observation(data: Any, place: str) -> Observation:
    if not isinstance(data, dict):
        raise InputError(place, "expected an observation object")
    outcome = data.get("outcome")
    if not isinstance(outcome, str) or outcome not in OBSERVATION_FIELDS:
        raise InputError(f"{place}.outcome", f"expected ok, errno or signal, got {outcome!r}")
    _fields(data, place, ("outcome", *sorted(OBSERVATION_FIELDS[outcome])))
    if outcome == "ok":
        return Observation("ok", parse_word(data["value"], f"{place}.value"))
    return Observation.from_json(data, place)


def _design(data: Any, place: str) -> Design:
    if isinstance(data, str):  # a built-in design by name
        if data not in BUILTIN:
            raise InputError(place, f"unknown design {data!r} (built-in: {', '.join(BUILTIN)})")
        return BUILTIN[data]
    _fields(data, place, ("name", "decisions"), ("description", "mutations"))
    if not isinstance(data["name"], str):
        raise InputError(f"{place}.name", f"expected a string, got {data['name']!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{place}.description", f"expected a string, got {description!r}")
    design = design_from_json(data, place)
    # Only the variants that differ from the defaults, as built-in designs hold them, so a design
    # reads back equal to the one written.
    return Design(design.name, MappingProxyType(design.overrides()), description, design.mutations)


def _meta(data: Any, place: str) -> tuple[Design, Config, dict[str, Any]]:
    if not isinstance(data, dict):
        raise InputError(place, "expected an object naming the design and config")
    for key in ("format", "source", "memview_version", "design", "config"):
        if key not in data:
            raise InputError(f"{place}.{key}", "missing")
    if data["format"] != "ITF":
        raise InputError(f"{place}.format", f"expected \"ITF\", got {data['format']!r}")
    for key in ("format-description", "source", "memview_version", *STRING_META):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{place}.{key}", f"expected a string, got {data[key]!r}")
    design = _design(data["design"], f"{place}.design")
    config = Config.from_json(data["config"], f"{place}.config")
    # ITF leaves #meta open, so entries beyond the reserved ones are the trace's own metadata.
    meta = {key: value for key, value in data.items() if key not in RESERVED_META}
    return design, config, meta


def _state(data: Any, index: int, place: str) -> Step:
    _fields(data, place, VARS, ("#meta",))
    if "#meta" in data:
        state_meta = _fields(data["#meta"], f"{place}.#meta", (), ("index",))
        if "index" in state_meta and parse_word(state_meta["index"], f"{place}.#meta.index") != index:
            raise InputError(f"{place}.#meta.index", f"expected {index}, the state's position")
    if parse_word(data["step"], f"{place}.step") != index:
        raise InputError(f"{place}.step", f"expected {index}: states are the steps in order, from 0")
    action, label = _action(data["action"], f"{place}.action")
    return Step(action, _observation(data["observation"], f"{place}.observation"), label)


def trace_from_itf(data: Any, place: str) -> Trace:
    """A trace from parsed ITF JSON; place (the file name) starts every error's place."""
    if not isinstance(data, dict):
        raise InputError(place, "expected an ITF trace: an object with #meta, vars and states")
    for key in data:
        if key not in ("#meta", "vars", "states"):  # ITF's params and loop have no meaning here
            raise InputError(f"{place}: {key}", "unknown field (allowed: #meta, vars, states)")
    for key in ("#meta", "vars", "states"):
        if key not in data:
            raise InputError(f"{place}: {key}", "missing")
    top: dict[str, Any] = data
    vars_ = top["vars"]
    if not isinstance(vars_, list) or sorted(map(str, vars_)) != sorted(VARS) or len(vars_) != len(VARS):
        raise InputError(f"{place}: vars", f"expected {json.dumps(list(VARS))}, got {json.dumps(vars_)}")
    design, config, meta = _meta(top["#meta"], f"{place}: #meta")
    states = top["states"]
    if not isinstance(states, list):
        raise InputError(f"{place}: states", "expected a list of states, one per step")
    steps = [_state(state, i, f"{place}: states[{i}]") for i, state in enumerate(states)]
    return Trace(design, config, steps, meta)


def read_trace(path: PathArg) -> Trace:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(name, exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise InputError(name, f"not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno}:{exc.colno}", f"malformed JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer literal too long to convert
        raise InputError(name, f"malformed JSON: {exc}") from None
    return trace_from_itf(data, name)
