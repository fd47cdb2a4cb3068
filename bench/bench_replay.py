"""Replay throughput: the corpus judged on the model backend (and through the exec protocol when
`memview.backends.serve` is available). Prints a table and writes bench/results/replay.json.
Run: .venv/bin/python bench/bench_replay.py [ROUNDS]
"""

from __future__ import annotations

import sys
import time
from typing import Any

from report import report

from memview.backends.base import StepLimit
from memview.backends.registry import open_backend
from memview.checker.corpus_build import seed_scenario
from memview.model.constants import MMAP_BASE
from memview.model.machine import Machine
from memview.model.ops import action
from memview.traces.conform import conform
from memview.traces.corpus import regression_corpus
from memview.traces.trace import Step, Trace


def measure(spec: str, rounds: int) -> dict[str, Any]:
    corpus = regression_corpus()
    steps = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for name, trace in corpus:
            verdict = conform(name, trace, open_backend(spec))
            assert verdict.conforms, verdict.report()
            steps += verdict.steps_run
    seconds = time.perf_counter() - started
    return {"backend": spec, "traces": rounds * len(corpus), "steps": steps, "seconds": round(seconds, 2),
            "steps_per_s": round(steps / seconds), "ms_per_trace": round(1000 * seconds / (rounds * len(corpus)), 2)}


def long_trace(reads: int) -> Trace:
    """The seed scenario followed by many reads: per-step cost without start-up dominating."""
    scenario = seed_scenario()
    machine = Machine(scenario.design, scenario.config)
    steps = [Step(s.action, machine.run(s.action), s.label) for s in scenario.steps]
    read = action("access", proc=1, addr=MMAP_BASE + 4 * (1 << 30), kind="read", byte=0)
    steps += [Step(read, machine.run(read)) for _ in range(reads)]
    return Trace(scenario.design, scenario.config, steps)


def measure_long(spec: str, reads: int) -> dict[str, Any]:
    trace = long_trace(reads)
    started = time.perf_counter()
    verdict = conform("long", trace, open_backend(spec))
    seconds = time.perf_counter() - started
    assert verdict.conforms, verdict.report()
    return {"backend": f"{spec} (one {len(trace.steps)}-step trace)", "traces": 1, "steps": verdict.steps_run,
            "seconds": round(seconds, 2), "steps_per_s": round(verdict.steps_run / seconds),
            "ms_per_trace": round(1000 * seconds, 2)}


def measure_backend_alone(reads: int) -> dict[str, Any]:
    """The model backend performing a long trace with no judging: the backend's own throughput."""
    trace = long_trace(reads)
    backend = open_backend("model")
    backend.start(trace.design, trace.config)
    limit = StepLimit()
    started = time.perf_counter()
    for step in trace.steps:
        backend.perform(step.action, limit)
    seconds = time.perf_counter() - started
    backend.stop()
    return {"backend": f"model alone, not judged (one {len(trace.steps)}-step trace)", "traces": 1,
            "steps": len(trace.steps), "seconds": round(seconds, 2), "steps_per_s": round(len(trace.steps) / seconds),
            "ms_per_trace": round(1000 * seconds, 2)}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rows = [measure("model", rounds), measure_long("model", 5000), measure_backend_alone(5000)]
    try:
        import memview.backends.serve  # noqa: F401
    except ImportError:
        print("(memview.backends.serve is not there yet: exec rows skipped)")
    else:
        served = f"exec:{sys.executable} -m memview.backends.serve model"
        rows += [measure(served, max(1, rounds // 10)), measure_long(served, 5000)]
    report("replay", rows, [("backend", "backend"), ("traces", "traces"), ("steps", "steps"),
                            ("seconds", "seconds"), ("steps_per_s", "steps/s"), ("ms_per_trace", "ms/trace")])


if __name__ == "__main__":
    main()
