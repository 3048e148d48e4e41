"""Issue 13, sizes: Network(...) refuses absurd, huge and too deep configurations with a ConfigurationError that
names the layer and the bytes, before allocating anything (never numpy's MemoryError, ValueError or
OverflowError); the limits sit at the documented values; the command line says it in one line before loading data.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bpframe as bp
from bpframe import cli, limits, train_command
from bpframe.limits import MAX_LAYERS, MAX_PARAMETERS, MAX_WIDTH, check_network_size, format_bytes


def n_params(sizes):
    """Independent count: one weight per pair of neurons in adjacent layers, one bias per non-input neuron."""
    return sum(a * b for a, b in itertools.pairwise(sizes)) + sum(sizes[1:])


def test_the_documented_limits():
    assert (MAX_LAYERS, MAX_WIDTH, MAX_PARAMETERS) == (1024, 16_777_216, 2_147_483_647)
    assert limits.MAX_METADATA_BYTES == 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        pytest.param(
            [1e10, 2], "sizes[0] must be an int >= 1, got 10000000000.0 (sizes=[10000000000.0, 2])", id="1e10"
        ),
        pytest.param(
            [10**10, 2],
            "layer 0 has 10,000,000,000 neurons; bpframe allows at most 16,777,216 in one layer "
            "(bpframe.limits.MAX_WIDTH); layer 1's 2 x 10000000000 weights alone would need 160,000,000,000 bytes, "
            "149.0 GiB as float64",
            id="10**10",
        ),
        pytest.param(
            [2**62, 2, 2],
            "layer 0 has 4,611,686,018,427,387,904 neurons; bpframe allows at most 16,777,216 in one layer "
            "(bpframe.limits.MAX_WIDTH); layer 1's 2 x 4611686018427387904 weights alone would need "
            "73,786,976,294,838,206,464 bytes, 64.0 EiB as float64",
            id="2**62",
        ),
        pytest.param(
            [784, 1_000_000_000, 10],
            "layer 1 has 1,000,000,000 neurons; bpframe allows at most 16,777,216 in one layer "
            "(bpframe.limits.MAX_WIDTH); layer 1's 1000000000 x 784 weights alone would need 6,272,000,000,000 "
            "bytes, 5.7 TiB as float64",
            id="hidden-10**9",
        ),
        pytest.param(
            [100000, 100000, 10],
            "the network needs 10,001,100,010 parameters (80,008,800,080 bytes, 74.5 GiB as float64), most of them "
            "layer 1's 100000 x 100000 weights (80,000,000,000 bytes, 74.5 GiB); bpframe allows at most "
            "2,147,483,647 parameters (bpframe.limits.MAX_PARAMETERS)",
            id="100000x100000",
        ),
        pytest.param(
            [3] * 1026,
            "sizes lists 1,026 layers, 1,025 after the input; bpframe allows at most 1,024 layers after the input "
            "(bpframe.limits.MAX_LAYERS)",
            id="1025-layers",
        ),
        pytest.param(
            [3] * 100_002,
            "sizes lists 100,002 layers, 100,001 after the input; bpframe allows at most 1,024 layers after the "
            "input (bpframe.limits.MAX_LAYERS)",
            id="100001-layers",
        ),
        pytest.param(
            range(1, 10**12),
            "sizes lists 999,999,999,999 layers, 999,999,999,998 after the input; bpframe allows at most 1,024 "
            "layers after the input (bpframe.limits.MAX_LAYERS)",
            id="range-never-copied",
        ),
        pytest.param(
            np.ones((2, 3), dtype=int),
            "sizes must be a 1-D list of layer sizes such as [784, 30, 10], got an array of shape (2, 3)",
            id="2-D-array",
        ),
    ],
)
def test_absurd_sizes_are_a_configuration_error_naming_the_layer_and_the_bytes(sizes, message):
    with pytest.raises(bp.ConfigurationError) as info:
        bp.Network(sizes)
    assert str(info.value) == message


def test_the_bytes_follow_the_dtype():
    with pytest.raises(bp.ConfigurationError) as info:
        bp.Network([100000, 100000, 10], dtype="float32")
    assert str(info.value).startswith("the network needs 10,001,100,010 parameters (40,004,400,040 bytes, 37.3 GiB as ")


def test_the_limits_are_inclusive(monkeypatch):
    monkeypatch.setattr(limits, "memory_limit", lambda: None)  # only the fixed limits: nothing is allocated here
    float64 = np.dtype(np.float64)
    assert check_network_size([MAX_WIDTH, 1], float64) == MAX_WIDTH + 1
    with pytest.raises(bp.ConfigurationError, match=r"^layer 0 has 16,777,217 neurons; bpframe allows at most "):
        check_network_size([MAX_WIDTH + 1, 1], float64)
    # 1386 * (1549409 + 2) + 1 == 2**31 - 1: the largest network allowed, exactly
    assert check_network_size([1_549_409, 1386, 1], float64) == n_params([1_549_409, 1386, 1]) == MAX_PARAMETERS
    with pytest.raises(bp.ConfigurationError, match=r"^the network needs 2,147,485,033 parameters \("):
        check_network_size([1_549_410, 1386, 1], float64)
    assert check_network_size([1] * (MAX_LAYERS + 1), float64) == 2 * MAX_LAYERS


def test_the_deepest_network_allowed_is_built():
    net = bp.Network([1] * (MAX_LAYERS + 1), "identity", seed=0)
    assert net.num_layers == MAX_LAYERS and net.parameters().size == 2 * MAX_LAYERS


def test_a_network_larger_than_the_memory_is_refused_naming_the_bytes(monkeypatch):
    monkeypatch.setattr(limits, "memory_limit", lambda: 2**30)
    sizes = [20000, 20000, 10]
    parameters, workspace = n_params(sizes) * 8, 2 * 8 * 20000 * 20000
    with pytest.raises(bp.ConfigurationError) as info:
        bp.Network(sizes)
    assert str(info.value) == (
        f"building the network as float64 needs {parameters + workspace:,} bytes, 8.9 GiB: {parameters:,} bytes for "
        f"its {n_params(sizes):,} parameters and {workspace:,} bytes while the initialiser draws layer 1's 20000 x "
        "20000 weights; this machine (or its container) has 1,073,741,824 bytes, 1.0 GiB of memory. Use fewer or "
        "narrower layers, or dtype='float32'"
    )


def test_the_memory_limit_is_the_machines_or_its_containers():
    limit = limits.memory_limit()
    if not hasattr(os, "sysconf"):
        pytest.skip("no sysconf on this platform")
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert limit is not None and 0 < limit <= physical


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 bytes"),
        (1023, "1,023 bytes"),
        (1024, "1,024 bytes, 1.0 KiB"),
        (3 * 2**40 // 2, "1,649,267,441,664 bytes, 1.5 TiB"),
    ],
)
def test_format_bytes(count, text):
    assert format_bytes(count) == text


# -- nothing is allocated: a child process refusing an absurd network uses what it uses for a tiny one -----------

CHILD = """
import json, sys
import bpframe as bp

def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

try:
    bp.Network(json.loads(sys.stdin.read()))
    error = None
except BaseException as exc:
    error = type(exc).__name__
print(json.dumps({"error": error, "peak_kib": peak_kib()}))
"""


def child_peak(sizes):
    repo = str(Path(bp.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=repo, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(sizes), env=env, capture_output=True,
                         text=True, timeout=120, check=True)  # fmt: skip
    return json.loads(out.stdout)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
@pytest.mark.parametrize("sizes", [[2**62, 2, 2], [10**10, 2], [100000, 100000, 10], [3] * 100_002])
def test_refusing_an_absurd_network_allocates_nothing(sizes):
    baseline = child_peak([2, 3, 1])
    result = child_peak(sizes)
    assert (baseline["error"], result["error"]) == (None, "ConfigurationError")
    assert result["peak_kib"] <= baseline["peak_kib"] + 100 * 1024


# -- the command line ------------------------------------------------------------------------------------------------


def test_train_refuses_huge_hidden_layers_in_one_line_before_loading_data(capsys, monkeypatch):
    def must_not_load(*args):
        raise AssertionError("the data set was loaded")

    monkeypatch.setattr(train_command, "load_dataset", must_not_load)
    assert cli.main(["train", "--hidden", "1000000000", "-q"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "bpframe: error: --hidden 1000000000 is too large, even counting a 1-wide input and output: layer 1 has "
        "1,000,000,000 neurons; bpframe allows at most 16,777,216 in one layer (bpframe.limits.MAX_WIDTH); layer 1's "
        "1000000000 x 1 weights alone would need 8,000,000,000 bytes, 7.5 GiB as float64\n"
    )
    assert cli.main(["train", "--hidden", ",".join(["2"] * 1030), "-q"]) == 1
    assert capsys.readouterr().err == (
        "bpframe: error: --hidden 2,2,2,2,2,2,... (1030 layers) is too large, even counting a 1-wide input and "
        "output: sizes lists 1,032 layers, 1,031 after the input; bpframe allows at most 1,024 layers after the "
        "input (bpframe.limits.MAX_LAYERS)\n"
    )


def test_train_checks_the_real_sizes_once_the_data_is_loaded(capsys, monkeypatch):
    monkeypatch.setattr(limits, "memory_limit", lambda: None)  # the parameter limit decides, on any machine
    hidden = [16_000_000, 130]
    assert n_params([1, *hidden, 1]) <= MAX_PARAMETERS < n_params([64, *hidden, 10])  # the digits: 64 in, 10 out
    assert cli.main(["train", "--hidden", "16000000,130", "--activation", "relu", "-q"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"bpframe: error: the network needs {n_params([64, *hidden, 10]):,} parameters (")


def test_gradcheck_refuses_absurd_sizes_in_one_line(capsys):
    assert cli.main(["gradcheck", "--sizes", "4,2000000000,3"]) == 1
    assert capsys.readouterr().err == (
        "bpframe: error: layer 1 has 2,000,000,000 neurons; bpframe allows at most 16,777,216 in one layer "
        "(bpframe.limits.MAX_WIDTH); layer 1's 2000000000 x 4 weights alone would need 64,000,000,000 bytes, "
        "59.6 GiB as float64\n"
    )


def test_an_out_of_memory_error_elsewhere_is_one_line(capsys, monkeypatch):
    def exhausted(path):
        raise MemoryError("Unable to allocate 74.5 GiB for an array with shape (10001100010,) and data type float64")

    monkeypatch.setattr(cli, "describe_model", exhausted)  # the name `bpframe info` calls
    assert cli.main(["info", "m.npz"]) == 1
    assert capsys.readouterr() == (
        "",
        "bpframe: error: out of memory (Unable to allocate 74.5 GiB for an array with shape (10001100010,) and data "
        "type float64)\n",
    )
