"""memview's layers, held by its imports (docs/architecture.md, "Layers").

Every module of memview belongs to exactly one layer of `LAYERS`, and may import only modules of its
own layer or lower ones; and no modules import each other in a cycle, through any chain. Imports
are read from each module's syntax tree, so an import inside a function counts as much as one at
the top: a lazy import delays the dependency, it does not remove it.

Imports under `if TYPE_CHECKING:` are held to the layers (a type from a higher layer in a signature
is a dependency on that layer) but not to the cycle rule: they never run, so they cannot make an
import-time cycle, and two modules of one layer whose types name each other is how Python annotates
mutually referring types (checker.mutants' catalogue names the engines of checker.registry, whose
hunts take a Mutant).

The checker is run on small fake packages too, so it is shown to fail on a cycle, an upward import
and an unplaced module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import networkx as nx

import memview

PACKAGE = "memview"
PACKAGE_DIR = Path(memview.__file__).parent


class Layer(IntEnum):
    """memview's layers, lowest first."""

    FOUNDATION = 0  # the package's version, InputError, the --json outputs' names and schema files
    MODEL = 1
    PROPERTIES = 2
    SCHEMA_PIECES = 3  # memview.generated: the pieces every generated JSON Schema shares, from the model
    BACKENDS = 4
    TRACES = 5
    CHECKER = 6
    FRONT_ENDS = 7  # the command line, the report, the pytest plugin and its trace selection
    GENERATORS = 8  # schemas.build documents every command's output, so it reads every layer below


# Where each module belongs. A key names one module; a key ending in ".*" names a package and every
# module under it. Each module must match exactly one key, so a new package fails here until placed.
LAYERS: dict[str, Layer] = {
    "memview": Layer.FOUNDATION,
    "memview.errors": Layer.FOUNDATION,
    "memview.schemas": Layer.FOUNDATION,
    "memview.model.*": Layer.MODEL,
    "memview.properties.*": Layer.PROPERTIES,
    "memview.generated": Layer.SCHEMA_PIECES,
    "memview.backends.*": Layer.BACKENDS,
    "memview.traces.*": Layer.TRACES,
    "memview.checker.*": Layer.CHECKER,
    "memview.cli.*": Layer.FRONT_ENDS,
    "memview.report.*": Layer.FRONT_ENDS,
    "memview.pytest_plugin": Layer.FRONT_ENDS,
    "memview.trace_selection": Layer.FRONT_ENDS,
    "memview.schemas.build": Layer.GENERATORS,
}

@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        return f"{self.importer} imports {self.imported} (line {self.line})"


def modules_under(package_dir: Path, package: str) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__.py)."""
    found: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST, type_only: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement anywhere in the tree (functions, classes, branches), and whether it is
    only for the type checker."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from _import_nodes(ast.Module(body=[child], type_ignores=[]), True)
            for child in node.orelse:
                yield from _import_nodes(ast.Module(body=[child], type_ignores=[]), type_only)
        else:
            yield from _import_nodes(node, type_only)


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module an imported dotted name is, or is inside (`memview.model.ops.OPS` is memview.model.ops)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _absolute(node: ast.ImportFrom, importer: str, modules: Mapping[str, Path]) -> str:
    """The absolute module a `from` import names, relative ones resolved against the importer."""
    if not node.level:
        return node.module or ""
    is_package = modules[importer].name == "__init__.py"
    parts = importer.split(".") if is_package else importer.split(".")[:-1]
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_between(modules: Mapping[str, Path], package: str) -> list[Import]:
    """Every import of one of the package's modules by another of them."""
    found: list[Import] = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, type_only in _import_nodes(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                source = _absolute(node, importer, modules)
                # `from P import X`: X is a module of P, or a name defined in P.
                names = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                         for alias in node.names]
            for name in names:
                if name != package and not name.startswith(package + "."):
                    continue
                imported = _resolve(name, modules)
                if imported is not None and imported != importer:
                    found.append(Import(importer, imported, node.lineno, type_only))
    return found


def _covers(key: str, module: str) -> bool:
    if key.endswith(".*"):
        package = key.removesuffix(".*")
        return module == package or module.startswith(package + ".")
    return module == key


def placement(modules: Mapping[str, Path], layers: Mapping[str, int]) -> tuple[dict[str, int], list[str]]:
    """Each module's layer, and the problems: a module in no layer or in two, a key covering nothing."""
    placed: dict[str, int] = {}
    problems: list[str] = []
    for module in modules:
        keys = [key for key in layers if _covers(key, module)]
        if not keys:
            problems.append(f"{module} is in no layer: add it (or its package, as NAME.*) to LAYERS")
        elif len(keys) > 1:
            problems.append(f"{module} is in more than one layer ({', '.join(keys)}): keep one")
        else:
            placed[module] = layers[keys[0]]
    problems += [f"LAYERS key {key} covers no module: remove or rename it" for key in layers
                 if not any(_covers(key, module) for module in modules)]
    return placed, problems


def _layer_name(rank: int) -> str:
    return rank.name.lower().replace("_", " ") if isinstance(rank, Layer) else str(rank)


def upward_imports(imports: list[Import], placed: Mapping[str, int]) -> list[str]:
    """Every import of a module in a higher layer than the importer's."""
    return [f"{found.importer} ({_layer_name(placed[found.importer])}) imports {found.imported} "
            f"({_layer_name(placed[found.imported])}) at line {found.line}"
            for found in imports
            if found.importer in placed and found.imported in placed
            and placed[found.imported] > placed[found.importer]]


def import_cycles(imports: list[Import]) -> list[tuple[str, ...]]:
    """Every cycle of imports that run (type-only ones left out), each from its smallest module name."""
    graph = nx.DiGraph()
    graph.add_edges_from((found.importer, found.imported) for found in imports if not found.type_only)
    cycles = []
    for cycle in nx.simple_cycles(graph):
        start = cycle.index(min(cycle))
        cycles.append(tuple(cycle[start:] + cycle[:start]))
    return sorted(cycles)


def layer_report(package_dir: Path, package: str, layers: Mapping[str, int]) -> tuple[list[str], list[tuple[str, ...]]]:
    """What breaks the layering of a package: placement problems and upward imports; its import cycles."""
    modules = modules_under(package_dir, package)
    imports = imports_between(modules, package)
    placed, problems = placement(modules, layers)
    return problems + upward_imports(imports, placed), import_cycles(imports)


# memview itself


def test_every_module_is_in_one_layer_and_imports_only_its_own_layer_or_lower_ones() -> None:
    problems, _ = layer_report(PACKAGE_DIR, PACKAGE, LAYERS)
    assert problems == []


def test_no_modules_import_each_other_in_a_cycle() -> None:
    _, cycles = layer_report(PACKAGE_DIR, PACKAGE, LAYERS)
    assert [" -> ".join([*cycle, cycle[0]]) for cycle in cycles] == []


def test_lazy_relative_and_type_only_imports_are_all_read() -> None:
    """Spot checks on memview itself that each form of import reaches the graph."""
    modules = modules_under(PACKAGE_DIR, PACKAGE)
    edges = {(found.importer, found.imported, found.type_only) for found in imports_between(modules, PACKAGE)}
    assert ("memview.trace_selection", "memview.checker.coverage", False) in edges  # inside a function
    assert ("memview.checker.registry", "memview.checker.mutants", True) in edges  # under TYPE_CHECKING
    assert ("memview.report.results", "memview.schemas", False) in edges  # `from memview import schemas`


# The checker on fake packages: it reports what it should, naming the modules


FAKE = "fakepkg"
FAKE_LAYERS = {"fakepkg": 0, "fakepkg.low.*": 0, "fakepkg.high.*": 1}


def fake_package(root: Path, files: dict[str, str]) -> Path:
    """A package `fakepkg` under root with the given modules (path under the package -> source)."""
    package_dir = root / FAKE
    for name in ("__init__.py", "low/__init__.py", "high/__init__.py", *files):
        path = package_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files.get(name, ""), encoding="utf-8")
    return package_dir


def test_a_cycle_through_a_lazy_import_is_reported(tmp_path: Path) -> None:
    package_dir = fake_package(tmp_path, {
        "low/a.py": "from fakepkg.low import b\n",
        "low/b.py": "def later():\n    import fakepkg.low.a\n",
        "low/c.py": "from fakepkg.low.a import NAME\n",  # into the cycle, not part of it
    })
    problems, cycles = layer_report(package_dir, FAKE, FAKE_LAYERS)
    assert (problems, cycles) == ([], [("fakepkg.low.a", "fakepkg.low.b")])


def test_a_cycle_only_for_the_type_checker_is_not_one(tmp_path: Path) -> None:
    package_dir = fake_package(tmp_path, {
        "low/a.py": "from fakepkg.low import b\n",
        "low/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fakepkg.low.a import A\n",
    })
    assert layer_report(package_dir, FAKE, FAKE_LAYERS) == ([], [])


def test_an_upward_import_is_reported_in_each_form(tmp_path: Path) -> None:
    package_dir = fake_package(tmp_path, {
        "high/top.py": "from fakepkg.low import a\n",  # downward: allowed
        "low/a.py": "def f():\n    from fakepkg.high.top import X\n",
        "low/b.py": "import fakepkg.high.top\n",
        "low/c.py": "from ..high import top\n",
        "low/d.py": "import typing\nif typing.TYPE_CHECKING:\n    from fakepkg.high import top\n",
    })
    problems, cycles = layer_report(package_dir, FAKE, FAKE_LAYERS)
    assert problems == [f"fakepkg.low.{name} (0) imports fakepkg.high.top (1) at line {line}"
                        for name, line in (("a", 2), ("b", 1), ("c", 1), ("d", 3))]
    assert cycles == [("fakepkg.high.top", "fakepkg.low.a")]


def test_a_module_in_no_layer_or_in_two_is_reported(tmp_path: Path) -> None:
    package_dir = fake_package(tmp_path, {"extra/__init__.py": "", "extra/new.py": "", "low/twice.py": ""})
    layers = {**FAKE_LAYERS, "fakepkg.low.twice": 1, "fakepkg.gone": 0}
    problems, _ = layer_report(package_dir, FAKE, layers)
    assert problems == [
        "fakepkg.extra is in no layer: add it (or its package, as NAME.*) to LAYERS",
        "fakepkg.extra.new is in no layer: add it (or its package, as NAME.*) to LAYERS",
        "fakepkg.low.twice is in more than one layer (fakepkg.low.*, fakepkg.low.twice): keep one",
        "LAYERS key fakepkg.gone covers no module: remove or rename it",
    ]
