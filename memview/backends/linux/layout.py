"""The view's layout as the emulated driver holds it, read from the model's state.

The linux backend has no layout rules of its own: after each step the coordinator reads the view
(its size and used ranges) from the model's state, and a client turns the layout into real
mappings. A `DriverLayout` is a sorted list of ranges in view pages; `changed` gives the view page
intervals where two layouts differ, which are exactly what clients must replace (revoke, remap or
re-protect) for A's call to take effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from memview.model.state import State

WORD = 1 << 64


@dataclass(frozen=True)
class Span:
    lo: int  # view pages [lo, hi)
    hi: int
    obj: int  # backing object slot
    delta: int  # backing page - view page, mod 2^64
    perms: int  # PERM_* bits


@dataclass(frozen=True)
class DriverLayout:
    """The view's layout as the emulated driver holds it: its size and its used ranges, by address."""

    size_pages: int
    spans: tuple[Span, ...]

    def backing_page(self, span: Span, view_page: int) -> int:
        return (view_page + span.delta) % WORD


# What a page of the view is, for a client: a span of a backing object, a page inside the view's
# size that no range covers, or a page past the view's size.
UNCONFIGURED = "unconfigured"
BEYOND = "beyond"


def layout_of(state: State, page_shift: int) -> DriverLayout:
    view = state.view
    spans = sorted(
        (Span(int(r.lo), int(r.hi), int(r.obj), int(r.delta), int(r.perms)) for r in view.ranges if r.used),
        key=lambda s: s.lo,
    )
    return DriverLayout(int(view.size) >> page_shift, tuple(spans))


def pieces(layout: DriverLayout, lo: int, hi: int) -> list[tuple[int, int, Span | str]]:
    """[lo, hi) in view pages cut where the layout changes: (lo, hi, span or UNCONFIGURED/BEYOND)."""
    out: list[tuple[int, int, Span | str]] = []
    cursor = lo
    for span in layout.spans:
        if span.hi <= cursor or span.lo >= hi:
            continue
        if span.lo > cursor:
            out.extend(_gap(layout, cursor, span.lo))
        out.append((max(span.lo, cursor), min(span.hi, hi), span))
        cursor = min(span.hi, hi)
    if cursor < hi:
        out.extend(_gap(layout, cursor, hi))
    return out


def _gap(layout: DriverLayout, lo: int, hi: int) -> list[tuple[int, int, Span | str]]:
    size = layout.size_pages
    if hi <= size:
        return [(lo, hi, UNCONFIGURED)]
    if lo >= size:
        return [(lo, hi, BEYOND)]
    return [(lo, size, UNCONFIGURED), (size, hi, BEYOND)]


def _boundaries(layout: DriverLayout) -> set[int]:
    points = {layout.size_pages}
    for span in layout.spans:
        points.update((span.lo, span.hi))
    return points


def _what(layout: DriverLayout, page: int) -> tuple[object, ...]:
    """What view page `page` is, comparable across layouts (a span by its translation)."""
    for span in layout.spans:
        if span.lo <= page < span.hi:
            return ("span", span.obj, span.delta, span.perms)
    return (UNCONFIGURED,) if page < layout.size_pages else (BEYOND,)


def changed(before: DriverLayout, after: DriverLayout) -> list[tuple[int, int]]:
    """The view page intervals whose meaning differs between two layouts, merged and sorted."""
    if before == after:
        return []
    points = sorted(_boundaries(before) | _boundaries(after) | {0})
    intervals: list[tuple[int, int]] = []
    ends = [*points[1:], WORD]
    for lo, hi in zip(points, ends, strict=True):
        if lo >= hi or _what(before, lo) == _what(after, lo):
            continue
        if intervals and intervals[-1][1] == lo:
            intervals[-1] = (intervals[-1][0], hi)
        else:
            intervals.append((lo, hi))
    return intervals
