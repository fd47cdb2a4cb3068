"""Peer comparison: SPIN (and Quint's simulator) against explore on the standard small configuration.

bench/peers/spin/memview.pml is a Promela model of default_scope(SEED) from the post-set-up state.
For each depth this runs explore (a fresh process per depth, single core) and SPIN's pan (BFS, one
core) and prints reachable states, transitions, seconds, states/s and the ratio explore/SPIN; then,
for three broken designs, the time and states to the first violation of REVOKE, AND and XLATE in
both; then Quint's simulator on the REVOKE scenario (bench/peers/quint/memview.qnt), if Quint can
be installed from the npm registry. Writes bench/results/spin.json.

--mutants instead runs SPIN alone on each seeded bug of memview.pml (one memview mutant per -D flag,
MUTANTS below): compile seconds, seconds to the first counterexample, its steps, the states stored
and which property's assertion failed. Writes bench/results/spin_mutants.json; bench_mutants.py
imports spin_mutant_times() for the same rows.

SPIN comes from Debian's `spin` package: when it is missing and we are root, this runs
`apt-get update` and `apt-get install -y spin`; otherwise it says why and skips SPIN.
Run: PYTHONPATH=. python bench/bench_spin.py [--depth N] [--spin-depth M] [--no-quint]
     PYTHONPATH=. python bench/bench_spin.py --mutants [--mutant-depth N] [--search bfs|dfs]
                                             [--all-properties] [--repeat K]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from report import report

HERE = Path(__file__).resolve().parent
PML = HERE / "peers" / "spin" / "memview.pml"
QNT = HERE / "peers" / "quint" / "memview.qnt"
QUINT_DIR = Path(tempfile.gettempdir()) / "memview-bench-quint"
# Quint 0.33.1's dependency range ^0.5.0-alpha.4 for antlr4ts resolves to a broken 0.5.0-dev build
# (TypeError: Class extends value undefined); pinning the alpha makes the CLI start.
QUINT_PACKAGE = {"name": "memview-bench-quint", "private": True,
                 "dependencies": {"@informalsystems/quint": "0.33.1"},
                 "overrides": {"antlr4ts": "0.5.0-alpha.4"}}

# Broken design -> the -D macro of memview.pml that selects it.
BROKEN = {"revocation=skip": "REVOCATION_SKIP", "perm-combine=or": "PERM_OR", "translation=mem-offset": "XLATE_MEMOFF"}
PROPERTIES = ("REVOKE", "AND", "XLATE")


@dataclass(frozen=True)
class SpinMutant:
    """One seeded bug of memview.pml: the memview mutant it mirrors, its -D flag, and the property
    that mutant breaks (the memview.pml header says what each one changes)."""

    name: str
    flag: str
    breaks: str


MUTANTS = (
    SpinMutant("revoke-skipped", "REVOCATION_SKIP", "REVOKE"),
    SpinMutant("perms-ored", "PERM_OR", "AND"),
    SpinMutant("translate-by-mem-offset", "XLATE_MEMOFF", "XLATE"),
    SpinMutant("shrink-keeps-translations", "SHRINK_KEEP", "REVOKE"),
    SpinMutant("revoke-misses-last-page", "REVOKE_LAST_PAGE", "REVOKE"),
    SpinMutant("range-end-inclusive", "RANGE_END_INCLUSIVE", "AND"),
    SpinMutant("exec-checked-as-read", "EXEC_AS_READ", "AND"),
    SpinMutant("mprotect-upgrades-ptes", "MPROTECT_UPGRADES", "AND"),
)


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


# --- explore ------------------------------------------------------------------------------------


def explore_full(depth: int, only: str) -> dict[str, Any]:
    """In a child process: the full exploration of SEED to depth, as bench_explore measures it:
    judging every property of the catalogue, or only those named (comma-separated)."""
    from memview.checker.alphabet import default_scope
    from memview.checker.explore import explore
    from memview.model.design import SEED
    from memview.properties.catalogue import CATALOGUE

    props = [p for p in CATALOGUE if not only or p.id in only.split(",")]
    started = time.perf_counter()
    exploration = explore(SEED, default_scope(SEED, depth), props)
    return {"states": len(exploration.states), "transitions": exploration.transitions,
            "seconds": time.perf_counter() - started}


def explore_violation(change: str, prop: str, depth: int) -> dict[str, Any]:
    """In a child process: explore one broken design for one property, stopping at its violation."""
    from memview.checker.alphabet import default_scope
    from memview.checker.explore import explore, path_to
    from memview.model.design import SEED
    from memview.properties.catalogue import CATALOGUE

    decision, variant = change.split("=")
    design = SEED.with_choices(change, {decision: variant})
    props = [p for p in CATALOGUE if p.id == prop]
    started = time.perf_counter()
    exploration = explore(design, default_scope(design, depth), props)
    seconds = time.perf_counter() - started
    violation = exploration.violations.get(prop)
    if violation is None:
        return {"found": False, "seconds": seconds, "states": len(exploration.states), "steps": None, "trace": []}
    trace = [str(step.action) for step in path_to(exploration, violation.node)] + [str(violation.action)]
    return {"found": True, "seconds": violation.seconds, "states": violation.states, "steps": len(trace),
            "trace": trace}


def in_child(*args: str) -> tuple[dict[str, Any], float]:
    """Run this file with args in a fresh process; its JSON answer and its peak RSS in MiB."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed (status {status})")
    return json.loads(out), usage.ru_maxrss / 1024


# --- SPIN ---------------------------------------------------------------------------------------


def ensure_spin() -> str | None:
    """None if spin and gcc are usable, else why not."""
    if shutil.which("spin") is None:
        if os.geteuid() != 0:
            return "spin is not installed and we are not root (apt-get install spin)"
        print("spin missing: apt-get update && apt-get install -y spin", flush=True)
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "spin"]):
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                return f"`{' '.join(cmd)}` failed: {(run.stderr or run.stdout).strip().splitlines()[-1:]}"
        if shutil.which("spin") is None:
            return "apt-get install -y spin succeeded but no spin on PATH"
    if shutil.which("gcc") is None:
        return "gcc is not installed (pan.c needs a C compiler)"
    return None


def spin_version() -> str:
    run = subprocess.run(["spin", "-V"], capture_output=True, text=True)
    return run.stdout.strip()


def build_pan(work: Path, name: str, defines: list[str], bfs: bool = True) -> tuple[Path, float]:
    """spin -a then gcc -O2 -DSAFETY: a safety verifier, breadth-first (-DBFS: shortest counterexamples)
    unless bfs is False (pan's default depth-first search)."""
    build = work / name
    build.mkdir()
    shutil.copy(PML, build / PML.name)
    started = time.perf_counter()
    subprocess.run(["spin", *defines, "-a", PML.name], cwd=build, check=True, capture_output=True)
    search = ["-DBFS"] if bfs else []
    subprocess.run(["gcc", "-O2", *search, "-DSAFETY", "-DNOCLAIM", "-DMEMLIM=8192", "-o", "pan", "pan.c"],
                   cwd=build, check=True, capture_output=True)
    return build / "pan", time.perf_counter() - started


def spin_trail(pan: Path, defines: list[str]) -> list[str]:
    """The actions of pan's counterexample, replayed by spin -t (the STEP labels of memview.pml)."""
    run = subprocess.run(["spin", "-t", *defines, PML.name], cwd=pan.parent, capture_output=True, text=True)
    return [line.split("MEMVIEW", 1)[1].strip() for line in run.stdout.splitlines() if "MEMVIEW" in line]


def run_pan(pan: Path, depth: int, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """pan to `depth` actions after the set-up (one more level: the set-up d_step), with its wall time
    and peak RSS; stored states minus the pre-set-up state are explore's states."""
    started = time.perf_counter()
    # A hash table of 2^20 slots (2^23 from depth 7) keeps pan's start-up small at the low depths.
    hash_bits = "-w23" if depth >= 7 else "-w20"
    proc = subprocess.Popen([str(pan), f"-m{depth + 1}", hash_bits, *extra], cwd=pan.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started

    def number(pattern: str) -> float:
        found = re.search(pattern, out)
        if found is None:
            raise SystemExit(f"pan output has no {pattern!r}:\n{out}")
        return float(found.group(1))

    violated = re.search(r"assertion violated (.*) \(at depth (\d+)\)", out)
    return {
        "states": int(number(r"(\d+) states, stored")) - 1,
        "transitions": int(number(r"(\d+) transitions \(= stored\+matched\)")),
        "pan_seconds": number(r"pan: elapsed time ([\d.e+-]+) seconds"),
        "wall_seconds": wall,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "violated_at": int(violated.group(2)) if violated else None,
        "assertion": violated.group(1) if violated else None,
    }


def asserted_property(assertion: str) -> str:
    """Which of memview.pml's assertions pan printed (its expression after spin's rewriting): each
    property's assertion reads a variable that no other assertion reads."""
    if "revoked[" in assertion:
        return "REVOKE"
    if "rperms" in assertion:  # rperms, or layout_rperms under RANGE_END_INCLUSIVE
        return "AND"
    if "odata[" in assertion or "lb>=0" in assertion:
        return "XLATE"
    return "model"  # one of the model's own checks (no split of a range or a mapping)


class SpinUnavailable(RuntimeError):
    """spin or gcc cannot be used here; the message says why."""


Search = Literal["bfs", "dfs"]


def spin_mutant_times(depth: int = 6, search: Search = "bfs", all_properties: bool = False,
                      repeat: int = 5, mutants: tuple[SpinMutant, ...] = MUTANTS) -> list[dict[str, Any]]:
    """SPIN on each seeded bug of memview.pml: one row per mutant with its compile seconds, the
    seconds to the first counterexample (pan's own timer and the process's wall time, medians of
    `repeat` runs), the counterexample's steps and trace, the states stored until then, and the
    property whose assertion failed.

    pan searches to `depth` actions after the set-up and stops at the first assertion violation. By
    default only the property the mutant breaks is asserted (-DONLY_<PROPERTY>): in this
    configuration a REVOKE violation is also an AND violation at the same step (the ghost is set only
    where a range goes away and cleared only by a MAP_FD there) and AND's assertion comes first, so
    with all three asserted the REVOKE mutants report AND. BFS gives the shortest counterexample and
    finds every one within the bound; DFS is pan's default search, to compare.
    Raises SpinUnavailable when spin or gcc cannot be used."""
    why_not = ensure_spin()
    if why_not is not None:
        raise SpinUnavailable(why_not)
    rows = []
    with tempfile.TemporaryDirectory(prefix="memview-spin-mutants-") as tmp:
        for mutant in mutants:
            defines = [f"-D{mutant.flag}"] + ([] if all_properties else [f"-DONLY_{mutant.breaks}"])
            pan, compile_s = build_pan(Path(tmp), mutant.flag, defines, bfs=search == "bfs")
            runs = [run_pan(pan, depth) for _ in range(repeat)]
            # The search is deterministic: every run must stop at the same place.
            if len({(r["states"], r["violated_at"], r["assertion"]) for r in runs}) != 1:
                raise SystemExit(f"{mutant.flag}: pan's runs differ: {runs}")
            first = runs[0]
            trace = spin_trail(pan, defines) if first["violated_at"] is not None else []
            rows.append({
                "mutant": mutant.name, "flag": mutant.flag, "breaks": mutant.breaks,
                "found": "yes" if first["violated_at"] is not None else "no",
                "property": asserted_property(first["assertion"]) if first["assertion"] else "-",
                "compile_s": round(compile_s, 2),
                "pan_s": statistics.median(r["pan_seconds"] for r in runs),
                "wall_s": round(statistics.median(r["wall_seconds"] for r in runs), 4),
                "steps": len(trace) if trace else "-",
                "states": first["states"],
                "search": search, "depth_bound": depth, "properties": "all" if all_properties else mutant.breaks,
                "trace": trace,
            })
    return rows


def print_mutant_rows(rows: list[dict[str, Any]]) -> None:
    columns = [("mutant", "memview mutant"), ("flag", "flag"), ("breaks", "breaks"), ("property", "failed"),
               ("compile_s", "compile s"), ("pan_s", "pan s"), ("wall_s", "wall s"), ("steps", "steps"),
               ("states", "states")]
    report("spin_mutants", [{key: r[key] for key, _ in columns} for r in rows], columns)
    for r in rows:
        print(f"{r['mutant']}: {'; '.join(r['trace']) or 'no counterexample'}")


# --- Quint --------------------------------------------------------------------------------------


def ensure_quint() -> tuple[Path | None, str]:
    """The quint CLI, installed with npm into a temp dir; or None and exactly what failed."""
    quint = QUINT_DIR / "node_modules" / ".bin" / "quint"
    if not quint.exists():
        if shutil.which("npm") is None:
            return None, "npm is not installed"
        QUINT_DIR.mkdir(parents=True, exist_ok=True)
        (QUINT_DIR / "package.json").write_text(json.dumps(QUINT_PACKAGE, indent=2) + "\n")
        cmd = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(QUINT_DIR)]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if run.returncode != 0 or not quint.exists():
            tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
            return None, f"`{' '.join(cmd)}` failed: {' / '.join(tail)}"
    run = subprocess.run([str(quint), "--version"], capture_output=True, text=True)
    if run.returncode != 0:
        return None, f"`quint --version` failed: {(run.stderr or run.stdout).strip().splitlines()[-1:]}"
    return quint, run.stdout.strip()


def quint_runs(quint: Path, seeds: tuple[int, ...], max_steps: int, samples: int) -> list[dict[str, Any]]:
    """`quint run` (the simulator, TypeScript backend: the default Rust backend downloads a binary
    from GitHub) on the REVOKE scenario, once per seed, with and without the broken revocation."""
    rows = []
    for module, broken in (("memview_skip", True), ("memview_zap", False)):
        for seed in seeds:
            cmd = [str(quint), "run", str(QNT), f"--main={module}", "--invariant=revokeOk", "--backend=typescript",
                   f"--max-steps={max_steps}", f"--max-samples={samples}", f"--seed={seed}"]
            started = time.perf_counter()
            run = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - started
            text = run.stdout + run.stderr
            found = "Invariant violated" in text or "[violation]" in text
            if run.returncode not in (0, 1) or (run.returncode == 1 and not found):
                raise SystemExit(f"{' '.join(cmd)} failed:\n{text}")
            steps = len(re.findall(r"\[State \d+\]", text)) - 1 if found else "-"
            # Quint's own time: the simulation alone, without node's start and the type checker.
            timing = re.search(r"\((\d+)ms at (\d+) traces/second\)", text)
            rows.append({"design": "revocation=skip" if broken else "seed", "seed": seed,
                         "violated": "yes" if found else "no", "steps": steps,
                         "quint_s": round(int(timing.group(1)) / 1000, 3) if timing else "-",
                         "traces_per_s": int(timing.group(2)) if timing else "-", "wall_seconds": round(wall, 2)})
    return rows


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--explore-full":
        print(json.dumps(explore_full(int(sys.argv[2]), sys.argv[3])))
        return
    if len(sys.argv) >= 2 and sys.argv[1] == "--explore-violation":
        print(json.dumps(explore_violation(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=4, help="deepest full exploration for both (default 4)")
    parser.add_argument("--spin-depth", type=int, default=7, help="SPIN alone goes on to this depth (default 7)")
    parser.add_argument("--cex-depth", type=int, default=4, help="depth bound of the counterexample runs")
    parser.add_argument("--no-quint", action="store_true")
    parser.add_argument("--mutants", action="store_true",
                        help="only SPIN on memview.pml's seeded bugs (writes bench/results/spin_mutants.json)")
    parser.add_argument("--mutant-depth", type=int, default=6, help="depth bound of the mutant runs (default 6)")
    parser.add_argument("--search", choices=("bfs", "dfs"), default="bfs", help="pan's search for --mutants")
    parser.add_argument("--all-properties", action="store_true",
                        help="--mutants: assert REVOKE, AND and XLATE, not only the property each mutant breaks")
    parser.add_argument("--repeat", type=int, default=5, help="--mutants: pan runs per mutant (medians)")
    args = parser.parse_args()
    if args.mutants:
        mutants_main(args.mutant_depth, args.search, args.all_properties, args.repeat)
        return
    print(f"before: {load()}", flush=True)
    why_not = ensure_spin()
    results: dict[str, Any] = {"load_before": load()}
    rows: list[dict[str, Any]] = []
    cex_rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memview-spin-") as tmp:
        work = Path(tmp)
        pan = None
        if why_not is None:
            results["spin"] = spin_version()
            pan, compile_s = build_pan(work, "seed", [])
            results["spin_compile_seconds"] = round(compile_s, 2)
        else:
            print(f"SPIN skipped: {why_not}")
            results["spin_skipped"] = why_not
        for depth in range(1, max(args.depth, args.spin_depth if pan else 0) + 1):
            row: dict[str, Any] = {"depth": depth}
            if depth <= args.depth:
                ex, rss = in_child("--explore-full", str(depth), "")
                row.update(explore_states=ex["states"], explore_transitions=ex["transitions"],
                           explore_s=round(ex["seconds"], 3), explore_rate=round(ex["states"] / ex["seconds"]),
                           explore_rss_mib=round(rss, 1))
                # The same three properties as memview.pml's assertions.
                ex3, _ = in_child("--explore-full", str(depth), ",".join(PROPERTIES))
                row.update(explore3_s=round(ex3["seconds"], 3), explore3_rate=round(ex3["states"] / ex3["seconds"]))
            if pan is not None:
                sp = run_pan(pan, depth)  # REVOKE, AND and XLATE hold in the seed design
                row.update(spin_states=sp["states"], spin_transitions=sp["transitions"],
                           spin_s=round(sp["wall_seconds"], 3), spin_pan_s=sp["pan_seconds"],
                           spin_rate=round(sp["states"] / sp["wall_seconds"]),
                           spin_rss_mib=round(sp["peak_rss_mib"], 1))
            if "explore_rate" in row and "spin_rate" in row:
                row["same_states"] = "yes" if row["explore_states"] == row["spin_states"] else "NO"
                row["explore_per_spin"] = round(row["explore_rate"] / row["spin_rate"], 5)
                row["explore3_per_spin"] = round(row["explore3_rate"] / row["spin_rate"], 5)
            rows.append(row)
            print(json.dumps(row), flush=True)
        for change, macro in BROKEN.items():
            for prop in PROPERTIES:
                row = {"design": change, "property": prop}
                ex, _ = in_child("--explore-violation", change, prop, str(args.cex_depth))
                row.update(explore_found="yes" if ex["found"] else "no", explore_steps=ex["steps"] or "-",
                           explore_states=ex["states"], explore_s=round(ex["seconds"], 3), explore_trace=ex["trace"])
                if why_not is None:
                    defines = [f"-D{macro}", f"-DONLY_{prop}"]
                    cex_pan, compile_s = build_pan(work, f"{macro}-{prop}", defines)
                    sp = run_pan(cex_pan, args.cex_depth)
                    row["spin_trace"] = spin_trail(cex_pan, defines) if sp["violated_at"] else []
                    row.update(spin_found="yes" if sp["violated_at"] else "no", spin_steps=sp["violated_at"] or "-",
                               spin_states=sp["states"], spin_s=round(sp["wall_seconds"], 3),
                               spin_compile_s=round(compile_s, 2))
                cex_rows.append(row)
                print(json.dumps(row), flush=True)
    results["load_after"] = load()
    quint_rows: list[dict[str, Any]] = []
    if not args.no_quint:
        quint, version = ensure_quint()
        results["quint"] = version if quint else None
        if quint is None:
            print(f"Quint skipped: {version}")
            results["quint_skipped"] = version
        else:
            quint_rows = quint_runs(quint, (1, 2, 3), max_steps=6, samples=10000)
    full_columns = [("depth", "depth"), ("explore_states", "explore states"), ("spin_states", "SPIN states"),
                    ("same_states", "same"), ("explore_transitions", "explore trans"),
                    ("spin_transitions", "SPIN trans"), ("explore_s", "explore s"), ("spin_s", "SPIN s"),
                    ("explore_rate", "explore st/s"), ("spin_rate", "SPIN st/s"),
                    ("explore_per_spin", "explore/SPIN"), ("explore3_s", "explore(3) s"),
                    ("explore3_rate", "explore(3) st/s"), ("explore3_per_spin", "explore(3)/SPIN"),
                    ("explore_rss_mib", "explore MiB"),
                    ("spin_rss_mib", "SPIN MiB")]
    if why_not is not None:
        full_columns = [c for c in full_columns if not c[0].startswith("spin") and c[0] not in
                        ("same_states", "explore_per_spin", "explore3_per_spin")]
    table = [{key: r.get(key, "-") for key, _ in full_columns} for r in rows]
    print(f"\nfull exploration of the standard small configuration, single core ({results['load_before']} before, "
          f"{results['load_after']} after)")
    report("spin", table, full_columns)
    cex_columns = [("design", "design"), ("property", "property"), ("explore_found", "explore"),
                   ("explore_steps", "steps"), ("explore_states", "states"), ("explore_s", "explore s"),
                   ("spin_found", "SPIN"), ("spin_steps", "steps"), ("spin_states", "states"), ("spin_s", "SPIN s"),
                   ("spin_compile_s", "SPIN compile s")]
    if why_not is not None:
        cex_columns = [c for c in cex_columns if not c[0].startswith("spin")]
    print(f"\ntime to the first violation (BFS, depth bound {args.cex_depth})")
    report("spin", [{key: r.get(key, "-") for key, _ in cex_columns} for r in cex_rows], cex_columns)
    for r in cex_rows:
        if r.get("explore_trace"):
            print(f"{r['design']} {r['property']}: explore {'; '.join(r['explore_trace'])}")
            print(f"{' ' * len(r['design'] + r['property'])}  SPIN    {'; '.join(r.get('spin_trace', []))}")
    if quint_rows:
        print(f"\nQuint {results['quint']} simulator (quint run --backend=typescript), REVOKE scenario")
        report("spin", quint_rows, [("design", "design"), ("seed", "seed"), ("violated", "violated"),
                                    ("steps", "steps"), ("quint_s", "simulation s"),
                                    ("traces_per_s", "traces/s"), ("wall_seconds", "wall s")])
    out = HERE / "results" / "spin.json"
    out.write_text(json.dumps({"benchmark": "spin", **results, "rows": rows, "counterexamples": cex_rows,
                               "quint": quint_rows, "quint_version": results.get("quint")}, indent=2) + "\n")
    print(f"wrote {out}")


def mutants_main(depth: int, search: Search, all_properties: bool, repeat: int) -> None:
    before = load()
    print(f"before: {before}", flush=True)
    try:
        rows = spin_mutant_times(depth, search, all_properties, repeat)
    except SpinUnavailable as why_not:
        raise SystemExit(f"SPIN skipped: {why_not}") from None
    after = load()
    asserted = "REVOKE, AND and XLATE asserted" if all_properties else "only the property each mutant breaks asserted"
    print(f"\n{spin_version()} on memview.pml's seeded bugs: {search.upper()} to depth {depth}, {asserted}, "
          f"median of {repeat} pan runs ({before} before, {after} after)")
    print_mutant_rows(rows)
    out = HERE / "results" / "spin_mutants.json"
    out.write_text(json.dumps({"benchmark": "spin_mutants", "spin": spin_version(), "load_before": before,
                               "load_after": after, "search": search, "depth_bound": depth,
                               "all_properties": all_properties, "repeat": repeat, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
