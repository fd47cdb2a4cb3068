"""Cost of one symbolic step, and that the seed's literal sizes cost what a small view costs.

For each operation of the seed scenario, the z3 instance steps from the lifted concrete state and
z3 decides one query about the result. The same runs scaled down to one page per seed GiB, with
the opcode known (one rule) and as a z3 term (every rule merged).
Prints a table and writes bench/results/symbolic.json. Run: .venv/bin/python bench/bench_symbolic.py
"""

from __future__ import annotations

import dataclasses
import time

import z3
from report import report

from memview.model.concrete import CONCRETE
from memview.model.config import Config
from memview.model.context import Ctx
from memview.model.design import SEED
from memview.model.machine import Machine
from memview.model.ops import Action, action
from memview.model.step import step
from memview.model.symbolic import SYMBOLIC, lift

BASE = 1 << 40


def scenario(unit: int) -> list[Action]:
    """The seed's set-up and accesses, with `unit` playing the role of 1 GiB."""
    return [
        action("view_open"), action("view_set_size", fd=0, size=16 * unit),
        action("memfd_create", sealing=False), action("ftruncate", fd=1, size=32 * unit),
        action("view_map_fd", fd=0, src=1, fd_offset=8 * unit, size=2 * unit, mem_offset=8 * unit, perms="rw"),
        action("file_create"), action("ftruncate", fd=2, size=12 * unit),
        action("pwrite", fd=2, offset=8 * unit, byte=0x42), action("reopen", fd=2, mode="ro"),
        action("view_map_fd", fd=0, src=3, fd_offset=4 * unit, size=8 * unit, mem_offset=0, perms="r"),
        action("view_get_viewfd", fd=0, mode="rw"), action("send", fd=4, to=1),
        action("mmap", proc=1, fd=0, length=16 * unit, prot="rw", flags="shared", offset=0),
        action("access", proc=1, addr=BASE + 4 * unit, kind="read", byte=0),
        action("access", proc=1, addr=BASE + 9 * unit, kind="write", byte=7),
        action("view_unmap_fd", fd=0, mem_offset=8 * unit, size=2 * unit),
        action("access", proc=1, addr=BASE + 9 * unit, kind="read", byte=0),
    ]


def measure(unit: int, symbolic_opcode: bool) -> dict[str, float]:
    config = Config()
    machine = Machine(SEED, config)
    sctx = Ctx(SYMBOLIC, SEED, config)
    build = solve = 0.0
    for act in scenario(unit):
        op = act.to_op(CONCRETE)
        started = time.perf_counter()
        code = z3.BitVecVal(op.code, 64) if symbolic_opcode else op.code
        _, obs = step(sctx, lift(machine.state), dataclasses.replace(lift(op), code=code))
        build += time.perf_counter() - started
        started = time.perf_counter()
        solver = z3.Solver()
        expected = machine.run(act)
        solver.add(obs.value != expected.value)
        assert solver.check() == z3.unsat
        solve += time.perf_counter() - started
    steps = len(scenario(unit))
    return {"steps": steps, "build_ms_per_step": round(1000 * build / steps, 1),
            "solve_ms_per_step": round(1000 * solve / steps, 1)}


def main() -> None:
    rows = []
    for symbolic_opcode in (False, True):
        for label, unit in (("seed literal sizes (16 GiB view)", 1 << 30), ("1 page per GiB (16-page view)", 4096)):
            dispatch = "opcode a z3 term: all rules merged" if symbolic_opcode else "opcode known: one rule"
            rows.append({"configuration": label, "dispatch": dispatch, **measure(unit, symbolic_opcode)})
    report("symbolic", rows, [("configuration", "configuration"), ("dispatch", "dispatch"), ("steps", "steps"),
                              ("build_ms_per_step", "build ms/step"), ("solve_ms_per_step", "solve ms/step")])


if __name__ == "__main__":
    main()
