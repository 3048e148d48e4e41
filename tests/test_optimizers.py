"""Optimizer and schedule objects: validation messages, name resolution, configs, and the schedules' values."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from bpframe.errors import ConfigurationError, UnknownNameError
from bpframe.optimizers import (
    HYPER_SLOTS,
    SGD,
    Adam,
    ExponentialDecay,
    Momentum,
    Nesterov,
    Optimizer,
    StepDecay,
    optimizer_from_config,
    resolve_optimizer,
    resolve_schedule,
    schedule_from_config,
)

OPTIMIZERS = [SGD(), Momentum(), Nesterov(), Adam(), Momentum(mu=0.0), Nesterov(mu=0.5), Adam(0.8, 0.99, 1e-6)]
SCHEDULES = [StepDecay(step=1, factor=1.0), StepDecay(step=10, factor=0.5), ExponentialDecay(rate=0.95)]
STEP_MESSAGE = "StepDecay: step must be an int >= 1 (epochs between decays)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Momentum(mu=1.5), "Momentum: mu must be in [0, 1), got 1.5"),
        (lambda: Momentum(mu=-0.1), "Momentum: mu must be in [0, 1), got -0.1"),
        (lambda: Momentum(mu="0.9"), "Momentum: mu must be a number, got str '0.9'"),
        (lambda: Momentum(mu=True), "Momentum: mu must be a number, got bool True"),
        (lambda: Nesterov(mu=1.0), "Nesterov: mu must be in [0, 1), got 1.0"),
        (lambda: Adam(beta1=1.0), "Adam: beta1 must be in [0, 1), got 1.0"),
        (lambda: Adam(beta2=float("nan")), "Adam: beta2 must be in [0, 1), got nan"),
        (lambda: Adam(beta2=None), "Adam: beta2 must be a number, got NoneType None"),
        (lambda: Adam(epsilon=0.0), "Adam: epsilon must be finite and > 0, got 0.0"),
        (lambda: Adam(epsilon=math.inf), "Adam: epsilon must be finite and > 0, got inf"),
        (lambda: StepDecay(step=0, factor=0.5), f"{STEP_MESSAGE}, got 0"),
        (lambda: StepDecay(step=2.0, factor=0.5), f"{STEP_MESSAGE}, got 2.0"),
        (lambda: StepDecay(step=True, factor=0.5), f"{STEP_MESSAGE}, got True"),
        (lambda: StepDecay(step=2, factor=0.0), "StepDecay: factor must be in (0, 1], got 0.0"),
        (lambda: StepDecay(step=2, factor=1.5), "StepDecay: factor must be in (0, 1], got 1.5"),
        (lambda: ExponentialDecay(rate=0), "ExponentialDecay: rate must be in (0, 1], got 0"),
        (lambda: ExponentialDecay(rate=-0.5), "ExponentialDecay: rate must be in (0, 1], got -0.5"),
    ],
)
def test_validation_messages(make, message):
    with pytest.raises(ConfigurationError) as info:
        make()
    assert message in str(info.value)


def test_boundaries_are_accepted_and_values_normalised():
    assert Momentum(mu=0.0).mu == 0.0
    assert StepDecay(step=1, factor=1.0).learning_rate(0.5, 100) == 0.5
    assert ExponentialDecay(rate=1.0).learning_rate(0.5, 100) == 0.5
    mu = Momentum(mu=np.float32(0.5)).mu
    step = StepDecay(step=np.int64(3), factor=0.5).step
    assert type(mu) is float and mu == 0.5
    assert type(step) is int and step == 3


def test_objects_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Adam().beta1 = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(("name", "rows"), [("sgd", 0), ("momentum", 1), ("nesterov", 1), ("adam", 2)])
def test_names_and_state_rows(name, rows):
    opt = resolve_optimizer(name)
    assert opt.name == name
    assert opt.state_rows == rows
    state = opt.initial_state(5, "float32")
    assert state.shape == (rows, 5) and state.dtype == np.float32 and not state.any()


def test_every_registered_optimizer_resolves_to_its_named_class():
    from bpframe.plugins import get_registry

    names = get_registry().optimizers.names()
    assert names == ["adam", "momentum", "nesterov", "sgd"]
    assert {type(resolve_optimizer(name)).__name__ for name in names} == {"Adam", "Momentum", "Nesterov", "SGD"}


@pytest.mark.parametrize(
    ("opt", "values"),
    [
        (SGD(), [0.5, 0.01]),
        (Momentum(mu=0.8), [0.5, 0.01, 0.8]),
        (Nesterov(mu=0.7), [0.5, 0.01, 0.7]),
        (Adam(beta1=0.8, beta2=0.99, epsilon=1e-7), [0.5, 0.01, 0.8, 0.99, 1e-7]),
    ],
)
def test_hyper(opt, values):
    hyper = opt.hyper(0.5, 0.01)
    assert hyper.dtype == np.float64 and hyper.shape == (HYPER_SLOTS,)
    np.testing.assert_array_equal(hyper, values + [0.0] * (HYPER_SLOTS - len(values)))


def test_hyper_rejects_bad_arguments():
    with pytest.raises(ConfigurationError, match=r"decay must be >= 0, got -1.0"):
        SGD().hyper(0.1, -1.0)
    with pytest.raises(ConfigurationError, match=r"eta must be a number, got str '0.1'"):
        SGD().hyper("0.1", 0.0)


def test_the_fused_form_is_sgd_only():
    assert SGD().fused(0.5, 0.1) == (0.95, 1.0, 0.5)
    assert Momentum().fused(0.5, 0.1) is None and Adam().fused(0.5, 0.1) is None


def test_generic_optimizer_objects_and_their_errors():
    assert Optimizer("momentum", 0.5) == Momentum(mu=0.5)
    assert Optimizer("adam", epsilon=1e-6).epsilon == 1e-6
    with pytest.raises(ConfigurationError, match=r"Momentum has no hyper-parameter 'rho'; its hyper-parameters are mu"):
        Momentum(rho=0.5)
    with pytest.raises(ConfigurationError, match=r"Adam takes at most 3 hyper-parameter\(s\)"):
        Adam(0.9, 0.99, 1e-8, 4.0)
    with pytest.raises(ConfigurationError, match=r"Momentum: mu given twice"):
        Momentum(0.5, mu=0.6)
    with pytest.raises(UnknownNameError, match=r"unknown optimizer 'rmsprop'"):
        Optimizer("rmsprop")
    with pytest.raises(AttributeError, match=r"Momentum has no attribute 'beta1'"):
        Momentum().beta1


def test_resolve_optimizer_names_and_instances():
    assert resolve_optimizer("sgd") == SGD()
    assert resolve_optimizer("momentum") == Momentum(mu=0.9)
    assert resolve_optimizer("nesterov") == Nesterov(mu=0.9)
    assert resolve_optimizer("adam") == Adam(beta1=0.9, beta2=0.999, epsilon=1e-8)
    opt = Adam(beta1=0.5)
    assert resolve_optimizer(opt) is opt
    assert Momentum() != Nesterov()  # same fields, different update


def test_resolve_optimizer_errors():
    with pytest.raises(UnknownNameError) as info:
        resolve_optimizer("adagrad")
    assert "unknown optimizer 'adagrad'; available: adam, momentum, nesterov, sgd" in str(info.value)
    assert isinstance(info.value, LookupError)
    with pytest.raises(ConfigurationError, match=r"optimizer must be an instance, got the class Adam; write Adam\(\)"):
        resolve_optimizer(Adam)  # type: ignore[arg-type]
    for bad in (None, 3, StepDecay(step=1, factor=0.5)):
        with pytest.raises(ConfigurationError) as info:
            resolve_optimizer(bad)  # type: ignore[arg-type]
        assert "optimizer must be one of the names 'sgd', 'momentum', 'nesterov', 'adam'" in str(info.value)
        assert f"got {type(bad).__name__} {bad!r}" in str(info.value)


def test_resolve_schedule():
    assert resolve_schedule(None) is None
    schedule = StepDecay(step=5, factor=0.5)
    assert resolve_schedule(schedule) is schedule
    with pytest.raises(ConfigurationError, match=r"schedule must be an instance, got the class ExponentialDecay"):
        resolve_schedule(ExponentialDecay)  # type: ignore[arg-type]
    for bad in ("step_decay", 0.9, Adam()):
        with pytest.raises(ConfigurationError) as info:
            resolve_schedule(bad)  # type: ignore[arg-type]
        assert "schedule must be None or a schedule such as StepDecay(step=10, factor=0.5)" in str(info.value)
        assert f"got {type(bad).__name__} {bad!r}" in str(info.value)


def test_config_contents():
    assert SGD().config() == {"name": "sgd"}
    assert Nesterov(mu=0.5).config() == {"name": "nesterov", "mu": 0.5}
    assert Adam().config() == {"name": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert StepDecay(step=10, factor=0.5).config() == {"name": "step_decay", "step": 10, "factor": 0.5}
    assert ExponentialDecay(rate=0.95).config() == {"name": "exponential_decay", "rate": 0.95}


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=repr)
def test_optimizer_config_round_trip(opt):
    rebuilt = optimizer_from_config(json.loads(json.dumps(opt.config())))
    assert rebuilt == opt and type(rebuilt) is type(opt)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_schedule_config_round_trip(schedule):
    rebuilt = schedule_from_config(json.loads(json.dumps(schedule.config())))
    assert rebuilt == schedule and type(rebuilt) is type(schedule)


def test_missing_optimizer_parameters_take_defaults():
    assert optimizer_from_config({"name": "adam", "beta2": 0.99}) == Adam(beta2=0.99)


@pytest.mark.parametrize(
    ("read", "config", "error", "message"),
    [
        (optimizer_from_config, {"name": "rmsprop"}, UnknownNameError,
         "unknown optimizer 'rmsprop'; available: adam, momentum, nesterov, sgd"),
        (optimizer_from_config, "adam", ConfigurationError,
         "the optimizer config must be a dict such as {'name': 'momentum', 'mu': 0.9}, got str 'adam'"),
        (optimizer_from_config, {"mu": 0.9}, ConfigurationError, "the optimizer config needs a 'name' key"),
        (optimizer_from_config, {"name": "momentum", "beta1": 0.9}, ConfigurationError,
         "Momentum config has unknown key(s) 'beta1'; allowed: mu"),
        (optimizer_from_config, {"name": "sgd", "mu": 0.9}, ConfigurationError,
         "SGD config has unknown key(s) 'mu'; allowed: (none)"),
        (optimizer_from_config, {"name": "adam", "beta1": 2}, ConfigurationError,
         "Adam: beta1 must be in [0, 1), got 2"),
        (schedule_from_config, {"name": "cosine"}, UnknownNameError,
         "unknown schedule 'cosine'; available: exponential_decay, step_decay"),
        (schedule_from_config, {"name": "step_decay", "step": 10}, ConfigurationError,
         "StepDecay config lacks 'factor'"),
        (schedule_from_config, {"name": "exponential_decay", "rate": 2.0}, ConfigurationError,
         "ExponentialDecay: rate must be in (0, 1], got 2.0"),
    ],
)  # fmt: skip
def test_config_errors(read, config, error, message):
    with pytest.raises(error) as info:
        read(config)
    assert message in str(info.value)


def test_step_decay_values():
    schedule = StepDecay(step=3, factor=0.1)
    rates = [schedule.learning_rate(2.0, epoch) for epoch in range(1, 11)]
    assert rates == pytest.approx([2.0, 2.0, 2.0, 0.2, 0.2, 0.2, 0.02, 0.02, 0.02, 0.002], rel=1e-12)


def test_exponential_decay_values():
    schedule = ExponentialDecay(rate=0.9)
    rates = [schedule.learning_rate(0.5, epoch) for epoch in range(1, 6)]
    assert rates == pytest.approx([0.5, 0.45, 0.405, 0.3645, 0.32805], rel=1e-12)


def test_learning_rate_checks_its_arguments():
    with pytest.raises(ConfigurationError, match=r"epoch must be an int >= 1, got 0"):
        ExponentialDecay(rate=0.9).learning_rate(0.1, 0)
    with pytest.raises(ConfigurationError, match=r"eta must be > 0, got -0.1"):
        StepDecay(step=2, factor=0.5).learning_rate(-0.1, 1)


def test_importing_the_optimizers_does_not_import_numba():
    code = "import sys, bpframe.optimizers as o; o.resolve_optimizer('adam'); print('numba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert result.stdout.strip() == "False"
