"""Every command's --json output follows its versioned, committed JSON Schema (docs/json.md).

The commands come from the click group itself, so a new command with --json and no schema fails
here; the outputs validated are real runs on small inputs (tiny depths, one property, a couple of
corpus traces, the model backend).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from referencing import Registry, Resource

from memview import schemas
from memview.cli import cli
from memview.generated import generated_files_main
from memview.schemas import OUTPUTS, OUTPUTS_BY_NAME, documents
from memview.schemas.build import BUILDERS, main
from memview.traces.corpus import CORPUS_DIR

Outputs = dict[tuple[str, ...], tuple[int, dict[str, Any]]]  # arguments -> exit status and output
NAME = re.compile(r"^memview-[a-z]+(-[a-z]+)*/[1-9][0-9]*$")
OR_DESIGN = 'name = "or"\n[decisions]\nperm-combine = "or"\n'  # breaks AND within two steps


def json_commands(group: click.Group, prefix: str = "") -> set[str]:
    """Every command (as typed after `memview`) that has a --json option, subcommands included."""
    found = set()
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found |= json_commands(command, path + " ")
        elif any("--json" in param.opts for param in command.params):
            found.add(path)
    return found


def schema_registry() -> Registry[Any]:
    resources = [(uri, Resource.from_contents(doc)) for uri, doc in documents().items()]
    return Registry().with_resources(resources)


@pytest.fixture(scope="module")
def registry() -> Registry[Any]:
    return schema_registry()


def validator(name: str, registry: Registry[Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(documents()[OUTPUTS_BY_NAME[name].uri], registry=registry)


def test_every_json_command_has_a_schema() -> None:
    with_json = json_commands(cli)
    assert {"check", "corpus check", "mutants"} <= with_json  # the walk finds commands and subcommands
    covered = {output.command for output in OUTPUTS}
    assert with_json - covered == set(), "add an Output (and its schema) to memview/schemas/__init__.py"
    assert covered - with_json == set(), "an Output names a command without --json"


def test_every_schema_names_its_output() -> None:
    assert len(OUTPUTS_BY_NAME) == len(OUTPUTS)
    for output in OUTPUTS:
        assert NAME.match(output.name), output.name
        # The convention: memview-<command words joined by dashes>[-<what>]/<major>.
        assert output.name.startswith("memview-" + output.command.replace(" ", "-")), output.name
        document = json.loads(output.path.read_text(encoding="utf-8"))
        assert document["$id"] == output.uri == f"urn:memview:schema:{output.name}"
        assert document["properties"]["schema"] == {"const": output.name}
        assert document["required"][0] == "schema" and document["additionalProperties"] is False


@pytest.mark.parametrize("uri", list(documents()))
def test_schemas_are_valid_draft_2020_12(uri: str) -> None:
    jsonschema.Draft202012Validator.check_schema(documents()[uri])


def test_generated_schemas_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0, capsys.readouterr().err
    assert set(BUILDERS) <= set(OUTPUTS_BY_NAME)
    assert main(["check"]) == 0
    assert json.loads(capsys.readouterr().out) == documents()[OUTPUTS_BY_NAME[schemas.CHECK].uri]


def test_a_stale_or_missing_generated_file_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current, stale, missing = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    files = {name: (path, lambda: {"x": 1}) for name, path in (("a", current), ("b", stale), ("c", missing))}
    current.write_text('{\n  "x": 1\n}\n')
    stale.write_text('{"x": 0}\n')
    assert generated_files_main("prog", "test", files, ["--check"]) == 1
    err = capsys.readouterr().err
    assert "b.json is out of date" in err and "c.json: cannot read" in err and "a.json" not in err
    assert generated_files_main("prog", "test", files, ["--write"]) == 0
    assert generated_files_main("prog", "test", files, ["--check"]) == 0


# The runs whose optional parts (a counterexample replayed, a divergence minimised, an ISOL pair)
# test_the_runs_reach_the_optional_parts makes sure of.
CHECK_VIOLATED = ("check", "--design", "{tmp}/or.toml", "--engine", "explore", "--depth", "2", "--property", "AND",
                  "--jobs", "1", "--replay", "model", "--out", "{tmp}/out")
REPLAY_DIVERGES = ("replay", "--backend", "model:strict", "--out", "{tmp}/out",
                   "{corpus}/seed-overlap-not-replace.itf.json")
EXPLAIN_ISOL = ("explain", "{corpus}/broken-revocation-skip-ISOL.itf.json")
FUZZ_DIVERGES = ("fuzz", "--backend", "model:strict", "--examples", "30", "--steps", "10", "--seed", "1",
                 "--out", "{tmp}/out")

# (schema name, arguments before --json, exit status): at least one real run per output, and the
# variants that exercise its optional parts.
RUNS: list[tuple[str, tuple[str, ...], int]] = [
    (schemas.DESIGNS, ("designs",), 0),
    (schemas.DESIGNS, ("designs", "--broken"), 0),
    (schemas.PROPERTIES, ("properties",), 0),
    (schemas.CHECK, CHECK_VIOLATED, 1),
    (schemas.CHECK, ("check", "--engine", "explore", "--depth", "1", "--property", "REVOKE", "--jobs", "1"), 0),
    (schemas.DIFF, ("diff", "seed", "fuse-like", "--depth", "2", "--property", "AND", "--out", "{tmp}/out"), 1),
    (schemas.DIFF, ("diff", "seed", "seed", "--depth", "1", "--no-properties"), 0),
    (schemas.DIFF, ("diff", "seed", "fuse-like", "--depth", "2", "--no-properties", "--picture", "{tmp}/d.svg"), 1),
    (schemas.EXPLAIN, EXPLAIN_ISOL, 0),
    (schemas.EXPLAIN, ("explain", "{corpus}/seed-scenario.itf.json"), 0),
    (schemas.REPLAY, ("replay", "--backend", "model", "{corpus}/seed-scenario.itf.json"), 0),
    (schemas.REPLAY, REPLAY_DIVERGES, 1),
    (schemas.CONFORM, ("conform", "--backend", "model", "{corpus}/cover-seed-edges-01.itf.json",
                       "{corpus}/fdpass-keeps-after-unmap.itf.json"), 0),
    (schemas.FUZZ, ("fuzz", "--backend", "model", "--examples", "5", "--steps", "5", "--seed", "1"), 0),
    (schemas.FUZZ, FUZZ_DIVERGES, 1),
    (schemas.CORPUS_CHECK, ("corpus", "check"), 0),
    (schemas.CORPUS_CHECK, ("corpus", "check", "--design", "strict", "{corpus}/seed-scenario.itf.json"), 1),
    (schemas.GRAPH, ("graph", "--depth", "1", "--out", "{tmp}/g.dot"), 0),
    (schemas.GENERATE, ("generate", "--coverage", "edges", "--coverage", "decisions", "--depth", "1",
                        "--out", "{tmp}/out"), 0),
    (schemas.MUTANTS_LIST, ("mutants", "--list"), 0),
    (schemas.MUTANTS, ("mutants", "--mutant", "perms-ored", "--engines", "explore,corpus", "--no-implementation",
                       "--jobs", "1", "--budget", "20", "--out", "{tmp}/out"), 0),
    (schemas.REPORT, ("report", "--run", "none", "--out", "{tmp}/report"), 0),
]
# Outputs whose real run is validated by another test, as it costs minutes: `memview prove --json`
# by tests/test_symbolic_engines.py::test_induction_proves_every_step_property_of_seed (the suite
# proves the seed once, through the command line, rather than twice).
VALIDATED_ELSEWHERE = {schemas.PROVE}


def run_json(args: tuple[str, ...], tmp_path: Path, timeout: float = 300) -> tuple[int, dict[str, Any]]:
    """The command as a user runs it, in tmp_path (where fuzz keeps its example database)."""
    (tmp_path / "or.toml").write_text(OR_DESIGN)
    filled = [arg.format(tmp=tmp_path, corpus=CORPUS_DIR) for arg in args]
    result = subprocess.run([sys.executable, "-m", "memview.cli", *filled, "--json"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=timeout, check=False)
    assert result.stdout.startswith("{"), result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, output


@pytest.fixture(scope="module")
def outputs() -> Outputs:
    """Each run's exit status and output, run once per module (bmc's counterexample takes seconds)."""
    return {}


def output_of(args: tuple[str, ...], outputs: Outputs,
              tmp_path: Path) -> tuple[int, dict[str, Any]]:
    if args not in outputs:
        outputs[args] = run_json(args, tmp_path)
    return outputs[args]


def test_every_output_has_a_real_run() -> None:
    assert {name for name, _, _ in RUNS} | VALIDATED_ELSEWHERE == set(OUTPUTS_BY_NAME)


def check_output(name: str, args: tuple[str, ...], status: int, output_and_status: tuple[int, dict[str, Any]],
                 registry: Registry[Any]) -> None:
    returned, output = output_and_status
    assert returned == status, output
    assert next(iter(output)) == "schema" and output["schema"] == name
    errors = [f"{error.json_path}: {error.message[:300]}" for error in validator(name, registry).iter_errors(output)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(("name", "args", "status"), RUNS, ids=[" ".join(args) for _, args, _ in RUNS])
def test_real_output_follows_its_schema(name: str, args: tuple[str, ...], status: int, tmp_path: Path,
                                        registry: Registry[Any],
                                        outputs: Outputs) -> None:
    check_output(name, args, status, output_of(args, outputs, tmp_path), registry)


def test_the_runs_reach_the_optional_parts(tmp_path: Path,
                                           outputs: Outputs) -> None:
    """The runs above are worth validating: they carry counterexamples, divergences and minimised traces."""
    _, checked = output_of(CHECK_VIOLATED, outputs, tmp_path)
    (result,) = checked["results"]
    assert result["verdict"] == "violated" and result["counterexample"]["states"] and result["replay"]
    _, replayed = output_of(REPLAY_DIVERGES, outputs, tmp_path)
    assert replayed["verdicts"][0]["status"] == "diverge" and replayed["minimised"]
    _, fuzzed = output_of(FUZZ_DIVERGES, outputs, tmp_path)
    assert fuzzed["divergence"] and fuzzed["minimal"]
    _, explained = output_of(EXPLAIN_ISOL, outputs, tmp_path)
    assert "isol_pair" in explained


def test_a_report_of_a_saved_check_follows_its_schema(tmp_path: Path, registry: Registry[Any],
                                                      outputs: Outputs) -> None:
    """memview report reading a check result with a counterexample: its pictures and what fails."""
    _, checked = output_of(CHECK_VIOLATED, outputs, tmp_path)
    (tmp_path / "check.json").write_text(json.dumps(checked))
    args = ("report", "--run", "none", "--from", "{tmp}/check.json", "--out", "{tmp}/report")
    status, reported = run_json(args, tmp_path)
    check_output(schemas.REPORT, args, 1, (status, reported), registry)
    assert reported["pictures"] and reported["failing"] == ["check: a property is violated"]


def test_schemas_refuse_what_an_output_must_not_be(tmp_path: Path, registry: Registry[Any],
                                                   outputs: Outputs) -> None:
    """The schemas are closed records with the catalogues' enums, not merely `object`."""
    _, checked = output_of(CHECK_VIOLATED, outputs, tmp_path)
    check = validator(schemas.CHECK, registry)
    check.validate(checked)

    def broken(change: Any) -> dict[str, Any]:
        copied = copy.deepcopy(checked)
        change(copied)
        return copied

    wrong = {
        "unknown verdict": broken(lambda o: o["results"][0].update(verdict="holds")),
        "unknown property": broken(lambda o: o["results"][0].update(property="NOPE")),
        "violated without its counterexample": broken(lambda o: [o["results"][0].pop(k) for k in
                                                                 ("counterexample", "counterexample_steps", "trace",
                                                                  "replay")]),
        "extra field": broken(lambda o: o.update(extra=1)),
        "another schema": broken(lambda o: o.update(schema="memview-check/2")),
        "a broken trace": broken(lambda o: o["results"][0]["counterexample"]["states"][0].pop("action")),
        "an unknown variant": broken(lambda o: o["design"]["decisions"].update(overlap="merge")),
    }
    for what, output in wrong.items():
        assert not check.is_valid(output), what
