"""The one table of plugin-function roles, and compiling a plugin function alone with it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import types
from numba.core.errors import TypingError

from bpframe.kernels import alone, blocks, build
from bpframe.testing import _compile


@pytest.mark.parametrize(("dtype", "scalar"), [("float32", types.float32), (np.dtype("float64"), types.float64)])
def test_every_role_has_the_argument_types_the_blocks_call_it_with(dtype, scalar):
    vector, matrix = types.Array(scalar, 1, "C"), types.Array(scalar, 2, "C")
    row64 = types.Array(types.float64, 1, "C")
    assert alone.signature("sigma", dtype) == (scalar,)
    assert alone.signature("sigma_prime", dtype) == (scalar,)
    assert alone.signature("cost", dtype) == (scalar, scalar)
    assert alone.signature("nabla_a", dtype) == (scalar, scalar)
    assert alone.signature("output_error", dtype) == (scalar, scalar, scalar)
    assert alone.signature("forward", dtype) == (vector, vector)
    assert alone.signature("vjp", dtype) == (vector, vector, row64, vector)
    expected_update = (vector, vector, matrix, vector, matrix, types.int64, row64, types.int64)
    assert alone.signature("update", dtype) == expected_update


def test_every_role_of_a_block_is_in_the_table():
    roles = {role for _template, _signature, role in blocks.TEMPLATES.values()}
    assert roles == {*alone.SCALAR_ARITY, *alone.VECTOR_ROLES, alone.UPDATE}


def test_an_unknown_role_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown plugin-function role 'sigmoid'; expected one of \['sigma', "):
        alone.signature("sigmoid", "float64")


def _cost(a, y):
    return 0.5 * (a - y) ** 2


@pytest.mark.jit
def test_compile_alone_compiles_exactly_the_one_signature():
    dispatcher = alone.compile_alone(_cost, "cost", "float32")
    assert [tuple(sig.args) for sig in dispatcher.nopython_signatures] == [(types.float32, types.float32)]
    assert dispatcher(np.float32(3.0), np.float32(1.0)) == 2.0


def _not_numba(z):
    return math.fsum([z])  # a plain Python function numba does not support


@pytest.mark.jit_pass
@pytest.mark.jit
def test_compile_alone_raises_numbas_error():
    with pytest.raises(TypingError, match="Unknown attribute 'fsum' of type Module"):
        alone.compile_alone(_not_numba, "sigma", "float64")


@pytest.mark.jit_pass
@pytest.mark.jit
def test_a_name_that_is_not_an_identifier_is_replaced_before_numba_sees_it():
    fn = lambda z: z * 2.0  # noqa: E731 - its __qualname__ '<lambda>' is not an identifier
    safe = alone.safely_named(fn)
    assert (safe.__qualname__, safe.__module__, safe.__code__) == ("plugin_function", "bpframe_plugin", fn.__code__)
    assert alone.safely_named(_cost) is _cost
    assert alone.compile_alone(fn, "sigma", "float64")(1.5) == 3.0


def test_the_build_the_kit_and_diagnosis_share_the_table():
    """No second arity table or compile-alone routine remains beside this one."""
    assert build.safely_named is alone.safely_named and build.compile_alone is alone.compile_alone
    assert _compile.compile_alone is alone.compile_alone
    for module in (build, _compile):
        assert not [name for name in vars(module) if "ARITY" in name or name in ("_alone_signature", "_signature")]
