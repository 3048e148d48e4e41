"""What ``backprop``, ``fit`` and ``gradient_check`` return."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError, MissingDependencyError
from .layers import LayerList

__all__ = ["BackpropResult", "GradientCheckResult", "History"]


@dataclass(frozen=True)
class BackpropResult:
    r"""Every quantity of the four equations for one batch, indexed by layer as in the equations.

    Attributes
    ----------
    z : LayerList of (n, sizes[l]) arrays, l = 1..L
        Weighted inputs :math:`z^l = w^l a^{l-1} + b^l`, one row per sample.
    a : LayerList of (n, sizes[l]) arrays, l = 0..L
        Activations; ``a[0]`` is the input batch.
    delta : LayerList of (n, sizes[l]) arrays, l = 1..L
        Errors :math:`\delta^l = \partial C_x / \partial z^l` of each sample (BP1 for L, BP2 below).
    nabla_b : LayerList of (sizes[l],) arrays, l = 1..L
        :math:`\partial C / \partial b^l`, the mean of ``delta[l]`` over the batch (BP3).
    nabla_w : LayerList of (sizes[l], sizes[l-1]) arrays, l = 1..L
        :math:`\partial C / \partial w^l`, the mean of the outer products :math:`\delta^l (a^{l-1})^T` (BP4).
    cost : float
        The mean per-sample cost :math:`C = \frac{1}{m}\sum_x C_x` over the m rows (no regularisation term).
    mask : LayerList of (n, sizes[l]) arrays, l = 1..L-1
        The dropout mask :math:`r^l` of each hidden layer (0 for a dropped neuron, :math:`1/(1-p)` for a kept
        one; all ones without dropout). Layer l + 1 reads :math:`r^l \odot a^l`, and BP2 multiplies by it.
    """

    z: LayerList
    a: LayerList
    delta: LayerList
    nabla_b: LayerList
    nabla_w: LayerList
    cost: float
    mask: LayerList


@dataclass
class History:
    r"""Per-epoch record of training, returned by :meth:`bpframe.Network.fit`.

    ``cost`` and ``accuracy`` are the training set's, averaged over the epoch's mini-batches as they were
    trained (the parameters change during the epoch); ``val_cost`` and ``val_accuracy`` are computed on the
    validation data after each epoch (empty lists without validation data). ``seconds`` is the wall time of
    each epoch, validation included.

    ``nabla_b_norm`` and ``nabla_w_norm`` are each layer's *learning speed* (the book's Chapter 5), recorded by
    ``fit(layer_speed=True)``: for each such epoch a list with one value per layer, layer 1 first, the mean over
    the epoch's mini-batches (over 100 to 199 evenly spaced ones, batches 0, k, 2k, ..., when an
    epoch has more than 199) of :math:`\lVert \partial C/\partial b^l \rVert` (the norm of the batch mean of
    :math:`\delta^l`) and of :math:`\lVert \partial C/\partial w^l \rVert` (Frobenius norm), the regularisation
    terms not included. Both are empty until an epoch records them; from then on they have a row for every
    epoch, NaN for the epochs trained without recording.
    """

    epoch: list[int] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_cost: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    nabla_b_norm: list[list[float]] = field(default_factory=list)
    nabla_w_norm: list[list[float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float] | list[int]]:
        """The per-epoch columns as a plain dict of lists (the per-layer ``nabla_b_norm`` and ``nabla_w_norm`` are
        attributes of their own)."""
        return {
            "epoch": list(self.epoch),
            "cost": list(self.cost),
            "accuracy": list(self.accuracy),
            "val_cost": list(self.val_cost),
            "val_accuracy": list(self.val_accuracy),
            "seconds": list(self.seconds),
        }

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        """Record one epoch's logs (``cost``, ``accuracy``, ``seconds``, optionally ``val_cost``, ``val_accuracy``)."""
        self.epoch.append(epoch)
        self.cost.append(logs["cost"])
        self.accuracy.append(logs["accuracy"])
        if "val_cost" in logs:
            self.val_cost.append(logs["val_cost"])
            self.val_accuracy.append(logs["val_accuracy"])
        self.seconds.append(logs["seconds"])
        if "nabla_b_norm" in logs:
            missing = [math.nan] * len(logs["nabla_b_norm"])
            while len(self.nabla_b_norm) < len(self.epoch) - 1:  # epochs trained before recording started
                self.nabla_b_norm.append(list(missing))
                self.nabla_w_norm.append(list(missing))
            self.nabla_b_norm.append(list(logs["nabla_b_norm"]))
            self.nabla_w_norm.append(list(logs["nabla_w_norm"]))
        elif self.nabla_b_norm:
            self.nabla_b_norm.append([math.nan] * len(self.nabla_b_norm[0]))
            self.nabla_w_norm.append([math.nan] * len(self.nabla_w_norm[0]))

    def __len__(self) -> int:
        return len(self.epoch)

    def plot(self, path: str | os.PathLike[str]) -> Path:
        """Draw the learning curves (cost and accuracy per epoch, training and validation) into an image file,
        and each layer's learning speed (``nabla_b_norm`` per epoch, logarithmic scale) when it was recorded.

        Needs matplotlib (``pip install "bpframe[plot]"``); the format follows the file name (``.png``,
        ``.svg``, ``.pdf``). Returns the path written.

        Raises
        ------
        MissingDependencyError
            If matplotlib is not installed.
        DataError
            If the history is empty.
        """
        if not self.epoch:
            raise DataError("the history is empty: train at least one epoch before plotting it")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise MissingDependencyError(
                'History.plot needs matplotlib: pip install "bpframe[plot]" (or pip install matplotlib)'
            ) from None
        panels = 3 if self.nabla_b_norm else 2
        figure, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), constrained_layout=True)
        left, right = axes[0], axes[1]
        for axis, key, label in ((left, "cost", "cost"), (right, "accuracy", "accuracy")):
            axis.plot(self.epoch, getattr(self, key), marker="o", markersize=3, label=f"training {label}")
            if getattr(self, f"val_{key}"):
                axis.plot(
                    self.epoch, getattr(self, f"val_{key}"), marker="s", markersize=3, label=f"validation {label}"
                )
            axis.set_xlabel("epoch")
            axis.set_ylabel(label)
            axis.grid(alpha=0.3)
            axis.legend()
        left.set_title("cost per epoch")
        right.set_title("accuracy per epoch")
        if self.nabla_b_norm:
            _plot_speeds(axes[2], self.epoch, self.nabla_b_norm)
        target = Path(path)
        figure.savefig(target, dpi=120)
        plt.close(figure)
        return target


@dataclass(frozen=True)
class GradientCheckResult:
    """Worst relative error of the analytic gradient against central differences, per layer.

    ``weights[l]`` and ``biases[l]`` (l = 1..L) are ``max |analytic − numeric| / max(|analytic|, |numeric|)``
    over the checked entries of layer l, the maxima of the denominators taken over the layer.
    """

    weights: dict[int, float]
    biases: dict[int, float]
    checked: int
    eps: float

    @property
    def max_error(self) -> float:
        """The worst error over all layers."""
        return max([*self.weights.values(), *self.biases.values()])

    def passed(self, tolerance: float = 1e-6) -> bool:
        """True when every layer's error is below ``tolerance``."""
        return self.max_error < tolerance

    def __str__(self) -> str:
        rows = [f"layer {l}: weights {self.weights[l]:.2e}, biases {self.biases[l]:.2e}" for l in self.weights]
        return "\n".join([*rows, f"worst: {self.max_error:.2e} ({self.checked} entries, eps={self.eps:g})"])


def _plot_speeds(axis: Any, epochs: list[int], speeds: list[list[float]]) -> None:
    """One line per layer: its learning speed per epoch, on a logarithmic scale."""
    layers = len(speeds[0])
    for l in range(layers):
        axis.plot(epochs, [row[l] for row in speeds], marker="o", markersize=3, label=f"layer {l + 1}")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("mean ‖∂C/∂b‖ per mini-batch")
    axis.set_title("learning speed of each layer")
    axis.grid(alpha=0.3)
    axis.legend()
