"""The six planted plugins of issue 15, loaded as one plugin from an entry point: the kit fails each, with a report
that names the check, the input, and the function to blame with its file and line."""

from __future__ import annotations

import pytest
from fake_plugins import FakeEntryPoint
from planted_plugins import (
    PlantedPlugin,
    bent_naive,
    bent_naive_prime,
    half_square,
    half_square_wrong_sign,
    heavy_ball,
    normal_fixed_seed,
    sgd_fixed_step,
    sigmoid,
    sigmoid_prime_off,
)

from bpframe.plugins import load_registry
from bpframe.testing import ConformanceError, check_plugin

pytestmark = pytest.mark.jit


def at(fn):
    code = fn.__code__
    return f"{fn.__module__}.{fn.__qualname__} ({code.co_filename}:{code.co_firstlineno})"


@pytest.fixture(scope="module")
def report():
    """``bpframe plugins --check``'s block for the planted plugin, as {object: its indented lines}."""
    registry = load_registry(
        entry_points=[FakeEntryPoint("planted", PlantedPlugin, "bpframe-planted", "0.1")],
        autoload=True, strict=False, disabled=(),
    )  # fmt: skip
    with pytest.raises(ConformanceError) as info:
        check_plugin("bpframe-planted", registry=registry)
    lines = str(info.value).splitlines()
    assert lines[0] == "bpframe-planted 0.1 (plugin 'planted')"
    blocks: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line.startswith("  FAIL  ") or line.startswith("  PASS  "):
            current = blocks.setdefault(" ".join(line.split()[1:3]), [line.split()[0]])
        else:
            current.append(line.strip())
    return blocks


def test_every_planted_object_fails(report):
    assert sorted(report) == [
        "activation bent_naive", "activation sigmoid_off", "initializer normal_fixed_seed",
        "loss half_square_wrong_sign", "optimizer heavy_ball", "optimizer sgd_fixed_step",
    ]  # fmt: skip
    assert all(lines[0] == "FAIL" for lines in report.values())


def test_a_derivative_off_by_a_factor_1_1(report):
    # σ′ is 1.1 σ(1 − σ): wrong wherever σ′ is not negligible; the largest error, 0.025, where σ′ = 0.25
    assert report["activation sigmoid_off"][1:] == [
        "derivative: sigma_prime disagrees with the central difference of sigma at 27 of 43 inputs; worst at "
        "z=-1e-40: sigma_prime=0.275, difference quotient=0.25, error 0.025 (relative 0.025, tolerance 1e-06)",
        f"sigma_prime is {at(sigmoid_prime_off)}",
        f"sigma is {at(sigmoid)}",
    ]


def test_a_loss_gradient_with_the_wrong_sign(report):
    # y − a instead of a − y: off by 2|a − y| wherever a ≠ y, a relative error of 2 wherever |a − y| >= 1
    lines = report["loss half_square_wrong_sign"][1:]
    assert lines[0].startswith("derivative: nabla_a disagrees with the central difference of cost at 106 of 129 inputs")
    assert "relative 2, tolerance 1e-06" in lines[0]
    assert lines[1:] == [f"nabla_a is {at(half_square_wrong_sign)}", f"cost is {at(half_square)}"]


def test_a_naive_bent_identity_overflowing_at_the_extremes(report):
    assert report["activation bent_naive"][1:] == [
        "finite: sigma gives inf at z=-1e+300 in float64, but its value there, about 5e+299 in size, fits in "
        "float64 (it is non-finite from |z| = 1.34e+154 on, where its size 6.7e+153 grows like |z|^1); 4 of 43 "
        "inputs give non-finite values where the value fits",
        f"sigma is {at(bent_naive)}",
        "finite: sigma gives inf at z=-1e+30 in float32, but its value there, about 5e+29 in size, fits in float32 "
        "(-5e+29 in float64); 4 of 35 inputs give non-finite values where the value fits",
        f"sigma is {at(bent_naive)}",
        "float32: sigma_prime gives 1.0 in float32 but 0.5 in float64 at z=-1e+30, a difference of 0.5 "
        "(tolerance 0.00101)",
        f"sigma_prime is {at(bent_naive_prime)}",
    ]


def test_an_optimizer_that_ignores_its_learning_rate(report):
    lines = report["optimizer sgd_fixed_step"][1:]
    assert lines[0].startswith("learning rate: with eta = 0 the update changes theta[0] from ")
    assert lines[0].endswith(
        "; a learning rate of 0 must leave every parameter unchanged (the update reads eta from hyper[0])"
    )
    assert lines[1:] == [f"update is {at(sgd_fixed_step)}"]


def test_an_optimizer_whose_state_a_model_file_does_not_keep(report):
    lines = report["optimizer heavy_ball"][1:]
    assert lines[0].startswith(
        "state: in float64, 3 steps, then only what a model file saves (theta, the 0 state row(s) and the step "
        "count): step 4 then gives theta[0] = nan (returns False), but without stopping gives theta[0] = "
    )
    assert lines[0].endswith(
        "(returns True); the update must keep everything it needs between steps in state (state_rows rows), and "
        "never read theta_out or state_out before writing them"
    )
    assert lines[1:] == [f"update is {at(heavy_ball)}"]


def test_an_initializer_that_ignores_the_seed(report):
    assert report["initializer normal_fixed_seed"][1:] == [
        "seed: generators seeded with 1234 and 4321 give the same values: draw ignores its rng argument (declare "
        "random=False for an initialisation that uses no random numbers)",
        f"draw is {at(normal_fixed_seed)}",
    ]
