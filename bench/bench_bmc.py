"""bmc and induction on the seed design: time per property, at 4 KiB and at 1 GiB pages, and scaling.

Rows: bmc per property to --depth at 4 KiB pages and at 1 GiB pages (sizes of the seed's order:
2 GiB view, 2 GiB objects; the ratio shows what literal sizes cost); bmc on AND for depths 1..16,
stopping after the first depth that takes longer than --budget seconds; bmc on AND against the
number of clients (1..3) at depths 1..--client-depth; and the induction engine (lemmas and every
step property). Serial, one process.
Prints a table and writes bench/results/bmc.json.
Run: .venv/bin/python bench/bench_bmc.py [--depth 2] [--budget 60] [--client-depth 3] [--skip-induction]
"""

from __future__ import annotations

import argparse
import time

from report import report

from memview.checker.alphabet import default_scope
from memview.checker.bmc import bmc
from memview.checker.induction import prove
from memview.model.design import BUILTIN
from memview.properties.catalogue import CATALOGUE, select_properties

SEED = BUILTIN["seed"]
PAGES = (("4 KiB pages", 4096), ("1 GiB pages", 1 << 30))


def timed_bmc(prop_id: str, depth: int, page_size: int, clients: int = 1) -> tuple[float, str]:
    started = time.perf_counter()
    [result] = bmc(SEED, default_scope(SEED, depth, page_size, clients), select_properties([prop_id]), depth)
    return time.perf_counter() - started, result.verdict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--budget", type=float, default=60.0,
                        help="stop the depth scaling after the first depth slower than this (seconds)")
    parser.add_argument("--client-depth", type=int, default=3)
    parser.add_argument("--skip-induction", action="store_true")
    args = parser.parse_args()
    rows = []
    totals = {label: 0.0 for label, _ in PAGES}
    for prop in CATALOGUE:
        for label, page_size in PAGES:
            seconds, verdict = timed_bmc(prop.id, args.depth, page_size)
            totals[label] += seconds
            rows.append({"run": f"bmc {prop.id}", "configuration": label, "depth": args.depth,
                         "seconds": round(seconds, 2), "verdict": verdict})
    for label, _ in PAGES:
        rows.append({"run": "bmc all properties", "configuration": label, "depth": args.depth,
                     "seconds": round(totals[label], 2), "verdict": ""})
    for depth in range(1, 17):
        seconds, verdict = timed_bmc("AND", depth, 4096)
        rows.append({"run": "bmc AND (depth scaling)", "configuration": "4 KiB pages, 1 client", "depth": depth,
                     "seconds": round(seconds, 2), "verdict": verdict})
        if seconds > args.budget:
            break
    for clients in (1, 2, 3):
        for depth in range(1, args.client_depth + 1):
            seconds, verdict = timed_bmc("AND", depth, 4096, clients)
            rows.append({"run": "bmc AND (client scaling)", "configuration": f"4 KiB pages, {clients} client(s)",
                         "depth": depth, "seconds": round(seconds, 2), "verdict": verdict})
    if not args.skip_induction:
        started = time.perf_counter()
        induction = prove(SEED, default_scope(SEED).config, list(CATALOGUE))
        proved = sum(p.proved for p in induction.proofs)
        rows.append({"run": "induction (8 lemmas, 10 step properties)", "configuration": "4 KiB pages",
                     "depth": "all", "seconds": round(time.perf_counter() - started, 2),
                     "verdict": f"{proved} proved"})
    report("bmc", rows, [("run", "run"), ("configuration", "configuration"), ("depth", "depth"),
                         ("seconds", "seconds"), ("verdict", "verdict")])


if __name__ == "__main__":
    main()
