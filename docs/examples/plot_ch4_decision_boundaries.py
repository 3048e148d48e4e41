"""
Decision boundaries on moons and spirals
========================================

Chapter 4 of Nielsen's book argues, with pictures, that a network with a hidden layer can approximate any
continuous function. For a classifier the function to approximate is a *decision boundary*: the line
between the inputs it calls class 0 and those it calls class 1. Here we train three small networks on two
problems that :mod:`bpframe.datasets` generates, and draw each network's boundary under its data:

* two interleaving half circles (:func:`~bpframe.datasets.moons`), first with **no hidden layer**, whose
  boundary can only be a straight line, then with one hidden layer of 16 tanh neurons;
* two interleaved spirals (:func:`~bpframe.datasets.two_spirals`), which need a boundary that winds around
  the origin, with two hidden layers of 32 neurons.

Each network is scored on the points it was trained on and on fresh points drawn from the same problem with
another seed.
"""

import matplotlib.pyplot as plt
import numpy as np

import bpframe as bp
from bpframe.datasets import moons, two_spirals

# %%
# The data
# --------
# 300 points of each problem to train on, 300 more (another seed) to test on. The labels are the integers
# 0 and 1; ``fit`` turns them into one-hot target rows for the two softmax outputs.

X_moons, y_moons = moons(300, noise=0.2, seed=0)
X_moons_test, y_moons_test = moons(300, noise=0.2, seed=1)
X_spirals, y_spirals = two_spirals(300, noise=0.03, seed=0)
X_spirals_test, y_spirals_test = two_spirals(300, noise=0.03, seed=1)

# %%
# Three networks
# --------------
# Softmax outputs with the categorical cross-entropy (Chapter 3). The moons train with the book's plain
# mini-batch SGD; the spirals, a harder surface, with Adam, which finds its way through it in a few hundred
# epochs from every seed we tried.

runs = {
    "moons, no hidden layer [2, 2]": (
        bp.Network([2, 2], activation="softmax", loss="cross_entropy", seed=0),
        {"epochs": 200, "batch_size": 10, "eta": 0.1},
        (X_moons, y_moons, X_moons_test, y_moons_test),
    ),
    "moons, hidden layer [2, 16, 2]": (
        bp.Network([2, 16, 2], activation=["tanh", "softmax"], loss="cross_entropy", seed=0),
        {"epochs": 200, "batch_size": 10, "eta": 0.1},
        (X_moons, y_moons, X_moons_test, y_moons_test),
    ),
    "spirals, [2, 32, 32, 2]": (
        bp.Network([2, 32, 32, 2], activation=["tanh", "tanh", "softmax"], loss="cross_entropy", seed=0),
        {"epochs": 600, "batch_size": 10, "eta": 0.01, "optimizer": "adam"},
        (X_spirals, y_spirals, X_spirals_test, y_spirals_test),
    ),
}

print(f"{'network':32s} {'epochs':>6s} {'train acc':>9s} {'test acc':>9s} {'test cost':>9s}")
for name, (net, settings, (X, y, X_test, y_test)) in runs.items():
    net.fit(X, y, verbose=0, **settings)
    train, test = net.evaluate(X, y), net.evaluate(X_test, y_test)
    print(f"{name:32s} {settings['epochs']:6d} {train['accuracy']:9.3f} {test['accuracy']:9.3f} {test['cost']:9.4f}")

# %%
# Drawing the boundaries
# ----------------------
# Each network's output for class 1 is evaluated on a 200 × 200 grid covering the data. The colour is that
# probability, the black line is where it crosses ½ (the decision boundary), and the dots are the training
# points in the colour of their class.


def draw(axis, net, X, y, title):
    """Shade the network's probability of class 1 over the plane and draw the points on top."""
    low, high = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
    xs, ys = np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200)
    grid_x, grid_y = np.meshgrid(xs, ys)
    p1 = net.feedforward(np.column_stack([grid_x.ravel(), grid_y.ravel()]))[:, 1].reshape(grid_x.shape)
    shade = axis.contourf(grid_x, grid_y, p1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
    axis.contour(grid_x, grid_y, p1, levels=[0.5], colors="black", linewidths=1.5)
    for label, colour, marker in ((0, "tab:blue", "o"), (1, "tab:red", "^")):
        points = X[y == label]
        axis.scatter(points[:, 0], points[:, 1], s=14, c=colour, marker=marker, edgecolors="black",
                     linewidths=0.4, label=f"class {label}")  # fmt: skip
    accuracy = net.evaluate(X, y)["accuracy"]
    axis.set_title(f"{title}\ntraining accuracy {accuracy:.3f}", fontsize=10)
    axis.set_xlabel("$x_1$")
    axis.set_ylabel("$x_2$")
    axis.set_aspect("equal")
    return shade


figure, axes = plt.subplots(1, 3, figsize=(13, 4.6), constrained_layout=True)
for axis, (name, (net, _, (X, y, _, _))) in zip(axes, runs.items(), strict=True):
    shade = draw(axis, net, X, y, name)
axes[0].legend(loc="lower left", fontsize=8)
figure.colorbar(shade, ax=axes, shrink=0.8, label="network's probability of class 1")
figure.suptitle("Decision boundaries (black line: probability ½)")
plt.show()

# %%
# Without a hidden layer the softmax network computes a linear function of the input before the
# exponentials, so its boundary is a straight line and it misclassifies the tips of both half circles. One
# hidden layer bends the line around them. The spirals need the boundary to wind around the origin one and a
# half times, which two hidden layers of 32 tanh neurons learn to do; the fresh test points, never seen in
# training, land on the right side too.
