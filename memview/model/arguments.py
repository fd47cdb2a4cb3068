"""The kinds of operation arguments, and how words read: one table, `ARG_KINDS`.

Traces, the command line and pictures spell arguments readably ("rw", "private", ["write"]) and
rules see words. Each kind says, once, how its readable form becomes a word (`encode`), how a word
reads back (`decode`, a raw number where no name fits, so unknown bits can be tried and shown),
how it reads in a line of text (`text`), and which readable form it takes (`form`, from which the
JSON Schemas are generated). Everything that handles an argument by its kind asks this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from memview.errors import InputError
from memview.model.config import Config
from memview.model.constants import (
    F_SEAL_EXEC,
    F_SEAL_FUTURE_WRITE,
    F_SEAL_GROW,
    F_SEAL_SEAL,
    F_SEAL_SHRINK,
    F_SEAL_WRITE,
    MODE_RO,
    MODE_RW,
    PERM_ALL,
    PERM_R,
    PERM_W,
    PERM_X,
    VMA_PRIVATE,
    VMA_SEALED,
    MapFlag,
)
from memview.model.words import parse_word

ACCESS_KINDS = {"read": PERM_R, "write": PERM_W, "exec": PERM_X}
MODES = {"ro": MODE_RO, "rw": MODE_RW}
FLAGS = {"shared": int(MapFlag.SHARED), "private": int(MapFlag.PRIVATE)}
SEAL_NAMES = {
    "seal": F_SEAL_SEAL,
    "shrink": F_SEAL_SHRINK,
    "grow": F_SEAL_GROW,
    "write": F_SEAL_WRITE,
    "future-write": F_SEAL_FUTURE_WRITE,
    "exec": F_SEAL_EXEC,
}
PERM_LETTERS = {"r": PERM_R, "w": PERM_W, "x": PERM_X}
PERM_WORDS = ((PERM_R, "read"), (PERM_W, "write"), (PERM_X, "exec"))

# How an argument is spelled in a trace: a 64-bit word, a byte, true/false, permission letters
# ("rw-"), one name of `names`, or a list of them (seals); every form but the first three also
# takes a raw word.
Form = Literal["word", "byte", "bool", "letters", "name", "names"]


def perms_text(bits: int) -> str:
    """'rw-' style, as ls and /proc/PID/maps print permissions."""
    text = "".join(letter if bits & bit else "-" for letter, bit in PERM_LETTERS.items())
    extra = bits & ~PERM_ALL
    return text if not extra else f"{text}+{extra:#x}"


def perms_words(bits: int) -> str:
    """'read+write' style, as the seed's layout tables name permissions."""
    words = [word for bit, word in PERM_WORDS if bits & bit]
    extra = bits & ~PERM_ALL
    if extra:
        words.append(hex(extra))
    return "+".join(words) or "none"


def mapping_text(attrs: int) -> str:
    """A mapping's protection and flags ('rw- private'), as the graphs and the report show it."""
    flags = [name for bit, name in ((VMA_PRIVATE, "private"), (VMA_SEALED, "sealed")) if attrs & bit]
    return " ".join([perms_text(attrs & PERM_ALL), *flags])


def who(proc: int, config: Config) -> str:
    """A process by name: A, the clients B1..Bn, then forked children by number (what fork returned)."""
    if proc == 0:
        return "A"
    return f"B{proc}" if proc <= config.clients else f"P{proc}"


@dataclass(frozen=True)
class ArgKind:
    name: str
    form: Form
    names: Mapping[str, int] = field(default_factory=dict)  # for letters, name and names
    hex_from: int | None = None  # words from here on read in hex (addresses and other big numbers)

    def encode(self, value: Any, place: str) -> int:
        """A readable argument from a trace or the command line as its word."""
        if self.form == "bool":
            if not isinstance(value, bool):
                raise InputError(place, f"expected true or false, got {value!r}")
            return int(value)
        if self.form == "byte":
            number = parse_word(value, place)
            if number > 0xFF:
                raise InputError(place, f"a byte is 0..255, got {number}")
            return number
        if self.form == "letters" and isinstance(value, str):
            return self._letters(value, place)
        if self.form == "names" and isinstance(value, list):
            return self._names(value, place)
        if self.form == "name" and isinstance(value, str):
            if value not in self.names:
                raise InputError(place, f"unknown {self.name} {value!r} (choose from {', '.join(self.names)})")
            return self.names[value]
        return parse_word(value, place)  # raw bits, so unknown flags can be tried

    def _letters(self, value: str, place: str) -> int:
        bits = 0
        for ch in value:
            if ch == "-":
                continue
            if ch not in self.names:
                raise InputError(place, f"permissions are letters from 'rwx' (or '-'), got {value!r}")
            bits |= self.names[ch]
        return bits

    def _names(self, value: list[Any], place: str) -> int:
        bits = 0
        for item in value:
            if not isinstance(item, str) or item not in self.names:
                raise InputError(place, f"unknown seal {item!r} (choose from {', '.join(self.names)})")
            bits |= self.names[item]
        return bits

    def decode(self, word: int) -> Any:
        """The readable form of an argument word (the raw int where no name fits)."""
        if self.form == "bool":
            return bool(word)
        if self.form == "letters" and not word & ~PERM_ALL:
            return perms_text(word)
        if self.form == "names" and not word & ~sum(self.names.values()):
            return [name for name, bit in self.names.items() if word & bit]
        if self.form == "name":
            return next((name for name, bit in self.names.items() if bit == word), word)
        return word

    def text(self, word: int) -> str:
        """The argument in a line of text: as the trace file spells it, a list joined by '+'."""
        value = self.decode(word)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "+".join(value) or "none"
        if self.hex_from is not None and isinstance(value, int) and value >= self.hex_from:
            return hex(value)
        return str(value)


ARG_KINDS: dict[str, ArgKind] = {
    kind.name: kind
    for kind in (
        ArgKind("int", "word", hex_from=4096),
        ArgKind("fd", "word"),
        ArgKind("proc", "word"),
        ArgKind("byte", "byte"),
        ArgKind("bool", "bool"),
        ArgKind("perms", "letters", PERM_LETTERS),
        ArgKind("seals", "names", SEAL_NAMES),
        ArgKind("mode", "name", MODES),
        ArgKind("kind", "name", ACCESS_KINDS),
        ArgKind("flags", "name", FLAGS),
    )
}
