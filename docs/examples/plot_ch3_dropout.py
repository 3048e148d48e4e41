r"""
Dropout against overfitting
===========================

Chapter 3 of Nielsen's book shows a network *overfitting*: trained on a small part of the data, it classifies
its training images perfectly while its accuracy on other images stops far below that. Among the remedies it
describes is **dropout** (Srivastava, Hinton et al.): at every mini-batch each hidden neuron is left out with
probability :math:`p`, so the network cannot rely on any particular neuron being there, and what it learns
is closer to an average over many thinned networks.

bpframe's :meth:`~bpframe.Network.fit` takes ``dropout=p``. It is *inverted* dropout: a kept neuron's output
is divided by :math:`1 - p` while training, so nothing needs rescaling afterwards, and
:meth:`~bpframe.Network.predict`, :meth:`~bpframe.Network.feedforward` and :meth:`~bpframe.Network.evaluate`
never drop a neuron. Here a network with two hidden layers of 200 ReLU neurons, far more than 500 images
need, is trained on 50 images of each digit, with and without ``dropout=0.5``, from four seeds each, and
scored after every epoch on the 360 test images shipped with the digits.
"""

import matplotlib.pyplot as plt
import numpy as np

import bpframe as bp
from bpframe.datasets import load_digits

# %%
# A small training set
# --------------------
# The first 50 training images of each digit: 500 of the 1,437. The 360 test images are the validation data.

X_all, y_all = load_digits("train")
X_val, y_val = load_digits("test")
rows = np.concatenate([np.flatnonzero(y_all == digit)[:50] for digit in range(10)])
X, y = X_all[rows], y_all[rows]
print(f"training on {len(y)} images ({np.bincount(y).tolist()} per digit), validating on {len(y_val)}")

# %%
# Training with and without dropout
# ---------------------------------
# The same network, learning rate and mini-batches for both; only ``dropout`` differs. With a seed, the
# dropout masks are reproducible too (they come from the network's seed and the update count).

SEEDS = (0, 1, 2, 3)
EPOCHS = 60
histories, final_train = {}, {}  # keyed by (p, seed)
for p in (0.0, 0.5):
    for seed in SEEDS:
        net = bp.Network([64, 200, 200, 10], activation=["relu", "relu", "softmax"], loss="cross_entropy", seed=seed)
        histories[p, seed] = net.fit(
            X, y, epochs=EPOCHS, batch_size=10, eta=0.05, dropout=p, validation_data=(X_val, y_val), verbose=0
        )
        final_train[p, seed] = net.evaluate(X, y)["accuracy"]  # evaluate never drops: the whole network

# %%
# The numbers
# -----------
# Validation accuracy is averaged over the last 10 epochs, which smooths the epoch-to-epoch noise. Training
# accuracy is that of the whole network after training (no neuron dropped).

print(f"{'dropout':>7s} {'seed':>4s} {'training acc':>12s} {'validation acc':>14s} {'validation cost':>15s}")
late = {key: np.mean(history.val_accuracy[-10:]) for key, history in histories.items()}
for p, seed in histories:
    cost = histories[p, seed].val_cost[-1]
    print(f"{p:7.1f} {seed:4d} {final_train[p, seed]:12.3f} {late[p, seed]:14.3f} {cost:15.3f}")
without, with_dropout = (np.mean([late[p, seed] for seed in SEEDS]) for p in (0.0, 0.5))
ahead = sum(late[0.5, seed] > late[0.0, seed] for seed in SEEDS)
print(f"mean validation accuracy: {without:.3f} without dropout, {with_dropout:.3f} with dropout 0.5 "
      f"({(with_dropout - without) * 100:+.1f} points); dropout ahead from {ahead} of {len(SEEDS)} seeds")  # fmt: skip

# %%
# The curves
# ----------
# Left, validation accuracy per epoch: thin lines for each seed, thick for their mean. Right, the cost per
# epoch of seed 0, on the training mini-batches as they were trained (with dropout, those are the thinned
# networks' costs) and on the validation images.

epochs = np.arange(1, EPOCHS + 1)
colours = {0.0: "tab:red", 0.5: "tab:green"}
labels = {0.0: "no dropout", 0.5: "dropout p = 0.5"}
figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
for p in (0.0, 0.5):
    curves = np.array([histories[p, seed].val_accuracy for seed in SEEDS])
    for curve in curves:
        left.plot(epochs, curve, color=colours[p], alpha=0.25, linewidth=0.8)
    left.plot(epochs, curves.mean(axis=0), color=colours[p], linewidth=2.2, label=f"{labels[p]} (mean of 4 seeds)")
    right.plot(epochs, histories[p, 0].cost, "--", color=colours[p], label=f"{labels[p]}: training")
    right.plot(epochs, histories[p, 0].val_cost, color=colours[p], label=f"{labels[p]}: validation")
left.set(title="validation accuracy per epoch (500 training images)", xlabel="epoch", ylabel="accuracy")
left.set_ylim(0.85, 0.97)
right.set(title="cost per epoch (seed 0)", xlabel="epoch", ylabel="cross-entropy cost", yscale="log")
for axis in (left, right):
    axis.grid(alpha=0.3)
    axis.legend(fontsize=9)
plt.show()

# %%
# Without dropout the training cost falls towards zero (the network becomes certain about every training
# image) while the validation cost stops falling after about ten epochs: from then on the network learns its
# 500 images, not digits. With dropout the training cost stays higher, since the thinned networks never fit
# the training set as well, and the validation accuracy keeps improving for longer. The gain is small on data
# as easy as these 8×8 digits, and it varies from seed to seed, which is why four seeds are shown; the book
# discusses larger gains on MNIST, with larger networks trained for longer.
