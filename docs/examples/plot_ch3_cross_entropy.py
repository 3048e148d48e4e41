r"""
Saturation, and why cross-entropy learns faster
===============================================

The first figure of Chapter 3 of Nielsen's book: a single sigmoid neuron with one input, taught to turn the
input 1 into the output 0. Started badly, with weight :math:`w = 2` and bias :math:`b = 2`, its output is
:math:`\sigma(4) \approx 0.98`: confidently wrong. With the quadratic cost it then hardly learns for over a
hundred epochs; with the cross-entropy cost it learns fastest exactly when it is most wrong.

The reason is in BP1. With the quadratic cost :math:`C = \tfrac12 (a - y)^2`, the output error is
:math:`\delta = (a - y)\,\sigma'(z)`, and :math:`\sigma'(z)` is tiny when the neuron *saturates* (:math:`z`
far from 0, :math:`a` near 0 or 1). With the cross-entropy
:math:`C = -[y \ln a + (1 - y) \ln(1 - a)]` the :math:`\sigma'(z)` cancels and :math:`\delta = a - y`: the
gradient is proportional to the error alone. Here we train the neuron both ways with the book's learning rate
:math:`\eta = 0.15`, using bpframe's ``"quadratic"`` and ``"binary_cross_entropy"`` losses.
"""

import matplotlib.pyplot as plt
import numpy as np

import bpframe as bp

X = np.array([[1.0]])  # one sample, one input: x = 1
Y = np.array([[0.0]])  # its target: y = 0
LOSSES = {"quadratic": "quadratic cost", "binary_cross_entropy": "cross-entropy cost"}
SHORT = {"quadratic": "quadratic", "binary_cross_entropy": "cross-entropy"}


def neuron(loss, w, b):
    """A [1, 1] sigmoid network (one neuron) with the given cost, weight and bias."""
    net = bp.Network([1, 1], activation="sigmoid", loss=loss, seed=0)
    net.weights[1] = [[w]]
    net.biases[1] = [b]
    return net


# %%
# The gradient at the start
# -------------------------
# :meth:`~bpframe.Network.backprop` gives every quantity of the four equations for a batch; here the batch is
# the one sample. Both neurons start at the same :math:`z = wx + b = 4` and output :math:`a`, but the quadratic
# cost's gradient is smaller by the factor :math:`\sigma'(4) \approx 0.018`.

for loss, title in LOSSES.items():
    result = neuron(loss, 2.0, 2.0).backprop(X, Y)
    z, a = result.z[1][0, 0], result.a[1][0, 0]
    print(f"{title:19s} z = {z:.1f}  a = {a:.4f}  C = {result.cost:.4f}  "
          f"dC/dw = {result.nabla_w[1][0, 0]:.4f}  dC/db = {result.nabla_b[1][0]:.4f}")  # fmt: skip
sigma_prime = a * (1 - a)
print(f"sigma'(4) = a (1 - a) = {sigma_prime:.4f}")

# %%
# Training, one epoch at a time
# -----------------------------
# The batch is the one sample, so an epoch is one gradient step. After each we record the output and the cost
# (:meth:`~bpframe.Network.evaluate`). The book's second start, :math:`w = 0.6` and :math:`b = 0.9` (output
# 0.82, not saturated), is trained too, for comparison.

EPOCHS, ETA = 300, 0.15
STARTS = {"bad start": (2.0, 2.0), "good start": (0.6, 0.9)}
curves = {}
for start, (w, b) in STARTS.items():
    for loss in LOSSES:
        net = neuron(loss, w, b)
        outputs, costs, weights = [net.feedforward(X)[0, 0]], [net.evaluate(X, Y)["cost"]], [w]
        for _ in range(EPOCHS):
            net.fit(X, Y, epochs=1, batch_size=1, eta=ETA, verbose=0)
            outputs.append(net.feedforward(X)[0, 0])
            costs.append(net.evaluate(X, Y)["cost"])
            weights.append(net.weights[1][0, 0])
        curves[start, loss] = np.array(outputs), np.array(costs), np.array(weights)

# %%
# The numbers
# -----------
# Output :math:`a` and cost :math:`C` after some of the epochs, from the bad start. The quadratic cost's neuron
# is still above 0.9 after 150 epochs; the cross-entropy's is below 0.5 within 20 and below 0.1 by epoch 50.
# The two costs are different functions, so compare the outputs (or each cost with its own start).

bad = "bad start"
print(f"{'epoch':>5s} | {'quadratic: a':>12s} {'C':>8s} | {'cross-entropy: a':>16s} {'C':>8s}")
for epoch in (0, 10, 20, 50, 100, 150, 200, 250, 300):
    (a_q, c_q), (a_x, c_x) = (curves[bad, loss][:2] for loss in LOSSES)
    a_q, c_q, a_x, c_x = a_q[epoch], c_q[epoch], a_x[epoch], c_x[epoch]
    print(f"{epoch:5d} | {a_q:12.4f} {c_q:8.4f} | {a_x:16.4f} {c_x:8.4f}")

for start, (w, b) in STARTS.items():
    reached = {loss: int(np.argmax(curves[start, loss][0] < 0.5)) for loss in LOSSES}
    print(f"{start} (w = {w:g}, b = {b:g}): output first below 0.5 after {reached['quadratic']} epochs (quadratic), "
          f"{reached['binary_cross_entropy']} epochs (cross-entropy)")  # fmt: skip

# %%
# The figure
# ----------
# Left, the book's figure: cost per epoch from the bad start. Middle, the output per epoch from both starts.
# Right, the size of each step, :math:`|\Delta w| = \eta\,|\partial C / \partial w|`, the change of the
# weight from one epoch to the next: it follows :math:`(a - y)\,\sigma'(z)` for the quadratic cost and the
# error :math:`a - y` alone for the cross-entropy.

epochs = np.arange(EPOCHS + 1)
colours = {"quadratic": "tab:orange", "binary_cross_entropy": "tab:blue"}
figure, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
for loss, title in LOSSES.items():
    left.plot(epochs, curves[bad, loss][1], color=colours[loss], label=title)
    for start, style in zip(STARTS, ("-", ":"), strict=True):
        middle.plot(epochs, curves[start, loss][0], style, color=colours[loss], label=f"{SHORT[loss]}, {start}")
    right.plot(epochs[1:], np.abs(np.diff(curves[bad, loss][2])), color=colours[loss], label=title)
left.set(title="cost per epoch (bad start: w = 2, b = 2)", xlabel="epoch", ylabel="cost C")
middle.set(title="output per epoch (target y = 0; good start: w = 0.6, b = 0.9)", xlabel="epoch", ylabel="output a")
middle.set_ylim(0, 1)
right.set(title="step size per epoch (bad start)", xlabel="epoch", ylabel="|Δw| per epoch", yscale="log")
middle.legend(fontsize=8, loc="center", bbox_to_anchor=(0.45, 0.55))
for axis in (left, middle, right):
    axis.grid(alpha=0.3)
    if axis is not middle:
        axis.legend(fontsize=9)
plt.show()

# %%
# From the bad start the quadratic cost's neuron spends well over a hundred epochs climbing out of
# saturation (its steps are smallest at the start, when it is most wrong), then learns quickly. The
# cross-entropy's steps are largest at the start and shrink as the output approaches the target. From the
# good start both learn at once: the slow start is saturation, not the quadratic cost as such. Chapter 3
# goes on to the softmax output layer with its own cross-entropy, which has the same property:
# :math:`\delta^L = a^L - y`.
