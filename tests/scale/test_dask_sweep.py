"""Hyper-parameter sweeps of bpframe estimators on a real dask.distributed cluster (a LocalCluster of worker
processes), run by the user guide's own example; workers with a warm kernel cache compile nothing.

Runs in the tox environment ``scale`` (``tox -e scale``), which installs ``dask[distributed]``; elsewhere it is
skipped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("sklearn")

import distributed
import joblib
from scipy.stats import loguniform
from sklearn.model_selection import RandomizedSearchCV

from bpframe.datasets import load_digits
from bpframe.sklearn import BPClassifier

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "examples" / "sweep_on_dask.py"


def load_example():
    spec = importlib.util.spec_from_file_location("sweep_on_dask", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def client():
    """A local cluster of two single-threaded worker processes, started after the kernel cache is warm."""
    import os

    X, y = load_digits("train")
    previous = os.environ.get("BPFRAME_ENGINE")
    os.environ["BPFRAME_ENGINE"] = "compiled"  # put the compiled engine and every block in the disk cache
    try:
        BPClassifier((8,), epochs=1, random_state=0).fit(X[:100], y[:100])
    finally:
        if previous is None:
            del os.environ["BPFRAME_ENGINE"]
        else:
            os.environ["BPFRAME_ENGINE"] = previous
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def test_the_guides_grid_search_runs_on_worker_processes_and_compiles_nothing(client):
    example = load_example()
    search = example.sweep(client)
    assert set(search.cv_results_["params"][0]) == {"hidden_layer_sizes", "eta"}
    assert len(search.cv_results_["params"]) == 4 and search.best_score_ > 0.85
    assert search.best_estimator_.score(*load_digits("test")) > 0.85
    workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2 and __import__("os").getpid() not in workers.values()
    assert sorted(example.compilations(client).values()) == [0, 0]  # every kernel came from the disk cache


def test_a_randomized_search_too_and_no_kernel_is_compiled_per_task(client):
    X, y = load_digits("train")
    search = RandomizedSearchCV(
        BPClassifier(epochs=10, random_state=0),
        {"eta": loguniform(1e-4, 1e-2), "batch_size": [16, 32, 64]},
        n_iter=6,
        cv=3,
        random_state=0,
    )
    with joblib.parallel_backend("dask"):
        search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 6 and np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert sorted(load_example().compilations(client).values()) == [0, 0]  # 18 more tasks, still no compilation


def test_a_fitted_estimator_travels_to_a_worker_and_predicts_the_same(client):
    X, y = load_digits("train")
    clf = BPClassifier((16,), epochs=5, random_state=0).fit(X, y)
    remote = client.submit(lambda model, data: model.predict_proba(data), clf, X[:50]).result()
    np.testing.assert_array_equal(remote, clf.predict_proba(X[:50]))
