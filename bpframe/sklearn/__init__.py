"""scikit-learn estimators over bpframe networks: :class:`BPClassifier` and :class:`BPRegressor`.

They fit in wherever scikit-learn estimators do (``Pipeline``, ``GridSearchCV``, ``cross_val_score``, joblib and
Dask), pass scikit-learn's own estimator checks (``sklearn.utils.estimator_checks.parametrize_with_checks``),
pickle, clone and deep-copy. scikit-learn is an optional dependency: ``pip install "bpframe[sklearn]"``.

Examples
--------
>>> from sklearn.model_selection import cross_val_score
>>> from bpframe.datasets import load_digits
>>> from bpframe.sklearn import BPClassifier
>>> X, y = load_digits("train")
>>> scores = cross_val_score(BPClassifier((32,), epochs=20, random_state=0), X, y, cv=3)
>>> bool(scores.min() > 0.9)
True
"""

from __future__ import annotations

from ..errors import MissingDependencyError

try:
    import sklearn  # noqa: F401
except ImportError:
    raise MissingDependencyError(
        'bpframe.sklearn needs scikit-learn: pip install "bpframe[sklearn]" (or pip install scikit-learn)'
    ) from None

from ._checks import EXPECTED_FAILED_CHECKS, expected_failed_checks
from ._classifier import BPClassifier
from ._regressor import BPRegressor

__all__ = ["EXPECTED_FAILED_CHECKS", "BPClassifier", "BPRegressor", "expected_failed_checks"]
