"""Integers in JSON and on the command line: a plain integer or ITF's {"#bigint": "..."}, 0..2^64-1."""

from __future__ import annotations

import re
from typing import Any

from memview.errors import InputError
from memview.model.algebra import MASK

BIGINT_TEXT = re.compile(r"-?[0-9]+")


def parse_word(value: Any, place: str) -> int:
    """A value that must fit a 64-bit word, with a located error otherwise."""
    if isinstance(value, dict):
        extra = sorted(set(value) - {"#bigint"})
        if extra:
            raise InputError(f"{place}.{extra[0]}", "unknown field (a #bigint object holds only \"#bigint\")")
        if "#bigint" not in value:
            raise InputError(place, "expected an integer or {\"#bigint\": \"...\"}")
        text = value["#bigint"]
        if not isinstance(text, str) or not BIGINT_TEXT.fullmatch(text):
            raise InputError(f"{place}.#bigint", f"expected a decimal integer in a string, got {text!r}")
        if len(text) > 64:  # int() refuses very long digit strings; none of them fits a word anyway
            raise InputError(place, f"{text[:24]}... ({len(text)} digits) does not fit in 64 bits")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(place, f"expected an integer, got {value!r}")
    if value < 0:
        raise InputError(place, f"negative number {value}")
    if value > MASK:
        raise InputError(place, f"{value} does not fit in 64 bits")
    return value


def bigint(value: int) -> dict[str, str]:
    return {"#bigint": str(value)}
