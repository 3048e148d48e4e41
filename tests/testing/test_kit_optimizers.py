"""The kit's optimizer checks: the built-ins pass, and each way an update can break its contract is named."""

from __future__ import annotations

import math

import pytest

import bpframe as bp
import bpframe.testing._optimizer as kit
from bpframe import Hyper, OptimizerSpec
from bpframe.default_plugins import optimizers as builtin
from bpframe.plugins import get_registry
from bpframe.testing import ConformanceError, check_optimizer

pytestmark = pytest.mark.jit

MU = (Hyper("mu", 0.9, low=0.0, high=1.0),)


def at(fn):
    code = fn.__code__
    return f"{fn.__module__}.{fn.__qualname__} ({code.co_filename}:{code.co_firstlineno})"


def problems(spec):
    """The problem lines (without the lines naming functions) of check_optimizer(spec)."""
    with pytest.raises(ConformanceError) as info:
        check_optimizer(spec)
    lines = str(info.value).splitlines()
    return [line[4:] for line in lines[1:] if line.startswith("  - ")], lines


# -- broken updates, each otherwise a correct SGD or momentum ------------------------------------------------------


def sgd_always_finite(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    """Says every step is finite without looking, so a NaN step would be committed."""
    eta = hyper[0]
    for i in range(theta.shape[0]):
        theta_out[i] = theta[i] - eta * grad[i]
    return True


def sgd_math_isfinite(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    """Returns math.isfinite(...) of each new value: correct, since plugins are compiled without fast-math."""
    ok = True
    for i in range(theta.shape[0]):
        g = grad[i] + hyper[1] * theta[i] if i < n_weights else grad[i]
        theta_out[i] = theta[i] - hyper[0] * g
        ok = ok and math.isfinite(theta_out[i])
    return ok


def sgd_writes_grad(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    check = 0.0
    for i in range(theta.shape[0]):
        grad[i] = grad[i] + hyper[1] * theta[i] if i < n_weights else grad[i]  # decays the gradient in place
        new = theta[i] - hyper[0] * grad[i]
        theta_out[i] = new
        check += new * 0.0
    return check == 0.0


def momentum_weights_only(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    """Keeps a velocity for the weights only: state_out is never written for the biases."""
    check = 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + hyper[1] * theta[i] if i < n_weights else grad[i]
        v = g
        if i < n_weights:
            v = hyper[2] * state[0, i] + g
            state_out[0, i] = v
        new = theta[i] - hyper[0] * v
        theta_out[i] = new
        check += new * 0.0
    return check == 0.0


def sgd_eta_squared(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    check = 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + hyper[1] * theta[i] if i < n_weights else grad[i]
        new = theta[i] - hyper[0] * hyper[0] * g
        theta_out[i] = new
        check += new * 0.0
    return check == 0.0


def sgd_ascent(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    check = 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + hyper[1] * theta[i] if i < n_weights else grad[i]
        new = theta[i] + hyper[0] * g
        theta_out[i] = new
        check += new * 0.0
    return check == 0.0


def momentum_dampened(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    """v = μv + (1 − μ)g: a different (dampened) momentum than its reference says."""
    check = 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + hyper[1] * theta[i] if i < n_weights else grad[i]
        v = hyper[2] * state[0, i] + (1.0 - hyper[2]) * g
        state_out[0, i] = v
        new = theta[i] - hyper[0] * v
        theta_out[i] = new
        check += new * 0.0
    return check == 0.0


def uses_a_list(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    values = []
    for i in range(theta.shape[0]):
        values.append(theta[i] - hyper[0] * grad[i])
    for i in range(theta.shape[0]):
        theta_out[i] = values[i]
    return "done"


def wrong_fused(eta, decay, values):
    """Forgets the weight decay: keep_w should be 1 − eta * decay."""
    return 1.0, 1.0, eta


# -- the tests ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_the_builtins_pass_against_their_numpy_references(name):
    spec = get_registry().optimizer(name)
    assert spec.reference is not None
    check_optimizer(spec)


def test_a_finite_flag_that_does_not_look_is_caught():
    found, lines = problems(OptimizerSpec("blind_sgd", sgd_always_finite, fused=builtin.sgd_fused))
    assert found[0] == (
        "finite flag: with a NaN in the gradient, the update returns True but its new parameters are not all "
        "finite; it must return whether every one is finite"
    )
    assert lines[2] == f"    update is {at(sgd_always_finite)}"


def test_a_finite_flag_from_math_isfinite_passes():
    """Plugins are compiled without fast-math, so math.isfinite means what it says (with fast-math, LLVM folded it
    to True and this update would have committed a diverging step)."""
    from bpframe.testing import check_optimizer

    check_optimizer(OptimizerSpec("isfinite_sgd", sgd_math_isfinite, fused=builtin.sgd_fused))


def test_writing_into_an_input_is_caught():
    found, _ = problems(OptimizerSpec("writes_grad", sgd_writes_grad, fused=builtin.sgd_fused))
    assert found[0] == "writes: the update changed theta, grad or state; it must write only theta_out and state_out"


def test_a_state_entry_never_written_is_caught():
    found, _ = problems(OptimizerSpec("half_momentum", momentum_weights_only, MU, state_rows=1))
    # the first bias: the 7 weights come first, then 3 biases
    assert found[0] == (
        "writes: state_out[0, 7] is NaN after one step from finite inputs, with the spare buffers filled with NaN "
        "before the call: the update leaves it unwritten, or reads theta_out or state_out before writing them"
    )


def test_a_step_not_proportional_to_the_learning_rate_is_caught():
    found, _ = problems(OptimizerSpec("eta_squared", sgd_eta_squared))
    assert found[0].startswith("learning rate: the first step is not proportional to eta: theta[")
    assert found[0].endswith("with eta=0.1 (twice as far expected)")


def test_a_step_uphill_is_caught():
    found, _ = problems(OptimizerSpec("ascent", sgd_ascent))
    assert found[0].startswith("descent: 50 steps with eta=0.01 take the quadratic bowl's cost from ")
    assert found[0].endswith(", not lower")


def test_an_update_that_differs_from_its_reference_is_caught_with_the_step_and_the_parameter():
    spec = OptimizerSpec("dampened", momentum_dampened, MU, state_rows=1, reference=builtin.momentum_reference)
    found, lines = problems(spec)
    # the first step from v = 0 differs already: (1 − μ) g against g, at every parameter with a gradient
    assert len(found) == 1 and found[0].startswith("reference: update gives theta[")
    assert (
        " at step 1 in float64 (default hyper-parameters, eta=0.05, decay=0.01), but the reference gives " in found[0]
    )
    assert lines[-2:] == [
        f"    update is {at(momentum_dampened)}",
        f"    reference is {at(builtin.momentum_reference)}",
    ]


def test_the_fused_form_is_the_reference_when_there_is_no_other():
    found, _ = problems(OptimizerSpec("sgd_wrong_fused", builtin.sgd_update, fused=wrong_fused))
    # the largest step difference, −η λ θ on the weights, is at the weight of largest magnitude
    assert len(found) == 1 and found[0].startswith("reference: update gives theta[4] = ")
    assert "but the fused form gives " in found[0]


def test_an_update_numba_cannot_compile_is_named():
    found, lines = problems(OptimizerSpec("listy", uses_a_list))
    assert found[0].startswith("compiles: update ")
    assert lines[-1] == f"    update is {at(uses_a_list)}"


def test_a_plugin_optimizer_is_checked_through_a_real_model_file(monkeypatch):
    """For an optimizer fit finds by name, the kit saves and loads a real model; a load that lost the optimizer
    state (a bpframe bug here, simulated) is caught by that check."""
    real_load = kit.load_network

    def forgetful_load(path, **kwargs):
        net = real_load(path, **kwargs)
        net._model.optimizer = None
        return net

    monkeypatch.setattr(kit, "load_network", forgetful_load)  # what the kit calls
    found, _ = problems(get_registry().optimizer("momentum"))
    assert len(found) == 1 and found[0].startswith(
        "save/load: fit 2 epochs, save with include_optimizer=True, load and fit 2 more gives parameters up to "
    )
    assert found[0].endswith(" away from fitting 4 epochs without stopping")


def test_an_unregistered_optimizer_is_checked_without_a_model_file():
    """fit finds optimizers by name, so the kit's model-file check needs a registered one; every other check runs
    on an OptimizerSpec built in a notebook."""
    spec = OptimizerSpec("my_sgd", builtin.sgd_update, fused=builtin.sgd_fused, reference=builtin.sgd_reference)
    check_optimizer(spec)
    with pytest.raises(bp.UnknownNameError, match="unknown optimizer 'my_sgd'"):
        bp.Optimizer("my_sgd")
