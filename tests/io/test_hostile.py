"""Issue 13, hostile model files: decompression bombs, oversized, deep or numeric-bomb JSON, absurd sizes and depths,
lying headers and bloated directories, each built byte by byte (tests/helpers/hostile_files.py).

Every one is refused with a ModelFileError that names the file and the problem, by ``load_network``,
``describe_model``, ``bpframe info`` and ``bpframe evaluate`` alike, and before anything the file claims is
allocated: a child process loading it peaks (VmHWM) within MARGIN of the same child loading a valid model.
Before this issue (commit 9409583), refusing the 2 GiB deflate bomb below took 4,134 MiB and about 20 s, a 4 GiB
bzip2 bomb 8,232 MiB and about 40 s (``python tools/hostile_files_report.py --code <an export of 9409583>``);
now each takes what loading a valid model takes (36-39 MiB) and 0.1-0.2 s.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_files import (
    MIB,
    Entry,
    bzip2ed,
    deflated,
    measure,
    metadata,
    metadata_member,
    model_with,
    npy_header,
    stored,
    theta_member,
    write_zip,
)

import bpframe as bp
from bpframe.cli import main
from bpframe.io import describe_model, load_network
from bpframe.limits import MAX_JSON_VALUES, MAX_METADATA_BYTES

GIB = 1 << 30
MARGIN_KIB = 100 * 1024
BASE = json.dumps(metadata())


def with_metadata(text: str) -> Callable[[Path], Path]:
    return lambda path: model_with(path, meta=stored("metadata.npy", metadata_member(text)))


def with_extra_field(raw: str) -> Callable[[Path], Path]:
    """The valid metadata plus one top-level field written as raw JSON text (a reader ignores unknown fields)."""
    return with_metadata(BASE[:-1] + f', "extra": {raw}}}')


def data_bomb(build: Callable[..., Entry], size: int) -> Callable[[Path], Path]:
    """theta.npy compressed, its header claiming ``size`` bytes of float64 zeros, which it really expands to."""

    def make(path: Path) -> Path:
        head = npy_header("<f8", (size // 8,))
        return model_with(path, theta=build("theta.npy", head, len(head) + size))

    return make


def metadata_bomb(build: Callable[..., Entry], size: int) -> Callable[[Path], Path]:
    """metadata.npy compressed, expanding to ``size`` bytes: a ``{`` and spaces (deflate) or zeros (bzip2)."""

    def make(path: Path) -> Path:
        head = npy_header("uint8", (size,))
        if build is deflated:
            return model_with(path, meta=deflated("metadata.npy", head + b"{", len(head) + size, fill=b" "))
        return model_with(path, meta=build("metadata.npy", head, len(head) + size))

    return make


def deep_network(layers: int) -> Callable[[Path], Path]:
    """A stored, otherwise valid model of ``layers`` identity layers of width 1 (2 parameters each)."""
    text = json.dumps(metadata(sizes=[1] * (layers + 1), activations=[{"name": "identity"}] * layers))
    return lambda path: model_with(
        path, meta=stored("metadata.npy", metadata_member(text)), theta=stored("theta.npy", theta_member(2 * layers))
    )


def many_entries(count: int) -> Callable[[Path], Path]:
    """The valid metadata followed by ``count`` empty entries."""
    entries = [stored(f"x{i}.npy", b"") for i in range(count)]
    return lambda path: write_zip(path, [stored("metadata.npy", metadata_member(BASE)), *entries])


def directory_bytes(count: int) -> int:
    """The size of the central directory :func:`many_entries` writes: 46 bytes and the name per entry."""
    return 46 + len("metadata.npy") + sum(46 + len(f"x{i}.npy") for i in range(count))


def compressed(path: Path, member: str) -> str:
    """The message for a compressed member, with its sizes as ``zipfile`` reads them."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    method = {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2"}[info.compress_type]
    return (
        f"the entry {member!r} is compressed ({method}, {info.compress_size:,} bytes claiming to expand to "
        f"{info.file_size:,}); bpframe writes every entry uncompressed and never expands one, so this file was not "
        "written by bpframe or was repacked: extract it and pack it again without compression (zip -0)"
    )


VALUES_TEXT = BASE[:-1] + ', "extra": [' + ",".join(["0"] * MAX_JSON_VALUES) + "]}"
VALUES_COUNTED = 1 + sum(VALUES_TEXT.count(c) for c in ",[{")  # no string in it holds a comma or a bracket
REFUSED_JSON = "refusing the file's metadata, which no bpframe writes: "
TOO_MANY_PARAMETERS = (
    "the network described by the file cannot be built: the network needs 10,001,100,010 parameters "
    "(80,008,800,080 bytes, 74.5 GiB as float64), most of them layer 1's 100000 x 100000 weights (80,000,000,000 "
    "bytes, 74.5 GiB); bpframe allows at most 2,147,483,647 parameters (bpframe.limits.MAX_PARAMETERS)"
)

#: name -> (builder, the message after "<path>: ", or a function of the path giving it)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str | Callable[[Path], str]]] = {
    "deflate-data-2GiB": (data_bomb(deflated, 2 * GIB), lambda path: compressed(path, "theta.npy")),
    "bzip2-data-256MiB": (data_bomb(bzip2ed, 256 * MIB), lambda path: compressed(path, "theta.npy")),
    "deflate-metadata-1GiB": (metadata_bomb(deflated, GIB), lambda path: compressed(path, "metadata.npy")),
    "bzip2-metadata-256MiB": (metadata_bomb(bzip2ed, 256 * MIB), lambda path: compressed(path, "metadata.npy")),
    "metadata-50MB": (
        with_extra_field('"' + "x" * (50 * MIB) + '"'),
        f"refusing the file's metadata: it is {len(BASE) + 50 * MIB + 13:,} bytes of JSON, more than the "
        f"{MAX_METADATA_BYTES:,} a model file may hold (bpframe.limits.MAX_METADATA_BYTES); it is not read",
    ),
    "metadata-one-byte-too-many": (
        with_extra_field('"' + "x" * (MAX_METADATA_BYTES - len(BASE) - 12) + '"'),
        f"refusing the file's metadata: it is {MAX_METADATA_BYTES + 1:,} bytes of JSON, more than the "
        f"{MAX_METADATA_BYTES:,} a model file may hold (bpframe.limits.MAX_METADATA_BYTES); it is not read",
    ),
    "nested-100000": (
        with_extra_field("[" * 100_000 + "]" * 100_000),
        REFUSED_JSON + "arrays and objects nest 100,001 deep; at most 32 levels are allowed "
        "(bpframe.limits.MAX_JSON_DEPTH)",
    ),
    "integer-5000-digits": (
        with_extra_field("7" * 5000),
        REFUSED_JSON + "a number is written with 5,000 characters (777777777777...); at most 1,000 are allowed "
        "(bpframe.limits.MAX_JSON_NUMBER_LENGTH)",
    ),
    "float-5000-digits": (
        with_extra_field("0." + "3" * 4998),
        REFUSED_JSON + "a number is written with 5,000 characters (0.3333333333...); at most 1,000 are allowed "
        "(bpframe.limits.MAX_JSON_NUMBER_LENGTH)",
    ),
    "values-1000000": (
        with_metadata(VALUES_TEXT),
        REFUSED_JSON + f"it holds up to {VALUES_COUNTED:,} values (one per comma and opening bracket); at most "
        "1,000,000 are allowed (bpframe.limits.MAX_JSON_VALUES)",
    ),
    "layers-100001": (
        deep_network(100_001),
        "invalid sizes in the metadata: sizes lists 100,002 layers, 100,001 after the input; bpframe allows at most "
        "1,024 layers after the input (bpframe.limits.MAX_LAYERS)",
    ),
    "layers-1025": (
        deep_network(1025),
        "invalid sizes in the metadata: sizes lists 1,026 layers, 1,025 after the input; bpframe allows at most "
        "1,024 layers after the input (bpframe.limits.MAX_LAYERS)",
    ),
    "sizes-100000x100000": (with_metadata(json.dumps(metadata(sizes=[100000, 100000, 10]))), TOO_MANY_PARAMETERS),
    "sizes-2**62": (
        with_metadata(json.dumps(metadata(sizes=[2**62, 2, 2]))),
        "the network described by the file cannot be built: layer 0 has 4,611,686,018,427,387,904 neurons; bpframe "
        "allows at most 16,777,216 in one layer (bpframe.limits.MAX_WIDTH); layer 1's 2 x 4611686018427387904 "
        "weights alone would need 73,786,976,294,838,206,464 bytes, 64.0 EiB as float64",
    ),
    "a-megabyte-where-sizes-go": (
        with_metadata(json.dumps(metadata(sizes="x" * 10**6))),
        f"invalid sizes in the metadata: expected a list of ints, got '{'x' * 199}... (1,000,002 characters)",
    ),
    "theta-header-claims-80GB": (
        lambda path: model_with(path, theta=stored("theta.npy", npy_header("<f8", (10_001_100_010,)) + bytes(104))),
        "the file is damaged: theta has shape (10001100010,) but sizes [2, 3, 1] need a vector of 13 parameters",
    ),
    "theta-with-1MiB-more-data": (
        lambda path: model_with(path, theta=stored("theta.npy", theta_member() + bytes(MIB))),
        "the file is damaged: its entry 'theta' cannot be read (its data has a different size than its header's "
        "shape (13,) promises)",
    ),
    "entries-100000": (
        many_entries(100_000),
        f"not a bpframe model: its ZIP directory lists 100,001 entries in {directory_bytes(100_000):,} bytes; a "
        "bpframe model has at most 16 (bpframe.limits.MAX_ARCHIVE_ENTRIES), so the file is refused before its "
        "directory is read",
    ),
    "entries-17": (
        many_entries(16),
        f"not a bpframe model: its ZIP directory lists 17 entries in {directory_bytes(16):,} bytes; a bpframe model "
        "has at most 16 (bpframe.limits.MAX_ARCHIVE_ENTRIES), so the file is refused before its directory is read",
    ),
    "encrypted": (
        lambda path: model_with(path, theta=dataclasses.replace(stored("theta.npy", theta_member()), flags=1)),
        "the entry 'theta.npy' is encrypted; bpframe model files are never encrypted",
    ),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every hostile file, built once (the bzip2 bombs take about a second each)."""
    folder = tmp_path_factory.mktemp("hostile")
    return {name: build(folder / f"{name}.npz") for name, (build, _) in HOSTILE.items()}


def expected_message(name: str, path: Path) -> str:
    message = HOSTILE[name][1]
    return f"{path}: {message if isinstance(message, str) else message(path)}"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_naming_the_file_and_the_problem(hostile_files, name):
    path = hostile_files[name]
    with pytest.raises(bp.ModelFileError) as loading:
        load_network(path)
    with pytest.raises(bp.ModelFileError) as describing:
        describe_model(path)
    assert str(loading.value) == str(describing.value) == expected_message(name, path)


@pytest.mark.parametrize("name", ["deflate-data-2GiB", "bzip2-data-256MiB", "integer-5000-digits", "layers-100001"])
@pytest.mark.parametrize("command", ["info", "evaluate"])
def test_the_command_line_says_it_in_one_line(hostile_files, capsys, name, command):
    path = hostile_files[name]
    assert main([command, str(path), *(["--dataset", "xor"] if command == "evaluate" else [])]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"bpframe: error: {expected_message(name, path)}\n")


def test_the_largest_network_depth_allowed_loads(tmp_path):
    net = load_network(deep_network(1024)(tmp_path / "deep.npz"))
    assert net.num_layers == 1024 and net.parameters().size == 2048


# -- memory: a child process refusing a hostile file uses what it uses for a valid small model ---------------------


@pytest.fixture(scope="module")
def baselines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Peak resident memory (KiB) of the child loading a valid [2, 3, 1] model, by way of loading."""
    path = model_with(tmp_path_factory.mktemp("valid") / "valid.npz")
    results = {how: measure(path, how) for how in ("load", "info", "evaluate")}
    assert all(result["error"] is None for result in results.values()), results
    return {how: result["peak_kib"] for how, result in results.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_refusing_a_hostile_file_takes_no_more_memory_than_loading_a_valid_one(hostile_files, baselines, name):
    path = hostile_files[name]
    result = measure(path, "load")
    assert (result["error"], result["message"]) == ("ModelFileError", expected_message(name, path)[:2000])
    assert result["peak_kib"] <= baselines["load"] + MARGIN_KIB, (result["peak_kib"], baselines["load"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["deflate-data-2GiB", "bzip2-data-256MiB", "deflate-metadata-1GiB", "metadata-50MB"])
@pytest.mark.parametrize("how", ["info", "evaluate"])
def test_the_command_line_refuses_them_within_the_same_memory(hostile_files, baselines, name, how):
    path = hostile_files[name]
    result = measure(path, how)
    assert (result["error"], result["message"]) == ("exit status 1", f"bpframe: error: {expected_message(name, path)}")
    assert result["peak_kib"] <= baselines[how] + MARGIN_KIB, (result["peak_kib"], baselines[how])


@pytest.mark.slow
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('"' + "x" * (MAX_METADATA_BYTES - len(BASE) - 20) + '"', id="one-string-of-16MiB"),
        pytest.param("[" + ",".join(['"ab"'] * (MAX_JSON_VALUES - 100)) + "]", id="a-million-short-strings"),
        pytest.param("[" + ",".join(["1.5"] * (MAX_JSON_VALUES - 100)) + "]", id="a-million-floats"),
    ],
)
def test_the_largest_metadata_the_bounds_accept_loads_within_the_margin(tmp_path, baselines, raw):
    """The bounds are what keeps memory in check: metadata just inside them loads (unknown fields are ignored)."""
    path = with_extra_field(raw)(tmp_path / "m.npz")
    result = measure(path, "load")
    assert result["error"] is None, result
    assert result["peak_kib"] <= baselines["load"] + MARGIN_KIB, (result["peak_kib"], baselines["load"])
