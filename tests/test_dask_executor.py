"""`--executor dask://HOST:PORT`: the same jobs through the local process pool and through a dask
cluster (a LocalCluster of two worker processes) give the same results; a bad or unreachable
--executor is bad input, at once."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cli import assert_bad_input, memview  # one rule for bad input, shared with the CLI tests

from memview.checker.alphabet import default_scope
from memview.checker.executors import (
    CONNECT_TIMEOUT_SECONDS,
    LOCAL_EXECUTOR,
    ExecutorFailure,
    JobProcessDied,
    _check_workers,
    code_fingerprint,
    open_executor,
    parse_executor,
)
from memview.checker.induction import Budget, Induction, prove
from memview.errors import InputError
from memview.model.design import load_design
from memview.properties.catalogue import select_properties
from memview.properties.lemmas import LEMMAS_BY_ID

# Two decisions broken at once, so that at depth 3 both explore and bmc find AND and REVOKE broken:
# two z3 counterexamples (bmc's) that must come out the same from either executor.
BROKEN = 'name = "or-no-revoke"\nbase = "seed"\n[decisions]\nrevocation = "skip"\nperm-combine = "or"\n'


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """`dask://HOST:PORT` of a LocalCluster: two worker processes of one thread each."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield "dask://" + local.scheduler_address.removeprefix("tcp://")


RATE = re.compile(r" \([0-9.,]+ [a-z]+/s\)")  # "explore: all 1,778 states to depth 3 (1,650 states/s)"


def without_times(value: Any) -> Any:
    """The JSON with every time field left out (`seconds`, `*_seconds`, rates in sentences): the
    rest must be equal."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if not (k == "seconds" or k.endswith("_seconds"))}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    if isinstance(value, str):
        return RATE.sub("", value)
    return value


def assert_same_fields(local: dict[str, Any], dask: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Field by field, so that a top-level key added to every command's JSON changes nothing here."""
    for name in fields:
        assert without_times(dask[name]) == without_times(local[name]), name


@pytest.mark.slow
def test_check_gives_the_local_verdicts_and_counterexamples(cluster: str, tmp_path: Path) -> None:
    design = tmp_path / "or-no-revoke.toml"
    design.write_text(BROKEN)
    args = ("check", "--design", str(design), "--engine", "explore,bmc", "--depth", "3",
            "--property", "AND", "--property", "REVOKE", "--property", "LIFE", "--json")
    local = memview(*args, "--jobs", "2")
    remote = memview(*args, "--executor", cluster)
    assert local.returncode == remote.returncode == 1, (local.stderr, remote.stderr)
    ours, theirs = json.loads(local.stdout), json.loads(remote.stdout)
    violated = {(r["engine"], r["property"]) for r in ours["results"] if r["verdict"] == "violated"}
    assert violated == {(e, p) for e in ("explore", "bmc") for p in ("AND", "REVOKE")}  # the test is not vacuous
    assert all("counterexample" in r for r in ours["results"] if r["verdict"] == "violated")
    assert_same_fields(ours, theirs, ("design", "results", "violated"))


@pytest.mark.slow
def test_check_on_dask_says_its_progress_is_not_shown(cluster: str) -> None:
    result = memview("check", "--engine", "explore", "--depth", "1", "--property", "LIFE", "--executor", cluster)
    assert result.returncode == 0, result.stderr
    assert f"on the dask cluster at tcp://{cluster.removeprefix('dask://')}" in result.stderr
    assert "progress of jobs on dask workers is not shown" in result.stderr
    assert "[1/1] explore LIFE done" in result.stderr


def short_induction(executor_spec: str, jobs: int | None) -> Induction:
    """Houdini over three lemmas (two of them not inductive: a second round) with a small budget, as
    tests/test_symbolic_engines.py keeps induction short; the full lemma set takes minutes."""
    design = load_design(str(Path(__file__).parents[1] / "designs" / "no-revoke.toml"))
    lemmas = tuple(LEMMAS_BY_ID[i] for i in ("revoked-unconfigured", "unborn-empty", "writable-unsealed"))
    with open_executor(parse_executor(executor_spec), jobs) as opened:
        return prove(design, default_scope(design).config, select_properties(["REVOKE", "LIFE"]),
                     budget=Budget(rlimit=20_000_000), lemmas=lemmas, executor=opened.executor)


@pytest.mark.slow
def test_prove_gives_the_local_lemmas_and_proofs(cluster: str) -> None:
    local, remote = short_induction("local", 2), short_induction(cluster, None)
    lemmas = [(v.lemma.id, v.proved, v.reason) for v in local.lemmas]
    assert [v.proved for v in local.lemmas] == [True, False, False], lemmas  # z3's witnesses are compared
    assert [(v.lemma.id, v.proved, v.reason) for v in remote.lemmas] == lemmas
    proofs = [(p.property_id, p.proved, p.reason, p.lemmas_used) for p in local.proofs]
    assert [p[1] for p in proofs] == [False, True], proofs
    assert [(p.property_id, p.proved, p.reason, p.lemmas_used) for p in remote.proofs] == proofs


@pytest.mark.slow
def test_mutants_gives_the_local_kill_matrix_and_traces(cluster: str, tmp_path: Path) -> None:
    args = ("mutants", "--mutant", "perms-ored", "--mutant", "translate-by-mem-offset", "--engines", "explore,bmc",
            "--no-implementation", "--json")
    local = memview(*args, "--jobs", "2", "--out", str(tmp_path / "local"))
    remote = memview(*args, "--executor", cluster, "--out", str(tmp_path / "dask"))
    assert local.returncode == remote.returncode == 0, (local.stderr, remote.stderr)
    ours, theirs = json.loads(local.stdout), json.loads(remote.stdout)
    assert ours["summary"]["killed"] == 2
    assert_same_fields(ours, theirs, ("engines", "budget_seconds", "mutants", "summary"))
    written = sorted(Path(p).name for p in ours["written"])
    assert len(written) == 4 and sorted(Path(p).name for p in theirs["written"]) == written
    for name in written:
        assert (without_times(json.loads((tmp_path / "dask" / name).read_text()))
                == without_times(json.loads((tmp_path / "local" / name).read_text()))), name


@pytest.mark.slow
def test_every_dask_job_runs_in_a_fresh_process(cluster: str) -> None:
    with open_executor(parse_executor(cluster), None) as opened:
        pids = [opened.executor.submit(os.getpid).result() for _ in range(4)]
        from distributed import Client

        with Client(cluster.replace("dask://", "tcp://"), set_as_default=False) as client:
            workers = set(client.run(os.getpid).values())
    assert len(set(pids)) == 4 and not set(pids) & workers


@pytest.mark.slow
def test_a_job_s_exception_reaches_the_caller_and_a_dead_job_is_an_executor_failure(cluster: str) -> None:
    with open_executor(parse_executor(cluster), None) as opened, pytest.raises(ValueError, match="invalid literal"):
        opened.executor.submit(int, "not a number").result()
    with pytest.raises(ExecutorFailure, match=r"JobProcessDied: .*killed by SIGABRT"), \
            open_executor(parse_executor(cluster), None) as opened:
        opened.executor.submit(os.abort).result()
    assert issubclass(JobProcessDied, RuntimeError)


@pytest.mark.parametrize(("executor", "fragment"), [
    ("nowhere", "--executor: 'nowhere': expected 'local' or 'dask://HOST:PORT'"),
    ("ray://head:10001", "--executor: unknown scheme 'ray'"),
    ("dask://", "--executor: 'dask://': no scheduler host"),
    ("dask://head:port", "--executor: 'dask://head:port': the port must be a number"),
    ("dask://head:0", "the port must be a number from 1 to 65535"),
    ("dask://head:8786/path", "nothing after the port"),
])
@pytest.mark.parametrize("command", ["check", "prove", "mutants"])
def test_a_malformed_executor_is_bad_input(command: str, executor: str, fragment: str) -> None:
    assert_bad_input(memview(command, "--executor", executor), fragment)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the socket is closed


@pytest.mark.parametrize("command", ["check", "prove", "mutants"])
def test_an_unreachable_scheduler_is_bad_input_at_once(command: str) -> None:
    started = time.monotonic()
    result = memview(command, "--executor", f"dask://127.0.0.1:{closed_port()}")
    assert_bad_input(result, "--executor: cannot reach a dask scheduler at 127.0.0.1:")
    assert time.monotonic() - started < CONNECT_TIMEOUT_SECONDS


@pytest.mark.slow
def test_a_port_that_is_no_dask_scheduler_is_bad_input_within_the_timeout() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        accepted: list[socket.socket] = []  # held open and silent until the test ends
        threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
        started = time.monotonic()
        result = memview("check", "--executor", f"dask://127.0.0.1:{server.getsockname()[1]}")
        assert_bad_input(result, "--executor: no dask scheduler answered at tcp://127.0.0.1:")
        assert time.monotonic() - started < 3 * CONNECT_TIMEOUT_SECONDS
        for connection in accepted:
            connection.close()


@pytest.mark.parametrize("command", ["check", "prove", "mutants"])
def test_jobs_with_dask_is_refused_before_connecting(command: str) -> None:
    assert_bad_input(memview(command, "--jobs", "2", "--executor", f"dask://127.0.0.1:{closed_port()}"),
                     "--jobs: has no meaning with --executor dask://")


class FakeClient:
    """Stands in for a distributed.Client whose workers answer code_fingerprint."""

    def __init__(self, fingerprints: dict[str, str]) -> None:
        self.fingerprints = fingerprints

    def wait_for_workers(self, count: int, timeout: float) -> None:
        pass

    def run(self, function: Any) -> dict[str, str]:
        assert function is code_fingerprint
        return self.fingerprints


def test_a_worker_with_other_memview_sources_is_refused() -> None:
    spec = parse_executor("dask://sched.example:8786")
    ours = code_fingerprint()
    _check_workers(FakeClient({"tcp://10.0.0.1:1": ours, "tcp://10.0.0.2:1": ours}), spec)  # the same: accepted
    with pytest.raises(InputError, match=r"--executor: worker tcp://10.0.0.2:1 runs memview 0.1.0 \(sources 0000") \
            as refused:
        _check_workers(FakeClient({"tcp://10.0.0.1:1": ours,
                                   "tcp://10.0.0.2:1": "memview 0.1.0 (sources 000000000000), z3-solver 4.15.4.0"}),
                       spec)
    assert "(1 of 2 workers differ)" in str(refused.value) and ours in str(refused.value)


def test_parse_executor() -> None:
    assert parse_executor("local") == LOCAL_EXECUTOR and not LOCAL_EXECUTOR.distributed
    assert parse_executor("dask://sched.example:9000").address == "tcp://sched.example:9000"
    assert parse_executor("dask://sched.example").address == "tcp://sched.example:8786"
    assert parse_executor("dask://[::1]:9000").address == "tcp://[::1]:9000"
    with pytest.raises(InputError, match="--executor"):
        parse_executor("tcp://sched.example:9000")


@pytest.mark.slow
def test_a_report_made_on_dask_shows_the_local_results(cluster: str, tmp_path: Path) -> None:
    design = tmp_path / "or-no-revoke.toml"
    design.write_text(BROKEN)
    pages = {}
    for name, executor in (("local", "local"), ("dask", cluster)):
        out = tmp_path / name
        result = memview("report", "--design", str(design), "--out", str(out), "--run", "check",
                         "--engine", "explore", "--depth", "3", "--executor", executor, "--json")
        assert result.returncode == 1, result.stderr
        pages[name] = json.loads((out / "results" / "check.json").read_text())
        assert json.loads(result.stdout)["pictures"]  # counterexamples drawn
    assert_same_fields(pages["local"], pages["dask"], ("design", "results"))
