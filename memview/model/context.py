"""What every rule needs besides the state: the algebra, the design and the bounds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from memview.model.algebra import Algebra, Bit, Word, first_match
from memview.model.config import Config
from memview.model.constants import Outcome, Signal
from memview.model.design import Design
from memview.model.state import Obs, State

Result = tuple[State, Obs]


@dataclass(frozen=True)
class Ctx:
    alg: Algebra
    design: Design
    config: Config

    # observations

    def ok(self, value: Word | int = 0) -> Obs:
        alg = self.alg
        word = alg.word(value) if isinstance(value, int) else value
        return Obs(alg.word(Outcome.OK), word, alg.word(0))

    def errno(self, number: int) -> Obs:
        return Obs(self.alg.word(Outcome.ERRNO), self.alg.word(number), self.alg.word(0))

    def signal(self, signo: Signal, code: int) -> Obs:
        return Obs(self.alg.word(Outcome.SIGNAL), self.alg.word(signo), self.alg.word(code))

    def guarded(self, state: State, checks: Sequence[tuple[Bit, int]], success: Callable[[], Result]) -> Result:
        """The errno of the first failing check (state unchanged), else success()."""
        cases = [(bad, lambda e=errno: (state, self.errno(e))) for bad, errno in checks]
        return first_match(self.alg, cases, success)

    # page arithmetic

    def aligned(self, x: Word) -> Bit:
        return self.alg.eq(self.alg.band(x, self.alg.word(self.config.page_size - 1)), self.alg.word(0))

    def page(self, x: Word) -> Word:
        return self.alg.lshr(x, self.config.page_shift)

    def byte_of(self, page: Word) -> Word:
        return self.alg.shl(page, self.config.page_shift)

    def pages_up(self, length: Word) -> Word:
        """length in pages, rounded up (mmap rounds lengths up); length must not overflow."""
        alg = self.alg
        return self.page(alg.add(length, alg.word(self.config.page_size - 1)))

    def in_page(self, x: Word) -> Word:
        return self.alg.band(x, self.alg.word(self.config.page_size - 1))
