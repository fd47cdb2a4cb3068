"""Fresh z3 operations and states for the symbolic engines, and turning a z3 model back into actions.

The engines leave the operation of every step open: its opcode, acting process and every argument
word are z3 constants. Only the shape is constrained (a known opcode, an existing process slot,
unused argument words zero) so that a model decodes to exactly one Action. An arbitrary state (the
induction engine's pre-state) has a fresh constant in every word and bit and an uninterpreted
function in every table; `KeyLog` records the keys the step reads those functions at, which is
where the engine instantiates its universally quantified lemmas.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import z3

from memview.model.algebra import WIDTH, Bit, Word, replace
from memview.model.config import Config
from memview.model.ops import ARITY, OPS, Action, Op
from memview.model.state import State, initial_state
from memview.model.symbolic import SYMBOLIC, SymTable

# Tables keyed by view page; the rest (object data, private-copy bytes) are keyed by byte.
PAGE_TABLES = frozenset({"pte", "pte_page", "cow", "revoked"})


def symbolic_op(tag: str) -> Op:
    return Op(z3.BitVec(f"{tag}.code", WIDTH), z3.BitVec(f"{tag}.proc", WIDTH),
              tuple(z3.BitVec(f"{tag}.arg{i}", WIDTH) for i in range(ARITY)))


def op_shape(op: Op, config: Config) -> Bit:
    """A known opcode by an existing process slot, with every argument word it does not take zero."""
    per_code = [z3.Implies(op.code == spec.code, z3.And(*(op.args[i] == 0 for i in range(len(spec.args), ARITY))))
                for spec in OPS if len(spec.args) < ARITY]
    return z3.And(z3.ULT(op.code, len(OPS)), z3.ULT(op.proc, config.processes), *per_code)


def decode_action(model: z3.ModelRef, op: Op) -> Action:
    def value(term: Word) -> int:
        evaluated = model.eval(term, model_completion=True)
        assert z3.is_bv_value(evaluated)
        return int(evaluated.as_long())

    spec = OPS[value(op.code)]
    return Action(spec.name, value(op.proc), tuple(value(op.args[i]) for i in range(len(spec.args))))


class KeyLog:
    """The keys at which an arbitrary state's page tables were read, in first-read order."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[int, Word]] = {"page": {}, "byte": {}}

    def table(self, name: str, keyed: str) -> SymTable:
        f = z3.Function(name, z3.BitVecSort(WIDTH), z3.BitVecSort(WIDTH))
        seen = self._keys[keyed]

        def read(key: Word) -> Word:
            seen.setdefault(key.get_id(), key)
            return f(key)

        return SymTable(read)

    def keys(self, keyed: str) -> list[Word]:
        """The distinct keys read so far from the tables keyed by "page" or by "byte"."""
        return list(self._keys[keyed].values())


def arbitrary_state(config: Config, tag: str, log: KeyLog) -> State:
    """A state with every leaf unconstrained, shaped like the configuration's initial state."""

    def fresh(value: Any, path: str, field_name: str) -> Any:
        if isinstance(value, SymTable):
            return log.table(path, "page" if field_name in PAGE_TABLES else "byte")
        if isinstance(value, z3.BoolRef):
            return z3.Bool(path)
        if isinstance(value, z3.BitVecRef):
            return z3.BitVec(path, WIDTH)
        if isinstance(value, tuple):
            return tuple(fresh(v, f"{path}[{i}]", field_name) for i, v in enumerate(value))
        assert dataclasses.is_dataclass(value) and not isinstance(value, type)
        return replace(value, **{f.name: fresh(getattr(value, f.name), f"{path}.{f.name}", f.name)
                                 for f in dataclasses.fields(value)})

    state: State = fresh(initial_state(SYMBOLIC, config), tag, "")
    return state
