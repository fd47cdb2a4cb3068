"""Files generated from the code and committed (JSON Schemas): print, rewrite or check them."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from memview.model.algebra import MASK
from memview.model.config import BOUND_LIMITS, MAX_PAGE_SIZE, Config
from memview.model.constants import SIGNAL_CODE_NAMES, Errno, Signal
from memview.model.design import DECISIONS
from memview.model.ops import OPS


def render_json(document: dict[str, Any]) -> str:
    """A generated JSON file's text, as committed."""
    return json.dumps(document, indent=2) + "\n"


def generated_file_main(prog: str, description: str, path: Path, build: Callable[[], dict[str, Any]],
                        argv: list[str] | None = None) -> int:
    """`prog` prints the file's current text; `--write` rewrites it; `--check` exits 1 if stale."""
    regenerate = f"python -m {prog.removeprefix('python -m ')} --write"
    parser = argparse.ArgumentParser(prog=prog, description=description)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help=f"rewrite {path.name} beside this module")
    what.add_argument("--check", action="store_true", help=f"exit 1 if {path.name} is not up to date")
    args = parser.parse_args(argv)
    text = render_json(build())
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    elif args.check:
        try:
            committed = path.read_text(encoding="utf-8")
        except OSError as error:
            print(f"{path}: cannot read ({error.strerror}); run `{regenerate}`", file=sys.stderr)
            return 1
        if committed != text:
            print(f"{path} is out of date; run `{regenerate}`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


# Pieces of the JSON Schemas memview generates (traces, protocol messages).


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


def closed(properties: dict[str, Any], required: list[str], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties, "required": required,
                           "additionalProperties": False}
    return {"description": description, **out} if description else out


def argument_schema(kind: str, word: dict[str, Any], byte: dict[str, Any], perms: dict[str, Any]) -> dict[str, Any]:
    """An action argument of one kind (OpSpec.args): its named form or, for flags, its raw word."""
    from memview.model.arguments import ARG_KINDS

    if kind not in ARG_KINDS:
        raise ValueError(f"no schema for argument kind {kind!r}; add it to memview.model.arguments.ARG_KINDS")
    arg = ARG_KINDS[kind]
    named = {
        "letters": perms,
        "names": {"type": "array", "items": {"enum": list(arg.names)}, "uniqueItems": True},
        "name": {"enum": list(arg.names)},
    }
    if arg.form == "word":
        return word
    if arg.form == "byte":
        return byte
    if arg.form == "bool":
        return {"type": "boolean"}
    return {"oneOf": [named[arg.form], word]}


def generated_files_main(prog: str, description: str, files: dict[str, tuple[Path, Callable[[], dict[str, Any]]]],
                         argv: list[str] | None = None) -> int:
    """Like `generated_file_main`, for a family of files keyed by name: `prog NAME` prints one,
    `--write` rewrites them all, `--check` exits 1 naming every stale or missing one."""
    regenerate = f"python -m {prog.removeprefix('python -m ')} --write"
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("name", nargs="?", choices=list(files), help="print this file's current text")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help="rewrite every file")
    what.add_argument("--check", action="store_true", help="exit 1 if any file is not up to date")
    args = parser.parse_args(argv)
    if args.name is not None:
        if args.write or args.check:
            parser.error("a NAME only prints; --write and --check act on every file")
        sys.stdout.write(render_json(files[args.name][1]()))
        return 0
    if not (args.write or args.check):
        parser.error("name a file to print, or pass --write or --check")
    stale = 0
    for path, build in files.values():
        text = render_json(build())
        if args.write:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
            continue
        try:
            committed = path.read_text(encoding="utf-8")
        except OSError as error:
            print(f"{path}: cannot read ({error.strerror}); run `{regenerate}`", file=sys.stderr)
            stale += 1
            continue
        if committed != text:
            print(f"{path} is out of date; run `{regenerate}`", file=sys.stderr)
            stale += 1
    return 1 if stale else 0


# What the trace and the protocol schemas both say about the model: they differ only in how a word
# is written (a trace allows {"#bigint": ...} everywhere, memview sends plain integers) and in what
# each wraps around these pieces.


def uint64() -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "maximum": MASK}


def bigint() -> dict[str, Any]:
    """A 64-bit word as ITF's {"#bigint": "digits"} (the reader checks the upper bound exactly)."""
    return closed({"#bigint": {"type": "string", "pattern": f"^[0-9]{{1,{len(str(MASK))}}}$"}}, ["#bigint"])


def action_schemas(argument: Callable[[str], dict[str, Any]], proc: dict[str, Any],
                   extra: Mapping[str, dict[str, Any]] | None = None, summaries: bool = False) -> list[dict[str, Any]]:
    """One closed object per operation: op, proc, the `extra` members, then its arguments (each kind
    as `argument` writes it); each described by the operation's summary when `summaries`."""
    actions = []
    for spec in OPS:
        properties: dict[str, Any] = {"op": {"const": spec.name}, "proc": proc, **(extra or {})}
        for name, kind in spec.args:
            properties[name] = argument(kind)
        required = ["op", "proc", *[name for name, _ in spec.args]]
        actions.append({"title": spec.name, **closed(properties, required, spec.summary if summaries else "")})
    return actions


def observation_schemas() -> list[dict[str, Any]]:
    """Every observation as Observation.to_json writes it, its value a `word` of the schema's $defs."""
    observations = [
        closed({"outcome": {"const": "ok"}, "value": ref("word")}, ["outcome", "value"]),
        closed({"outcome": {"const": "errno"}, "errno": {"enum": [e.name for e in Errno]}}, ["outcome", "errno"]),
    ]
    for signal in Signal:
        codes = [name for (sig, _), name in SIGNAL_CODE_NAMES.items() if sig == signal]
        observations.append(closed(
            {"outcome": {"const": "signal"}, "signal": {"const": signal.name}, "si_code": {"enum": codes}},
            ["outcome", "signal", "si_code"]))
    return observations


def config_properties() -> dict[str, Any]:
    """Each bound of a Config: the page size a power of two, the others within their limits."""
    properties: dict[str, Any] = {}
    for field in dataclasses.fields(Config):
        if field.name == "page_size":
            properties[field.name] = {"enum": [1 << i for i in range(MAX_PAGE_SIZE.bit_length())]}
        else:
            low, high = BOUND_LIMITS[field.name]
            properties[field.name] = {"type": "integer", "minimum": low, "maximum": high}
    return properties


def decision_variants() -> dict[str, Any]:
    """Each open decision by name, its value one of its variants."""
    return {d.name: {"enum": list(d.variants)} for d in DECISIONS}
