"""The package's import graph is a DAG, and bpframe modules are imported at module level only.

The graph is read with :mod:`ast` from every ``bpframe/**/*.py``: an edge ``a -> b`` for every import of a bpframe
module ``b`` in module ``a`` (``from . import x`` names the submodule ``x``; ``from .m import name`` names ``m``;
importing ``p.q.m`` from outside the package ``p.q`` also runs ``p.q``'s ``__init__``, so it adds the edge to
``p.q`` too; the root package ``bpframe`` counts only where it is imported by name, e.g. ``import bpframe as bp``).
Imports inside ``if TYPE_CHECKING:`` blocks never run, so they are left out of the cycle check.

Two rules, each a test:

- the module-level graph has no cycle (the failure prints one);
- no function or method imports a bpframe module, except the pairs in :data:`ALLOWED_IN_FUNCTIONS`, each with
  its reason: heavy or optional dependencies that ``import bpframe`` must not pay for, and a documented name that
  lives above its module in the graph.

A third test runs ``import bpframe`` in a fresh interpreter and checks what it loaded.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import bpframe

PACKAGE = Path(bpframe.__file__).parent

#: (importing module, imported module) -> why the import is inside a function.
ALLOWED_IN_FUNCTIONS: dict[tuple[str, str], str] = {
    ("bpframe.state", "bpframe.kernels.program"): "the compiled engine imports numba (0.4 s); built on first use",
    ("bpframe.io", "bpframe.network"): (
        "bpframe.io.save_network / load_network are documented in bpframe.io but take and return a Network, "
        "which imports bpframe.io (Network.save); they are looked up on first access"
    ),
    ("bpframe.cli", "bpframe.testing"): "`bpframe plugins --check` only: 21 ms of the 160 ms `bpframe --help` takes",
    ("bpframe.cli", "bpframe.warm"): "`bpframe cache warm` only: it imports numba (0.13 s), which other commands "
    "load when they train, if at all",
    **{
        ("bpframe.kernels.build", f"bpframe.kernels.{module}"): "numba (0.12-0.17 s) only when a block is "
        "compiled or the engine is used: a warm job links its cached blocks without it (bpframe.kernels.lean)"
        for module in ("abi", "blocks", "engine", "products", "store")
    },
    **{
        ("bpframe.kernels.program", f"bpframe.kernels.{module}"): "numba, only for kernel_source(): training "
        "with cached blocks in the NumPy tier never imports it"
        for module in ("blocks", "engine", "equations", "products")
    },
    ("bpframe.kernels.alone", "bpframe.kernels.store"): "numba's cache interface, only when the conformance kit "
    "compiles a function alone through the disk cache; alone's role table is read without numba",
    ("bpframe.kernels.numpy_tier", "bpframe.kernels.abi"): "numba's config decides abi's call_block; this tier "
    "calls it only under NUMBA_DISABLE_JIT, where blocks are Python functions",
}


@dataclass(frozen=True)
class Import:
    """One import of a bpframe module."""

    importer: str
    imported: str
    line: int
    in_function: bool
    type_checking: bool
    implied: bool = False  # a package whose __init__ runs before the module named


def module_name(root: Path, path: Path) -> str:
    """``bpframe.io._save`` for ``<root>/bpframe/io/_save.py``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]) -> set[str]:
    """The bpframe modules an import statement names."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    named = {f"{source}.{alias.name}" for alias in node.names} & modules
    if named and (node.module is None or len(named) == len(node.names)):
        return named
    return ({source} & modules) | named


def _with_packages(importer: str, imported: str, modules: set[str]) -> set[str]:
    """``imported`` and the sub-packages above it whose ``__init__`` runs first (not the importer's own)."""
    parts, found = imported.split("."), {imported}
    for end in range(2, len(parts)):
        package = ".".join(parts[:end])
        if package in modules and not (importer == package or importer.startswith(package + ".")):
            found.add(package)
    return found


def imports(root: Path) -> Iterator[Import]:
    """Every import of a bpframe module in the package under ``root`` (its folder is named ``bpframe``)."""
    files = sorted((root / "bpframe").rglob("*.py"))
    modules = {module_name(root, path) for path in files}
    for path in files:
        importer = module_name(root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        yield from _visit(tree, importer, path.name == "__init__.py", modules, False, False)


def _visit(node: ast.AST, importer: str, is_package: bool, modules: set[str], in_function: bool,
           type_checking: bool) -> Iterator[Import]:  # fmt: skip
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for target in _targets(child, importer, is_package, modules):
                for imported in sorted(_with_packages(importer, target, modules)):
                    implied = imported != target
                    yield Import(importer, imported, child.lineno, in_function, type_checking, implied)
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for part in child.body:
                yield from _visit(ast.Module([part], []), importer, is_package, modules, in_function, True)
            for part in child.orelse:
                yield from _visit(ast.Module([part], []), importer, is_package, modules, in_function, type_checking)
        else:
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from _visit(child, importer, is_package, modules, inner, type_checking)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def module_graph(found: list[Import]) -> dict[str, set[str]]:
    """The edges of the imports that run when a module is imported (module level, outside TYPE_CHECKING)."""
    edges: dict[str, set[str]] = {}
    for item in found:
        if not item.in_function and not item.type_checking and item.imported != item.importer:
            edges.setdefault(item.importer, set()).add(item.imported)
    return edges


def function_imports(found: list[Import], allowed: dict[tuple[str, str], str]) -> list[str]:
    """Imports of bpframe modules inside functions that the allow-list does not name, as ``module:line -> name``."""
    return sorted(
        f"{item.importer}:{item.line} -> {item.imported}"
        for item in found
        if item.in_function and not item.implied and (item.importer, item.imported) not in allowed
    )


# -- the package ------------------------------------------------------------------------------------------------


def test_the_module_level_import_graph_has_no_cycle():
    cycle = find_cycle(module_graph(list(imports(PACKAGE.parent))))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_function_imports_a_bpframe_module_outside_the_allow_list():
    assert function_imports(list(imports(PACKAGE.parent)), ALLOWED_IN_FUNCTIONS) == []


def test_every_allowed_function_import_still_exists():
    """The allow-list shrinks with the code: an entry nothing needs any more fails here."""
    used = {(i.importer, i.imported) for i in imports(PACKAGE.parent) if i.in_function and not i.implied}
    assert sorted(set(ALLOWED_IN_FUNCTIONS) - used) == []


def test_import_bpframe_loads_no_test_docs_plot_or_numba_module():
    code = textwrap.dedent(
        """
        import sys
        import bpframe
        heavy = ("numba", "llvmlite", "matplotlib", "pytest", "_pytest", "sphinx", "sklearn", "scipy", "tests",
                 "bpframe.testing", "bpframe.pytest_plugin", "bpframe.kernels.program", "bpframe.sklearn")
        print(sorted(m for m in sys.modules if m in heavy or m.startswith(tuple(h + "." for h in heavy))))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert done.stdout.strip() == "[]"


# -- the checker itself, on a package made up for it ------------------------------------------------------------


def make_package(root: Path, files: dict[str, str]) -> Path:
    """A package ``bpframe`` under ``root`` with the given files (paths relative to it)."""
    for name, text in {"__init__.py": "", **files}.items():
        path = root / "bpframe" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_the_checker_finds_an_import_of_network_inside_a_training_function(tmp_path):
    root = make_package(
        tmp_path,
        {
            "network.py": "from .training import train\n",
            "training.py": """
                def train():
                    from .network import Network
                    return Network
            """,
        },
    )
    found = list(imports(root))
    assert function_imports(found, {}) == ["bpframe.training:3 -> bpframe.network"]
    assert function_imports(found, {("bpframe.training", "bpframe.network"): "a reason"}) == []
    assert find_cycle(module_graph(found)) is None  # in a function: not a module-level cycle, but reported above


def test_the_checker_finds_a_module_level_cycle_and_prints_it(tmp_path):
    root = make_package(
        tmp_path,
        {
            "network.py": "from . import training\n",
            "training.py": "from .state import State\n",
            "state.py": "import bpframe.network\n",
        },
    )
    assert find_cycle(module_graph(list(imports(root)))) == [
        "bpframe.network",
        "bpframe.training",
        "bpframe.state",
        "bpframe.network",
    ]


def test_the_checker_ignores_type_checking_imports_for_cycles_and_counts_package_inits(tmp_path):
    root = make_package(
        tmp_path,
        {
            "network.py": "from .io._save import save\n",
            "io/__init__.py": "from ..network import Network\n",
            "io/_save.py": "def save(): pass\n",
            "training.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .network import Network\n",
        },
    )
    found = list(imports(root))
    assert [i.imported for i in found if i.importer == "bpframe.training"] == ["bpframe.network"]
    # network -> io._save runs io/__init__ first, which imports network: a cycle through the package's __init__
    assert find_cycle(module_graph(found)) == ["bpframe.io", "bpframe.network", "bpframe.io"]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("from . import state", {"bpframe.state"}),
        ("from .state import ModelState", {"bpframe.state"}),
        ("from .io import _save", {"bpframe.io", "bpframe.io._save"}),
        ("import bpframe as bp", {"bpframe"}),
        ("from bpframe.state import ModelState", {"bpframe.state"}),
    ],
)
def test_the_checker_resolves_each_form_of_import(tmp_path, statement, expected):
    root = make_package(
        tmp_path, {"state.py": "", "io/__init__.py": "", "io/_save.py": "", "user.py": statement + "\n"}
    )
    assert {i.imported for i in imports(root) if i.importer == "bpframe.user"} == expected
