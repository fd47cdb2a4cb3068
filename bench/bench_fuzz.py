"""Fuzzing throughput on the model backend: examples/s and steps/s (set-up steps included), and
the time to find and shrink an injected divergence. Prints a table and writes bench/results/fuzz.json.
Run: .venv/bin/python bench/bench_fuzz.py
"""

from __future__ import annotations

from typing import Any

from report import report

from memview.backends.model import ModelBackend
from memview.checker.fuzz import fuzz
from memview.model.design import SEED


def row(label: str, backend_design: Any, examples: int) -> dict[str, Any]:
    result = fuzz(SEED, lambda: ModelBackend(backend_design), examples=examples, steps=30, seed=2, database=None)
    seconds = result.seconds
    return {"run": label, "examples": result.examples, "steps": result.steps, "seconds": round(seconds, 2),
            "examples_per_s": round(result.examples / seconds), "steps_per_s": round(result.steps / seconds),
            "found": "yes" if result.failure else "no"}


def main() -> None:
    rows = [
        row("model vs model (no divergence)", None, 300),
        row("model vs a backend that does not revoke", SEED.with_choices("no-zap", {"revocation": "skip"}), 1000),
    ]
    report("fuzz", rows, [("run", "run"), ("examples", "examples"), ("steps", "steps"), ("seconds", "seconds"),
                          ("examples_per_s", "examples/s"), ("steps_per_s", "steps/s"), ("found", "divergence found")])


if __name__ == "__main__":
    main()
