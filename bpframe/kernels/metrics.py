"""Small inlined reductions the kernels share: correct predictions in a batch."""

from __future__ import annotations

from .helpers import helper

__all__ = ["count_correct"]


@helper
def count_correct(a, y):
    """Count rows whose prediction matches the target.

    With several outputs a prediction is the argmax of a row (ties go to the first); with one output it is
    ``a > 0.5`` compared with ``y > 0.5``.
    """
    correct = 0
    if a.shape[1] == 1:
        for i in range(a.shape[0]):
            if (a[i, 0] > 0.5) == (y[i, 0] > 0.5):
                correct += 1
        return correct
    for i in range(a.shape[0]):
        best_a = 0
        best_y = 0
        for j in range(1, a.shape[1]):
            if a[i, j] > a[i, best_a]:
                best_a = j
            if y[i, j] > y[i, best_y]:
                best_y = j
        if best_a == best_y:
            correct += 1
    return correct
