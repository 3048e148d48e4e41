"""Data to train on: the 8×8 digits shipped with bpframe, MNIST-style IDX files, and synthetic problems.

============================  =================================================================
function                      gives
============================  =================================================================
:func:`load_digits`           1,797 handwritten digits, 8×8, shipped in the package (fixed split)
:func:`load_fashion_mnist`    Fashion-MNIST from a folder, ``$BPFRAME_FASHION_MNIST_DIR`` or Debian's package
:func:`load_mnist_like`       any folder of the four standard MNIST-style IDX files
:func:`read_idx`              one IDX file, plain or gzipped, as an array
:func:`xor`                   the four XOR points
:func:`two_spirals`           two interleaved spirals, seeded
:func:`moons`                 two interleaving half circles, seeded
:func:`one_hot`               integer labels as one-hot target rows
============================  =================================================================
"""

from __future__ import annotations

from ._digits import load_digits
from ._labels import one_hot
from ._mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist_like
from .idx import read_idx
from .synthetic import moons, two_spirals, xor

__all__ = [
    "FASHION_MNIST_CLASSES",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist_like",
    "moons",
    "one_hot",
    "read_idx",
    "two_spirals",
    "xor",
]
