r"""The checks of an optimizer: its compiled update on a quadratic bowl, against a reference, and its state.

The bowl is :math:`C(\theta) = \tfrac12 \sum_i h_i (\theta_i - c_i)^2` over 10 parameters, the first 7 of them
weights (so the L2 decay ``hyper[1]`` applies to them only), with :math:`\partial C/\partial\theta_i =
h_i(\theta_i - c_i)`. The update is called exactly as the engine calls it: two parameter buffers and two state
buffers whose roles swap after each step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BpframeError, ConfigurationError
from ..network import Network, load_network
from ..optimizer_spec import HYPER_SLOTS, Hyper, OptimizerSpec
from ..plugins import get_registry
from ._common import DTYPES, RTOL32, blame
from ._compile import compile_update

__all__ = ["optimizer_problems"]

N, N_WEIGHTS = 10, 7
ETA, DECAY = 0.05, 0.01
STEPS = 5
#: The update against its reference, one step at a time: relative to the size of that step.
RTOL_STEP = {"float64": 1e-9, "float32": RTOL32}


@dataclass(frozen=True)
class _Bowl:
    """The quadratic bowl: curvatures ``h``, centre ``c``, starting point ``theta0`` (float64)."""

    h: np.ndarray
    c: np.ndarray
    theta0: np.ndarray

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """∂C/∂θ in theta's dtype."""
        grad: np.ndarray = (self.h * (theta.astype(np.float64) - self.c)).astype(theta.dtype)
        return grad

    def cost(self, theta: np.ndarray) -> float:
        return float(0.5 * np.sum(self.h * (theta.astype(np.float64) - self.c) ** 2))


def _bowl() -> _Bowl:
    rng = np.random.default_rng(20250101)
    return _Bowl(np.linspace(0.5, 4.0, N), rng.normal(size=N), rng.normal(size=N))


def _hyper(eta: float, decay: float, values: tuple[float, ...]) -> np.ndarray:
    out = np.zeros(HYPER_SLOTS)
    out[:2] = eta, decay
    out[2 : 2 + len(values)] = values
    return out


def _other(h: Hyper) -> float:
    """An allowed value of a hyper-parameter other than its default."""
    for value in (h.default * 0.5, h.default * 2.0, h.default + 0.5, h.default - 0.5):
        try:
            if value != h.default:
                return h.check("kit", value)
        except ConfigurationError:
            continue
    return h.default


def _settings(spec: OptimizerSpec) -> list[tuple[str, tuple[float, ...]]]:
    defaults = tuple(h.default for h in spec.hyper)
    settings = [("default hyper-parameters", defaults)]
    others = tuple(_other(h) for h in spec.hyper)
    if others != defaults:
        text = ", ".join(f"{h.name}={v:g}" for h, v in zip(spec.hyper, others, strict=True))
        settings.append((text, others))
    return settings


# -- running the update as the engine does -----------------------------------------------------------------------


@dataclass
class _Step:
    """One call: its inputs (copies), its outputs, and what it returned."""

    theta: np.ndarray
    grad: np.ndarray
    state: np.ndarray
    theta_out: np.ndarray
    state_out: np.ndarray
    ok: bool
    touched: bool  # the update wrote into theta, grad or state
    theta_out_before: np.ndarray  # what the output buffers held before the call
    state_out_before: np.ndarray

    def inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """theta, grad and state in float64."""
        return self.theta.astype(np.float64), self.grad.astype(np.float64), self.state.astype(np.float64)


def _call(update: Callable[..., Any], theta: np.ndarray, grad: np.ndarray, state: np.ndarray, theta_out: np.ndarray,
          state_out: np.ndarray, hyper: np.ndarray, step: int) -> _Step:  # fmt: skip
    before = (theta.copy(), grad.copy(), state.copy())
    outputs_before = (theta_out.copy(), state_out.copy())
    with np.errstate(all="ignore"):
        ok = bool(update(theta, grad, state, theta_out, state_out, N_WEIGHTS, hyper, step))
    touched = not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(before, (theta, grad, state), strict=True))
    return _Step(*before, theta_out.copy(), state_out.copy(), ok, touched, *outputs_before)


@dataclass
class _Run:
    """Where a run stands: the current and spare buffers, and the step count."""

    theta: np.ndarray
    state: np.ndarray
    spare: np.ndarray
    state_spare: np.ndarray
    step: int = 0


def _start(theta0: np.ndarray, rows: int, dtype: str, fill: float | None = None) -> _Run:
    """A run from ``theta0`` with zero state; the spare buffers are copies, or filled with ``fill``."""
    theta = np.array(theta0, dtype=dtype)  # always a copy: the run writes into its buffers
    state = np.zeros((rows, theta.size), dtype)
    spare, state_spare = theta.copy(), state.copy()
    if fill is not None:
        spare[...], state_spare[...] = fill, fill
    return _Run(theta, state, spare, state_spare)


def _advance(run: _Run, update: Callable[..., Any], bowl: _Bowl, hyper: np.ndarray, steps: int) -> list[_Step]:
    """``steps`` updates on the bowl; a step is kept only when the update returns True, as the engine does."""
    calls = []
    for _ in range(steps):
        call = _call(update, run.theta, bowl.grad(run.theta), run.state, run.spare, run.state_spare, hyper,
                     run.step + 1)  # fmt: skip
        calls.append(call)
        if not call.ok:
            break
        run.theta, run.spare = run.spare, run.theta
        run.state, run.state_spare = run.state_spare, run.state
        run.step += 1
    return calls


# -- the reference -----------------------------------------------------------------------------------------------

#: One step of the reference from the inputs of a compiled call: ``(call, hyper, step) -> (theta, state)``.
ReferenceStep = Callable[["_Step", np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def _steps(spec: OptimizerSpec, update: Any, bowl: _Bowl, dtype: str, hyper: np.ndarray, n: int) -> list[_Step]:
    """The first ``n`` steps on the bowl from its starting point."""
    return _advance(_start(bowl.theta0, spec.state_rows, dtype), update, bowl, hyper, n)


def _reference(spec: OptimizerSpec) -> tuple[str, ReferenceStep]:
    """What the update is compared with, and one step of it in float64: ``(theta, grad, state, hyper, step)``."""
    if spec.reference is not None:
        return "the reference", _given_reference(spec.reference)
    if spec.fused is not None:
        return "the fused form", _fused_reference(spec.fused, len(spec.hyper))
    return "the update run as plain Python (no reference given)", _python_reference(spec.update)


def _given_reference(reference: Callable[..., Any]) -> ReferenceStep:
    def step(call: _Step, hy: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        new_theta, new_state = reference(*call.inputs(), N_WEIGHTS, hy, t)
        return np.asarray(new_theta, np.float64), np.asarray(new_state, np.float64)

    return step


def _fused_reference(fused: Callable[..., Any], n_hyper: int) -> ReferenceStep:
    """θ ← kθ − s ∂C/∂θ, with k = keep_w on the weights and keep_b on the biases."""

    def step(call: _Step, hy: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        th, g, s = call.inputs()
        keep_w, keep_b, size = fused(float(hy[0]), float(hy[1]), tuple(float(v) for v in hy[2 : 2 + n_hyper]))
        keep = np.where(np.arange(th.size) < N_WEIGHTS, keep_w, keep_b)
        return keep * th - size * g, s.copy()

    return step


def _python_reference(update: Callable[..., Any]) -> ReferenceStep:
    """The update itself as plain Python, on float64 copies of the very buffers the compiled call received."""

    def step(call: _Step, hy: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        out, state_out = call.theta_out_before.astype(np.float64), call.state_out_before.astype(np.float64)
        with np.errstate(all="ignore"):
            update(*call.inputs(), out, state_out, N_WEIGHTS, hy, t)
        return out, state_out

    return step


def _mismatch(got: np.ndarray, expected: np.ndarray, before: np.ndarray, dtype: str) -> tuple[int, float, float] | None:
    """(index, error, tolerance) of the worst entry beyond the tolerance, relative to the step's size."""
    if got.size == 0:
        return None
    step = float(np.nan_to_num(np.abs(expected - before), nan=0.0).max())
    eps = float(np.finfo(dtype).eps)
    tol = RTOL_STEP[dtype] * step + 8 * eps * float(np.nan_to_num(np.abs(expected), nan=0.0).max()) + 1e-300
    err = np.nan_to_num(np.abs(got - expected), nan=np.inf).ravel()
    i = int(np.argmax(err))
    return (i, float(err[i]), tol) if not err[i] <= tol else None


def _reference_problems(spec: OptimizerSpec, compiled: dict[str, Any], bowl: _Bowl) -> list[str]:
    """Each of STEPS steps against the reference applied to the very same inputs, per dtype and setting."""
    source, reference = _reference(spec)
    culprits = [("update", spec.update)] + ([("reference", spec.reference)] if spec.reference is not None else [])
    for dtype, update in compiled.items():
        for label, values in _settings(spec):
            hyper = _hyper(ETA, DECAY, values)
            for k, call in enumerate(_steps(spec, update, bowl, dtype, hyper, STEPS), start=1):
                try:
                    text = _compare_step(call, reference, hyper, k, dtype)
                except Exception as exc:  # noqa: BLE001 - a plugin's reference may raise anything
                    return [blame(f"reference: {source} raised {type(exc).__name__}: {exc} at step {k}", culprits)]
                if text is not None:
                    setting = f"{label}, eta={ETA}, decay={DECAY}"
                    return [blame(f"reference: update gives {text.format(dtype=dtype, setting=setting, source=source)}",
                                  culprits)]  # fmt: skip
    return []


def _compare_step(call: _Step, reference: ReferenceStep, hyper: np.ndarray, k: int, dtype: str) -> str | None:
    """What differs between one compiled step and the reference from the same inputs (a template), or None."""
    inputs = call.inputs()
    theta_ref, state_ref = reference(call, hyper, k)
    pairs = (("theta", call.theta_out, theta_ref, inputs[0]), ("state", call.state_out, state_ref, inputs[2]))
    for what, got, expected, before in pairs:
        expected = np.asarray(expected, np.float64).reshape(got.shape)
        bad = _mismatch(got.astype(np.float64), expected, before, dtype)
        if bad is not None:
            i, err, tol = bad
            index = i if what == "theta" else tuple(int(j) for j in np.unravel_index(i, got.shape))
            return (f"{what}[{index}] = {float(got.ravel()[i])!r} at step {k} in {{dtype}} ({{setting}}), but "
                    f"{{source}} gives {float(expected.ravel()[i])!r} from the same inputs: error {err:.3g} "
                    f"(tolerance {tol:.3g})")  # fmt: skip
    return None


# -- the learning rate, descent, and the returned flag -----------------------------------------------------------


def _learning_rate_problems(spec: OptimizerSpec, update: Any, bowl: _Bowl) -> list[str]:
    """η = 0 leaves every parameter unchanged (three steps, state and all); the first step is proportional to η."""
    defaults = tuple(h.default for h in spec.hyper)
    culprits = [("update", spec.update)]
    for call in _steps(spec, update, bowl, "float64", _hyper(0.0, DECAY, defaults), 3):
        moved = np.flatnonzero(call.theta_out != call.theta)
        if moved.size:
            i = int(moved[0])
            before, after = float(call.theta[i]), float(call.theta_out[i])
            text = (
                f"learning rate: with eta = 0 the update changes theta[{i}] from {before!r} to {after!r}; a "
                "learning rate of 0 must leave every parameter unchanged (the update reads eta from hyper[0])"
            )
            return [blame(text, culprits)]
    first, second = (
        _steps(spec, update, bowl, "float64", _hyper(eta, DECAY, defaults), 1)[0] for eta in (ETA, 2 * ETA)
    )
    one, two = first.theta_out - first.theta, second.theta_out - second.theta
    off = np.nan_to_num(np.abs(two - 2 * one), nan=np.inf)
    size = float(np.abs(two).max())
    if not float(off.max()) <= 1e-9 * size + 1e-300 or size == 0.0:
        i = int(np.argmax(off))
        text = (
            f"learning rate: the first step is not proportional to eta: theta[{i}] moves by {float(one[i])!r} "
            f"with eta={ETA} and by {float(two[i])!r} with eta={2 * ETA} (twice as far expected)"
        )
        return [blame(text, culprits)]
    return []


def _descent_problems(spec: OptimizerSpec, update: Any, bowl: _Bowl) -> list[str]:
    """50 steps with eta = 0.01 and default hyper-parameters lower the cost, every one returning True."""
    run = _start(bowl.theta0, spec.state_rows, "float64")
    defaults = tuple(h.default for h in spec.hyper)
    calls = _advance(run, update, bowl, _hyper(0.01, 0.0, defaults), 50)
    culprits = [("update", spec.update)]
    if not calls[-1].ok or not all(np.isfinite(c.theta_out).all() for c in calls):
        finite = bool(np.isfinite(calls[-1].theta_out).all())
        text = (f"descent: the update returns {calls[-1].ok} at step {len(calls)} on the bowl (eta=0.01), with "
                f"{'finite' if finite else 'non-finite'} new parameters")  # fmt: skip
        return [blame(text, culprits)]
    start, end = bowl.cost(bowl.theta0), bowl.cost(run.theta)
    if not end < start:
        text = (
            f"descent: 50 steps with eta=0.01 take the quadratic bowl's cost from {start:.6g} to {end:.6g}, not lower"
        )
        return [blame(text, culprits)]
    return []


def _flag_problems(spec: OptimizerSpec, update: Any, bowl: _Bowl) -> list[str]:
    """The update returns whether every new parameter is finite: True and False each where they should be."""
    defaults = tuple(h.default for h in spec.hyper)
    cases = [("a NaN in the gradient", 0.05, np.where(np.arange(N) == 2, np.nan, 1.0)),
             ("a gradient of 1e300 and eta = 1e300", 1e300, np.full(N, 1e300))]  # fmt: skip
    for label, eta, grad in cases:
        run = _start(bowl.theta0, spec.state_rows, "float64")
        call = _call(update, run.theta, grad, run.state, run.spare, run.state_spare, _hyper(eta, DECAY, defaults), 1)
        finite = bool(np.isfinite(call.theta_out).all())
        if call.ok != finite:
            text = (
                f"finite flag: with {label}, the update returns {call.ok} but its new parameters are "
                f"{'all finite' if finite else 'not all finite'}; it must return whether every one is finite"
            )
            return [blame(text, [("update", spec.update)])]
    return []


def _writes_problems(spec: OptimizerSpec, update: Any, bowl: _Bowl) -> list[str]:
    """Every entry of theta_out and state_out is written, and theta, grad and state are left alone."""
    defaults = tuple(h.default for h in spec.hyper)
    run = _start(bowl.theta0, spec.state_rows, "float64", fill=math.nan)
    call = _advance(run, update, bowl, _hyper(ETA, DECAY, defaults), 1)[0]
    culprits = [("update", spec.update)]
    if call.touched:
        return [blame("writes: the update changed theta, grad or state; it must write only theta_out and state_out",
                      culprits)]  # fmt: skip
    for what, out in (("theta_out", call.theta_out), ("state_out", call.state_out)):
        unwritten = np.argwhere(np.isnan(out))
        if unwritten.size:
            index = tuple(int(i) for i in unwritten[0])
            text = (
                f"writes: {what}{list(index)} is NaN after one step from finite inputs, with the spare buffers "
                f"filled with NaN before the call: the update leaves it unwritten, or reads theta_out or "
                f"state_out before writing them"
            )
            return [blame(text, culprits)]
    return []


# -- state: what a model file keeps is enough --------------------------------------------------------------------


def _state_problems(spec: OptimizerSpec, compiled: dict[str, Any], bowl: _Bowl) -> list[str]:
    """Six steps without stopping equal three steps, then only what a model file saves (the parameters, the
    state rows, the step count), then three more steps with fresh spare buffers: bit for bit, per dtype."""
    hyper = _hyper(ETA, DECAY, tuple(h.default for h in spec.hyper))
    for dtype, update in compiled.items():
        whole = _advance(_start(bowl.theta0, spec.state_rows, dtype), update, bowl, hyper, 6)
        first = _start(bowl.theta0, spec.state_rows, dtype)
        _advance(first, update, bowl, hyper, 3)
        resumed = _start(first.theta, spec.state_rows, dtype, fill=math.nan)  # nothing else survives a file
        resumed.state[...], resumed.step = first.state, first.step
        after = _advance(resumed, update, bowl, hyper, 3)
        for k, (kept, again) in enumerate(zip(whole[3:], after, strict=False), start=4):
            if kept.ok == again.ok and _same_outputs(kept, again):
                continue
            text = (f"state: in {dtype}, 3 steps, then only what a model file saves (theta, the {spec.state_rows} "
                    f"state row(s) and the step count): step {k} then {_outcome(again)}, but without stopping "
                    f"{_outcome(kept)}; the update must keep everything it needs between steps in state "
                    "(state_rows rows), and never read theta_out or state_out before writing them")  # fmt: skip
            return [blame(text, [("update", spec.update)])]
    return []


def _same_outputs(a: _Step, b: _Step) -> bool:
    return np.array_equal(a.theta_out, b.theta_out) and np.array_equal(a.state_out, b.state_out)


def _outcome(call: _Step) -> str:
    """``gives theta[0] = 1.5 (returns True)`` for messages: the first parameter that is not finite, else theta[0]."""
    bad = np.flatnonzero(~np.isfinite(call.theta_out))
    i = int(bad[0]) if bad.size else 0
    return f"gives theta[{i}] = {float(call.theta_out[i])!r} (returns {call.ok})"


def _save_load_problems(spec: OptimizerSpec) -> list[str]:
    """A real model file: fit 2 epochs, save with the optimizer, load, fit 2 more; equal to 4 epochs bit for bit.
    Only for an optimizer registered under its name in the loaded plugins (fit looks it up by name)."""
    import tempfile

    if get_registry().provenance_of(spec) is None:
        return []  # not what fit would find under this name
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))

    def train(net: Network, epochs: int) -> Network:
        net.fit(X, Y, epochs=epochs, batch_size=8, eta=0.01, lmbda=0.1, optimizer=spec.name, shuffle=False, verbose=0)
        return net

    try:
        whole = train(Network([3, 4, 2], ["tanh", "identity"], "quadratic", seed=0), 4)
        first = train(Network([3, 4, 2], ["tanh", "identity"], "quadratic", seed=0), 2)
        with tempfile.TemporaryDirectory() as folder:
            loaded = train(load_network(first.save(f"{folder}/model.npz", include_optimizer=True)), 2)
    except BpframeError as exc:
        text = f"save/load: training a small network with it raised {type(exc).__name__}: {exc}"
        return [blame(text, [("update", spec.update)])]
    if np.array_equal(whole.parameters(), loaded.parameters()):
        return []
    diff = np.abs(whole.parameters() - loaded.parameters())
    text = (
        f"save/load: fit 2 epochs, save with include_optimizer=True, load and fit 2 more gives parameters up to "
        f"{diff.max():.3g} away from fitting 4 epochs without stopping"
    )
    return [blame(text, [("update", spec.update)])]


# -- all of them -------------------------------------------------------------------------------------------------


def optimizer_problems(spec: OptimizerSpec) -> list[str]:
    """Every failed check of an optimizer."""
    compiled: dict[str, Any] = {}
    problems: list[str] = []
    for dtype in DTYPES:
        update, error = compile_update(spec.update, dtype)
        if error is not None:
            problems.append(blame(f"compiles: update {error}", [("update", spec.update)]))
            break
        compiled[dtype] = update
    if len(compiled) < len(DTYPES):
        return problems
    bowl = _bowl()
    problems += _writes_problems(spec, compiled["float64"], bowl)
    problems += _flag_problems(spec, compiled["float64"], bowl)
    problems += _learning_rate_problems(spec, compiled["float64"], bowl)
    problems += _descent_problems(spec, compiled["float64"], bowl)
    problems += _reference_problems(spec, compiled, bowl)
    problems += _state_problems(spec, compiled, bowl)
    if not problems:
        problems += _save_load_problems(spec)
    return problems
