"""bmc and induction on the seed design: time per property, at 4 KiB and at 1 GiB pages, and scaling.

Rows: bmc per property to --depth at 4 KiB pages and at 1 GiB pages (sizes of the seed's order:
2 GiB view, 2 GiB objects; the ratio shows what literal sizes cost), bmc on AND for depths 1..--scale,
and the induction engine (lemmas and every step property). Serial, one process.
Prints a table and writes bench/results/bmc.json. Run: .venv/bin/python bench/bench_bmc.py [--depth 2] [--scale 4]
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


def timed_bmc(prop_id: str, depth: int, page_size: int) -> tuple[float, str]:
    started = time.perf_counter()
    [result] = bmc(SEED, default_scope(SEED, depth, page_size), select_properties([prop_id]), depth)
    return time.perf_counter() - started, result.verdict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--scale", type=int, default=4)
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
    for depth in range(1, args.scale + 1):
        seconds, verdict = timed_bmc("AND", depth, 4096)
        rows.append({"run": "bmc AND (scaling)", "configuration": "4 KiB pages", "depth": depth,
                     "seconds": round(seconds, 2), "verdict": verdict})
    started = time.perf_counter()
    induction = prove(SEED, default_scope(SEED).config, list(CATALOGUE))
    proved = sum(p.proved for p in induction.proofs)
    rows.append({"run": "induction (8 lemmas, 10 step properties)", "configuration": "4 KiB pages", "depth": "all",
                 "seconds": round(time.perf_counter() - started, 2), "verdict": f"{proved} proved"})
    report("bmc", rows, [("run", "run"), ("configuration", "configuration"), ("depth", "depth"),
                         ("seconds", "seconds"), ("verdict", "verdict")])


if __name__ == "__main__":
    main()
