"""Write the small intersphinx inventories that the docs build reads instead of downloading the real ones.

    python docs/_inventories/make_inventories.py            # writes python.inv and numpy.inv beside this file
    python docs/_inventories/make_inventories.py --check python=/usr/share/doc/python3.11/html/objects.inv

The docs link Python and NumPy names to their official documentation, but the machines that build the docs
have no internet access, so intersphinx cannot fetch ``objects.inv`` from docs.python.org or numpy.org.
Instead, the two tables below list every object these docs reference, with the page and anchor where its
official documentation lives, and this script writes them as inventories in Sphinx's own format
(``sphobjinv``). The build fails (nitpicky) on a reference to a Python or NumPy object that is missing here:
add it to the table and run the script again.

``--check NAME=PATH`` compares every entry of table NAME with a full inventory downloaded or installed
elsewhere (Debian's ``python3.11-doc`` package ships Python's at the path above) and reports entries whose
role or address differ, or that do not exist there.

Needs ``sphobjinv`` (``pip install sphobjinv``); the docs build itself does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (domain:role, address relative to the project's base URL); "$" stands for the name, as in Sphinx.
PYTHON: dict[str, tuple[str, str]] = {
    # built-in types and constants
    "bool": ("py:class", "library/functions.html#$"),
    "dict": ("py:class", "library/stdtypes.html#$"),
    "float": ("py:class", "library/functions.html#$"),
    "int": ("py:class", "library/functions.html#$"),
    "list": ("py:class", "library/stdtypes.html#$"),
    "object": ("py:class", "library/functions.html#$"),
    "str": ("py:class", "library/stdtypes.html#$"),
    "tuple": ("py:class", "library/stdtypes.html#$"),
    "type": ("py:class", "library/functions.html#$"),
    "None": ("py:data", "library/constants.html#$"),
    # exceptions and warnings
    "AssertionError": ("py:exception", "library/exceptions.html#$"),
    "Exception": ("py:exception", "library/exceptions.html#$"),
    "FloatingPointError": ("py:exception", "library/exceptions.html#$"),
    "ImportError": ("py:exception", "library/exceptions.html#$"),
    "IndexError": ("py:exception", "library/exceptions.html#$"),
    "LookupError": ("py:exception", "library/exceptions.html#$"),
    "RuntimeError": ("py:exception", "library/exceptions.html#$"),
    "TypeError": ("py:exception", "library/exceptions.html#$"),
    "UserWarning": ("py:exception", "library/exceptions.html#$"),
    "ValueError": ("py:exception", "library/exceptions.html#$"),
    # the standard library
    "argparse.ArgumentParser": ("py:class", "library/argparse.html#$"),
    "collections.abc.Callable": ("py:class", "library/collections.abc.html#$"),
    "collections.abc.Iterable": ("py:class", "library/collections.abc.html#$"),
    "collections.abc.Iterator": ("py:class", "library/collections.abc.html#$"),
    "collections.abc.Mapping": ("py:class", "library/collections.abc.html#$"),
    "collections.abc.Sequence": ("py:class", "library/collections.abc.html#$"),
    "os.PathLike": ("py:class", "library/os.html#$"),
    "pathlib.Path": ("py:class", "library/pathlib.html#$"),
    "types.ModuleType": ("py:class", "library/types.html#$"),
    "typing.Any": ("py:data", "library/typing.html#$"),
    "typing.TextIO": ("py:class", "library/typing.html#$"),
}

NUMPY: dict[str, tuple[str, str]] = {
    "numpy.dtype": ("py:class", "reference/generated/numpy.dtype.html#$"),
    "numpy.load": ("py:function", "reference/generated/numpy.load.html#$"),
    "numpy.ndarray": ("py:class", "reference/generated/numpy.ndarray.html#$"),
    "numpy.random.Generator": ("py:class", "reference/random/generator.html#$"),
    "numpy.savez": ("py:function", "reference/generated/numpy.savez.html#$"),
    "numpy.typing.ArrayLike": ("py:data", "reference/typing.html#$"),
    "numpy.typing.DTypeLike": ("py:data", "reference/typing.html#$"),
}

PROJECTS = {
    "python": ("Python", "3", PYTHON),
    "numpy": ("NumPy", "stable", NUMPY),
}


def build(project: str, version: str, table: dict[str, tuple[str, str]]) -> object:
    """An inventory of the table's objects, sorted by name."""
    import sphobjinv as soi

    inventory = soi.Inventory()
    inventory.project, inventory.version = project, version
    for name in sorted(table):
        role, uri = table[name]
        domain, kind = role.split(":")
        inventory.objects.append(soi.DataObjStr(name=name, domain=domain, role=kind, priority="1", uri=uri,
                                                dispname="-"))  # fmt: skip
    return inventory


def write(key: str) -> Path:
    """Write ``<key>.inv`` beside this script."""
    import sphobjinv as soi

    project, version, table = PROJECTS[key]
    inventory = build(project, version, table)
    path = HERE / f"{key}.inv"
    soi.writebytes(path, soi.compress(inventory.data_file(contract=True)))  # type: ignore[attr-defined]
    return path


def check(key: str, full_inventory: Path) -> list[str]:
    """The entries of table ``key`` that a full inventory does not have, or has with another role or address."""
    import sphobjinv as soi

    full = soi.Inventory(full_inventory)
    known = {(o.name, f"{o.domain}:{o.role}"): o.uri for o in full.objects}
    problems = []
    for name, (role, uri) in sorted(PROJECTS[key][2].items()):
        if (name, role) not in known:
            roles = sorted(r for n, r in known if n == name)
            problems.append(f"{name}: no {role} in {full_inventory} (it has {roles or 'nothing by that name'})")
        elif known[(name, role)] != uri:
            problems.append(f"{name}: address {uri!r} here, {known[(name, role)]!r} in {full_inventory}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="append", default=[], metavar="NAME=PATH",
                        help="compare table NAME (python or numpy) with the full inventory at PATH")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.check:
        for key in PROJECTS:
            path = write(key)
            print(f"wrote {path} ({len(PROJECTS[key][2])} objects)")
        return 0
    failed = False
    for item in args.check:
        key, _, path = item.partition("=")
        problems = check(key, Path(path))
        print(f"{key}: {len(PROJECTS[key][2]) - len(problems)} entries agree with {path}")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
