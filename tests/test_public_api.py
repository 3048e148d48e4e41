"""The public/private boundary, checked over the package, its documentation and the bundled plugins.

The public surface is ``bpframe.__all__`` and the public modules below (each through its own ``__all__``); every
other module is private by an underscore in its name or listed as internal on the internals page
(``docs/api/internals.rst``, section "Public and internal modules"). The bundled plugins, the tutorial, the
examples, the guide and the README are what authors and users copy, so they use public names only.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import bpframe

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "bpframe"
INTERNALS = DOCS / "api" / "internals.rst"

#: The public modules besides ``bpframe`` itself: those the API reference's index lists (the command line among
#: them), the limits its error messages name, and the pytest plugin registered as an entry point.
PUBLIC_MODULES = (
    "bpframe.cli",
    "bpframe.datasets",
    "bpframe.hookspecs",
    "bpframe.io",
    "bpframe.limits",
    "bpframe.optimizers",
    "bpframe.pickling",
    "bpframe.pytest_plugin",
    "bpframe.sklearn",
    "bpframe.split",
    "bpframe.testing",
    "bpframe.warm",
)

#: Files that are the documentation's build machinery, not text a reader copies: they may read internals.
BUILD_MACHINERY = (DOCS / "conf.py", DOCS / "_inventories" / "make_inventories.py")


# -- what the package and the docs say ---------------------------------------------------------------------------
def _package_modules() -> list[str]:
    """Every module of the package, from its files (nothing imported)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _boundary_section() -> str:
    """The internals page's section "Public and internal modules", up to the next heading."""
    text = INTERNALS.read_text(encoding="utf-8").split("Public and internal modules\n---------------------------", 1)[1]
    return re.split(r"\n[^\n]+\n-{3,}\n", text, maxsplit=1)[0]


def _listed_internal() -> list[str]:
    """The modules the internals page lists as internal (a package stands for its modules)."""
    internal = _boundary_section().split("**Internal**", 1)[1]
    return sorted(set(re.findall(r"``(bpframe(?:\.\w+)+)``", internal)))


def _listed_public() -> list[str]:
    public = _boundary_section().split("**Public**", 1)[1].split("**Private**", 1)[0]
    return sorted(set(re.findall(r"(?::mod:`|``)(bpframe(?:\.\w+)*)(?:`|``)", public)))


def _private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split("."))


def _within(module: str, packages: list[str] | tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _documented_api_names() -> set[str]:
    """Fully qualified names given an autodoc or object directive anywhere in docs/**/*.rst."""
    directive = re.compile(
        r"^\s*\.\. (?:py:)?(?:auto)?(class|function|exception|data|attribute|module|currentmodule)::\s*(\S+)",
        re.M,
    )
    found: set[str] = set()
    for path in DOCS.rglob("*.rst"):
        current = ""
        for kind, full in directive.findall(path.read_text(encoding="utf-8")):
            name = full.split("(")[0]
            if kind in ("module", "currentmodule"):
                current = name
            elif "." in name or not current:
                found.add(name)
            else:
                found.add(f"{current}.{name}")
    return found


def test_every_module_is_public_private_or_listed_as_internal():
    unclassified = [
        m
        for m in _package_modules()
        if m != "bpframe" and not _private(m) and not _within(m, PUBLIC_MODULES) and not _within(m, _listed_internal())
    ]
    assert unclassified == [], f"list these in {INTERNALS.name} as internal, or make them private: {unclassified}"


def test_the_internals_page_lists_the_public_modules_and_no_public_module_as_internal():
    assert _listed_public() == sorted(["bpframe", *PUBLIC_MODULES])
    assert [m for m in _listed_internal() if _within(m, PUBLIC_MODULES) or m == "bpframe"] == []
    assert [m for m in _listed_internal() if m not in _package_modules()] == []


@pytest.mark.parametrize("name", sorted(bpframe.__all__))
def test_every_public_name_resolves_and_is_documented(name):
    assert getattr(bpframe, name) is not None
    assert f"bpframe.{name}" in _documented_api_names(), f"bpframe.{name} is in __all__ but not in docs/api"


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_imports_and_names_what_it_exports(module):
    imported = importlib.import_module(module)
    exported = getattr(imported, "__all__", None)
    if exported is not None:
        assert [name for name in exported if not hasattr(imported, name)] == []


# -- what the docs, the README and the bundled plugins use --------------------------------------------------------
def _public_name(module: str, name: str | None) -> bool:
    """Whether ``module`` (and ``name`` in it, when given) is on the public surface."""
    if module == "bpframe":
        return name is None or name in bpframe.__all__ or f"bpframe.{name}" in PUBLIC_MODULES
    if module not in PUBLIC_MODULES:
        return False
    if name is None:
        return True
    exported = getattr(importlib.import_module(module), "__all__", None)
    return name in exported if exported is not None else not name.startswith("_")


def _uses_in_python(source: str) -> Iterator[tuple[str, str | None]]:
    """``(module, name)`` for every bpframe import and every attribute read from an imported bpframe module."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "bpframe":
                    yield alias.name, None
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else "bpframe"
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bpframe":
            for alias in node.names:
                yield node.module, alias.name
                if f"{node.module}.{alias.name}" in PUBLIC_MODULES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            module = aliases[node.value.id]
            if f"{module}.{node.attr}" in PUBLIC_MODULES or f"{module}.{node.attr}" in _package_modules():
                yield f"{module}.{node.attr}", None
            else:
                yield module, node.attr


_PROMPT = re.compile(r"^\s*(?:>>>|\.\.\.) ?(.*)$")
_DIRECTIVE = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode|testcode|testsetup)::\s*(?:python|pycon)?\s*$")


def _rst_code(text: str) -> str:
    """The Python code of an rst page: doctest lines without their prompts, and python code blocks."""
    lines, code, block_indent = text.splitlines(), [], None
    for i, line in enumerate(lines):
        if block_indent is not None:
            if line.strip() and len(line) - len(line.lstrip()) <= block_indent:
                block_indent = None
            else:
                code.append(line)
                continue
        match = _DIRECTIVE.match(line)
        if match and ("python" in line or "testcode" in line or "testsetup" in line):
            block_indent = len(match.group(1))
            continue
        prompt = _PROMPT.match(line)
        if prompt and (line.lstrip().startswith(">>>") or (i and _PROMPT.match(lines[i - 1]))):
            code.append(prompt.group(1))
    return "\n".join(code)


def _md_code(text: str) -> str:
    """The Python code of a Markdown page: its ```python fenced blocks."""
    return "\n".join(re.findall(r"^```(?:python|py|pycon)\s*\n(.*?)^```", text, re.M | re.S))


_IMPORT_LINE = re.compile(
    r"^\s*(?:from\s+(bpframe(?:\.\w+)*)\s+import\s+\(?([\w, ]+)|import\s+(bpframe(?:\.\w+)*)\b).*$", re.M
)
_ATTRIBUTE = re.compile(r"(?<![\w.])(bp|bpframe)\.(\w+)(?:\.(\w+))?")


def _uses_in_text_code(code: str) -> Iterator[tuple[str, str | None]]:
    """``(module, name)`` for the bpframe imports and ``bp.``/``bpframe.`` attribute reads in code snippets (read
    line by line, since doctest snippets are not always a whole program)."""
    for from_module, names, module in _IMPORT_LINE.findall(code):
        if module:
            yield module, None
        for name in filter(None, (n.strip().split(" as ")[0] for n in names.split(","))):
            yield from_module, name
    for _alias, first, second in _ATTRIBUTE.findall(_IMPORT_LINE.sub("", code)):
        if f"bpframe.{first}" in _package_modules():
            yield (f"bpframe.{first}", second or None)
        else:
            yield "bpframe", first


def _copyable_files() -> Iterator[Path]:
    yield ROOT / "README.md"
    yield from sorted((ROOT / "plugins").rglob("*.py"))
    yield from sorted((ROOT / "plugins").rglob("*.md"))
    for path in sorted(DOCS.rglob("*")):
        if path.suffix in (".py", ".rst", ".md") and path not in BUILD_MACHINERY and "_build" not in path.parts:
            yield path


def _non_public_uses(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        uses = _uses_in_python(text)
    elif path.suffix == ".rst":
        uses = _uses_in_text_code(_rst_code(text))
    else:
        uses = _uses_in_text_code(_md_code(text))
    return sorted({f"{m}.{n}" if n else m for m, n in uses if not _public_name(m, n)})


@pytest.mark.parametrize("path", list(_copyable_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_readme_and_bundled_plugins_use_public_names_only(path):
    assert _non_public_uses(path) == []


def test_the_scan_finds_non_public_uses():
    """The scanners above, on snippets that use what users must not copy."""
    python = "import bpframe as bp\nfrom bpframe.plugins import get_registry\nbp.registry.Registry()\nbp.Network\n"
    assert sorted({f"{m}.{n}" if n else m for m, n in _uses_in_python(python) if not _public_name(m, n)}) == [
        "bpframe.plugins.get_registry",
        "bpframe.registry",
    ]
    rst = (
        "Text naming bpframe.state is prose.\n\n.. doctest::\n\n   >>> from bpframe.registry import Registry\n"
        "   >>> bp.activations()\n   ['relu']\n   >>> x = bp.kernels.cache\n\n.. code-block:: python\n\n"
        "   from bpframe.io import load_network, _private\n"
    )
    uses = {f"{m}.{n}" if n else m for m, n in _uses_in_text_code(_rst_code(rst)) if not _public_name(m, n)}
    assert sorted(uses) == ["bpframe.io._private", "bpframe.kernels.cache", "bpframe.registry.Registry"]
    md = "```python\nfrom bpframe.testing._common import blame\nimport bpframe.datasets\n```\n`bpframe.state`\n"
    assert [f"{m}.{n}" for m, n in _uses_in_text_code(_md_code(md)) if not _public_name(m, n)] == [
        "bpframe.testing._common.blame"
    ]


# -- documented import paths ------------------------------------------------------------------------------------
_DOCUMENTED_PATH = re.compile(r":(?:mod|class|func|meth|data|exc|attr):`~?(bpframe(?:\.\w+)+)")


def _documented_paths() -> list[str]:
    found: set[str] = set()
    for path in DOCS.rglob("*.rst"):
        text = path.read_text(encoding="utf-8")
        found.update(_DOCUMENTED_PATH.findall(text))
        found.update(name for name in _documented_api_names() if name.startswith("bpframe"))
    return sorted(found)


def _resolve(dotted: str) -> object:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("dotted", _documented_paths())
def test_every_documented_import_path_resolves(dotted):
    assert _resolve(dotted) is not None
