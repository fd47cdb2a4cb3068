"""Where engine jobs run: `--executor local` (a process pool on this machine, the default) or
`--executor dask://HOST:PORT` (the workers of a dask.distributed cluster, docs/distributed.md).

`check`, `prove` and `mutants` hand their jobs (engine x property, induction's opcodes, the kill
matrix's cells) to a `concurrent.futures.Executor`; this module parses the `--executor` choice,
builds that executor and closes it. Results must not depend on which one ran them:

- z3's search depends on what its process-wide context has seen, so every job runs in a process of
  its own that has run nothing before. Locally that is `engines.make_executor` (a pool with
  `max_tasks_per_child=1`, which Python 3.11 starts by spawn: a fresh interpreter per job).
  dask workers run tasks in threads of long-lived processes, so on dask every job is wrapped
  (`FreshInterpreterExecutor`): the task a worker runs starts a fresh interpreter
  (`sys.executable`), hands it the pickled call on stdin, and returns or raises what the call
  returned or raised. A fresh interpreter rather than a fork of the worker: a dask worker is
  multi-threaded (its event loop, its profiler, its task threads), and a fork copies locks other
  threads may hold; an interpreter started from scratch is what the local pool's spawn gives too.
- Progress lines travel through a multiprocessing-manager queue on this machine
  (`progress.progress_lines`), which remote workers cannot reach: jobs sent to dask carry none,
  and the commands say so (each finished job still gets its line).

Workers need the same memview (the sources are compared at connect time) and the versions of
`constraints.txt`; dask and distributed are the optional extra `dask` (`pip install 'memview[dask]'`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from memview.errors import InputError

T = TypeVar("T")
P = ParamSpec("P")

LOCAL = "local"
DASK_SCHEME = "dask"
DASK_DEFAULT_PORT = 8786  # `dask scheduler`'s own default
# Seconds to reach the scheduler, to finish the handshake, and to see a first worker: an address
# nobody answers at is bad input within this, never a hang.
CONNECT_TIMEOUT_SECONDS = 10.0


class ExecutorFailure(Exception):
    """The cluster lost work that was handed to it (a worker died more often than dask retries, the
    scheduler went away, or a job's process died): the run cannot finish, through no fault of the
    input or of memview's model. The CLI prints it on one line."""


class JobProcessDied(RuntimeError):
    """A job's fresh interpreter on a dask worker ended without an answer (killed, out of memory)."""


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed `--executor`: `local`, or a dask scheduler's address."""

    text: str
    host: str = ""
    port: int = 0

    @property
    def distributed(self) -> bool:
        return bool(self.host)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal
        return f"tcp://{host}:{self.port}"


LOCAL_EXECUTOR = ExecutorSpec(LOCAL)


def parse_executor(text: str) -> ExecutorSpec:
    """`local` or `dask://HOST[:PORT]` (port 8786 by default), else bad input naming --executor."""
    if text == LOCAL:
        return LOCAL_EXECUTOR
    usage = "expected 'local' or 'dask://HOST:PORT'"
    if "://" not in text:
        raise InputError("--executor", f"{text!r}: {usage}")
    parts = urlsplit(text)
    if parts.scheme != DASK_SCHEME:
        raise InputError("--executor", f"unknown scheme {parts.scheme!r} in {text!r}: {usage}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise InputError("--executor", f"{text!r}: {usage} (nothing after the port)")
    try:
        port = parts.port
    except ValueError:
        raise InputError("--executor", f"{text!r}: the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise InputError("--executor", f"{text!r}: no scheduler host; {usage}")
    if port == 0:
        raise InputError("--executor", f"{text!r}: the port must be a number from 1 to 65535")
    return ExecutorSpec(text, parts.hostname, port or DASK_DEFAULT_PORT)


@dataclass
class OpenExecutor:
    executor: Executor
    where: str  # for the "running N jobs on ..." line
    remote: bool  # jobs run on other machines: no progress queue reaches them


@contextmanager
def open_executor(spec: ExecutorSpec, jobs: int | None) -> Iterator[OpenExecutor]:
    """The executor for `spec`, closed on exit. `jobs` is the local pool's size; dask's parallelism
    is the cluster's (its workers' --nthreads), so it must be None there."""
    if not spec.distributed:
        from memview.checker.engines import default_jobs, make_executor

        workers = jobs or default_jobs()
        with make_executor(workers) as pool:
            yield OpenExecutor(pool, f"{workers} worker(s)", remote=False)
        return
    assert jobs is None, "--jobs is refused with dask before the executor opens"
    client = _connect(spec)
    try:
        threads = sum(client.nthreads().values())
        # pure=False: every submission runs, even one equal to an earlier submission of another
        # client on the same cluster (a result is never shared between runs).
        executor = FreshInterpreterExecutor(client.get_executor(pure=False))
        try:
            yield OpenExecutor(executor, f"the dask cluster at {spec.address} ({threads} worker thread(s) now)",
                               remote=True)
        except _lost_work_errors() as exc:
            raise ExecutorFailure(f"--executor {spec.text}: the cluster lost a job: {type(exc).__name__}: "
                                  f"{_first_line(exc)}") from exc
        finally:
            executor.shutdown(wait=False)
    finally:
        client.close(timeout=CONNECT_TIMEOUT_SECONDS)


def _lost_work_errors() -> tuple[type[BaseException], ...]:
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    # KilledWorker: workers died running the job more often than the scheduler retries it;
    # CancelledError: the scheduler went away and the client gave up its futures; CommClosedError:
    # the connection to the scheduler broke. A job's own exception is none of these: it reaches the
    # command as it would from the local pool.
    return KilledWorker, JobProcessDied, CancelledError, CommClosedError


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _connect(spec: ExecutorSpec) -> Any:
    """A distributed.Client on the scheduler, with at least one worker running this memview."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--executor", f"{spec.text} needs dask: pip install 'memview[dask]' "
                                        "(with PIP_CONSTRAINT=constraints.txt)") from None
    # A plain TCP connection first: a refused port or an unknown host fails at once, where the
    # client would retry until its timeout.
    try:
        with socket.create_connection((spec.host, spec.port), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError as exc:
        raise InputError("--executor", f"cannot reach a dask scheduler at {spec.host}:{spec.port}: "
                                        f"{exc.strerror or exc}") from None
    make_client: Callable[..., Any] = Client  # distributed leaves Client.__init__ untyped
    # The client's own timeout does not bound its handshake: a port that accepts and stays silent
    # (something that is not a dask scheduler) held it for minutes. It starts in a thread of its
    # own, and past the deadline that thread is abandoned (a daemon: the command still exits).
    started: list[Any] = []
    failed: list[BaseException] = []

    def start() -> None:
        try:
            started.append(make_client(spec.address, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False))
        except BaseException as exc:
            failed.append(exc)

    connecting = threading.Thread(target=start, name="memview-dask-connect", daemon=True)
    connecting.start()
    connecting.join(CONNECT_TIMEOUT_SECONDS + 1)  # its own timeouts fire first when they work
    if not started:
        why = f"{type(failed[0]).__name__}: {_first_line(failed[0])}" if failed else "no handshake"
        raise InputError("--executor", f"no dask scheduler answered at {spec.address} within "
                                        f"{CONNECT_TIMEOUT_SECONDS:g} s ({why})")
    client = started[0]
    try:
        _check_workers(client, spec)
    except BaseException:
        client.close(timeout=CONNECT_TIMEOUT_SECONDS)
        raise
    return client


def _check_workers(client: Any, spec: ExecutorSpec) -> None:
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_SECONDS)
    except TimeoutError:
        raise InputError("--executor", f"the dask scheduler at {spec.address} has no workers (start some with "
                                        f"`dask worker {spec.address}`)") from None
    try:
        theirs: dict[str, str] = client.run(code_fingerprint)
    except Exception as exc:  # a worker that cannot import memview fails to unpickle the function
        raise InputError("--executor", f"the dask workers at {spec.address} cannot run memview: "
                                        f"{type(exc).__name__}: {_first_line(exc)}") from None
    ours = code_fingerprint()
    different = sorted(worker for worker, fingerprint in theirs.items() if fingerprint != ours)
    if different:
        raise InputError("--executor", f"worker {different[0]} runs {theirs[different[0]]}, this machine {ours} "
                                        f"({len(different)} of {len(theirs)} workers differ): install the same "
                                        "memview with constraints.txt on every worker")


def code_fingerprint() -> str:
    """memview's version, a digest of its sources and data (the code, the shipped corpus the corpus
    engine replays, the linux backend's C helper) and z3's version: what a worker must share with
    the client for its answers to be the ones a local run gives."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json", ".c") and "__pycache__" not in path.parts and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    from memview import __version__

    return f"memview {__version__} (sources {digest.hexdigest()[:12]}), z3-solver {metadata.version('z3-solver')}"


class FreshInterpreterExecutor(Executor):
    """Runs every call of an inner executor (dask's) in a fresh interpreter on the worker: the
    guarantee the local pool's one-process-per-job gives (see the module's docstring)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        # Plain pickle, as the local pool's: a call runs on dask exactly when it runs locally (jobs are
        # module-level functions of plain data; dask's cloudpickle then only carries these bytes).
        payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        return self.inner.submit(run_in_fresh_interpreter, payload)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait)


# The fresh interpreter imports memview.cli before the call, as the local pool's spawned workers do
# when they re-import the `memview` command's main module: the same modules, imported in the same
# order, before the job.
_CHILD_PROGRAM = "import memview.cli; from memview.checker.executors import serve_one_call; serve_one_call()"


def run_in_fresh_interpreter(payload: bytes) -> Any:
    """On a worker: the pickled call `payload` in a new interpreter; its result, or its exception."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD_PROGRAM], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, start_new_session=True)
    try:
        answer, _ = child.communicate(payload)
    finally:
        if child.poll() is None:  # this thread was interrupted: take the job's processes with it
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    if child.returncode != 0 or not answer:
        ending = (f"killed by {signal.Signals(-child.returncode).name}" if child.returncode < 0
                  else f"exit status {child.returncode}")
        raise JobProcessDied(f"the job's process on {socket.gethostname()} died ({ending}) without an answer")
    kind, value = pickle.loads(answer)
    if kind == "raised":
        raise value
    return value


def serve_one_call() -> None:
    """In the fresh interpreter: read the call from stdin, write ("returned", value) or ("raised",
    exception) pickled on the original stdout. Anything the job prints goes to stderr instead, so it
    cannot corrupt the answer."""
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    _exit_with_the_worker()
    fn, args, kwargs = pickle.loads(sys.stdin.buffer.read())
    try:
        outcome: tuple[str, Any] = ("returned", fn(*args, **kwargs))
        answer = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        try:
            answer = pickle.dumps(("raised", exc), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that does not pickle still reaches the caller, as text
            answer = pickle.dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))
    with os.fdopen(answer_fd, "wb") as out:
        out.write(answer)


def _exit_with_the_worker() -> None:
    """A dask worker that dies (killed, its machine's memory exhausted) leaves its job running; the
    scheduler gives the job to another worker, so the orphan only wastes a core: it ends itself."""
    worker = os.getppid()

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(1.0)
        os.killpg(0, signal.SIGKILL)  # its own session: the job and any child it forked

    threading.Thread(target=watch, name="memview-orphan-watch", daemon=True).start()
