"""memview's pytest plugin: conformance of an implementation as test items of the implementer's suite.

Configured with ini options (docs/pytest-plugin.md): `memview_backend` (a backend as
`memview conform --backend` takes it; `--memview-backend` overrides it), `memview_design`,
`memview_traces`, `memview_timeout`, `memview_lenient`. Each selected trace becomes one item,
`memview::NAME`, judged by `traces.conform.conform`; a divergence fails with the explain view of the
trace up to the divergent step and what `memview conform` prints for it.

The plugin is loaded into every pytest run of an environment memview is installed in (the `pytest11`
entry point), memview's own suite included: without `memview_backend` it does nothing, and memview
itself is imported only once a backend is configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# pytest exports no public type for a failure representation with a crash line; these two give the
# short summary ("FAILED memview::NAME - headline") the verdict's headline instead of nothing.
from _pytest._code.code import ReprFileLocation, TerminalRepr

if TYPE_CHECKING:
    from _pytest._io import TerminalWriter

    from memview.backends.base import StepLimit
    from memview.trace_selection import SelectedTrace
    from memview.traces.conform import Verdict

BACKEND, DESIGN, TRACES, TIMEOUT, LENIENT = (
    "memview_backend", "memview_design", "memview_traces", "memview_timeout", "memview_lenient")
BACKEND_FLAG, BACKEND_FLAG_DEST = "--memview-backend", "memview_backend_flag"
COLLECTION = "memview"  # the collector every trace item hangs from: node ids are memview::NAME


@dataclass(frozen=True)
class Plan:
    backend: str
    backend_option: str  # where the backend was given: the ini option or the command-line flag
    lenient: bool
    limit: StepLimit
    traces: list[SelectedTrace]


PLAN = pytest.StashKey[Plan]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(BACKEND, "memview: the implementation judged on every trace, as `memview conform --backend` "
                  "takes it (model, model:DESIGN, exec:COMMAND, linux, ...); unset, the plugin does nothing",
                  default="")
    parser.addini(DESIGN, "memview: the design the backend is held to (built-in name, or a TOML file relative "
                  "to the rootdir); unset, each trace's own", default="")
    parser.addini(TRACES, "memview: the traces: corpus, generate:KIND (edges, decisions, properties) and globs "
                  "of .itf.json files relative to the rootdir", type="args", default=["corpus"])
    parser.addini(TIMEOUT, "memview: seconds the backend may take per step", default="10")
    parser.addini(LENIENT, "memview: accept either SIGSEGV si_code (as `memview conform --lenient`)",
                  type="bool", default=False)
    parser.getgroup("memview", "memview conformance").addoption(
        BACKEND_FLAG, dest=BACKEND_FLAG_DEST, metavar="SPEC", default=None,
        help=f"the backend to judge (overrides the {BACKEND} ini option)")


@contextmanager
def reported_as(option: str) -> Iterator[None]:
    """memview's bad-input errors as a one-line pytest usage error naming the option at fault."""
    from memview.errors import InputError

    try:
        yield
    except InputError as exc:
        if exc.place == option:
            text = str(exc)
        elif exc.place.startswith("--"):  # memview's command-line flag for the same thing
            text = f"{option}: {exc.problem}"
        else:  # a file, step or field inside what the option names
            text = f"{option}: {exc}"
        raise pytest.UsageError(text) from None


def _design_spec(spec: str, root: Path) -> str:
    """A design file is relative to the rootdir, like the trace globs; a built-in name stays a name."""
    from memview.model.design import BUILTIN

    candidate = root / spec
    if spec in BUILTIN or not (spec.endswith(".toml") or candidate.exists()):
        return spec
    return str(candidate)


def make_plan(config: pytest.Config, backend: str) -> Plan:
    from memview.backends.registry import open_backend
    from memview.model.design import load_design
    from memview.trace_selection import select_traces
    from memview.traces.conform import step_limit

    backend_option = BACKEND_FLAG if config.getoption(BACKEND_FLAG_DEST) else BACKEND
    with reported_as(backend_option):
        open_backend(backend, backend_option)  # an unknown name or a missing command, before any trace
    timeout_text = str(config.getini(TIMEOUT))
    try:
        seconds = float(timeout_text)
    except ValueError:
        raise pytest.UsageError(f"{TIMEOUT}: expected seconds, got {timeout_text!r}") from None
    with reported_as(TIMEOUT):
        limit = step_limit(seconds, TIMEOUT)
    design_spec = str(config.getini(DESIGN))
    with reported_as(DESIGN):
        design = load_design(_design_spec(design_spec, config.rootpath)) if design_spec else None
    with reported_as(TRACES):
        traces = select_traces([str(spec) for spec in config.getini(TRACES)], config.rootpath, design, TRACES,
                               DESIGN)
    return Plan(backend, backend_option, bool(config.getini(LENIENT)), limit, traces)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Here rather than at configure time: `pytest --help` configures too, and must not fail on a bad
    # option; a UsageError raised here still ends the run with exit status 4 (each xdist worker too).
    config = session.config
    backend = config.getoption(BACKEND_FLAG_DEST) or str(config.getini(BACKEND))
    if backend:
        config.stash[PLAN] = make_plan(config, backend)


@pytest.hookimpl(tryfirst=True)  # before -k, -m and --deselect filter the items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    plan = config.stash.get(PLAN, None)
    if plan is None:
        return
    collection = TraceCollection.from_parent(session, name=COLLECTION, nodeid=COLLECTION)
    items.extend(session.genitems(collection))  # genitems reports them as collected, like any item


class TraceCollection(pytest.Collector):
    def collect(self) -> list[pytest.Item | pytest.Collector]:
        plan = self.config.stash[PLAN]
        return [TraceItem.from_parent(self, name=selected.name, path=selected.source or self.config.rootpath,
                                      selected=selected, plan=plan) for selected in plan.traces]


class TraceFailed(Exception):
    """A divergence or a failed backend: the verdict, which repr_failure shows instead of a traceback."""

    def __init__(self, headline: str, body: str) -> None:
        super().__init__(headline)
        self.headline = headline
        self.body = body


class FailureText(TerminalRepr):
    """The failure as memview words it; reprcrash gives pytest's short summary the headline."""

    def __init__(self, failure: TraceFailed, path: Path) -> None:
        self.body = failure.body
        self.reprcrash = ReprFileLocation(str(path), 0, failure.headline)

    def toterminal(self, tw: TerminalWriter) -> None:
        for line in self.body.rstrip("\n").split("\n"):
            tw.line(line)


def failure_of(verdict: Verdict) -> TraceFailed:
    """The explain view of the trace up to and including the step that failed, then the verdict with
    the layout there (what `memview conform` prints)."""
    from memview.traces.explain import explain
    from memview.traces.trace import Trace

    report = verdict.report()
    if verdict.step is None:  # failed at set-up: no step to show
        return TraceFailed(verdict.headline(), report)
    trace = verdict.trace
    shown = Trace(trace.design, trace.config, trace.steps[: verdict.step + 1], dict(trace.meta))
    return TraceFailed(verdict.headline(), f"{explain(shown)}\n{report}")


class TraceItem(pytest.Item):
    def __init__(self, *, selected: SelectedTrace, plan: Plan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.selected = selected
        self.plan = plan

    def runtest(self) -> None:
        from memview.backends.registry import open_backend
        from memview.errors import InputError
        from memview.traces.conform import conform

        try:
            backend = open_backend(self.plan.backend, self.plan.backend_option)
            verdict = conform(self.name, self.selected.trace, backend, self.plan.lenient, self.plan.limit)
        except InputError as exc:  # e.g. the exec command exists but cannot be started
            raise TraceFailed(str(exc), str(exc)) from None
        if not verdict.conforms:
            raise failure_of(verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, TraceFailed):
            return FailureText(excinfo.value, self.path)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"memview {self.name} on {self.plan.backend}"
