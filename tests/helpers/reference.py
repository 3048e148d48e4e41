"""A slow, obviously correct NumPy reference of the forward pass and back-propagation.

One sample at a time, column vectors as in the book, the plugin functions called one element at a time in
Python. Nothing here is shared with the compiled engine except the plugin functions themselves.
"""

from __future__ import annotations

import numpy as np


def params(net):
    """Float64 copies of (weights, biases), each a list indexed 0..L-1 for layers 1..L."""
    return [np.array(w, dtype=np.float64) for w in net.weights], [np.array(b, dtype=np.float64) for b in net.biases]


def activate(act, z):
    """a = σ(z) for one sample's column vector."""
    if act.elementwise:
        return np.array([act.sigma(float(v)) for v in z])
    a = np.empty_like(z)
    act.forward(z, a)
    return a


def jacobian_t_times(act, z, a, v):
    """J_σ(z)ᵀ v for one sample."""
    if act.elementwise:
        return v * np.array([act.sigma_prime(float(t)) for t in z])
    out = np.empty_like(v)
    act.vjp(z, a, v, out)
    return out


def sample_cost(loss, a, y):
    """C_x = Σ_j c(a_j, y_j)."""
    return sum(loss.cost(float(aj), float(yj)) for aj, yj in zip(a, y, strict=False))


def forward(acts, ws, bs, x):
    """Lists zs (layers 1..L) and activations (layers 0..L) for one sample x."""
    zs, activations = [], [x]
    for act, w, b in zip(acts, ws, bs, strict=False):
        z = w @ activations[-1] + b
        zs.append(z)
        activations.append(activate(act, z))
    return zs, activations


def cost(acts, loss, ws, bs, X, Y):
    """The mean cost over the rows of X."""
    total = 0.0
    for x, y in zip(X, Y, strict=False):
        _, activations = forward(acts, ws, bs, x)
        total += sample_cost(loss, activations[-1], y)
    return total / len(X)


def backprop(acts, loss, ws, bs, X, Y):
    """(zs, activations, deltas, nabla_b, nabla_w): per-sample lists stacked into (n, size) arrays per layer,
    gradients averaged over the samples."""
    L = len(ws)
    nabla_b = [np.zeros_like(b) for b in bs]
    nabla_w = [np.zeros_like(w) for w in ws]
    per_sample = []
    for x, y in zip(X, Y, strict=False):
        zs, activations = forward(acts, ws, bs, x)
        deltas = [None] * L
        a, z = activations[-1], zs[-1]
        combined = loss.output_errors.get(acts[-1].name)
        if combined is not None:
            triples = zip(z, a, y, strict=True)
            deltas[-1] = np.array([combined(float(zj), float(aj), float(yj)) for zj, aj, yj in triples])
        else:
            grad_a = np.array([loss.nabla_a(float(aj), float(yj)) for aj, yj in zip(a, y, strict=False)])
            deltas[-1] = jacobian_t_times(acts[-1], z, a, grad_a)
        for l in range(L - 2, -1, -1):
            deltas[l] = jacobian_t_times(acts[l], zs[l], activations[l + 1], ws[l + 1].T @ deltas[l + 1])
        for l in range(L):
            nabla_b[l] += deltas[l] / len(X)
            nabla_w[l] += np.outer(deltas[l], activations[l]) / len(X)
        per_sample.append((zs, activations, deltas))
    stack = lambda k, l: np.array([s[k][l] for s in per_sample])  # noqa: E731
    zs = [stack(0, l) for l in range(L)]
    activations = [stack(1, l) for l in range(L + 1)]
    deltas = [stack(2, l) for l in range(L)]
    return zs, activations, deltas, nabla_b, nabla_w


def numeric_gradient(acts, loss, ws, bs, X, Y, eps=1e-6):
    """Central differences of the mean cost in every weight and bias."""
    out_w, out_b = [], []
    for params_list, out in ((ws, out_w), (bs, out_b)):
        for p in params_list:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                plus = cost(acts, loss, ws, bs, X, Y)
                p[idx] = old - eps
                minus = cost(acts, loss, ws, bs, X, Y)
                p[idx] = old
                g[idx] = (plus - minus) / (2 * eps)
            out.append(g)
    return out_w, out_b


def relative_error(analytic, numeric):
    """max |a − n| relative to the largest magnitude of either."""
    scale = max(np.abs(analytic).max(), np.abs(numeric).max())
    return 0.0 if scale == 0 else float(np.abs(analytic - numeric).max() / scale)
