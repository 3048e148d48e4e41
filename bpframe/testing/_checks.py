"""The checks of an activation and of a loss, whatever their form."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..activation import Activation
from ..loss import Loss
from ._scalar import elementwise_problems, scalar_loss_problems
from ._vector import output_error_problems, vector_problems

__all__ = ["activation_problems", "loss_problems"]


def activation_problems(act: Activation) -> list[str]:
    """Every failed check of ``act``, as messages (empty when it conforms)."""
    with np.errstate(all="ignore"):  # overflow to inf and NaN are what the checks look for, not warnings
        return elementwise_problems(act) if act.elementwise else vector_problems(act)


def loss_problems(loss: Loss, activations: Mapping[str, Activation]) -> list[str]:
    """Every failed check of ``loss``, its combined output errors included (empty when it conforms)."""
    with np.errstate(all="ignore"):
        problems = scalar_loss_problems(loss)
        for act_name, fn in loss.output_errors.items():
            problems += output_error_problems(loss, act_name, fn, activations.get(act_name))
        return problems
