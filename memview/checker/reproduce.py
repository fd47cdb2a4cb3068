"""`memview check --replay BACKEND`: run each counterexample on a backend and say whether the
violation reproduced there: found symbolically, reproduced for real.

A counterexample reproduces on a backend when the backend shows every observation the trace
records, the violating one included (conformance to the trace's own design). Where the backend
answers differently, it does not have the bug the trace shows, and the verdict says at which
step and what it showed instead; a backend that crashes or hangs is a verdict about the backend.
"""

from __future__ import annotations

from memview.backends.registry import open_backend
from memview.checker.result import FAILED, NOT_REPRODUCED, REPRODUCED, PropertyResult, Reproduction
from memview.traces.conform import BACKEND_FAILED, CONFORM, conform


def reproduce(result: PropertyResult, backend_spec: str) -> Reproduction:
    trace = result.counterexample
    assert trace is not None
    name = result.trace_file or f"{result.property_id} counterexample ({result.engine})"
    verdict = conform(name, trace, open_backend(backend_spec, "--replay"))
    status = {CONFORM: REPRODUCED, BACKEND_FAILED: FAILED}.get(verdict.status, NOT_REPRODUCED)
    return Reproduction(backend=backend_spec, status=status, detail=verdict.headline())


def reproduce_all(results: list[PropertyResult], backend_specs: tuple[str, ...]) -> None:
    """Replay every counterexample on every backend; the outcomes go to each result's `replay`."""
    for result in results:
        if result.counterexample is None:
            continue
        result.replay = [reproduce(result, spec) for spec in backend_specs]
