"""Hypothesis strategies for memview's operations, for the fuzz engine and for implementers' tests.

`actions(design)` draws from the design's explicit-search alphabet (operations that mostly succeed
from the set-up: mappings, accesses, revocations) mixed with operations whose arguments are
arbitrary 64-bit words (which exercise every check). Use them in your own hypothesis tests:

    from memview.checker.strategies import actions
    @given(st.lists(actions(SEED), max_size=20))
    def test_my_driver(acts): ...
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st

from memview.checker.alphabet import default_scope
from memview.model.arguments import ARG_KINDS
from memview.model.constants import MMAP_BASE
from memview.model.design import Design
from memview.model.ops import OPS, Action

MASK = (1 << 64) - 1


@functools.cache
def _strategies(page_size: int, fds: int, processes: int) -> dict[str, st.SearchStrategy[int]]:
    """Each argument kind's words: small and interesting values mostly, any 64-bit word sometimes."""
    p = page_size
    interesting = [0, 1, p - 1, p, 2 * p, 3 * p, MMAP_BASE, MMAP_BASE + p, MMAP_BASE + 2 * p, 1 << 63, MASK]
    named = st.sampled_from([0, 1, 2, 3, 4, 7])  # every name, and words no name has
    by_kind = {
        "int": st.one_of(st.sampled_from(interesting), st.integers(0, 4 * p), st.integers(0, MASK)),
        "fd": st.integers(0, fds),
        "proc": st.integers(0, processes),
        "byte": st.integers(0, 255),
        "bool": st.integers(0, 1),
        "perms": st.integers(0, 15),
        "seals": st.integers(0, 0x3F),
        "mode": named,
        "kind": named,
        "flags": named,
    }
    assert set(by_kind) == set(ARG_KINDS), "a strategy for every argument kind"
    return by_kind


def words(kind: str, page_size: int = 4096, fds: int = 5, processes: int = 3) -> st.SearchStrategy[int]:
    """Argument words of one kind (`memview.model.arguments.ARG_KINDS`)."""
    return _strategies(page_size, fds, processes)[kind]


@st.composite
def any_action(draw: st.DrawFn, processes: int = 3) -> Action:
    """An operation with arbitrary arguments (mostly refused by some check)."""
    spec = draw(st.sampled_from(OPS))
    proc = draw(st.integers(0, processes))
    return Action(spec.name, proc, tuple(draw(words(kind)) for _, kind in spec.args))


def actions(design: Design, alphabet: tuple[Action, ...] | None = None) -> st.SearchStrategy[Action]:
    """Two parts the design's alphabet (or the one given) to one part arbitrary operations."""
    alphabet = alphabet or default_scope(design).alphabet
    return st.one_of(st.sampled_from(alphabet), st.sampled_from(alphabet), any_action())
