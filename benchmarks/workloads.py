"""The benchmark workloads, and the FLOP count used for GFLOP/s.

Every workload is one shuffled epoch over the Fashion-MNIST training set (60,000 images; 6,000 with ``--quick``).
The cost is averaged over the mini-batch, so every implementation applies ``w -= eta * mean-gradient``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

__all__ = ["WORKLOADS", "Workload", "epoch_flops", "select_workloads"]


@dataclass(frozen=True)
class Workload:
    """One network + training configuration, run identically by every implementation."""

    key: str  # e.g. "W1-f32"
    group: str  # "W1", "W2", "W3": the name --workloads selects
    sizes: tuple[int, ...]
    hidden: str  # hidden-layer activation: "sigmoid" or "relu"
    output: str  # output activation: "sigmoid" or "softmax"
    loss: str  # "quadratic" (C = 1/2 ||y - a||^2 summed over outputs) or "cross_entropy"
    eta: float
    batch_size: int
    dtype: str  # "float32" or "float64"

    @property
    def title(self) -> str:
        arch = "[" + ",".join(map(str, self.sizes)) + "]"
        return (
            f"{self.key} {arch} {self.hidden}/{self.output} {self.loss} "
            f"eta={self.eta:g} batch={self.batch_size} {self.dtype}"
        )

    @property
    def bpframe_activation(self) -> str | list[str]:
        """The ``activation=`` argument for ``bp.Network``."""
        if self.hidden == self.output:
            return self.hidden
        return [self.hidden] * (len(self.sizes) - 2) + [self.output]


WORKLOADS: tuple[Workload, ...] = (
    Workload("W1-f32", "W1", (784, 30, 10), "sigmoid", "sigmoid", "quadratic", 3.0, 10, "float32"),
    Workload("W1-f64", "W1", (784, 30, 10), "sigmoid", "sigmoid", "quadratic", 3.0, 10, "float64"),
    Workload("W2", "W2", (784, 100, 10), "relu", "softmax", "cross_entropy", 0.1, 128, "float32"),
    Workload("W3", "W3", (784, 1024, 1024, 10), "relu", "softmax", "cross_entropy", 0.05, 256, "float32"),
)


def select_workloads(names: list[str]) -> list[Workload]:
    """Workloads whose group ("W1") or key ("W1-f64") is named; order follows ``WORKLOADS``."""
    wanted = {n.strip().upper() for n in names if n.strip()}
    known = {w.group.upper() for w in WORKLOADS} | {w.key.upper() for w in WORKLOADS}
    unknown = wanted - known - {"COLD"}
    if unknown:
        raise SystemExit(f"unknown workload(s) {sorted(unknown)}; choose from {sorted(known | {'cold'})}")
    return [w for w in WORKLOADS if w.group.upper() in wanted or w.key.upper() in wanted]


def epoch_flops(sizes: tuple[int, ...], n_samples: int, batch_size: int) -> float:
    r"""Floating-point operations executed in one epoch by the matrix products and the update.

    .. math:: F = 2N\Big(2\sum_{l\ge1} n_{l-1}n_l + \sum_{l\ge2} n_{l-1}n_l\Big)
              + 2\Big\lceil \tfrac{N}{B} \Big\rceil \sum_{l\ge1} (n_{l-1}n_l + n_l)

    Per mini-batch of B samples and per layer l: the forward product ``z = a W + b`` and the weight gradient
    ``nabla_w = a^T delta`` (2·B·n_in·n_out each), the backward product ``delta_prev = delta W^T`` for every
    layer but the first (nobody needs the error at the input), and the SGD update ``w -= eta * nabla_w``
    (a multiply and a subtract per parameter). Summed over the mini-batches the product part is the same for
    any B. Not counted: activations, their derivatives, softmax, bias sums, shuffling (all O(B·n)).

    This is the usual ``6·B·Σ n_in·n_out`` per mini-batch with the unneeded first-layer backward product
    removed and the update added: 0.70 of 6·N·Σ for W1, 0.67 for W2, 0.86 for W3.
    """
    pairs = list(itertools.pairwise(sizes))
    weights = sum(n_in * n_out for n_in, n_out in pairs)
    hidden_back = sum(n_in * n_out for n_in, n_out in pairs[1:])
    params = weights + sum(n_out for _, n_out in pairs)
    n_batches = -(-n_samples // batch_size)
    return 2.0 * n_samples * (2 * weights + hidden_back) + 2.0 * n_batches * params
