"""The linux backend: checked accesses in one client against the raw floor, replay throughput,
and revocation latency by number of clients. Prints a table and writes bench/results/linux.json.
Run: .venv/bin/python bench/bench_linux.py [ROUNDS]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_replay import long_trace  # the same access-heavy trace as the model's replay benchmark

from memview.backends.base import StepLimit
from memview.backends.linux.backend import LinuxBackend
from memview.model.config import Config
from memview.model.constants import MMAP_BASE
from memview.model.design import SEED
from memview.model.ops import Action, action
from memview.traces.conform import conform
from memview.traces.corpus import regression_corpus

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


def replay(rounds: int, reads: int) -> list[dict[str, Any]]:
    corpus = regression_corpus()
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


def in_process(count: int) -> dict[str, Any]:
    """One Python call into the helper per load, in this process: what a step's access costs at the
    least, without the round trip to a client."""
    import mmap as mm

    from memview.backends.linux import native

    region = mm.mmap(-1, VIEW_PAGES * P)
    region.write(b"x" * len(region))
    import ctypes

    base = ctypes.addressof(ctypes.c_char.from_buffer(region))
    began = time.perf_counter()
    for index in range(count):
        native.access(base + (index * 64) % (VIEW_PAGES * P), 1, 0)
    seconds = time.perf_counter() - began
    return {"what": "loads, one Python call each, in process", "count": count, "checked_per_s": round(count / seconds),
            "raw_per_s": "-", "ratio": "-"}


def backend_alone(reads: int) -> dict[str, Any]:
    """The backend performing the long trace with nothing judging it."""
    trace = long_trace(reads)
    backend = LinuxBackend()
    backend.start(trace.design, trace.config)
    began = time.perf_counter()
    for step in trace.steps:
        backend.perform(step.action, StepLimit())
    seconds = time.perf_counter() - began
    backend.stop()
    return {"what": f"the same trace, not judged ({len(trace.steps)} steps)", "steps": len(trace.steps),
            "seconds": round(seconds, 2), "steps_per_s": round(len(trace.steps) / seconds),
            "ms_per_trace": round(1000 * seconds, 2)}


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    widths = [max(len(header), *(len(str(r[key])) for r in rows)) for key, header in columns]
    print("  ".join(f"{header:<{w}}" for (_, header), w in zip(columns, widths, strict=True)))
    for r in rows:
        print("  ".join(f"{r[key]!s:<{w}}" if isinstance(r[key], str) else f"{r[key]!s:>{w}}"
                        for (key, _), w in zip(columns, widths, strict=True)))
    print()


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    access_rows = [*accesses(2_000_000), in_process(200_000)]
    replay_rows = [*replay(rounds, 5000), backend_alone(5000)]
    revoke_rows = revocation(200)
    table(access_rows, [("what", "accesses"), ("count", "count"), ("checked_per_s", "checked/s"),
                        ("raw_per_s", "unchecked/s"), ("ratio", "checked/unchecked")])
    table(replay_rows, [("what", "replay on linux"), ("steps", "steps"), ("seconds", "seconds"),
                        ("steps_per_s", "steps/s"), ("ms_per_trace", "ms/trace")])
    table(revoke_rows, [("clients", "clients"), ("rounds", "UNMAP_FDs"), ("median_us", "median us"),
                        ("p90_us", "p90 us")])
    out = Path(__file__).parent / "results" / "linux.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"benchmark": "linux", "accesses": access_rows, "replay": replay_rows,
                               "revocation": revoke_rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
