"""scikit-learn's own estimator checks, every one of them, on both estimators (only the declared expected
failures, each with its reason, may fail)."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks

from bpframe.sklearn import EXPECTED_FAILED_CHECKS, BPClassifier, BPRegressor, expected_failed_checks

# each check trains several small networks: about 40 s with numba's compiler, some 20 minutes without it, so the
# nojit environment skips them (the estimators' own tests cover their code there)
pytestmark = pytest.mark.jit


def _as_list(decorator):
    """scikit-learn before 1.8 hands pytest a generator of checks, which pytest 9 deprecates (an error here):
    the same parametrization, its checks in a list."""
    names, values = decorator.mark.args
    return pytest.mark.parametrize(names, list(values), **decorator.mark.kwargs)


@_as_list(parametrize_with_checks([BPClassifier(), BPRegressor()], expected_failed_checks=expected_failed_checks))
def test_scikit_learn_estimator_checks(estimator, check, monkeypatch):
    # the array API check (NumPy inputs with array API dispatch on) needs this set; scoped to the test
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def test_at_most_three_expected_failures_each_with_a_reason():
    for name, failures in EXPECTED_FAILED_CHECKS.items():
        assert len(failures) <= 3, name
        assert all(isinstance(reason, str) and reason.strip() and "\n" not in reason for reason in failures.values())
