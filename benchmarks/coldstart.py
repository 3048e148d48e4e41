"""Cold start: a fresh process imports the library, builds the W1 network and takes one training step.

    coldstart.py bpframe|torch|numpy [--threads N]

Prints one JSON line: seconds for the imports, for build + first step, and in all (from the first line of this
script; the parent also times the whole process, interpreter start-up included). The mini-batch is 10 random
samples, so no data-set loading is included. The thread variables are set before any import.
"""

import time

_T0 = time.perf_counter()

import os
import sys

_THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = _THREADS

import itertools
import json
import resource

SIZES, BATCH, ETA = [784, 30, 10], 10, 3.0


def _batch(np):
    rng = np.random.default_rng(0)
    return rng.random((BATCH, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], BATCH)


def run_bpframe() -> float:
    import numpy as np

    import bpframe as bp

    t_import = time.perf_counter()
    X, y = _batch(np)
    net = bp.Network(SIZES, activation="sigmoid", loss="quadratic", dtype="float32", seed=0)
    net.fit(X, y, epochs=1, batch_size=BATCH, eta=ETA, verbose=0)
    return t_import


def run_torch() -> float:
    import numpy as np
    import torch

    t_import = time.perf_counter()
    torch.set_num_threads(int(_THREADS))
    X, y = _batch(np)
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.Sigmoid(), torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.Sigmoid()
    )
    opt = torch.optim.SGD(model.parameters(), lr=ETA)
    xb, tb = torch.from_numpy(X), torch.nn.functional.one_hot(torch.from_numpy(y), SIZES[-1]).float()
    opt.zero_grad()
    loss = 0.5 * ((model(xb) - tb) ** 2).sum(1).mean()
    loss.backward()
    opt.step()
    return t_import


def run_numpy() -> float:
    import numpy as np

    t_import = time.perf_counter()
    X, y = _batch(np)
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((a, b)).astype(np.float32) / np.sqrt(a) for a, b in itertools.pairwise(SIZES)]
    b = [rng.standard_normal(n).astype(np.float32) for n in SIZES[1:]]
    Y = np.eye(SIZES[-1], dtype=np.float32)[y]
    a = [X]
    for w_l, b_l in zip(w, b, strict=False):
        a.append(1 / (1 + np.exp(-(a[-1] @ w_l + b_l))))
    delta = (a[-1] - Y) * a[-1] * (1 - a[-1]) / BATCH
    for l in reversed(range(len(w))):
        nabla_w, nabla_b = a[l].T @ delta, delta.sum(0)
        if l:
            delta = (delta @ w[l].T) * a[l] * (1 - a[l])
        w[l] -= ETA * nabla_w
        b[l] -= ETA * nabla_b
    return t_import


def vmhwm_mib() -> float:
    """Peak RSS of this process image (VmHWM; ru_maxrss would include the parent's peak, see worker.py)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    impl = sys.argv[1]
    t_import = {"bpframe": run_bpframe, "torch": run_torch, "numpy": run_numpy}[impl]()
    t_end = time.perf_counter()
    print(
        json.dumps(
            {
                "impl": impl,
                "import_s": t_import - _T0,
                "step_s": t_end - t_import,
                "total_s": t_end - _T0,
                "maxrss_mib": vmhwm_mib(),
            }
        )
    )


if __name__ == "__main__":
    main()
