"""Symmetry reduction of explicit search: clients that the configuration treats alike.

Clients B1..Bn are interchangeable when the set-up gives each the same fds and mappings and the
alphabet gives each the same operations (`alphabet.default_scope(..., active_clients=True)`): a
state and the same state with two clients' records swapped then have the same future up to that
swap, and every property treats clients alike (they ask "is it a client?", never "which one?"). No
part of a state names a process, so a swap is just a permutation of the client records. Explicit
search stores one representative per orbit: the state with its client records in a fixed order.

A path of the reduced search takes each action on a representative, so a counterexample needs its
actions renamed back to the processes of a real run: `concrete_actions` follows the permutations
step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from memview.model.ops import Action
from memview.model.state import State

Permutation = tuple[int, ...]  # process index -> its index in the representative


@dataclass(frozen=True)
class ClientSymmetry:
    clients: int  # B1..Bn, process indices 1..n

    def canonical(self, state: State) -> tuple[State, Permutation]:
        """The representative of state's orbit and the permutation taking state to it."""
        procs = state.procs
        block = range(1, self.clients + 1)
        # Records hold only ints and interval maps, so their hashes are stable within a run; equal
        # hashes of different records merely leave two representatives of one orbit (still sound).
        order = sorted(block, key=lambda i: hash(procs[i]))
        if order == list(block):
            return state, tuple(range(len(procs)))
        moved = [*range(len(procs))]
        for new, old in zip(block, order, strict=True):
            moved[old] = new
        new_procs = list(procs)
        for old, new in enumerate(moved):
            new_procs[new] = procs[old]
        return replace(state, procs=tuple(new_procs)), tuple(moved)


def rename(act: Action, to_concrete: Permutation) -> Action:
    """The action with its process arguments renamed (the acting process and `to` of send)."""
    args = tuple(to_concrete[value] if kind == "proc" and value < len(to_concrete) else value
                 for (_, kind), value in zip(act.spec.args, act.args, strict=True))
    proc = to_concrete[act.proc] if act.proc < len(to_concrete) else act.proc
    return Action(act.name, proc, args)


def compose(first: Permutation, then: Permutation) -> Permutation:
    return tuple(then[first[i]] for i in range(len(first)))


def invert(perm: Permutation) -> Permutation:
    out = [0] * len(perm)
    for old, new in enumerate(perm):
        out[new] = old
    return tuple(out)


def concrete_actions(root_perm: Permutation, steps: list[tuple[Action, Permutation | None]]) -> list[Action]:
    """Actions of a reduced path, each taken on a representative and followed by the permutation
    that canonicalised its result (None after the last), renamed to the processes of a run from
    the real start."""
    to_rep = root_perm  # real index -> representative index
    out = []
    for act, perm in steps:
        out.append(rename(act, invert(to_rep)))
        if perm is not None:
            to_rep = compose(to_rep, perm)
    return out
