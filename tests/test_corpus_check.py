"""`memview corpus check`: the corpus replays unchanged on the model, and a deliberately changed
rule is reported with exactly the traces (and the first step) it changes."""

from __future__ import annotations

import json

import pytest

from memview.cli import main
from memview.model import step as step_module
from memview.model.constants import Errno
from memview.model.context import Ctx, Result
from memview.model.ops import Op
from memview.model.state import State
from memview.traces.corpus import load_corpus
from memview.traces.corpus_check import corpus_changes


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as leaving:
        main(list(args))
    out, err = capsys.readouterr()
    return int(leaving.value.code or 0), out, err


def test_the_corpus_is_unchanged_under_the_model() -> None:
    changes = corpus_changes(load_corpus())
    assert changes and not [c.name for c in changes if c.changed]


def ioctl_answers_einval(ctx: Ctx, state: State, op: Op) -> Result:
    """A deliberately changed rule: an unknown ioctl command is EINVAL instead of ENOTTY."""
    return state, ctx.errno(Errno.EINVAL)


def test_a_changed_rule_is_reported_with_exactly_the_traces_it_changes(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(step_module.RULES, "ioctl", ioctl_answers_einval)
    changed = [c for c in corpus_changes(load_corpus()) if c.changed]
    # Only the seed scenario asks the view fd an ioctl (B1, step 21: the view fd allows none).
    assert [(c.name, c.step, str(c.recorded), str(c.now), c.changed_steps) for c in changed] == [
        ("seed-scenario.itf.json", 21, "ENOTTY", "EINVAL", 1)]
    status, out, _ = run_cli(capsys, "corpus", "check", "--json")
    data = json.loads(out)
    assert status == 1 and data["changed"] == 1
    assert [r["trace"] for r in data["results"] if r["changed"]] == ["seed-scenario.itf.json"]
    status, out, _ = run_cli(capsys, "corpus", "check")
    assert status == 1
    assert out.splitlines()[0].startswith("seed-scenario.itf.json: changed at step 21 (P1: ioctl(")
    assert "recorded ENOTTY, now EINVAL (1 of 27 steps differ)" in out


def test_cli_unchanged_exits_0_and_another_design_changes_traces(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "corpus", "check")
    assert status == 0 and "0 of" in out and "the model gives every recorded observation" in out
    status, out, _ = run_cli(capsys, "corpus", "check", "--design", "strict", "--json")
    data = json.loads(out)
    assert status == 1 and data["design"]["name"] == "strict" and data["changed"] >= 1
    # Every fdpass exploit, held to the seed, changes at A's raw send.
    status, out, _ = run_cli(capsys, "corpus", "check", "--design", "seed", "--json")
    changed = {r["trace"]: r for r in json.loads(out)["results"] if r["changed"]}
    assert set(changed) == {name for name, _ in load_corpus() if name.startswith("fdpass-")}
    assert {r["action"].split("(")[0] for r in changed.values()} == {"A: send"}


def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "corpus", "check", "--design", "no-such-design")
    assert status == 2 and err.count("\n") == 1 and "unknown design" in err
    status, _, err = run_cli(capsys, "corpus", "check", "/nonexistent/trace.itf.json")
    assert status == 2 and err.count("\n") == 1
