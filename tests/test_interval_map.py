"""IntervalMap against a plain dict over a small key space (the map is total; keys default)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from memview.model.interval_map import KEY_LIMIT, IntervalMap

KEYS = 40
ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, KEYS), st.integers(0, KEYS), st.integers(0, 3)),
        st.tuples(st.just("store"), st.integers(0, KEYS - 1), st.integers(0, 3)),
        st.tuples(st.just("paste"), st.integers(0, KEYS), st.integers(0, KEYS), st.integers(0, KEYS)),
    ),
    max_size=25,
)


@settings(max_examples=400)
@given(ops)
def test_interval_map_is_a_total_map(script: list[tuple[object, ...]]) -> None:
    m = IntervalMap.constant(0)
    model = dict.fromkeys(range(KEYS * 3), 0)
    source = IntervalMap.constant(0).set_range(5, 9, 1).store(20, 2)
    source_model = {k: source.get(k) for k in range(KEYS * 3)}
    for step in script:
        if step[0] == "set":
            _, lo, hi, v = step
            m = m.set_range(lo, hi, v)
            for k in range(lo, hi):
                model[k] = v
        elif step[0] == "store":
            _, k, v = step
            m = m.store(k, v)
            model[k] = v
        else:
            _, lo, hi, shift = step
            m = m.paste(lo, hi, source, shift)
            for k in range(lo, hi):
                model[k] = source_model[k + shift]
    assert all(m.get(k) == v for k, v in model.items())
    starts = [s for s, _ in m.items()]
    values = [v for _, v in m.items()]
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert all(a != b for a, b in itertools.pairwise(values)), "adjacent segments must differ"


def test_equal_maps_hash_equal_whatever_the_history() -> None:
    a = IntervalMap.constant(0).set_range(10, 20, 1).set_range(15, 30, 0).set_range(15, 20, 1)
    b = IntervalMap.constant(0).set_range(10, 20, 1)
    assert a == b and hash(a) == hash(b)


def test_paste_wraps_around_the_key_space() -> None:
    src = IntervalMap.constant(0).store(KEY_LIMIT - 1, 7).store(0, 8)
    m = IntervalMap.constant(0).paste(100, 102, src, KEY_LIMIT - 101)
    assert (m.get(100), m.get(101), m.get(102)) == (7, 8, 0)


def test_literal_seed_sizes_cost_a_handful_of_segments() -> None:
    gib = 1 << 30
    m = IntervalMap.constant(0).set_range(8 * gib, 10 * gib, 3).set_range(0, 8 * gib, 1)
    assert len(m.items()) == 3 and m.get(4 * gib) == 1 and m.get(9 * gib) == 3 and m.get(11 * gib) == 0
