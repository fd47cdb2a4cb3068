"""The ITF trace format (write, read, schema, located errors) and `explain`."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from memview.errors import InputError
from memview.model.config import Config
from memview.model.constants import Errno
from memview.model.design import BUILTIN, SEED, Design
from memview.model.machine import Machine
from memview.model.observation import Observation
from memview.model.ops import Action
from memview.model.ops import action as act
from memview.traces.explain import explain, explain_json
from memview.traces.itf import read_trace, trace_from_itf, trace_to_itf, write_trace
from memview.traces.schema import build_schema, main
from memview.traces.trace import Step, Trace

GiB = 1 << 30
B1 = 1
BASE = 1 << 40  # where the model puts B's first mapping
SCHEMA_PATH = Path(__file__).parent.parent / "memview" / "traces" / "trace.schema.json"

# The seed's scenario: A builds the 16 GiB view of its table, B1 maps it and touches it.
SEED_STEPS: list[tuple[Action, str]] = [
    (act("view_open"), ""),
    (act("view_set_size", fd=0, size=16 * GiB), ""),
    (act("memfd_create", sealing=False), "guest-ram"),
    (act("ftruncate", fd=1, size=32 * GiB), ""),
    (act("view_map_fd", fd=0, src=1, fd_offset=8 * GiB, size=2 * GiB, mem_offset=8 * GiB, perms="rw"), ""),
    (act("file_create"), "big-file.iso"),
    (act("ftruncate", fd=2, size=12 * GiB), ""),
    (act("pwrite", fd=2, offset=8 * GiB, byte=0x42), ""),
    (act("reopen", fd=2, mode="ro"), ""),
    (act("close", fd=2), ""),
    (act("view_map_fd", fd=0, src=3, fd_offset=4 * GiB, size=8 * GiB, mem_offset=0, perms="r"), ""),
    (act("view_get_viewfd", fd=0, mode="rw"), ""),
    (act("send", fd=2, to=B1), ""),
    (act("mmap", proc=B1, fd=0, length=16 * GiB, prot="rw", flags="shared", offset=0), ""),
    (act("access", proc=B1, addr=BASE + 4 * GiB, kind="read", byte=0), ""),
    (act("access", proc=B1, addr=BASE + 4 * GiB, kind="write", byte=1), ""),
    (act("access", proc=B1, addr=BASE + 11 * GiB, kind="read", byte=0), ""),
    (act("ioctl", proc=B1, fd=0, cmd=5), ""),
    (act("view_unmap_fd", fd=0, mem_offset=8 * GiB, size=2 * GiB), ""),
    (act("seal", fd=1, seals=["shrink", "grow"]), ""),
    (act("fork", proc=B1), ""),
]
FTRUNCATE_STEP = 3  # ftruncate(fd=1, size=32 GiB): a step with an integer argument to break


def make_trace(
    steps: list[tuple[Action, str]], design: Design = SEED, config: Config | None = None, **meta: Any
) -> Trace:
    """A trace with the observations the model gives now, as an engine would record it."""
    config = config or Config()
    machine = Machine(design, config)
    return Trace(design, config, [Step(a, machine.run(a), label) for a, label in steps], dict(meta))


def seed_trace() -> Trace:
    return make_trace(SEED_STEPS, property="P-demo", engine="hand", description="the seed's example")


def written(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


# ---------------------------------------------------------------------------------------------
# Writing and reading back


def test_round_trip(tmp_path: Path) -> None:
    trace = seed_trace()
    outcomes = {step.observation.outcome for step in trace.steps}
    assert outcomes == {"ok", "errno", "signal"}  # the trace exercises every observation form
    path = tmp_path / "seed.itf.json"
    write_trace(trace, path)
    assert read_trace(path) == trace


@pytest.mark.parametrize("design", [*BUILTIN.values(), SEED.with_choices("mutant", {"revocation": "skip"})])
def test_round_trip_designs(tmp_path: Path, design: Design) -> None:
    trace = make_trace(SEED_STEPS[:5], design, Config(page_size=1 << 21, ranges=2, clients=1, fork_slots=0))
    write_trace(trace, tmp_path / "t.json")
    assert read_trace(tmp_path / "t.json") == trace


def test_round_trip_empty_trace(tmp_path: Path) -> None:
    trace = make_trace([])
    write_trace(trace, tmp_path / "t.json")
    assert read_trace(tmp_path / "t.json") == trace


def test_itf_layout() -> None:
    data = trace_to_itf(seed_trace())
    meta = data["#meta"]
    assert meta["format"] == "ITF" and meta["source"] == "memview"
    assert meta["format-description"] == "https://apalache-mc.org/docs/adr/015adr-trace.html"
    assert meta["design"]["name"] == "seed" and meta["config"]["page_size"] == 4096
    assert meta["property"] == "P-demo" and meta["engine"] == "hand"
    assert data["vars"] == ["step", "action", "observation"]
    state = data["states"][FTRUNCATE_STEP]
    assert state["#meta"] == {"index": FTRUNCATE_STEP}
    assert state["step"] == {"#bigint": str(FTRUNCATE_STEP)}
    assert state["action"] == {
        "op": "ftruncate", "proc": {"#bigint": "0"}, "fd": {"#bigint": "1"}, "size": {"#bigint": str(32 * GiB)}
    }
    assert data["states"][2]["action"]["label"] == "guest-ram"
    assert data["states"][FTRUNCATE_STEP]["observation"] == {"outcome": "ok", "value": {"#bigint": "0"}}


def _plain_integers(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"#bigint"}:
            return int(value["#bigint"])
        return {key: _plain_integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_integers(item) for item in value]
    return value


def test_reader_accepts_plain_integers() -> None:
    trace = seed_trace()
    assert trace_from_itf(_plain_integers(trace_to_itf(trace)), "t.json") == trace


def test_largest_word_is_accepted() -> None:
    data = trace_to_itf(seed_trace())
    data["states"][FTRUNCATE_STEP]["action"]["size"] = {"#bigint": str(2**64 - 1)}
    assert trace_from_itf(data, "t.json").steps[FTRUNCATE_STEP].action.arg("size") == 2**64 - 1


def test_reading_keeps_the_recorded_observation(tmp_path: Path) -> None:
    """The reader does not re-run the model: an observation the model would not give stays."""
    data = trace_to_itf(seed_trace())
    data["states"][FTRUNCATE_STEP]["observation"] = {"outcome": "errno", "errno": "EINVAL"}
    trace = read_trace(written(tmp_path, data))
    assert trace.steps[FTRUNCATE_STEP].observation == Observation("errno", int(Errno.EINVAL))


def test_reserved_metadata_is_refused() -> None:
    trace = dataclasses.replace(seed_trace(), meta={"design": "other"})
    with pytest.raises(ValueError, match="design"):
        trace_to_itf(trace)


# ---------------------------------------------------------------------------------------------
# The JSON Schema


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_schema_accepts_written_traces(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for trace in (seed_trace(), make_trace([]), make_trace(SEED_STEPS[:5], BUILTIN["strict"])):
        write_trace(trace, tmp_path / "t.json")
        validator.validate(json.loads((tmp_path / "t.json").read_text(encoding="utf-8")))
    validator.validate(_plain_integers(trace_to_itf(seed_trace())))


BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown op": lambda d: d["states"][0]["action"].update(op="frobnicate"),
    "negative size": lambda d: d["states"][FTRUNCATE_STEP]["action"].update(size={"#bigint": "-1"}),
    "unknown argument": lambda d: d["states"][FTRUNCATE_STEP]["action"].update(colour="red"),
    "missing argument": lambda d: d["states"][FTRUNCATE_STEP]["action"].pop("size"),
    "unknown errno": lambda d: d["states"][FTRUNCATE_STEP].update(observation={"outcome": "errno", "errno": "EFOO"}),
    "missing observation": lambda d: d["states"][0].pop("observation"),
    "unknown variant": lambda d: d["#meta"]["design"]["decisions"].update(overlap="sometimes"),
    "no config": lambda d: d["#meta"].pop("config"),
    "not ITF": lambda d: d["#meta"].update(format="JSON"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_schema_rejects_broken_traces(breakage: str) -> None:
    data = trace_to_itf(seed_trace())
    BREAKAGES[breakage](data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)


def test_schema_is_generated_from_the_model() -> None:
    """trace.schema.json is build_schema()'s output: it fails when the model moves on without it."""
    stale = "trace.schema.json is stale: run `python -m memview.traces.schema --write`"
    assert schema() == build_schema(), stale
    assert main(["--check"]) == 0, stale  # and written as --write writes it


# ---------------------------------------------------------------------------------------------
# Bad input: every error is an InputError naming the file and the field


def _state(i: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: d["states"][i]


S = FTRUNCATE_STEP
BAD_INPUT: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # (what, how to break the trace, the place after "file: ", a word of the problem)
    ("unknown top-level field", lambda d: d.update(loop=0), "loop", "unknown field"),
    ("missing states", lambda d: d.pop("states"), "states", "missing"),
    ("wrong vars", lambda d: d.update(vars=["x"]), "vars", "expected"),
    ("not ITF", lambda d: d["#meta"].update(format="JSON"), "#meta.format", "ITF"),
    ("no design", lambda d: d["#meta"].pop("design"), "#meta.design", "missing"),
    ("unknown design", lambda d: d["#meta"].update(design="lenient"), "#meta.design", "unknown design"),
    ("design field", lambda d: d["#meta"]["design"].update(base="seed"), "#meta.design.base", "unknown field"),
    ("unknown decision", lambda d: d["#meta"]["design"]["decisions"].update(colour="red"),
     "#meta.design.decisions.colour", "unknown decision"),
    ("unknown variant", lambda d: d["#meta"]["design"]["decisions"].update(overlap="sometimes"),
     "#meta.design.decisions.overlap", "unknown variant"),
    ("unknown bound", lambda d: d["#meta"]["config"].update(cpus=2), "#meta.config.cpus", "unknown bound"),
    ("bad bound", lambda d: d["#meta"]["config"].update(page_size=3000), "#meta.config.page_size", "power of two"),
    ("property not text", lambda d: d["#meta"].update(property=7), "#meta.property", "string"),
    ("unknown state field", lambda d: d["states"][S].update(colour="red"), f"states[{S}].colour", "unknown field"),
    ("wrong step number", lambda d: d["states"][S].update(step={"#bigint": "9"}), f"states[{S}].step", "expected 3"),
    ("wrong index", lambda d: d["states"][S]["#meta"].update(index=9), f"states[{S}].#meta.index", "expected 3"),
    ("unknown op", lambda d: d["states"][S]["action"].update(op="frobnicate"), f"states[{S}].action.op",
     "unknown operation"),
    ("unknown argument", lambda d: d["states"][S]["action"].update(colour="red"), f"states[{S}].action.colour",
     "no argument"),
    ("missing argument", lambda d: d["states"][S]["action"].pop("size"), f"states[{S}].action.size", "needs"),
    ("missing proc", lambda d: d["states"][S]["action"].pop("proc"), f"states[{S}].action.proc", "missing"),
    ("negative #bigint", lambda d: d["states"][S]["action"].update(size={"#bigint": "-1"}),
     f"states[{S}].action.size", "negative"),
    ("negative integer", lambda d: d["states"][S]["action"].update(size=-1), f"states[{S}].action.size", "negative"),
    ("2^64 as #bigint", lambda d: d["states"][S]["action"].update(size={"#bigint": str(2**64)}),
     f"states[{S}].action.size", "64 bits"),
    ("2^64 as integer", lambda d: d["states"][S]["action"].update(size=2**64), f"states[{S}].action.size", "64 bits"),
    ("huge #bigint", lambda d: d["states"][S]["action"].update(size={"#bigint": "9" * 5000}),
     f"states[{S}].action.size", "64 bits"),
    ("#bigint not decimal", lambda d: d["states"][S]["action"].update(size={"#bigint": "0x10"}),
     f"states[{S}].action.size.#bigint", "decimal"),
    ("#bigint extra field", lambda d: d["states"][S]["action"].update(size={"#bigint": "1", "x": 1}),
     f"states[{S}].action.size.x", "unknown field"),
    ("fraction", lambda d: d["states"][S]["action"].update(size=1.5), f"states[{S}].action.size", "integer"),
    ("label not text", lambda d: d["states"][S]["action"].update(label=1), f"states[{S}].action.label", "string"),
    ("unknown seal", lambda d: d["states"][19]["action"].update(seals=["glue"]), "states[19].action.seals",
     "unknown seal"),
    ("unknown errno", lambda d: d["states"][S].update(observation={"outcome": "errno", "errno": "EFOO"}),
     f"states[{S}].observation.errno", "unknown errno"),
    ("unknown outcome", lambda d: d["states"][S].update(observation={"outcome": "maybe"}),
     f"states[{S}].observation.outcome", "expected ok"),
    ("unknown signal code", lambda d: d["states"][S].update(
        observation={"outcome": "signal", "signal": "SIGBUS", "si_code": "SEGV_MAPERR"}),
     f"states[{S}].observation.si_code", "unknown si_code"),
    ("observation field", lambda d: d["states"][S]["observation"].update(errno="EINVAL"),
     f"states[{S}].observation.errno", "unknown field"),
    ("result too large", lambda d: d["states"][S]["observation"].update(value={"#bigint": str(2**64)}),
     f"states[{S}].observation.value", "64 bits"),
]


@pytest.mark.parametrize(("what", "breakage", "place", "problem"), BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_located_errors(
    tmp_path: Path, what: str, breakage: Callable[[dict[str, Any]], None], place: str, problem: str
) -> None:
    data = copy.deepcopy(trace_to_itf(seed_trace()))
    breakage(data)
    path = written(tmp_path, data)
    with pytest.raises(InputError) as caught:
        read_trace(path)
    assert caught.value.place == f"{path}: {place}", what
    assert problem in caught.value.problem, what


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(InputError) as caught:
        read_trace(path)
    assert caught.value.place == str(path)
    assert caught.value.problem == "No such file or directory"


def test_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{\n  "#meta": {,\n}\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_trace(path)
    assert caught.value.place == f"{path}:2:13"
    assert "malformed JSON" in caught.value.problem


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'{"\xff": 1}')
    with pytest.raises(InputError) as caught:
        read_trace(path)
    assert caught.value.place == str(path) and "UTF-8" in caught.value.problem


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_trace(path)
    assert caught.value.place == str(path)


def test_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        write_trace(seed_trace(), tmp_path / "no-such-dir" / "t.json")
    assert caught.value.place == str(tmp_path / "no-such-dir" / "t.json")


# ---------------------------------------------------------------------------------------------
# explain


def test_explain_seed_layout() -> None:
    text = explain(seed_trace())
    seed_table = [
        "Range (GiB)   Fd               Permissions",
        "0-8           big-file.iso     read",
        "8-10          guest-ram        read+write",
        "10-16         <none>           <none>",
    ]
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index(seed_table[1])  # the first table showing big-file.iso is the seed's
    assert lines[start - 1 : start + 3] == seed_table
    assert "8-16          <none>           <none>" in lines  # after the UNMAP_FD
    assert "\x1b" not in text
    assert "Replay: the model gives every recorded observation (21 steps)." in text


def test_explain_timeline() -> None:
    lines = explain(seed_trace()).splitlines()
    header = next(line for line in lines if line.startswith("step"))
    assert header.split() == ["step", "who", "operation", "observation"]
    ftruncate = next(line for line in lines if line.startswith("3 "))
    assert ftruncate.split() == ["3", "A", "ftruncate(fd=1,", "size=32", "GiB)", "ok", "0"]
    assert any(line.split()[:2] == ["15", "B1"] and line.endswith("SIGSEGV/SEGV_ACCERR") for line in lines)


def test_explain_names_unlabelled_objects_by_slot() -> None:
    steps = [(a, "") for a, _ in SEED_STEPS[:5]]
    text = explain(make_trace(steps))
    assert "8-10          memfd#0          read+write" in text


def test_explain_picks_a_whole_unit() -> None:
    steps = [
        (act("view_open"), ""),
        (act("view_set_size", fd=0, size=1 << 20), ""),
        (act("memfd_create", sealing=False), "small"),
        (act("ftruncate", fd=1, size=1 << 20), ""),
        (act("view_map_fd", fd=0, src=1, fd_offset=0, size=8192, mem_offset=4096, perms="rwx"), ""),
    ]
    lines = [line.strip() for line in explain(make_trace(steps)).splitlines()]
    assert "Range (KiB)   Fd               Permissions" in lines
    assert "4-12          small            read+write+exec" in lines
    assert "12-1024       <none>           <none>" in lines


def test_explain_flags_a_changed_observation() -> None:
    trace = seed_trace()
    recorded = Observation("errno", int(Errno.EINVAL))
    trace.steps[FTRUNCATE_STEP] = dataclasses.replace(trace.steps[FTRUNCATE_STEP], observation=recorded)
    text = explain(trace)
    assert "step 3: the model now gives ok 0, the trace recorded EINVAL" in text
    assert "1 of 21 steps differ from the model (step 3)" in text
    assert explain_json(trace)["differing_steps"] == [FTRUNCATE_STEP]


def test_explain_json() -> None:
    data = explain_json(seed_trace())
    json.dumps(data)  # serialisable as it is
    assert data["design"]["name"] == "seed" and data["meta"]["property"] == "P-demo"
    step = data["steps"][10]
    assert step["who"] == "A" and step["observation"] == "ok 0" and not step["differs"]
    assert step["layout"]["unit"] == "GiB" and step["layout"]["view_size"] == 16 * GiB
    assert step["layout"]["rows"][0] == {
        "lo": 0, "hi": 8 * GiB, "object": "big-file.iso", "slot": 1, "fd_offset": 4 * GiB, "perms": "r--"
    }
    assert step["layout"]["rows"][2]["object"] is None
    assert data["steps"][11]["layout"] is None  # GET_VIEWFD leaves the layout alone
