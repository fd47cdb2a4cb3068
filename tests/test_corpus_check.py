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
    corpus = load_corpus()
    # What the change must touch, read off the traces themselves: every ioctl the rule answered
    # otherwise (ENOTTY: a view fd allows none; EBADF: no such fd); the first such step of each
    # trace is where it changes.
    expected = {}
    for name, trace in corpus:
        hits = [i for i, step in enumerate(trace.steps)
                if step.action.name == "ioctl" and str(step.observation) != "EINVAL"]
        if hits:
            expected[name] = (hits[0], len(hits))
    assert expected["seed-scenario.itf.json"] == (21, 1)  # B1 asks its view fd an ioctl at step 21
    monkeypatch.setitem(step_module.RULES, "ioctl", ioctl_answers_einval)
    changed = [c for c in corpus_changes(corpus) if c.changed]
    assert {c.name: (c.step, c.changed_steps) for c in changed} == expected
    assert {str(c.now) for c in changed} == {"EINVAL"}
    status, out, _ = run_cli(capsys, "corpus", "check", "--json")
    data = json.loads(out)
    assert status == 1 and data["changed"] == len(expected)
    assert {r["trace"] for r in data["results"] if r["changed"]} == set(expected)
    status, out, _ = run_cli(capsys, "corpus", "check")
    assert status == 1
    line = next(line for line in out.splitlines() if line.startswith("seed-scenario.itf.json"))
    assert line.startswith("seed-scenario.itf.json: changed at step 21 (P1: ioctl(")
    assert line.endswith("recorded ENOTTY, now EINVAL (1 of 27 steps differ)")


def test_cli_unchanged_exits_0_and_another_design_changes_traces(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "corpus", "check")
    assert status == 0 and "0 of" in out and "the model gives every recorded observation" in out
    status, out, _ = run_cli(capsys, "corpus", "check", "--design", "strict", "--json")
    data = json.loads(out)
    assert status == 1 and data["design"]["name"] == "strict" and data["changed"] >= 1
    # Held to the seed, every fdpass exploit changes at A's raw send, every broken design's
    # counterexample changes somewhere, and so does the trace of each mutant of a design other than
    # the seed; nothing else does.
    status, out, _ = run_cli(capsys, "corpus", "check", "--design", "seed", "--json")
    changed = {r["trace"]: r for r in json.loads(out)["results"] if r["changed"]}
    corpus = load_corpus()
    assert set(changed) == {n for n, t in corpus if n.startswith(("fdpass-", "broken-"))
                            or (n.startswith("mutant-") and t.design.overrides())}
    assert {r["action"].split("(")[0] for n, r in changed.items() if n.startswith("fdpass-")} == {"A: send"}


def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "corpus", "check", "--design", "no-such-design")
    assert status == 2 and err.count("\n") == 1 and "unknown design" in err
    status, _, err = run_cli(capsys, "corpus", "check", "/nonexistent/trace.itf.json")
    assert status == 2 and err.count("\n") == 1

