"""Sphinx configuration of the bpframe documentation.

Build it as CI does with ``tox -e docs``: the HTML site and the doctests, warnings as errors, every reference
checked (nitpicky). By hand, with bpframe importable (installed, or ``PYTHONPATH`` set to the repository)::

    sphinx-build -W -n --keep-going -b html docs docs/_build/html
    sphinx-build -W -n --keep-going -b doctest docs docs/_build/doctest

The API pages document the ``bpframe`` that Python imports; the pages that show source code include it from
``../bpframe`` (``literalinclude``). tox installs the package from the same tree, so both are the same code.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bpframe

HERE = Path(__file__).resolve().parent

# -- project -------------------------------------------------------------------------------------------------

project = "bpframe"
author = "The bpframe developers"
copyright = "the bpframe developers, MIT licence"
release = bpframe.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "_generated", "_inventories", "tutorial", "README.md", ".gitignore"]
nitpicky = True
# Every reference in the pages, the docstrings and the rendered type hints must resolve: nothing is ignored
# wholesale. The few names that cannot be linked are listed in ``nitpick_ignore`` below, each with its reason.
nitpick_ignore = [
    # Python's documentation describes entry points in prose but has no object entry for this class (checked
    # against the 3.11 inventory), so there is nothing to link to.
    ("py:class", "importlib.metadata.EntryPoint"),
    # The type variable of the registry's generic name table (``_Table[T]``, ``Entry[T]``): a typing helper,
    # not an object a reader needs a page for.
    ("py:class", "bpframe.registry.T"),
    # The registry's generic name table: a private helper that the registry's attributes are typed with.
    ("py:class", "bpframe.registry._Table"),
    # Small records of the engine's internals that annotations name (documented in their modules' prose).
    ("py:class", "bpframe.kernels.build.Block"),
    ("py:class", "bpframe.kernels.runner.PluginExceptions"),
    ("py:class", "bpframe.kernels.cache.ClearReport"),
    # The seed of bpframe.split's functions: NumPy's random classes other than Generator are not in the offline
    # NumPy inventory (_inventories/), and its address would be the only one from numpy.random's class pages.
    ("py:class", "numpy.random.bit_generator.SeedSequence"),
]

# -- autodoc and numpydoc ------------------------------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "signature"  # the annotations, every name in them a checked cross-reference
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
# The annotations are strings (``from __future__ import annotations``): keep NumPy's aliases by name instead
# of expanding them into the unions they stand for.
autodoc_type_aliases = {
    "DTypeLike": "numpy.typing.DTypeLike",
    "ArrayLike": "numpy.typing.ArrayLike",
}
python_use_unqualified_type_names = True
python_maximum_signature_line_length = 100

# The docstrings are numpydoc: parameter types are written for people ("array_like, shape (n, sizes[0])") and
# rendered as text; the type hints in the signatures carry the machine-checked links.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- doctest -------------------------------------------------------------------------------------------------

# The doctest builder runs the examples of these pages: every ``.. doctest::`` block (``untested_examples``
# below makes a bare ``>>>`` block in a page an error, so none is skipped by accident). The examples in the
# docstrings that the API pages include are run by the test suite instead (pytest --doctest-modules, in every
# tox test environment), in the namespace of the module they are written in.
doctest_test_doctest_blocks = ""
# The plugin tutorials import their packages from docs/tutorial/ and plugins/ without installing them.
doctest_path = [
    str(HERE / "tutorial" / "bpframe-bent-identity"),
    str(HERE.parent / "plugins" / "bpframe-optimizers-extra"),
]
# The pages describe bpframe's built-in activations and losses: plugins installed in the environment that
# builds the docs are not loaded (the plugin tutorial hands its entry point to bpframe explicitly).
os.environ.setdefault("BPFRAME_DISABLE_PLUGIN_AUTOLOAD", "1")
# bpframe's kernels are compiled by numba on first use: keep them in the build folder's cache, not the user's.
os.environ.setdefault("BPFRAME_CACHE_DIR", str(HERE / "_build" / "bpframe-cache"))

# -- intersphinx, offline ------------------------------------------------------------------------------------

# Links to Python's and NumPy's documentation go to their real pages, but the inventories that map names to
# those pages are read from small files committed in _inventories/ instead of being downloaded: the build
# machines have no internet access (and a build should not depend on two web sites being up). The files list
# only the objects these docs reference; ``python _inventories/make_inventories.py`` writes them, and with
# ``--check`` compares every entry with a full inventory (e.g. the one in Debian's python3.11-doc package).
# A reference to a Python or NumPy object that is not listed there fails the build (nitpicky), so the list
# cannot silently fall behind the pages.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(HERE / "_inventories" / "python.inv")),
    "numpy": ("https://numpy.org/doc/stable", str(HERE / "_inventories" / "numpy.inv")),
}
# Two kinds of names in annotations do not match NumPy's inventory as they are: its typing aliases, which
# NumPy documents as data while an annotation links every name as a class, and classes whose run-time module is
# private. Each is looked up again under the name and role NumPy documents (see ``retry_reference`` below).
INTERSPHINX_RETRIES = {
    "numpy.typing.ArrayLike": ("numpy.typing.ArrayLike", "data"),
    "numpy.typing.DTypeLike": ("numpy.typing.DTypeLike", "data"),
    "numpy.random._generator.Generator": ("numpy.random.Generator", "class"),
}

# -- HTML ----------------------------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"bpframe {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
pygments_style = "friendly"
pygments_dark_style = "monokai"

# -- math and copy buttons, offline ------------------------------------------------------------------------

# The pages must render with no network (``tools/check_offline.py`` fails the build otherwise), so MathJax is
# not loaded from its CDN but served from the site: MathJax 3.2.2 as the sphinx-mathjax-offline package ships
# it (pinned in the ``docs`` extra; its unmodified ``es5`` build). The page loads the SVG build, which draws
# every glyph from paths inside the script: no font file is fetched at all. ``copy_mathjax`` below copies it
# with the components it may load later (TeX extensions that ``autoload`` brings in when a formula uses their
# macros, and the accessibility tools of MathJax's right-click menu with their speech rules), and nothing else.
mathjax_path = "mathjax/tex-svg.js"
MATHJAX_FILES = ["tex-svg.js", "input/tex/extensions", "input/mml.js", "a11y", "sre/mathmaps", "ui"]

# A copy button on every code block; it copies the commands without their prompts (``>>>``, ``...``, ``$``),
# and of a block with prompts only the lines that have one, so an example's output is not copied with it.
# Its script and stylesheet ship in the package and are served from the site too.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_line_continuation_character = "\\"

# -- gallery -------------------------------------------------------------------------------------------------

# sphinx-gallery runs every docs/examples/plot_*.py script while the site is built and writes one page per
# script into gallery/ (generated, git-ignored): the code, what it printed, and its figures. The scripts run
# one after the other in the build's own process, so the kernels the first one compiles serve the others, and
# an unchanged script is not run again while its page exists. A failing script fails the build. Nothing on
# these pages is loaded from another host: no Binder or JupyterLite buttons, no "generated by" link, no timing
# pages (their tables load scripts from CDNs); the download links are the script and notebook files inside
# the site.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",  # plot_ch3_..., plot_ch4_...: the book's order
    "show_signature": False,
    "binder": {},
    "jupyterlite": {},
    "download_all_examples": False,
    "min_reported_time": 1,
    # the timing pages load jQuery and DataTables from CDNs: not written
    "write_computation_times": False,
}

# -- figures made by the build -------------------------------------------------------------------------------

FIGURES = {
    "learning_curve.png": HERE / "figures" / "learning_curve.py",
    "network_diagram.png": HERE / "figures" / "network_diagram.py",
    # from the committed benchmarks/results.json (benchmarks/run.py --json); also writes benchmark_chart.inc
    "benchmark_chart.png": HERE / "figures" / "benchmark_chart.py",
}


def make_figures(app: Any) -> None:
    """Run each figure script into ``_generated/`` (each in a fresh process, with a fixed seed)."""
    out = HERE / "_generated"
    out.mkdir(exist_ok=True)
    for name, script in FIGURES.items():
        started = time.perf_counter()
        subprocess.run([sys.executable, str(script), str(out / name)], check=True, cwd=HERE)
        print(f"figure {name} made by {script.name} in {time.perf_counter() - started:.1f} s")


def copy_mathjax(app: Any) -> None:
    """Copy ``MATHJAX_FILES`` of the sphinx-mathjax-offline package into the HTML site's ``_static/mathjax``."""
    if app.builder.format != "html":
        return
    import importlib.util
    import shutil

    spec = importlib.util.find_spec("sphinx-mathjax-offline")  # the package's folder name has dashes
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax is served from the site: pip install sphinx-mathjax-offline (the docs extra)")
    source = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        else:
            shutil.copy2(source / name, target / name)


def retry_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve the names of ``INTERSPHINX_RETRIES`` through the inventories, under their documented name and role."""
    if node.get("refdomain") != "py" or node.get("reftarget") not in INTERSPHINX_RETRIES:
        return None
    from sphinx.ext import intersphinx

    retry = node.deepcopy()
    retry["reftarget"], retry["reftype"] = INTERSPHINX_RETRIES[node["reftarget"]]
    return intersphinx.missing_reference(app, env, retry, contnode)


def dataclass_factory_defaults(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None, return_annotation: str | None
) -> tuple[str | None, str | None] | None:
    """Show a dataclass field's ``default_factory`` as a call (``list()``) instead of ``<factory>``.

    ``<factory>`` is what ``inspect`` reports; besides saying little, it is not Python, so Sphinx cannot parse
    the signature and would split it at every comma.
    """
    if not signature or "<factory>" not in signature or not dataclasses.is_dataclass(obj):
        return None
    for field in dataclasses.fields(obj):
        if field.init and field.default_factory is not dataclasses.MISSING:
            signature = signature.replace("<factory>", f"{field.default_factory.__qualname__}()", 1)
    return signature, return_annotation


def untested_examples(app: Any, doctree: Any) -> None:
    """Warn about a ``>>>`` example written in a page outside a ``.. doctest::`` block: it would not be run."""
    from docutils import nodes
    from sphinx.util import logging

    for node in doctree.findall(nodes.doctest_block):
        source = node.source or ""
        if source.endswith(".rst") and "docstring of" not in source:
            logging.getLogger(__name__).warning(
                "this example would not be tested: put it in a '.. doctest::' block", location=node
            )


_TYPE_CHECKING_DONE: set[str] = set()


def type_checking_imports(app: Any, obj: Any, bound_method: bool) -> None:
    """Run the ``if TYPE_CHECKING:`` imports of a bpframe module in its namespace, once, before autodoc reads
    the signature of one of its objects.

    Some modules import a class only for their annotations, to avoid an import cycle (``Network`` in
    ``bpframe.io``). Without the import the annotation cannot be evaluated and its names cannot be linked;
    sphinx-autodoc-typehints solves this the same way.
    """
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    if module is None or not module.__name__.startswith("bpframe") or module.__name__ in _TYPE_CHECKING_DONE:
        return
    _TYPE_CHECKING_DONE.add(module.__name__)
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            code = compile(ast.Module(body=node.body, type_ignores=[]), module.__file__ or module.__name__, "exec")
            exec(code, module.__dict__)


def make_optimizer_table(app: Any) -> None:
    """Write ``_generated/optimizers.rst`` from the optimizer registry: the docs derive from the one table."""
    from bpframe.plugins import get_registry

    rows = [".. list-table::", "   :header-rows: 1", "   :widths: 14 30 12 14 30", "",
            "   * - name", "     - hyper-parameters (default, allowed)", "     - state rows",
            "     - in-place form", "     - from"]  # fmt: skip
    for name, entry in get_registry().optimizers.entries.items():
        spec = entry.spec
        hyper = "; ".join(f"``{h.name}`` = {h.default:g}, {h.expected}" for h in spec.hyper) or "none"
        rows += [f"   * - ``{name}`` ({spec.title})", f"     - {hyper}", f"     - {spec.state_rows}",
                 f"     - {'yes' if spec.fused else 'no'}", f"     - {entry.provenance.describe()}"]  # fmt: skip
    out = HERE / "_generated"
    out.mkdir(exist_ok=True)
    (out / "optimizers.rst").write_text("\n".join(rows) + "\n")


def setup(app: Any) -> None:
    app.connect("builder-inited", make_figures)
    app.connect("builder-inited", make_optimizer_table)
    app.connect("missing-reference", retry_reference)
    app.connect("autodoc-process-signature", dataclass_factory_defaults)
    app.connect("autodoc-before-process-signature", type_checking_imports)
    app.connect("doctree-read", untested_examples)
    app.connect("builder-inited", copy_mathjax)
