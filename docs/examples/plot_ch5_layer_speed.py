r"""
Each layer's learning speed: the vanishing gradient
===================================================

Chapter 5 of Nielsen's book asks why deep networks are hard to train, and answers by measuring how fast each
layer learns: the size of :math:`\partial C / \partial b^l`, which by BP3 is the error :math:`\delta^l` of
the layer. In a deep sigmoid network the early layers learn far more slowly than the late ones, because BP2
carries the error back through one factor :math:`\sigma'(z) \le 1/4` per layer (times a weight): the
*vanishing gradient*. ReLU, whose derivative is 1 wherever the neuron is active, does not shrink the error
this way.

``fit(layer_speed=True)`` records exactly these numbers: for every epoch, ``history.nabla_b_norm`` and
``history.nabla_w_norm`` hold one value per layer (layer 1 first), the mean over the epoch's mini-batches of
:math:`\lVert \partial C / \partial b^l \rVert` and :math:`\lVert \partial C / \partial w^l \rVert`
(:meth:`History.plot <bpframe.History.plot>` draws them too; the guide's :ref:`guide-regularisation` page has
the details). Here two networks with four hidden layers of 30 neurons, one sigmoid and one ReLU, both with a
softmax output and the cross-entropy cost, train on the shipped digits with the same learning rate and
mini-batches.
"""

import matplotlib.pyplot as plt
import numpy as np

import bpframe as bp
from bpframe.datasets import load_digits

X, y = load_digits("train")
X_val, y_val = load_digits("test")

# %%
# Training, recording each layer's speed
# --------------------------------------

SIZES = [64, 30, 30, 30, 30, 10]
EPOCHS = 100
histories = {}
for activation in ("sigmoid", "relu"):
    net = bp.Network(SIZES, activation=[activation] * 4 + ["softmax"], loss="cross_entropy", seed=0)
    histories[activation] = net.fit(
        X, y, epochs=EPOCHS, batch_size=10, eta=0.1, layer_speed=True, validation_data=(X_val, y_val), verbose=0
    )

# %%
# The numbers
# -----------
# :math:`\lVert \partial C / \partial b^l \rVert` of each layer (hidden layers 1 to 4, then the output layer
# 5) in some of the epochs, and the validation accuracy after them. The last column is the ratio of the first
# layer's speed to the output layer's.

for activation, history in histories.items():
    speeds = np.array(history.nabla_b_norm)  # shape (epochs, layers)
    print(f"{activation}: ||dC/db^l|| per layer, mean over the epoch's mini-batches")
    print(f"{'epoch':>5s} " + " ".join(f"{f'layer {l}':>9s}" for l in range(1, len(SIZES))) + "  accuracy  l1/l5")
    for epoch in (1, 10, 25, 50, 75, 100):
        row = speeds[epoch - 1]
        cells = " ".join(f"{value:9.2e}" for value in row)
        print(f"{epoch:5d} {cells}  {history.val_accuracy[epoch - 1]:8.3f}  {row[0] / row[-1]:5.3f}")
    print()

first = {activation: history.nabla_w_norm[0] for activation, history in histories.items()}
for activation, norms in first.items():
    print(f"{activation}: ||dC/dw^l|| in epoch 1:", " ".join(f"{value:.2e}" for value in norms))

# %%
# The figure
# ----------
# Each layer's speed per epoch on a logarithmic scale, the sigmoid network left and the ReLU network in the
# middle (the same scale, the same colours); right, the validation accuracy of both.

epochs = np.arange(1, EPOCHS + 1)
colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(SIZES) - 1))
all_speeds = np.concatenate([np.ravel(history.nabla_b_norm) for history in histories.values()])
figure, axes = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
for axis, (activation, history) in zip(axes[:2], histories.items(), strict=True):
    speeds = np.array(history.nabla_b_norm)
    for l in range(speeds.shape[1]):
        name = "output layer 5" if l == speeds.shape[1] - 1 else f"hidden layer {l + 1}"
        axis.plot(epochs, speeds[:, l], color=colours[l], label=name)
    axis.set(title=f"{activation}: speed of each layer", xlabel="epoch", ylabel="‖∂C/∂bˡ‖ (mean per epoch)")
    axis.set_yscale("log")
    axis.set_ylim(all_speeds.min() / 2, all_speeds.max() * 2)
axes[1].legend(fontsize=8, loc="upper right")
for activation, colour in (("sigmoid", "tab:orange"), ("relu", "tab:blue")):
    axes[2].plot(epochs, histories[activation].val_accuracy, color=colour, label=activation)
axes[2].set(title="validation accuracy per epoch", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
axes[2].legend(fontsize=9)
for axis in axes:
    axis.grid(alpha=0.3)
plt.show()

# %%
# In the sigmoid network the first hidden layer starts out learning about five hundred times more slowly than
# the output layer, each layer a few times more slowly than the next, just as in the book's measurements on
# MNIST. The early layers barely change, so the layers after them see little but noise, and the network sits
# at chance accuracy for dozens of epochs before the speeds even out and it starts to learn. The ReLU network's
# layers learn at comparable speeds from the first epoch (its early layers even a few times faster than the
# output layer), and it passes 90 % validation accuracy within about ten epochs. Its speeds then fall in all
# layers together: not a vanishing gradient, but a network that fits its training data, where the cost and
# with it every gradient approach zero.
