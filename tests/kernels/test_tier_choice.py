"""Which tier trains when nothing forces one: the NumPy tier unless what it would lose exceeds compiling the engine."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import bpframe as bp
from bpframe.kernels import program
from bpframe.kernels.program import COMPILE_SECONDS, choose_tier, numpy_extra_seconds


def test_the_numpy_tiers_extra_cost_per_batch_follows_layers_activations_and_parameters():
    # [784, 128, 10], batch 32: 2 layers, 32 * 922 activations, 101,770 parameters
    assert numpy_extra_seconds([784, 128, 10], 32) == pytest.approx(2 * 25e-6 + 32 * 922e-9 + 101_770 * 0.15e-9)
    assert numpy_extra_seconds([8] * 9 + [2], 8) == pytest.approx(9 * 25e-6 + 8 * 74e-9 + 594 * 0.15e-9)


@pytest.mark.jit  # without numba's compiler the "compiled" tier is the engine as plain Python, always chosen
@pytest.mark.parametrize(
    ("sizes", "batch", "samples", "epochs", "tier"),
    [
        ([784, 128, 10], 32, 54_000, 10, "numpy"),  # Fashion-MNIST, bpframe train's defaults: products dominate
        ([784, 100, 10], 128, 60_000, 30, "numpy"),  # W2 for 30 epochs: 2.5 s lost against 6 s of compiling
        ([784, 30, 10], 10, 60_000, 30, "compiled"),  # W1 for 30 epochs: 11 s of Python calls
        ([64, 64, 10], 16, 1_437, 30, "numpy"),  # the first-result benchmark's job
        ([32] * 8 + [10], 8, 20_000, 20, "compiled"),  # deep, narrow, small batches
    ],
)
def test_the_engine_is_compiled_only_when_the_numpy_tier_would_lose_more(sizes, batch, samples, epochs, tier,
                                                                        monkeypatch):  # fmt: skip
    monkeypatch.delenv("BPFRAME_ENGINE", raising=False)
    batches = epochs * -(-samples // batch)
    assert choose_tier(lambda: False, batches * numpy_extra_seconds(sizes, batch)) == tier
    assert choose_tier(lambda: True, 0.0) == "compiled"  # a cached engine always runs


@pytest.mark.jit
def test_what_the_numpy_tier_cost_adds_up_over_fits_until_compiling_pays(monkeypatch):
    monkeypatch.delenv("BPFRAME_ENGINE", raising=False)
    monkeypatch.setattr(program, "_NUMPY_EXTRA", collections.defaultdict(float))
    monkeypatch.setattr(program, "load_cached", lambda dispatcher, args, **where: False)  # nothing compiled
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    net = bp.Network([3, 5, 2], ["tanh", "softmax"], "cross_entropy", seed=0)
    net.fit(X, y, epochs=3, batch_size=8, verbose=0)
    per_batch = numpy_extra_seconds([3, 5, 2], 8)
    assert program._NUMPY_EXTRA["float64"] == pytest.approx(15 * per_batch)
    assert net._model.program.tiers == {"numpy"}
    monkeypatch.setattr(program, "COMPILE_SECONDS", 15 * per_batch + 2.5 * per_batch)
    net.fit(X, y, epochs=1, batch_size=8, verbose=0)  # 5 more batches: 20 > 17.5 of them
    assert net._model.program.tiers == {"numpy", "compiled"}
    assert COMPILE_SECONDS == 6.0
