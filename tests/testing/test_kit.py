"""The conformance kit: the built-ins pass it, and each kind of broken plugin is caught with a message that says
which check failed, at which input and by how much."""

from __future__ import annotations

import importlib.util
import io
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import fake_plugins
import numpy as np
import pytest
from fake_plugins import CubeClashPlugin, CubePlugin, FakeEntryPoint, UncompilablePlugin, failing_import

import bpframe as bp
from bpframe import Activation, Loss, hookimpl
from bpframe.default_plugins import activations as A
from bpframe.default_plugins import losses as L
from bpframe.plugins import load_registry
from bpframe.registry import Provenance
from bpframe.testing import ConformanceError, check_activation, check_loss, check_plugin, check_registry

# the kit compiles every plugin function with numba: it cannot run under NUMBA_DISABLE_JIT
pytestmark = pytest.mark.jit

PROVENANCE = Provenance("broken", "bpframe-broken", "0.3.0")


def at(fn):
    """How a report names a function: ``module.qualname (file:line)``."""
    code = fn.__code__
    return f"{fn.__module__}.{fn.__qualname__} ({code.co_filename}:{code.co_firstlineno})"


def load(*eps):
    return load_registry(entry_points=list(eps), strict=False, disabled=(), autoload=True)


def failure(check, spec, **kwargs):
    """The ConformanceError message of ``check(spec)``."""
    with pytest.raises(ConformanceError) as info:
        check(spec, **kwargs)
    return str(info.value)


# -- samples: each function is correct except where its name says otherwise -------------------------------------


def tanh_prime_wrong(z):
    return 1.0 - math.tanh(z)  # should be 1 − tanh²


def _helper(z):
    return z


def calls_a_python_function(z):
    return _helper(z)


def calls_a_python_function_3(z, a, y):
    return _helper(a - y)


def naive_logistic(z):
    return math.exp(z) / (1.0 + math.exp(z))  # inf / inf at large z; OverflowError in plain Python


def z_to_the_13th(z):
    return z * z * z * z * z * z * z * z * z * z * z * z * z  # 1e39 at z = 1000: fine in float64, inf in float32


def z_to_the_13th_prime(z):
    return 13.0 * z * z * z * z * z * z * z * z * z * z * z * z


def sometimes_none(z):
    if z > 0.0:
        return z
    return None


def relu_prime_half_at_zero(z):
    return 1.0 if z > 0.0 else (0.5 if z == 0.0 else 0.0)


def relu_prime_two_at_zero(z):
    return 1.0 if z > 0.0 else (2.0 if z == 0.0 else 0.0)


def softmax_vjp_without_dot(z, a, v, out):
    for j in range(a.shape[0]):
        out[j] = a[j] * v[j]  # misses the − a_j Σ_k a_k v_k term


def neg_log(a, y):
    return -y * math.log(a)  # defined for a > 0 only


def neg_log_nabla(a, y):
    return -y / a


# -- the built-ins -----------------------------------------------------------------------------------------------


def test_every_builtin_passes_and_the_report_says_so():
    out = io.StringIO()
    assert check_registry(load_registry(autoload=False), out=out) == 0
    text = out.getvalue()
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "softplus", "softmax"):
        assert f"  PASS  activation {name} " in text
    for name in ("quadratic", "binary_cross_entropy", "cross_entropy"):
        assert f"  PASS  loss {name} " in text
    assert f"bpframe {bp.__version__} (plugin 'bpframe.default_plugins.losses')" in text
    for name in ("sgd", "momentum", "nesterov", "adam"):
        assert f"  PASS  optimizer {name} " in text
    for name in ("normal", "scaled_normal", "glorot", "he"):
        assert f"  PASS  initializer {name} " in text
    assert text.rstrip().endswith("all passed") and "18 objects from 4 plugins" in text


def test_check_activation_and_check_loss_return_none_on_conforming_objects():
    assert check_activation(Activation("softplus_copy", A.softplus, A.softplus_prime)) is None
    assert check_loss(load_registry(autoload=False).loss("cross_entropy")) is None


# -- broken samples ----------------------------------------------------------------------------------------------


def test_wrong_derivative_names_the_check_the_input_and_the_error():
    message = failure(check_activation, Activation("bad_tanh", A.tanh, tanh_prime_wrong), provenance=PROVENANCE)
    # 1 − tanh z equals the true 1 − tanh² z where tanh z is 0 or (to 1e-6) 1: z = ±0, the subnormals, z >= 10.
    # For z <= −10 it gives 2 where the slope is 0: the worst error, 2, first at the most negative input.
    assert message == (
        "activation 'bad_tanh' from bpframe-broken 0.3.0 (plugin 'broken') fails 1 conformance check:\n"
        "  - derivative: sigma_prime disagrees with the central difference of sigma at 24 of 43 inputs; "
        "worst at z=-1e+300: sigma_prime=2.0, difference quotient=0, error 2 (relative 2, tolerance 1e-06)\n"
        f"    sigma_prime is {at(tanh_prime_wrong)}\n"
        f"    sigma is {at(A.tanh)}"
    )
    assert issubclass(ConformanceError, bp.BpframeError) and issubclass(ConformanceError, AssertionError)


def test_non_compilable_function_is_attributed_to_the_plugin_not_the_engine():
    act = Activation("calls", calls_a_python_function, A.identity_prime)
    message = failure(check_activation, act, provenance=PROVENANCE)
    assert message.startswith(
        "activation 'calls' from bpframe-broken 0.3.0 (plugin 'broken') fails 1 conformance check"
    )
    assert "  - compiles: sigma cannot be compiled by numba for float64 inputs." in message
    assert message.endswith(f"\n    sigma is {at(calls_a_python_function)}")
    # numba's own words, pointing at the plugin's line
    assert "Untyped global name '_helper'" in message and "    return _helper(z)" in message
    assert 'test_kit.py", line ' in message and "bpframe/kernels" not in message.replace(os.sep, "/")


def test_nan_at_extreme_input_is_caught_in_the_engine_and_in_plain_python():
    message = failure(check_activation, Activation("naive", naive_logistic, A.sigmoid_prime))
    # inf / inf where the value is 1: from z ≈ 709.8 in float64 (1000, 1e10 ... 1e300: 6 inputs), and in float32
    # at 100 (its exp overflows above 88.7), 1000, 1e10, 1e20 and 1e30
    assert message.splitlines()[1:5] == [
        "  - finite: sigma gives nan at z=1e+300 in float64, but its value there, about 1 in size, fits in float64 "
        "(it is non-finite from |z| = 710 on, where its size 1 grows like |z|^0); 6 of 43 inputs give non-finite "
        "values where the value fits",
        f"    sigma is {at(naive_logistic)}",
        "  - finite: sigma gives nan at z=1e+30 in float32, but its value there, about 1 in size, fits in float32 "
        "(it is non-finite from |z| = 710 on, where its size 1 grows like |z|^0); 5 of 35 inputs give non-finite "
        "values where the value fits",
        f"    sigma is {at(naive_logistic)}",
    ]
    assert message.splitlines()[5] == (
        "  - derivative: sigma_prime disagrees with the central difference of sigma at 6 of 43 inputs; worst at "
        "z=1000.0: raised OverflowError: math range error"
    )


def naive_bent(z):
    return (math.sqrt(z * z + 1.0) - 1.0) / 2.0 + z  # z * z overflows long before the value does


def naive_bent_prime(z):
    return z / (2.0 * math.sqrt(z * z + 1.0)) + 1.0


def test_an_overflow_is_allowed_only_where_the_exact_value_does_not_fit():
    # z¹³ is 1e39 at z = 1000: beyond float32 (3.4e38), and beyond float64 from z ≈ 4e23: its overflows are right
    check_activation(Activation("power13", z_to_the_13th, z_to_the_13th_prime))
    # naive bent identity: z * z overflows from |z| = 1.34e154 (float64) and 1.84e19 (float32) although the value,
    # about z (z > 0) or z/2 (z < 0), fits: the worst input is the most negative one
    message = failure(check_activation, Activation("naive_bent", naive_bent, naive_bent_prime))
    assert message.splitlines()[1:7] == [
        "  - finite: sigma gives inf at z=-1e+300 in float64, but its value there, about 5e+299 in size, fits in "
        "float64 (it is non-finite from |z| = 1.34e+154 on, where its size 6.7e+153 grows like |z|^1); 4 of 43 "
        "inputs give non-finite values where the value fits",
        f"    sigma is {at(naive_bent)}",
        "  - finite: sigma gives inf at z=-1e+30 in float32, but its value there, about 5e+29 in size, fits in "
        "float32 (-5e+29 in float64); 4 of 35 inputs give non-finite values where the value fits",
        f"    sigma is {at(naive_bent)}",
        "  - float32: sigma_prime gives 1.0 in float32 but 0.5 in float64 at z=-1e+30, a difference of 0.5 "
        "(tolerance 0.00101)",
        f"    sigma_prime is {at(naive_bent_prime)}",
    ]


def test_a_path_without_a_return_value_is_a_compile_failure():
    message = failure(check_activation, Activation("partial", sometimes_none, A.relu_prime))
    assert message.splitlines()[1:3] == [
        "  - compiles: sigma returns OptionalType(float64) for float64 inputs; it must return a number on every path",
        f"    sigma is {at(sometimes_none)}",
    ]


def test_a_subgradient_is_accepted_at_a_kink_and_a_value_outside_is_not():
    check_activation(Activation("relu_half", A.relu, relu_prime_half_at_zero))
    message = failure(check_activation, Activation("relu_two", A.relu, relu_prime_two_at_zero))
    # at both signed zeros
    assert message.splitlines()[1] == (
        "  - derivative: sigma_prime disagrees with the central difference of sigma at 2 of 43 inputs; worst at "
        "z=-0.0: sigma_prime=2.0, one-sided slopes 0 .. 1 (a kink: any value between is a subgradient), "
        "error 1 (relative 1, tolerance 1e-06)"
    )


def test_wrong_vector_jacobian_product():
    act = Activation("bad_softmax", elementwise=False, forward=A.softmax_forward, vjp=softmax_vjp_without_dot)
    message = failure(check_activation, act)
    assert message.count("\n  - ") == 1
    line = message.splitlines()[1]
    assert line.startswith("  - vjp: vjp(z, a, v) differs from J(z)ᵀv (J by central differences of forward) at z=")
    # the error reported is the missing term's size, max_j |a_j Σ_k a_k v_k| at the worst input
    z = np.array([float(s) for s in line.split("at z=[")[1].split("]")[0].split(",")])
    a = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    v = np.array([1.0, -2.0, 0.5, 3.0])
    assert f"error {np.abs(a * (a @ v)).max():.3g}" in line


def test_wrong_combined_output_error_against_the_general_formula():
    # for the quadratic cost and a sigmoid output, δᴸ = (a − y) σ′(z), not a − y: the claim is off by
    # (a − y)(1 − σ′(z)), largest on the grid at z = 8, y = −2.5
    loss = Loss("quadratic_claims_a_minus_y", L.quadratic, L.quadratic_nabla_a, output_errors={"sigmoid": L.a_minus_y})
    message = failure(check_loss, loss, activations={"sigmoid": load_registry(autoload=False).activation("sigmoid")})
    a = A.sigmoid(8.0)
    combined, general = a + 2.5, (a + 2.5) * A.sigmoid_prime(8.0)
    assert message.splitlines()[1:] == [
        f"  - output_error: output_errors['sigmoid'] gives {combined!r} at z=8.0, a={a!r}, y=-2.5, but the general "
        f"sigma_prime(z) * nabla_a(a, y) = {general!r}, error {combined - general:.3g} (tolerance 1e-06)",
        f"    output_errors['sigmoid'] is {at(L.a_minus_y)}",
        f"    sigma_prime is {at(A.sigmoid_prime)}",
        f"    nabla_a is {at(L.quadratic_nabla_a)}",
    ]


def test_combined_output_error_for_an_unknown_activation_is_only_compiled():
    loss = Loss("q2", L.quadratic, L.quadratic_nabla_a, output_errors={"nowhere": L.a_minus_y})
    check_loss(loss, activations={})
    broken = Loss("q3", L.quadratic, L.quadratic_nabla_a, output_errors={"nowhere": calls_a_python_function_3})
    message = failure(check_loss, broken, activations={})
    assert "  - compiles: output_errors['nowhere'] cannot be compiled by numba" in message
    assert message.endswith(f"    output_errors['nowhere'] is {at(calls_a_python_function_3)}")


def test_the_declared_domain_is_respected():
    check_loss(Loss("neg_log", neg_log, neg_log_nabla, domain=(0.0, 1.0)), activations={})
    message = failure(check_loss, Loss("neg_log_everywhere", neg_log, neg_log_nabla), activations={})
    assert "raised ValueError: math domain error" in message


def test_every_failure_is_listed_at_once():
    message = failure(check_activation, Activation("everything_wrong", naive_logistic, calls_a_python_function))
    checks = [line.split(":")[0].strip(" -") for line in message.splitlines()[1:] if line.startswith("  - ")]
    assert checks == ["compiles", "finite", "finite", "derivative"]
    assert message.count(f"is {at(calls_a_python_function)}") == 2 and message.count(f"is {at(naive_logistic)}") == 3
    assert message.splitlines()[0] == "activation 'everything_wrong' fails 4 conformance checks:"


# -- plugins and the registry ------------------------------------------------------------------------------------


def test_import_error_is_reported_under_the_plugin_name():
    with pytest.warns(bp.PluginWarning):
        registry = load(FakeEntryPoint("gone", failing_import, "bpframe-gone", "2.0"))
    message = failure(check_plugin, "bpframe-gone", registry=registry)
    assert message.startswith("bpframe-gone 2.0 (plugin 'gone')\n  FAIL  load")
    assert (
        "load: import of 'fake_plugins:plugin' failed: ImportError: No module named 'bpframe_missing_dependency'"
        in message
    )


def test_check_plugin_finds_a_plugin_by_distribution_or_entry_point_name():
    registry = load(FakeEntryPoint("cube", CubePlugin, "bpframe_Cube.Things", "0.4.0"))
    by_dist = check_plugin("bpframe-cube-things", registry=registry)
    by_plugin = check_plugin("cube", registry=registry)
    assert [(r.kind, r.name, r.passed) for report in by_dist for r in report.results] == [("activation", "cube", True)]
    assert by_plugin[0].provenance == by_dist[0].provenance


PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
PLUGIN_NAMES = {
    "bpframe-activations-extra": [
        "elu",
        "gelu",
        "gelu_tanh",
        "hard_sigmoid",
        "mish",
        "selu",
        "silu",
        "softsign",
        "swish",
    ],
    "bpframe-losses-extra": ["hinge", "huber", "log_cosh", "mae", "squared_hinge"],
    "bpframe-training-log": [],
    "bpframe-plugin-template": ["arctan"],
    "bpframe-optimizers-extra": ["adamw", "rmsprop"],
    "bpframe-initializers-extra": ["glorot_normal", "he_uniform", "identity", "lecun_normal", "orthogonal"],
}


def plugin_module(dist):
    """A plugins/ package's module, loaded from its file (test_plugin_packages.py installs them for real)."""
    name = dist.replace("-", "_")
    spec = importlib.util.spec_from_file_location(f"_kit_{name}", PLUGINS / dist / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dist", sorted(PLUGIN_NAMES))
def test_every_plugin_package_passes_the_kit(dist):
    if not PLUGINS.is_dir():
        pytest.skip("the plugins/ folder is not next to these tests")
    registry = load(FakeEntryPoint(dist.removeprefix("bpframe-"), lambda: plugin_module(dist), dist, "0.1.0"))
    reports = check_plugin(dist, registry=registry)
    assert [r.name for report in reports for r in report.results] == PLUGIN_NAMES[dist]


def test_check_plugin_on_a_missing_name_lists_what_is_loaded():
    message = failure(check_plugin, "bpframe-nope", registry=load_registry(autoload=False))
    assert message.startswith("no bpframe plugin or distribution named 'bpframe-nope' is loaded; loaded: bpframe, ")


def test_check_registry_reports_per_plugin_and_fails_on_any_problem():
    class EpochPrinter:
        @hookimpl
        def bpframe_epoch_end(self, net, epoch, epochs, logs):
            return None

    with pytest.warns(bp.PluginWarning):
        registry = load(
            FakeEntryPoint("unc", UncompilablePlugin, "bpframe-unc", "1.0"),
            FakeEntryPoint("gone", failing_import, "bpframe-gone", "2.0"),
            FakeEntryPoint("a", CubePlugin, "bpframe-a", "1.0"),
            FakeEntryPoint("b", CubeClashPlugin, "bpframe-b", "2.0"),
            FakeEntryPoint("printer", EpochPrinter, "bpframe-printer", "0.1"),
        )
    out = io.StringIO()
    assert check_registry(registry, out=out) == 1
    blocks = _blocks(out.getvalue())
    assert blocks["bpframe-unc 1.0 (plugin 'unc')"][0].startswith("  FAIL  activation uncompilable ")
    assert blocks["bpframe-unc 1.0 (plugin 'unc')"][1].startswith("        compiles: sigma cannot be compiled")
    assert f"sigma is {at(fake_plugins.uncompilable)}" in blocks["bpframe-unc 1.0 (plugin 'unc')"][-1]
    assert blocks["bpframe-gone 2.0 (plugin 'gone')"][0].startswith("  FAIL  load")
    clash = "conflict: the name is registered by bpframe-a 1.0 (plugin 'a') and bpframe-b 2.0 (plugin 'b')"
    assert clash in blocks["bpframe-a 1.0 (plugin 'a')"][1] and clash in blocks["bpframe-b 2.0 (plugin 'b')"][1]
    assert blocks["bpframe-printer 0.1 (plugin 'printer')"] == [
        "  PASS  (registers no activations, losses, optimizers or initializers)", "  hooks: bpframe_epoch_end",
    ]  # fmt: skip
    assert all(
        line.startswith("  PASS")
        for line in blocks[f"bpframe {bp.__version__} (plugin 'bpframe.default_plugins.losses')"]
    )
    summary = out.getvalue().rstrip().splitlines()[-1]
    assert re.fullmatch(r"21 objects from 9 plugins checked in \d+\.\d s: 4 failed, in 4 plugins", summary), summary


def _blocks(text):
    """The report as {plugin header: its indented lines}."""
    blocks, current = {}, None
    for line in text.splitlines()[1:-1]:
        if not line.startswith(" "):
            current = blocks.setdefault(line, [])
        else:
            current.append(line)
    return blocks


def test_cli_runs_the_kit(capsys, monkeypatch):
    from bpframe import cli, plugins

    monkeypatch.setattr(plugins, "_registry", load_registry(autoload=False))
    assert cli.main(["plugins", "--check"]) == 0
    out = capsys.readouterr().out
    assert "conformance checks:" in out and "  PASS  activation softmax " in out


# -- the pytest plugin -------------------------------------------------------------------------------------------

AUTHOR_TESTS = """
import sys

STARTUP_IMPORTED_NUMBA = "numba" in sys.modules

from bpframe import Activation
from bpframe.testing import conformance_tests

test_conformance = conformance_tests("bpframe.default_plugins.losses")
test_not_installed = conformance_tests("bpframe-not-installed")


def cube(z):
    return z * z * z


def cube_prime(z):
    return 3.0 * z * z


def test_collection_did_not_import_numba():
    assert not STARTUP_IMPORTED_NUMBA


def test_fixture_passes(bpframe_check):
    bpframe_check(Activation("cube", cube, cube_prime))


def test_fixture_fails(bpframe_check):
    bpframe_check(Activation("cube", cube, cube))
"""


def test_pytest_plugin_one_liner_and_fixture(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_author.py").write_text(textwrap.dedent(AUTHOR_TESTS))
    root = str(Path(bp.__file__).resolve().parents[1])
    # autoload off, the plugin named explicitly: the same whether or not bpframe is installed with its entry point
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    command = ["-m", "pytest", "-p", "bpframe.pytest_plugin", "-p", "no:cacheprovider", "-rA", "test_author.py"]
    result = subprocess.run([sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert f"bpframe {bp.__version__}; plugins installed:" in out
    for name in ("binary_cross_entropy", "cross_entropy", "quadratic"):
        assert f"PASSED test_author.py::test_conformance[loss:{name}]" in out
    assert "PASSED test_author.py::test_collection_did_not_import_numba" in out
    assert "PASSED test_author.py::test_fixture_passes" in out
    assert "no bpframe plugin or distribution named 'bpframe-not-installed' is loaded" in out
    assert "activation 'cube' fails 1 conformance check:" in out and "derivative: sigma_prime disagrees" in out
    assert "2 failed, 5 passed" in out


def test_pyproject_declares_the_pytest11_entry_point():
    pyproject = Path(bp.__file__).resolve().parents[1] / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("bpframe runs from an installed wheel here, without its pyproject.toml")
    section = pyproject.read_text(encoding="utf-8").partition("[project.entry-points.pytest11]")[2].partition("\n[")[0]
    # named after the module, so that an explicit `-p bpframe.pytest_plugin` and the autoload do not clash
    declared = re.search(r'^"bpframe\.pytest_plugin" = "bpframe\.pytest_plugin"$', section, flags=re.M)
    assert declared, (
        f'{pyproject}: [project.entry-points.pytest11] needs "bpframe.pytest_plugin" = "bpframe.pytest_plugin"'
    )


def test_check_takes_any_kind_of_object_a_plugin_object_or_a_name():
    from bpframe.testing import check

    check(Activation("cube", fake_plugins.cube, fake_plugins.cube_prime))
    check(load_registry(autoload=False).optimizer("sgd"))
    check(CubePlugin())  # an object with hook implementations, not installed
    check("bpframe.default_plugins.initializers")
    with pytest.raises(ConformanceError, match="activation 'cube' fails 1 conformance check"):
        check(Activation("cube", fake_plugins.cube, fake_plugins.cube))
    with pytest.raises(TypeError, match=r"bpframe.testing.check expects an Activation, a Loss, an OptimizerSpec, "):
        check(fake_plugins.cube)  # a function is not a plugin


# -- the kit's compiled functions go through the kernel cache ---------------------------------------------------
DOUBLED = {
    "helper_k.py": "import numba\nSLOPE = {slope}\n\n@numba.njit\ndef slope():\n    return SLOPE\n",
    "doubled.py": "from helper_k import slope\n\n\ndef sigma(z):\n    return 2.0 * z\n\n\n"
    "def sigma_prime(z):\n    return slope() + 0.0 * z\n",
}
CHECK_DOUBLED = """
import bpframe as bp
from bpframe.testing import ConformanceError, check_activation
from doubled import sigma, sigma_prime
try:
    check_activation(bp.Activation("doubled", sigma, sigma_prime))
    RESULT = "passed"
except ConformanceError as exc:
    RESULT = "derivative" if "derivative: sigma_prime disagrees" in str(exc) else str(exc)
"""


@pytest.mark.slow
@pytest.mark.one_python
def test_the_kit_loads_what_it_compiled_and_checks_an_edited_helper_anew(tmp_path):
    """The kit compiles each function alone in both dtypes (about 0.15 s each); a later process loads them from the
    kernel cache, keyed like the blocks: a changed helper module of ``sigma_prime`` is compiled, and judged, anew."""
    from kernel_processes import run

    plugin, cache_dir = tmp_path / "plugin", tmp_path / "cache"
    plugin.mkdir()
    (plugin / "doubled.py").write_text(DOUBLED["doubled.py"])
    (plugin / "helper_k.py").write_text(DOUBLED["helper_k.py"].format(slope=2.0))
    env = {"PYTHONPATH": os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")])}
    alone = {f"alone-{role}-doubled_{role}" for role in ("sigma", "sigma_prime")}

    first = run(CHECK_DOUBLED, cache_dir, env=env)
    assert first["result"] == "passed" and sorted(first["compiled"]) == sorted([*alone, *alone])  # two dtypes
    again = run(CHECK_DOUBLED, cache_dir, env=env)
    assert again["result"] == "passed" and again["compiled"] == []
    assert sorted(again["loaded"]) == sorted([*alone, *alone])

    (plugin / "helper_k.py").write_text(DOUBLED["helper_k.py"].format(slope=3.0))  # sigma_prime is now wrong
    changed = run(CHECK_DOUBLED, cache_dir, env=env)
    assert changed["result"] == "derivative"  # a stale sigma_prime would have passed
    assert changed["compiled"] == ["alone-sigma_prime-doubled_sigma_prime"] * 2  # both dtypes, anew
    assert changed["loaded"] == ["alone-sigma-doubled_sigma"] * 2  # sigma does not reach the helper
