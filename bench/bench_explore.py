"""Explicit search cost on the seed design: states, transitions, states/s and peak memory by depth,
with the whole state graph kept and with the visited set only.

Each run is a fresh process so its peak resident memory is its own. Prints a table and
writes bench/results/explore.json. Run: .venv/bin/python bench/bench_explore.py [MAX_DEPTH]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import Any

from report import report

from memview.checker.alphabet import default_scope
from memview.checker.explore import explore
from memview.model.design import SEED
from memview.properties.catalogue import CATALOGUE


def one(depth: int, keep_graph: bool) -> dict[str, Any]:
    started = time.perf_counter()
    exploration = explore(SEED, default_scope(SEED, depth), list(CATALOGUE), keep_graph=keep_graph)
    seconds = time.perf_counter() - started
    return {
        "depth": depth,
        "graph": "kept" if keep_graph else "visited set only",
        "states": len(exploration.states),
        "transitions": exploration.transitions,
        "seconds": round(seconds, 2),
        "states_per_s": round(len(exploration.states) / seconds),
        "transitions_per_s": round(exploration.transitions / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "violations": sorted(exploration.violations),
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]), sys.argv[3] == "graph")))
        return
    max_depth = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    rows = []
    for depth in range(1, max_depth + 1):
        for graph in ("graph", "visited"):
            run = subprocess.run([sys.executable, __file__, "--one", str(depth), graph], capture_output=True,
                                 text=True, check=True)
            rows.append(json.loads(run.stdout))
    report("explore", rows, [("depth", "depth"), ("graph", "graph"), ("states", "states"),
                             ("transitions", "transitions"),
                             ("seconds", "seconds"), ("states_per_s", "states/s"), ("transitions_per_s", "trans/s"),
                             ("peak_rss_mib", "peak RSS MiB")])


if __name__ == "__main__":
    main()
