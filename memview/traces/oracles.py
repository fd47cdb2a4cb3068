"""What "fails the same way" means, for minimising a conformance failure or a property violation."""

from __future__ import annotations

from collections.abc import Callable

from memview.backends.base import Backend, StepLimit
from memview.properties.catalogue import Property
from memview.traces.conform import DIVERGE, Verdict, conform
from memview.traces.minimise import Oracle
from memview.traces.replay import replay_on_model
from memview.traces.trace import Trace


def same_failure(reference: Verdict, backend: Callable[[], Backend], lenient: bool, limit: StepLimit) -> Oracle:
    """The candidate makes the backend fail as in the reference verdict: the same operation with the
    same expected and observed observations, or the same kind of backend failure on it."""
    assert reference.step is not None
    failing_op = reference.trace.steps[reference.step].action.name
    failure_kind = (reference.failure or "").split(":")[0]

    def oracle(candidate: Trace) -> bool:
        verdict = conform("candidate", candidate, backend(), lenient, limit)
        if verdict.status != reference.status or verdict.step is None:
            return False
        if candidate.steps[verdict.step].action.name != failing_op:
            return False
        if reference.status == DIVERGE:
            return (verdict.expected, verdict.observed) == (reference.expected, reference.observed)
        return (verdict.failure or "").split(":")[0] == failure_kind

    return oracle


def violates(prop: Property) -> Oracle:
    """The candidate still violates the property somewhere on the reference backend."""

    def oracle(candidate: Trace) -> bool:
        return any(prop.id in step.violated for step in replay_on_model(candidate, [prop]))

    return oracle
