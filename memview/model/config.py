"""Bounds of a model instance: page size and how many slots of each kind the state holds.

The symbolic encoding needs a fixed-shape state, so ranges, backing objects, file descriptors,
processes and mappings live in bounded tables. Running out of a table is a real Linux outcome
(ENFILE, EMFILE, ENOSPC as vhost-user's memory-slot limit, ENOMEM as max_map_count, EAGAIN for
fork), documented in docs/semantics.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from memview.errors import InputError
from memview.model.words import parse_word

MAX_PAGE_SIZE = 1 << 30  # page_size is a power of two up to this (1 GiB)

# The (least, greatest) value of each table bound; fork_slots may be 0 (no fork). Config.validate
# enforces these and memview.traces.schema writes them into trace.schema.json.
BOUND_LIMITS: dict[str, tuple[int, int]] = {
    "ranges": (1, 64),
    "objects": (1, 64),
    "fds": (1, 64),
    "clients": (1, 16),
    "fork_slots": (0, 16),
    "vmas": (1, 64),
}


@dataclass(frozen=True)
class Config:
    page_size: int = 4096
    ranges: int = 4  # layout slots of the view (MAP_FD ranges)
    objects: int = 3  # backing objects (memfds and files) ever created
    fds: int = 6  # file-descriptor slots per process
    clients: int = 2  # B1..Bn, alive from the start
    fork_slots: int = 1  # processes that fork can bring to life
    vmas: int = 3  # mapping slots per process

    @property
    def page_shift(self) -> int:
        return self.page_size.bit_length() - 1

    @property
    def processes(self) -> int:
        """A is process 0, then the clients, then the slots for forked children."""
        return 1 + self.clients + self.fork_slots

    def to_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(data: Any, place: str) -> Config:
        if not isinstance(data, dict):
            raise InputError(place, "expected an object of bounds")
        known = {f.name for f in dataclasses.fields(Config)}
        values: dict[str, int] = {}
        for key, value in data.items():
            if key not in known:
                raise InputError(f"{place}.{key}", f"unknown bound (choose from {', '.join(sorted(known))})")
            value = parse_word(value, f"{place}.{key}")
            values[key] = value
        config = Config(**values)
        config.validate(place)
        return config

    def validate(self, place: str) -> None:
        if self.page_size < 1 or self.page_size & (self.page_size - 1) or self.page_size > MAX_PAGE_SIZE:
            raise InputError(f"{place}.page_size", f"must be a power of two up to 1 GiB, got {self.page_size}")
        for name, (low, limit) in BOUND_LIMITS.items():
            value = getattr(self, name)
            if not low <= value <= limit:
                raise InputError(f"{place}.{name}", f"must be between {low} and {limit}, got {value}")
