"""memview report: what a page costs. The whole default report (check with bmc and explore, the
corpus on the model, the corpus-only kill matrix, the layout graph) for seed and for a design that
forgets to revoke, then the same pages made again from their saved results (rendering alone), with
the page's size and its pictures. Prints a table and writes bench/results/report.json.
Run: cd bench && PYTHONPATH=.. python bench_report.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import report

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = (("seed", "seed"), ("no-revoke", str(ROOT / "designs" / "no-revoke.toml")))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def memview(*args: str) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "from memview.cli import main; main()", *args, "--json"],
                          capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"memview {' '.join(args)} failed: {done.stderr.strip()}")
    return seconds, json.loads(done.stdout)


def measure(name: str, spec: str, where: Path) -> list[dict[str, Any]]:
    out = where / name
    before = load()
    seconds, made = memview("report", "--design", spec, "--out", str(out), "--jobs", "2")
    page = Path(made["page"])
    rows = [{"what": f"{name}: whole default report", "seconds": round(seconds, 1),
             "page_kib": round(page.stat().st_size / 1024), "pictures": len(made["pictures"]),
             "load": f"{before} -> {load()}", "failing": "; ".join(made["failing"]) or "none"}]
    saved = [arg for kind in sorted(made["results"]) for arg in ("--from", str(out / "results" / f"{kind}.json"))]
    again = where / f"{name}-again"
    seconds, made = memview("report", "--design", spec, "--out", str(again), "--run", "none", *saved)
    rows.append({"what": f"{name}: the page again from saved results", "seconds": round(seconds, 1),
                 "page_kib": round(Path(made["page"]).stat().st_size / 1024), "pictures": len(made["pictures"]),
                 "load": load(), "failing": "; ".join(made["failing"]) or "none"})
    return rows


def main() -> None:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as where:
        for name, spec in DESIGNS:
            rows += measure(name, spec, Path(where))
    report("report", rows, [("what", "what"), ("seconds", "s"), ("page_kib", "page KiB"),
                            ("pictures", "timelines"), ("failing", "failing"), ("load", "load (1/5/15 min)")])


if __name__ == "__main__":
    main()
