"""How the model packs records into words: a cached translation (the model's PTE) and the object a
raw mapping maps.

A process caches, per view page, the translation a fault found: that one is cached, the
permissions it grants, the object slot and the backing page. `Proc` keeps it in two tables (`pte`:
PTE_VALID | perms | obj << OBJ_SHIFT; `pte_page`: the backing page). Rules, properties, backends
and pictures read it through `cached_entry` (or `cached_spans`, concretely) and write it through
`cache_translation`, so changing the encoding changes this module alone. They need only the
algebra (no design, no bounds), so a concrete reader passes `CONCRETE`. A raw mapping
(delivery=raw-fds) keeps its object slot in its attribute word, packed by `raw_attrs` and read by
`raw_object`.
"""

from __future__ import annotations

from typing import NamedTuple

from memview.model.algebra import Algebra, Bit, Table, Word, cond, has_bits
from memview.model.constants import OBJ_SHIFT, PERM_ALL, PTE_VALID, VMA_RAW
from memview.model.interval_map import KEY_LIMIT
from memview.model.state import Proc, Vma


class CachedTranslation(NamedTuple):
    """What a process cached for one view page (the fields mean nothing unless valid). A named
    tuple, not a frozen dataclass: every access builds one, and a tuple is built several times faster."""

    valid: Bit
    perms: Word  # PERM_* bits
    obj: Word  # object slot
    page: Word  # backing page


def translation_word(alg: Algebra, perms: Word, obj: Word) -> Word:
    """The word `pte` holds for a valid translation granting perms on object slot obj."""
    return alg.bor(alg.word(PTE_VALID), alg.bor(perms, alg.shl(obj, OBJ_SHIFT)))


def cached_entry(alg: Algebra, proc: Proc, view_page: Word) -> CachedTranslation:
    word = alg.select(proc.pte, view_page)
    return CachedTranslation(valid=has_bits(alg, word, alg.word(PTE_VALID)), perms=alg.band(word, alg.word(PERM_ALL)),
                             obj=alg.lshr(word, OBJ_SHIFT), page=alg.select(proc.pte_page, view_page))


def caches(alg: Algebra, proc: Proc, view_page: Word, perms: Word, obj: Word, page: Word) -> Bit:
    """The process's cache of view_page is exactly the translation (perms, obj, page), valid."""
    return alg.and_(alg.eq(alg.select(proc.pte, view_page), translation_word(alg, perms, obj)),
                    alg.eq(alg.select(proc.pte_page, view_page), page))


def cache_translation(alg: Algebra, proc: Proc, view_page: Word, perms: Word, obj: Word, page: Word,
                      unless: Bit) -> dict[str, Table]:
    """The fields of `proc` after a fault caches (perms, obj, page) for view_page, unless `unless`.
    Lazily: a concrete access served by its cached translation builds no new tables (the same
    if-then-else terms symbolically)."""
    return {
        "pte": cond(alg, unless, lambda: proc.pte,
                    lambda: alg.store(proc.pte, view_page, translation_word(alg, perms, obj))),
        "pte_page": cond(alg, unless, lambda: proc.pte_page, lambda: alg.store(proc.pte_page, view_page, page)),
    }


def cached_spans(proc: Proc, lo: int = 0, hi: int = KEY_LIMIT) -> list[tuple[int, int, int]]:
    """(lo, hi, object slot) of each run of view pages in [lo, hi) a concrete process has cached
    alike: what a picture or a label shows of its translations."""
    return [(start, end, word >> OBJ_SHIFT) for start, end, word in proc.pte.segments(lo, hi) if word & PTE_VALID]


def raw_attrs(alg: Algebra, obj: Word) -> Word:
    """The attribute bits that make a mapping a raw mapping of object slot obj."""
    return alg.bor(alg.word(VMA_RAW), alg.shl(obj, OBJ_SHIFT))


def raw_object(alg: Algebra, vma: Vma) -> Word:
    """The object slot a raw mapping maps (meaningless for a mapping of the view)."""
    return alg.lshr(vma.attrs, OBJ_SHIFT)
