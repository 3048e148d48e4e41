"""The checks of scikit-learn's ``parametrize_with_checks`` that the estimators are known to fail, and why.

At most three may ever be listed, each with a one-line reason, and the user guide lists them too.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXPECTED_FAILED_CHECKS", "expected_failed_checks"]

#: check name -> the one-line reason, per estimator class name.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {"BPClassifier": {}, "BPRegressor": {}}


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """What ``parametrize_with_checks(..., expected_failed_checks=...)`` takes: the expected failures of one
    estimator, by check name."""
    return dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
