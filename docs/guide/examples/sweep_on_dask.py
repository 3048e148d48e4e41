"""A hyper-parameter sweep of a bpframe estimator on a Dask cluster: scikit-learn's GridSearchCV, run by joblib.

    python sweep_on_dask.py                          # a local cluster of 2 worker processes
    python sweep_on_dask.py tcp://scheduler:8786     # an existing cluster (every worker has bpframe installed)

Each of the search's fits (candidates × folds) is one joblib task; Dask ships the estimator and the data to a
worker process, which trains there and sends the score back. The search then refits the best candidate here.
"""

from __future__ import annotations

import sys

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

import bpframe as bp
from bpframe.datasets import load_digits
from bpframe.sklearn import BPClassifier

GRID = {"hidden_layer_sizes": [(32,), (64,)], "eta": [0.001, 0.003]}


def sweep(client: Client) -> GridSearchCV:
    """Grid-search a BPClassifier on the digits, every fit on the cluster behind ``client``."""
    X, y = load_digits("train")
    search = GridSearchCV(BPClassifier(epochs=20, random_state=0), GRID, cv=3)
    with joblib.parallel_backend("dask"):  # the client made last is the one joblib's Dask backend uses
        search.fit(X, y)
    return search


def compilations(client: Client) -> dict[str, int]:
    """How many kernels each worker process compiled so far (0 on a worker whose disk cache was warm)."""

    def count() -> int:
        return len(bp.compiled_kernels())

    return client.run(count)


def main(address: str | None = None) -> None:
    cluster = (
        None if address else LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    )
    with Client(address or cluster) as client:
        search = sweep(client)
        print(f"best {search.best_params_}, cross-validated accuracy {search.best_score_:.3f}")
        print(f"kernels compiled per worker: {sorted(compilations(client).values())}")
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
