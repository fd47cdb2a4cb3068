"""Implementation mutants of the linux backend (`linux-mutant:NAME`): each carries one bug in code
only, the model unchanged, and conformance replay of the regression corpus catches every one.

Fuzzing catches them too (docs/backends.md, "Implementation mutants", records seed 1 for each); it
is not run here because the corpus already does the job in a second per mutant.
"""

from __future__ import annotations

import pytest
from linux_helpers import require_linux_backend
from test_cli import assert_bad_input, memview  # one rule for bad input, shared with the CLI tests

from memview.backends.linux.backend import LinuxBackend
from memview.backends.linux.mutants import IMPLEMENTATION_MUTANTS, backend_spec
from memview.backends.registry import open_backend
from memview.errors import InputError
from memview.traces.conform import DIVERGE, Verdict, conform
from memview.traces.corpus import regression_corpus


@pytest.fixture
def linux_backend_available() -> None:
    require_linux_backend()


# The first corpus trace, in corpus order, on which each mutant diverges, and the step.
# docs/backends.md cites these: a change here (a regenerated corpus) is a change there.
FIRST_CAUGHT = {
    "ack-early": ("cover-seed-edges-27.itf.json", 19),  # B1 reads the page A just unmapped
    "drop-one-revoke": ("cover-seed-edges-24.itf.json", 20),  # F_SEAL_WRITE: B1's stale writable page
    "revoke-hole": ("cover-seed-edges-27.itf.json", 19),  # B1 reads the page A just unmapped
    "wrong-range-prot": ("cover-seed-edges-08.itf.json", 32),  # B1 mprotects the read-only range's page rw
}


def first_failure(mutant: str) -> Verdict | None:
    """The mutant's verdict on the first corpus trace it does not conform on (replay stops there)."""
    for name, trace in regression_corpus():
        verdict = conform(name, trace, IMPLEMENTATION_MUTANTS[mutant].factory())
        if not verdict.conforms:
            return verdict
    return None


def test_every_mutant_has_a_recorded_first_catch() -> None:
    assert set(FIRST_CAUGHT) == set(IMPLEMENTATION_MUTANTS)


@pytest.mark.usefixtures("linux_backend_available")
@pytest.mark.parametrize("mutant", sorted(IMPLEMENTATION_MUTANTS))
def test_conformance_replay_of_the_corpus_catches_the_mutant(mutant: str) -> None:
    verdict = first_failure(mutant)
    assert verdict is not None, f"every corpus trace conforms on {backend_spec(mutant)}"
    assert verdict.status == DIVERGE, verdict.report()
    assert (verdict.name, verdict.step) == FIRST_CAUGHT[mutant], verdict.report()
    # The divergence is the bug's: the real backend conforms on the same trace.
    trace = dict(regression_corpus())[verdict.name]
    real = conform(verdict.name, trace, LinuxBackend())
    assert real.conforms, real.report()


@pytest.mark.usefixtures("linux_backend_available")
@pytest.mark.parametrize("mutant", sorted(IMPLEMENTATION_MUTANTS))
def test_the_command_line_name_opens_the_mutant(mutant: str) -> None:
    backend = open_backend(backend_spec(mutant))
    assert isinstance(backend, LinuxBackend)
    assert type(backend) is not LinuxBackend
    assert backend.name == backend_spec(mutant) == f"linux-mutant:{mutant}"


def test_backend_spec_refuses_an_unknown_mutant() -> None:
    with pytest.raises(InputError, match="linux-mutant:ack-early"):
        backend_spec("nope")


@pytest.mark.usefixtures("linux_backend_available")
def test_conform_on_the_corpus_exits_1_for_a_mutant() -> None:
    result = memview("conform", "--backend", "linux-mutant:revoke-hole", "--corpus")
    assert result.returncode == 1, result.stderr
    assert "cover-seed-edges-27.itf.json: diverges at step 19" in result.stdout
    assert "SIGSEGV/SEGV_MAPERR" in result.stdout  # the hole, where the seed's filler gives SIGBUS


def test_an_unknown_mutant_is_one_line_and_exit_2() -> None:
    result = memview("conform", "--backend", "linux-mutant:nope", "--corpus")
    assert_bad_input(result, "--backend", "unknown implementation mutant 'nope'",
                     *(backend_spec(name) for name in IMPLEMENTATION_MUTANTS))
