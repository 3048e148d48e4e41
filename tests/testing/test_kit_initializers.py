"""The kit's initializer checks: shapes and values, and that the seed alone decides them."""

from __future__ import annotations

import numpy as np
import pytest

from bpframe import Initializer
from bpframe.default_plugins import initializers as builtin
from bpframe.testing import ConformanceError, check_initializer


def at(fn):
    code = fn.__code__
    return f"{fn.__module__}.{fn.__qualname__} ({code.co_filename}:{code.co_firstlineno})"


def failure(init):
    with pytest.raises(ConformanceError) as info:
        check_initializer(init)
    return str(info.value).splitlines()


def global_normal(n_in, n_out, rng):
    return np.random.randn(n_out, n_in), np.zeros(n_out)  # noqa: NPY002 - the mistake under test


def transposed(n_in, n_out, rng):
    return rng.standard_normal((n_in, n_out)), np.zeros(n_out)


def with_nan(n_in, n_out, rng):
    w = rng.standard_normal((n_out, n_in))
    w[0, 0] = np.nan
    return w, np.zeros(n_out)


def zeros(n_in, n_out, rng):
    return np.zeros((n_out, n_in)), np.zeros(n_out)


def identity_like(n_in, n_out, rng):
    return np.eye(n_out, n_in), np.zeros(n_out)


@pytest.mark.parametrize("draw", [builtin.normal, builtin.scaled_normal, builtin.glorot, builtin.he])
def test_the_builtins_pass(draw):
    check_initializer(Initializer(draw.__name__, draw))


def test_numpy_global_random_functions_are_caught_twice():
    lines = failure(Initializer("global_normal", global_normal))
    assert lines == [
        "initializer 'global_normal' fails 2 conformance checks:",
        "  - seed: two generators seeded with 1234 give different values; every random number must come from the "
        "rng argument (not numpy.random's global functions, random, or a generator made inside draw)",
        f"    draw is {at(global_normal)}",
        "  - seed: draw used the global random state of numpy.random or random; draw from the rng argument only",
        f"    draw is {at(global_normal)}",
    ]


def test_wrong_shapes_and_values_are_caught_with_the_layer():
    # layers drawn: 1 -> 1 (where a transposed w looks right), then 5 -> 3
    assert failure(Initializer("transposed", transposed))[1:] == [
        "  - draws: initializer 'transposed': its draw function tests.testing.test_kit_initializers.transposed "
        "returned w of shape (5, 3); expected (n_out, n_in) = (3, 5)",
        f"    draw is {at(transposed)}",
    ]
    assert failure(Initializer("with_nan", with_nan))[1] == (
        "  - draws: initializer 'with_nan': its draw function tests.testing.test_kit_initializers.with_nan "
        "returned w with 1 NaN or inf values"
    )


def test_a_deterministic_initialisation_declares_it():
    check_initializer(Initializer("zeros", zeros, random=False))
    check_initializer(Initializer("identity_like", identity_like, random=False))
    assert failure(Initializer("zeros_undeclared", zeros))[1].startswith(
        "  - seed: generators seeded with 1234 and 4321 give the same values: draw ignores its rng argument"
    )
    assert failure(Initializer("he_declared_fixed", builtin.he, random=False))[1] == (
        "  - seed: declared random=False, but generators seeded with 1234 and 4321 give different values"
    )
