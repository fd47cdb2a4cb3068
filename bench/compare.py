"""One benchmark, two trees, one run: a base commit against the working tree, side by side.

Each round runs the script once on each tree, alternating which goes first, so a machine that gets
busier or quieter during the run affects both alike. Each tree runs its own copy of the script with
its own `memview` first on the path. Rows are matched by position (the same script with the same
arguments gives the same rows); counts that must not depend on speed (states, transitions, steps,
traces) are compared exactly, and a mismatch is reported, since it means the two trees do different
work. Prints a table of the medians and writes bench/results/compare-NAME.json.

Run: .venv/bin/python bench/compare.py [--base REV] [--rounds N] [--metric KEY ...] SCRIPT [ARGS ...]
e.g. .venv/bin/python bench/compare.py --base 3ffea25 --rounds 3 --metric states_per_s bench_explore.py 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from report import report

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
EXACT = ("states", "transitions", "steps", "traces", "violations")  # the work done, not its speed


def run_once(tree: Path, script: str, args: list[str]) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, str(tree / "bench" / script), *args], cwd=tree, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare: {script} failed on {tree} (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    written = [line.removeprefix("wrote ") for line in done.stdout.splitlines() if line.startswith("wrote ")]
    if not written:
        sys.exit(f"compare: {script} wrote no results file on {tree}")
    rows: list[dict[str, Any]] = json.loads(Path(written[-1]).read_text())["rows"]
    return rows


def label(row: dict[str, Any], metrics: list[str]) -> str:
    """What identifies a row: its text fields and small integers such as a depth."""
    parts = [f"{v}" for k, v in row.items() if k not in metrics and k not in EXACT and
             (isinstance(v, str) or (isinstance(v, int) and k in ("depth", "rounds", "pages", "clients")))]
    return " ".join(parts)


def compare(base_rows: list[list[dict[str, Any]]], new_rows: list[list[dict[str, Any]]],
            metrics: list[str]) -> list[dict[str, Any]]:
    out = []
    for index, new in enumerate(new_rows[0]):
        base = base_rows[0][index]
        row: dict[str, Any] = {"row": label(new, metrics)}
        for key in EXACT:
            if key in new and base.get(key) != new[key]:
                row["differs"] = f"{key}: base {base.get(key)}, new {new[key]}"
        for metric in metrics:
            before = statistics.median(run[index][metric] for run in base_rows)
            after = statistics.median(run[index][metric] for run in new_rows)
            row[f"base {metric}"] = before
            row[f"new {metric}"] = after
            row[f"{metric} new/base"] = round(after / before, 3) if before else "n/a"
        row.setdefault("differs", "")
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare against (default HEAD)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of the script on each tree")
    parser.add_argument("--metric", action="append", default=None, help="row key to compare (default seconds)")
    parser.add_argument("script", help="a script in bench/, e.g. bench_explore.py")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    metrics = options.metric or ["seconds"]
    if not (BENCH / options.script).is_file():
        print(f"compare: no such benchmark: bench/{options.script}", file=sys.stderr)
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="memview-base-") as scratch:
        base_tree = Path(scratch) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base_tree), options.base],
                       check=True)
        try:
            base_runs, new_runs = [], []
            for round_index in range(options.rounds):
                order = [(base_tree, base_runs), (ROOT, new_runs)]
                for tree, runs in order if round_index % 2 == 0 else order[::-1]:
                    print(f"round {round_index + 1}/{options.rounds}: {options.script} on "
                          f"{'base ' + options.base if tree == base_tree else 'the working tree'}", file=sys.stderr)
                    runs.append(run_once(tree, options.script, options.args))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)
    rows = compare(base_runs, new_runs, metrics)
    name = f"compare-{Path(options.script).stem.removeprefix('bench_')}"
    columns = [("row", "row"), *((k, k) for k in rows[0] if k not in ("row", "differs")), ("differs", "differs")]
    report(name, rows, columns)


if __name__ == "__main__":
    main()
