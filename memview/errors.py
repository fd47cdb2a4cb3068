"""The one error type for bad input: it names the place (file, step, field) and the problem."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a user: the CLI prints it on one line and exits with status 2."""

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(f"{place}: {problem}")
        self.place = place
        self.problem = problem
