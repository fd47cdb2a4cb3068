"""Replay throughput: the corpus judged on the model backend (and through the exec protocol when
`memview.backends.serve` is available). Prints a table and writes bench/results/replay.json.
Run: .venv/bin/python bench/bench_replay.py [ROUNDS]
"""

from __future__ import annotations

import sys
import time
from typing import Any

from report import report

from memview.backends.registry import open_backend
from memview.traces.conform import conform
from memview.traces.corpus import load_corpus


def measure(spec: str, rounds: int) -> dict[str, Any]:
    corpus = load_corpus()
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


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rows = [measure("model", rounds)]
    try:
        import memview.backends.serve  # noqa: F401
    except ImportError:
        print("(memview.backends.serve is not there yet: exec rows skipped)")
    else:
        rows.append(measure(f"exec:{sys.executable} -m memview.backends.serve model", max(1, rounds // 10)))
    report("replay", rows, [("backend", "backend"), ("traces", "traces"), ("steps", "steps"),
                            ("seconds", "seconds"), ("steps_per_s", "steps/s"), ("ms_per_trace", "ms/trace")])


if __name__ == "__main__":
    main()
