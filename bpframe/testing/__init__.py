r"""The conformance kit: does an activation, loss, optimizer or initializer give bpframe what it needs?

Every check runs on the plugin's own functions, the way the compiled engine uses them; every failure names the
check, the input, the size of the error, and the Python function to blame with its file and line.

Activations and losses (scalar functions, compiled for float32 and float64):

=================  =============================================================================================
check              what it asks
=================  =============================================================================================
``compiles``       each function compiles with numba on its own, for float32 and for float64 inputs (with the
                   engine's options), and a scalar function returns a number on every path
``finite``         the compiled results are finite over a grid of moderate inputs (to ±1000), signed zeros,
                   subnormals and the dtype's extremes (±1e300 in float64, ±1e30 in float32), wherever the exact
                   value fits in the dtype (a quadratic cost of 1e300 may overflow; σ(−1e300) of an identity-like
                   activation may not)
``derivative``     σ′ and ∇ₐC agree with central differences of σ and C (float64, plain Python) in relative terms,
                   on the same grid; at a kink the value must lie between the one-sided slopes (a subgradient)
``vjp``            a non-elementwise activation's ``vjp`` equals :math:`J^\mathsf{T} v`, J by central differences
``float32``        float32 results agree with float64 results on the same (float32) inputs
``output_error``   a declared combined output error equals the general :math:`\sigma'(z)\,\nabla_a C` (or
                   ``vjp(z, a, ∇ₐC)``) where both are accurate, and is finite at z = ±1000
``bounds``         declared ``bounds``: every value of σ (of the cost) lies within them, in both dtypes
``monotone``       declared ``monotone``: σ never decreases (increases) along the grid, σ′ never has the wrong sign
=================  =============================================================================================

Optimizers (the compiled update, called as the engine calls it, on a quadratic bowl): ``compiles``,
``writes`` (every output entry written, inputs untouched), ``finite flag`` (it returns whether every new
parameter is finite), ``learning rate`` (η = 0 changes nothing; the first step is proportional to η),
``descent`` (50 small steps lower the cost), ``reference`` (five steps, each equal to the reference update from
the same inputs, in both dtypes), ``state`` (stopping after 3 steps and keeping only what a model file saves
changes nothing) and ``save/load`` (a real model file, for an optimizer registered under its name).

Initializers: ``draws`` (real, finite arrays of the right shapes) and ``seed`` (the same seed gives the same
values, different seeds different values, and nothing is drawn from a global random state).

:func:`check_activation`, :func:`check_loss`, :func:`check_optimizer` and :func:`check_initializer` raise
:class:`ConformanceError` listing every failed check; :func:`check_plugin` runs them over everything one plugin,
distribution or module registers; :func:`check_registry` prints a report per plugin (``bpframe plugins
--check``); :func:`conformance_tests` turns the kit into pytest tests in one line. numba is imported on the
first check.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO, cast

from ..activation import Activation
from ..init import Initializer
from ..loss import Loss
from ..optimizer_spec import OptimizerSpec
from . import _plugins
from ._checks import activation_problems, loss_problems
from ._common import ConformanceError, PluginReport, SpecResult, raise_if, subject
from ._initializer import initializer_problems
from ._optimizer import optimizer_problems

if TYPE_CHECKING:
    from ..registry import Provenance, Registry

# shown (in tracebacks, reprs and the docs) where users import them from
for _public in (ConformanceError, PluginReport, SpecResult):
    _public.__module__ = __name__

__all__ = [
    "ConformanceError",
    "PluginReport",
    "SpecResult",
    "check",
    "check_activation",
    "check_initializer",
    "check_loss",
    "check_optimizer",
    "check_plugin",
    "check_registry",
    "conformance_tests",
]


def check_activation(act: Activation, *, provenance: Provenance | None = None) -> None:
    """Run every conformance check on an activation; raise if any fails.

    Parameters
    ----------
    act : Activation
    provenance : Provenance, optional
        Where it comes from, for the message; looked up in the loaded plugins when omitted.

    Raises
    ------
    ConformanceError
        Listing each failed check (``compiles``, ``finite``, ``derivative``, ``vjp``, ``float32``, ``bounds``,
        ``monotone``), the input where it failed, by how much, and the function with its file and line.

    Examples
    --------
    >>> from bpframe import Activation
    >>> def square(z):
    ...     return z * z
    >>> def square_prime(z):
    ...     return 2.0 * z
    >>> check_activation(Activation("square", square, square_prime))
    >>> import math
    >>> def tanh(z):
    ...     return math.tanh(z)
    >>> def wrong_prime(z):
    ...     return 1.0 - math.tanh(z)
    >>> check_activation(Activation("my_tanh", tanh, wrong_prime))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bpframe.testing.ConformanceError: activation 'my_tanh' fails 1 conformance check:
      - derivative: sigma_prime disagrees with the central difference of sigma at ... inputs; worst at z=-1e+300: ...
        sigma_prime is ...wrong_prime (<doctest ...>:1)
        sigma is ...tanh (<doctest ...>:1)
    """
    raise_if(subject("activation", act, provenance), activation_problems(act))


def check_loss(
    loss: Loss, *, provenance: Provenance | None = None, activations: Mapping[str, Activation] | None = None
) -> None:
    """Run every conformance check on a loss; raise if any fails.

    Parameters
    ----------
    loss : Loss
    provenance : Provenance, optional
        Where it comes from, for the message; looked up in the loaded plugins when omitted.
    activations : mapping of name to Activation, optional
        Where the activations named in ``loss.output_errors`` are found; default: the loaded plugins. A combined
        output error for an activation that is not available is compiled and checked for finiteness only.

    Raises
    ------
    ConformanceError
        Listing each failed check (``compiles``, ``finite``, ``derivative``, ``float32``, ``output_error``,
        ``bounds``) with the function to blame, its file and line.

    Examples
    --------
    >>> from bpframe import Loss
    >>> def half_square(a, y):
    ...     return 0.5 * (a - y) * (a - y)
    >>> def difference(a, y):
    ...     return a - y
    >>> check_loss(Loss("half_square", half_square, difference, bounds=(0.0, float("inf"))))
    """
    if activations is None:
        registry = _plugins.registry_or_loaded(None)
        activations = {name: registry.activation(name) for name in registry.activations.names()}
    raise_if(subject("loss", loss, provenance), loss_problems(loss, activations))


def check_optimizer(spec: OptimizerSpec, *, provenance: Provenance | None = None) -> None:
    """Run every conformance check on an optimizer; raise if any fails.

    Parameters
    ----------
    spec : OptimizerSpec
    provenance : Provenance, optional
        Where it comes from, for the message; looked up in the loaded plugins when omitted.

    Raises
    ------
    ConformanceError
        Listing each failed check (``compiles``, ``writes``, ``finite flag``, ``learning rate``, ``descent``,
        ``reference``, ``state``, ``save/load``) with the step, the parameter, the values and the function to
        blame with its file and line.

    Examples
    --------
    >>> from bpframe.plugins import get_registry
    >>> check_optimizer(get_registry().optimizer("adam"))
    """
    raise_if(subject("optimizer", spec, provenance), optimizer_problems(spec))


def check_initializer(init: Initializer, *, provenance: Provenance | None = None) -> None:
    """Run every conformance check on a weight initialisation; raise if any fails.

    Raises
    ------
    ConformanceError
        Listing each failed check (``draws``, ``seed``) with the function to blame, its file and line.

    Examples
    --------
    >>> import numpy as np
    >>> from bpframe import Initializer
    >>> def lecun(n_in, n_out, rng):
    ...     return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), np.zeros(n_out)
    >>> check_initializer(Initializer("lecun", lecun))
    >>> def unseeded(n_in, n_out, rng):
    ...     return np.random.default_rng().standard_normal((n_out, n_in)), np.zeros(n_out)
    >>> check_initializer(Initializer("unseeded", unseeded))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bpframe.testing.ConformanceError: initializer 'unseeded' fails 1 conformance check:
      - seed: two generators seeded with 1234 give different values; every random number must come from ...
        draw is ...unseeded (<doctest ...>:1)
    """
    raise_if(subject("initializer", init, provenance), initializer_problems(init))


def check_plugin(plugin: str | object, *, registry: Registry | None = None) -> list[PluginReport]:
    """Run the kit on everything one plugin registers: an installed plugin or distribution, by name, or a plugin
    module (or object with hook implementations) that is not installed yet.

    Parameters
    ----------
    plugin : str or module
        A distribution name (``"bpframe-activations-extra"``, compared after normalising case and ``-_.``), a
        plugin's entry-point name, or the plugin's module itself (loaded beside the built-ins for the check, as
        its entry point would load it once the package is installed).
    registry : Registry, optional
        For bpframe's own tests: where to look names up instead of the loaded plugins.

    Returns
    -------
    list of PluginReport
        One per matching plugin, every object passed.

    Raises
    ------
    ConformanceError
        When nothing by that name is loaded, a matching plugin failed to load, or any object fails; the
        message is the report of each failing plugin.

    Examples
    --------
    >>> [report.passed for report in check_plugin("bpframe.default_plugins.losses")]
    [True]
    >>> import numpy as np
    >>> from bpframe import Initializer, hookimpl
    >>> def lecun(n_in, n_out, rng):
    ...     return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), np.zeros(n_out)
    >>> class MyPlugin:  # or the module of a plugin that is not installed yet
    ...     @hookimpl
    ...     def bpframe_register_initializers(self, register):
    ...         register(Initializer("lecun", lecun))
    >>> [result.name for result in check_plugin(MyPlugin())[0].results]
    ['lecun']
    """
    if isinstance(plugin, str):
        found = _plugins.registry_or_loaded(registry)
        name = plugin
    else:
        found, name = _plugins.module_registry(plugin)
    return _plugins.raise_reports(_plugins.plugin_reports(found, name), found, name)


def check(target: Any) -> None:
    """Run the kit on whatever ``target`` is: an Activation, a Loss, an OptimizerSpec, an Initializer, a plugin
    module, or a plugin or distribution name (what the ``bpframe_check`` pytest fixture calls).

    Raises
    ------
    ConformanceError
        When a check fails.
    TypeError
        For anything else.
    """
    checks: dict[str, Callable[..., None]] = {
        "activation": check_activation, "loss": check_loss,
        "optimizer": check_optimizer, "initializer": check_initializer,
    }  # fmt: skip
    _plugins.check_any(target, lambda kind, spec: checks[kind](spec), check_plugin)


def check_registry(registry: Registry | None = None, out: TextIO | None = None) -> int:
    """Run the kit over every loaded plugin and print one block per plugin; return the exit status.

    Parameters
    ----------
    registry : Registry, optional
        Default: the loaded plugins.
    out : text stream, optional
        Default: ``sys.stdout``.

    Returns
    -------
    int
        0 when everything passed, 1 when an object failed, a plugin failed to load or a name is claimed twice.
    """
    return _plugins.registry_report(_plugins.registry_or_loaded(registry), out or sys.stdout)


def conformance_tests(name: str) -> Callable[..., None]:
    """A pytest test function running the kit on everything ``name`` registers, one test per object.

    Write one line in a test module of your plugin package:

    .. code-block:: python

        test_conformance = bpframe.testing.conformance_tests("bpframe-my-plugin")

    Parameters
    ----------
    name : str
        Your distribution name (or entry-point name), as for :func:`check_plugin`. The package must be installed
        (``pip install -e .``) so that bpframe discovers it. Strictness always applies to it: its failure to
        load, or a name it shares with another plugin, fails its tests (another plugin's failure does not).

    Returns
    -------
    callable
        A test parametrized over ``activation:<name>``, ``loss:<name>``, ``optimizer:<name>`` and
        ``initializer:<name>`` ids; a plugin that fails to load, or a name that matches nothing, gives one
        failing test that says why.

    Examples
    --------
    >>> test_conformance = conformance_tests("bpframe.default_plugins.losses")
    >>> [case.id for case in test_conformance.pytestmark[0].args[1]]
    ['loss:binary_cross_entropy', 'loss:cross_entropy', 'loss:quadratic']
    """
    import pytest

    registry, cases = _plugins.test_cases(name)
    params = [pytest.param(case, id=f"{case[1].kind}:{case[1].name}" if case else name) for case in cases]

    @pytest.mark.parametrize("bpframe_case", params)
    def test_bpframe_conformance(bpframe_case: tuple[Provenance, SpecResult] | None) -> None:
        if bpframe_case is None:
            pytest.fail(_plugins.nothing_named(registry, name), pytrace=False)
        provenance, pending = bpframe_case
        result = _plugins.run_case(registry, pending)
        if not result.passed:
            pytest.fail(_plugins.failure_text(provenance, result), pytrace=False)

    test_bpframe_conformance.__doc__ = f"The bpframe conformance kit on everything {name} registers."
    return cast(Callable[..., None], test_bpframe_conformance)
