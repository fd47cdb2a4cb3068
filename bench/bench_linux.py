"""The linux backend: checked accesses in one client against the raw floor, replay throughput,
and revocation latency by number of clients. Prints a table and writes bench/results/linux.json.
Run: .venv/bin/python bench/bench_linux.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from report import report

from memview.backends.base import StepLimit
from memview.backends.linux.backend import LinuxBackend
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import SEED
from memview.model.machine import Machine
from memview.model.ops import Action, action
from memview.traces.conform import conform
from memview.traces.corpus import load_corpus, seed_scenario
from memview.traces.trace import Step, Trace

P = 4096
VIEW_PAGES = 64


def view_for(clients: int) -> list[Action]:
    """A 64-page view over a memfd, read+write, mapped by every client."""
    acts = [action("view_open"), action("view_set_size", fd=0, size=VIEW_PAGES * P),
            action("memfd_create", sealing=False), action("ftruncate", fd=1, size=VIEW_PAGES * P),
            action("view_map_fd", fd=0, src=1, fd_offset=0, size=VIEW_PAGES * P, mem_offset=0, perms="rw-"),
            action("view_get_viewfd", fd=0, mode="rw")]
    for client in range(1, clients + 1):
        acts += [action("send", fd=2, to=client),
                 action("mmap", proc=client, fd=0, length=VIEW_PAGES * P, prot="rw-", flags="shared", offset=0),
                 action("access", proc=client, addr=MMAP_BASE, kind="read", byte=0)]
    return acts


def started(clients: int) -> LinuxBackend:
    backend = LinuxBackend()
    backend.start(SEED, Config(clients=clients))
    for act in view_for(clients):
        assert backend.perform(act, StepLimit()).ok, act
    return backend


def accesses(count: int) -> list[dict[str, Any]]:
    """Loads in one client through the fault-catching helper, against the same loads unchecked."""
    backend = started(1)
    rows = []
    try:
        backend.action = action("access", proc=1, addr=MMAP_BASE, kind="read", byte=0)
        backend.deadline, backend.limit = time.monotonic() + 600, StepLimit(600)
        for what, span in (("succeeding", VIEW_PAGES * P), ("faulting (SIGBUS, unconfigured page)", P)):
            base = MMAP_BASE
            if span == P:  # the first page, no longer configured: SIGBUS/BUS_ADRERR on every load
                backend.perform(action("view_unmap_fd", fd=0, mem_offset=0, size=P), StepLimit())
                backend.action = action("access", proc=1, addr=MMAP_BASE, kind="read", byte=0)
                backend.deadline = time.monotonic() + 600
            reply, _ = backend.call(1, ("read_batch", base, span, 64, count))
            faults, checked, raw = reply[1]
            assert faults == (count if span == P else 0), faults
            rows.append({"what": f"loads, {what}", "count": count, "checked_per_s": round(count / checked),
                         "raw_per_s": round(count / raw) if not faults else "-",
                         "ratio": f"{raw / checked:.2f}" if not faults else "-"})
    finally:
        backend.stop()
    return rows


def long_trace(reads: int) -> Trace:
    scenario = seed_scenario()
    machine = Machine(scenario.design, scenario.config)
    steps = [Step(s.action, machine.run(s.action), s.label) for s in scenario.steps]
    read = action("access", proc=1, addr=MMAP_BASE + 4 * (1 << 30), kind="read", byte=0)
    steps += [Step(read, machine.run(read)) for _ in range(reads)]
    return Trace(scenario.design, scenario.config, steps)


def replay(rounds: int, reads: int) -> list[dict[str, Any]]:
    corpus = load_corpus()
    steps = 0
    began = time.perf_counter()
    for _ in range(rounds):
        for name, trace in corpus:
            verdict = conform(name, trace, LinuxBackend())
            assert verdict.conforms, verdict.report()
            steps += verdict.steps_run
    seconds = time.perf_counter() - began
    rows = [{"what": f"corpus x{rounds} ({rounds * len(corpus)} traces)", "steps": steps,
             "seconds": round(seconds, 2), "steps_per_s": round(steps / seconds),
             "ms_per_trace": round(1000 * seconds / (rounds * len(corpus)), 2)}]
    trace = long_trace(reads)
    began = time.perf_counter()
    verdict = conform("long", trace, LinuxBackend())
    seconds = time.perf_counter() - began
    assert verdict.conforms, verdict.report()
    rows.append({"what": f"seed scenario + {reads} reads (one trace)", "steps": verdict.steps_run,
                 "seconds": round(seconds, 2), "steps_per_s": round(verdict.steps_run / seconds),
                 "ms_per_trace": round(1000 * seconds, 2)})
    return rows


def revocation(rounds: int) -> list[dict[str, Any]]:
    """A's UNMAP_FD of one page until the last client acknowledged, and the MAP_FD that restores it."""
    rows = []
    unmap = action("view_unmap_fd", fd=0, mem_offset=0, size=P)
    remap = action("view_map_fd", fd=0, src=1, fd_offset=0, size=P, mem_offset=0, perms="rw-")
    for clients in (1, 2, 4, 8):
        backend = started(clients)
        times = []
        try:
            for _ in range(rounds):
                began = time.perf_counter()
                assert backend.perform(unmap, StepLimit()).ok
                times.append(time.perf_counter() - began)
                assert backend.perform(remap, StepLimit()).ok
        finally:
            backend.stop()
        times.sort()
        rows.append({"clients": clients, "rounds": rounds, "median_us": round(1e6 * statistics.median(times)),
                     "p90_us": round(1e6 * times[int(0.9 * len(times))])})
    return rows


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    access_rows = accesses(2_000_000)
    replay_rows = replay(rounds, 5000)
    revoke_rows = revocation(200)
    print("checked accesses in one client (the helper) against the raw floor")
    rows: list[dict[str, Any]] = []
    for row in access_rows:
        rows.append({"kind": "access", **row})
    for row in replay_rows:
        rows.append({"kind": "replay", **row})
    for row in revoke_rows:
        rows.append({"kind": "revocation", **row})
    columns = sorted({key for row in rows for key in row}, key=lambda k: list(rows[0]).index(k)
                     if k in rows[0] else 99)
    for row in rows:
        for key in columns:
            row.setdefault(key, "")
    report("linux", rows, [(key, key) for key in columns])


if __name__ == "__main__":
    main()
