"""Design fdpass, today's practice (A hands B its raw fds): bmc finds the attacks the seed's driver
exists to stop, the corpus's exploit traces show them and are minimal where they say so, and held to
the seed the same operations give B nothing."""

from __future__ import annotations

import pytest

from memview.backends.model import ModelBackend
from memview.checker.alphabet import default_scope
from memview.checker.bmc import bmc
from memview.checker.check import Report, finish_counterexamples
from memview.checker.corpus_build import FDPASS_EXPLOITS, fdpass_exploit
from memview.model.design import BUILTIN
from memview.properties.catalogue import CATALOGUE, select_properties
from memview.traces.conform import CONFORM, DIVERGE, conform, judged_as
from memview.traces.explain import explain, explain_json
from memview.traces.minimise import minimise
from memview.traces.oracles import violates
from memview.traces.replay import replay_on_model

FDPASS, SEED = BUILTIN["fdpass"], BUILTIN["seed"]


def test_bmc_breaks_revoke_noesc_and_isol_and_not_cap() -> None:
    props = select_properties(["REVOKE", "NOESC", "ISOL", "CAP"])
    results = {r.property_id: r for r in bmc(FDPASS, default_scope(FDPASS, 2), props, 2)}
    assert [p for p, r in results.items() if r.violated] == ["REVOKE", "NOESC", "ISOL"]
    finish_counterexamples(Report(FDPASS, list(results.values())), props, None)  # replayed and minimised
    for prop in ("REVOKE", "NOESC", "ISOL"):
        trace = results[prop].counterexample
        assert trace is not None
        last = replay_on_model(trace, props)[-1]
        assert prop in last.violated
        # The violating step is B's access through a mapping of a raw fd.
        assert trace.steps[-1].action.name == "access" and trace.steps[-1].action.proc == 1
        assert "through its own mapping of a raw fd" in explain(trace)


@pytest.mark.parametrize("name", sorted(FDPASS_EXPLOITS))
def test_each_exploit_violates_what_it_says_and_explain_says_what_b_got(name: str) -> None:
    trace = fdpass_exploit(name)
    prop = trace.meta["property"]
    steps = replay_on_model(trace, list(CATALOGUE))
    first = next(s for s in steps if s.violated)
    assert prop in first.violated
    assert trace.meta["violates"] == f"{', '.join(first.violated)} at step {first.index}"
    assert first.index == len(trace.steps) - 1 or name == "fdpass-keeps-after-unmap"
    # Before the attack every access B made was one A's layout allowed.
    assert all(not s.violated for s in steps[: first.index])
    entry = explain_json(trace)["steps"][first.index]
    assert entry["violates"] == list(first.violated)
    assert entry["reached"].startswith("B1 ") and "through its own mapping of a raw fd" in entry["reached"]


@pytest.mark.parametrize("name", sorted(n for n in FDPASS_EXPLOITS if n.startswith("fdpass-min-")))
def test_minimal_exploits_cannot_lose_a_step(name: str) -> None:
    trace = fdpass_exploit(name)
    [prop] = select_properties([trace.meta["property"]])
    assert len(minimise(trace, violates(prop)).minimal.steps) == len(trace.steps)


@pytest.mark.parametrize("name", sorted(FDPASS_EXPLOITS))
def test_held_to_the_seed_the_exploit_diverges_at_the_raw_send_and_b_gets_nothing(name: str) -> None:
    trace = fdpass_exploit(name)
    send = next(i for i, s in enumerate(trace.steps) if s.action.name == "send")
    verdict = conform(name, judged_as(trace, SEED), ModelBackend(pinned=FDPASS))
    assert verdict.status == DIVERGE and verdict.step == send
    assert str(verdict.expected) == "EINVAL" and verdict.observed is not None and verdict.observed.ok
    as_seed = judged_as(trace, SEED)
    assert conform(name, as_seed, ModelBackend()).status == CONFORM
    assert not any(s.violated for s in replay_on_model(as_seed, list(CATALOGUE)))
