"""The kvm backend (the real driver in a QEMU guest): boot-to-ready time, steps/s through the guest
agent on an access-heavy trace (boot excluded), and the whole regression corpus held to
kernel/seed-driver.toml through one booted guest. Prints a table and writes bench/results/kvm.json.
Run: cd bench && PYTHONPATH=.. python bench_kvm.py [BOOTS] [READS]
(needs `make kernel-module`; TCG unless KVM really works, see docs/kernel.md)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_replay import long_trace  # the seed scenario followed by many reads
from report import report

from memview.backends.base import StepLimit
from memview.backends.kvm.backend import POOL, KvmBackend
from memview.backends.kvm.guest import Guest, find_kernel, kvm_works
from memview.model.design import load_design
from memview.traces.conform import CONFORM, conform, judged_as
from memview.traces.corpus import regression_corpus

ROOT = Path(__file__).resolve().parent.parent
SEED_DRIVER = load_design(str(ROOT / "kernel" / "seed-driver.toml"))
LIMIT = StepLimit(60.0)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure_boots(boots: int) -> tuple[dict[str, Any], Guest]:
    """Boot `boots` guests one after another; the last one stays up and is handed to the pool."""
    ready: list[float] = []  # from QEMU's start to the agent's "ready" (Guest.boot_seconds)
    wall: list[float] = []  # the whole boot() call: initramfs written, QEMU started, agent ready
    guest: Guest | None = None
    for index in range(boots):
        guest = Guest(find_kernel())
        started = time.monotonic()
        guest.boot()
        wall.append(time.monotonic() - started)
        ready.append(guest.boot_seconds)
        if index < boots - 1:
            guest.shutdown()
    assert guest is not None
    row = {"what": f"boot to ready ({boots} boots; {guest.accelerator})", "count": boots, "steps": "",
           "seconds": round(sum(ready), 1), "rate": "",
           "detail": f"median {statistics.median(ready):.1f} s, max {max(ready):.1f} s "
                     f"(whole boot() call: median {statistics.median(wall):.1f} s)",
           "ready_s": [round(s, 2) for s in ready], "boot_call_s": [round(s, 2) for s in wall]}
    return row, guest


def measure_steps(reads: int) -> dict[str, Any]:
    """One long access-heavy trace through the booted guest; the clock starts after the boot."""
    trace = judged_as(long_trace(reads), SEED_DRIVER)
    boots = POOL.boots
    started = time.monotonic()
    verdict = conform("long", trace, KvmBackend(), limit=LIMIT)
    seconds = time.monotonic() - started
    assert verdict.status == CONFORM, verdict.report()
    assert POOL.boots == boots, "the guest rebooted during the step measurement"
    return {"what": f"one {len(trace.steps)}-step trace (seed scenario + {reads} reads)", "count": 1,
            "steps": verdict.steps_run,
            "seconds": round(seconds, 1), "rate": round(verdict.steps_run / seconds, 1),
            "detail": "steps/s; includes the session's handshake (A and B forked in the guest)"}


def measure_corpus() -> dict[str, Any]:
    corpus = regression_corpus()
    boots = POOL.boots
    conforming, diverging = 0, []
    steps = 0
    started = time.monotonic()
    for name, trace in corpus:
        verdict = conform(name, judged_as(trace, SEED_DRIVER), KvmBackend(), limit=LIMIT)
        steps += verdict.steps_run
        if verdict.status == CONFORM:
            conforming += 1
        else:
            diverging.append(f"{name} ({verdict.status} at step {verdict.step})")
    seconds = time.monotonic() - started
    print("not conforming:", *diverging, sep="\n  ")
    return {"what": "regression corpus held to seed-driver", "count": len(corpus), "steps": steps,
            "seconds": round(seconds, 1), "rate": round(steps / seconds, 1),
            "detail": f"{conforming} conform, {len(diverging)} do not; {POOL.boots - boots} boot(s) during the run",
            "not_conforming": diverging, "boots_during": POOL.boots - boots}


def main() -> None:
    boots = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    reads = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    before = load()
    accelerator = "kvm" if kvm_works() else "tcg"
    started = time.monotonic()
    boot_row, guest = measure_boots(boots)
    POOL.guest, POOL.trusted = guest, True  # the last boot serves the other two measurements
    rows = [boot_row, measure_steps(0), measure_steps(reads), measure_corpus()]
    POOL.discard()
    after = load()
    for row in rows:
        row.update(accelerator=accelerator, load_before=before, load_after=after, cores=os.cpu_count())
    report("kvm", rows, [("what", "measurement"), ("count", "n"), ("steps", "steps"), ("seconds", "seconds"),
                         ("rate", "steps/s"), ("detail", "detail")])
    print(f"{accelerator}; load average before {before}, after {after}; "
          f"{os.cpu_count()} cores; whole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
