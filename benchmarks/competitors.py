"""The implementations under test, each behind the same four-call interface.

``Trainer(workload, threads)`` → ``setup(X, y, X_test, y_test)`` (build the network, convert data; not timed)
→ ``epoch()`` (one shuffled epoch; timed by the caller) → ``accuracy()`` on the test set → ``info()``.

Imports of torch / sklearn / bpframe happen inside the trainer so a worker process loads only its own library.
NumPy and PyTorch start from the same initial weights (``initial_params``); scikit-learn and bpframe use their
own initialisers (documented, and visible in the accuracy column).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np
from workloads import Workload

__all__ = ["IMPLEMENTATIONS", "INSTALL_HINT", "initial_params", "make_trainer", "missing", "not_applicable"]

IMPLEMENTATIONS = ("bpframe", "v1", "torch", "numpy", "sklearn", "floor")
_MODULE = {"bpframe": "bpframe", "v1": "bpframe", "torch": "torch", "numpy": "numpy", "sklearn": "sklearn",
           "floor": "numba"}  # fmt: skip
INSTALL_HINT = {
    "bpframe": "bpframe not importable: run from the repo (benchmarks/run.py puts the repo root on PYTHONPATH) "
    "or pip install -e .",
    "v1": "bpframe not importable: benchmarks/run.py extracts the --v1 commit's bpframe/ and puts it on PYTHONPATH",
    "torch": "torch not installed: pip install torch==2.13.0",
    "numpy": "numpy not installed: pip install numpy",
    "sklearn": "scikit-learn not installed: pip install scikit-learn",
    "floor": "numba not installed: pip install numba",
}


def missing(impl: str) -> str | None:
    """The install hint if ``impl``'s package cannot be found (without importing it), else None."""
    return None if importlib.util.find_spec(_MODULE[impl]) is not None else INSTALL_HINT[impl]


def not_applicable(impl: str, wl: Workload) -> str | None:
    """Why ``impl`` cannot express ``wl`` faithfully, or None."""
    if impl == "sklearn":
        if wl.loss != "cross_entropy" or wl.output != "softmax":
            return "n/a: MLPClassifier has no quadratic cost; its multi-class output is always softmax + log-loss"
        if wl.hidden not in ("relu", "sigmoid", "tanh"):
            return f"n/a: MLPClassifier has no {wl.hidden} activation"
    return None


def initial_params(wl: Workload, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights ``w[l]`` of shape (n_in, n_out) and biases ``b[l]`` (n_out,) in the workload's dtype.

    sigmoid networks: w ~ N(0, 1/n_in), b ~ N(0, 1) (Nielsen's network2 default);
    ReLU networks: He normal, w ~ N(0, 2/n_in), b = 0.
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(wl.dtype)
    w, b = [], []
    for n_in, n_out in zip(wl.sizes[:-1], wl.sizes[1:], strict=False):
        scale = np.sqrt(2.0 / n_in) if wl.hidden == "relu" else np.sqrt(1.0 / n_in)
        w.append((rng.standard_normal((n_in, n_out)) * scale).astype(dtype))
        bias = rng.standard_normal(n_out) if wl.hidden == "sigmoid" else np.zeros(n_out)
        b.append(bias.astype(dtype))
    return w, b


def one_hot(y: np.ndarray, n_classes: int, dtype: np.dtype) -> np.ndarray:
    """(n,) int labels → (n, n_classes) one-hot rows."""
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


class NumpyTrainer:
    """Plain NumPy mini-batch back-propagation: one matrix product per layer per pass per mini-batch."""

    name = "numpy"

    def __init__(self, wl: Workload, threads: int) -> None:
        if (wl.loss, wl.output) not in {("quadratic", "sigmoid"), ("cross_entropy", "softmax")}:
            raise ValueError(f"numpy trainer: unsupported loss/output pair {wl.loss}/{wl.output}")
        self.wl = wl
        self.dtype = np.dtype(wl.dtype)

    def setup(self, X, y, X_test, y_test) -> None:
        self.X = np.ascontiguousarray(X, dtype=self.dtype)
        self.Y = one_hot(y, self.wl.sizes[-1], self.dtype)
        self.X_test, self.y_test = np.ascontiguousarray(X_test, dtype=self.dtype), y_test
        self.w, self.b = initial_params(self.wl)
        self.rng = np.random.default_rng(1)

    def epoch(self) -> None:
        perm = self.rng.permutation(len(self.X))
        X, Y = self.X[perm], self.Y[perm]
        B, eta = self.wl.batch_size, self.dtype.type(self.wl.eta)
        with np.errstate(over="ignore"):  # exp(-z) → inf for z ≪ 0 gives sigmoid 0, as it should
            for k in range(0, len(X), B):
                self._step(X[k : k + B], Y[k : k + B], eta)

    def _activate(self, name: str, z: np.ndarray) -> np.ndarray:
        """σ(z) in place."""
        if name == "sigmoid":
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1
            np.reciprocal(z, out=z)
        elif name == "relu":
            np.maximum(z, 0, out=z)
        elif name == "softmax":
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
        else:
            raise ValueError(name)
        return z

    def _feedforward(self, x: np.ndarray) -> list[np.ndarray]:
        """activations a[0] = x, ..., a[L]."""
        a = [x]
        L = len(self.w)
        for l in range(L):
            z = a[-1] @ self.w[l]
            z += self.b[l]
            a.append(self._activate(self.wl.hidden if l < L - 1 else self.wl.output, z))
        return a

    def _step(self, x: np.ndarray, y: np.ndarray, eta) -> None:
        a = self._feedforward(x)
        out = a[-1]
        delta = out - y  # cross-entropy + softmax: dC/dz = a - y
        if self.wl.loss == "quadratic":  # (a - y) ⊙ σ'(z) with σ' = a(1 - a)
            delta *= out * (1 - out)
        delta *= self.dtype.type(1.0 / len(x))  # cost is the mean over the mini-batch
        for l in reversed(range(len(self.w))):
            nabla_w = a[l].T @ delta
            nabla_b = delta.sum(axis=0)
            if l > 0:
                delta = delta @ self.w[l].T
                if self.wl.hidden == "sigmoid":
                    delta *= a[l] * (1 - a[l])
                else:
                    delta *= a[l] > 0
            nabla_w *= eta
            self.w[l] -= nabla_w
            self.b[l] -= eta * nabla_b

    def accuracy(self) -> float:
        with np.errstate(over="ignore"):
            out = self._feedforward(self.X_test)[-1]
        return float(np.mean(out.argmax(axis=1) == self.y_test))

    def info(self) -> dict[str, Any]:
        import threadpoolctl

        blas = [
            {k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for p in threadpoolctl.threadpool_info()
            if p.get("user_api") == "blas"
        ]
        return {"version": np.__version__, "param_dtype": str(self.w[0].dtype), "blas": blas}


class TorchTrainer:
    """PyTorch CPU: nn.Sequential of Linear layers, torch.optim.SGD, tensors indexed directly (no DataLoader)."""

    name = "torch"

    def __init__(self, wl: Workload, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        self.torch, self.wl = torch, wl
        self.tdtype = {"float32": torch.float32, "float64": torch.float64}[wl.dtype]

    def setup(self, X, y, X_test, y_test) -> None:
        torch, nn, wl = self.torch, self.torch.nn, self.wl
        torch.manual_seed(0)
        w, b = initial_params(wl)
        layers: list[Any] = []
        for l, (w_l, b_l) in enumerate(zip(w, b, strict=False)):
            lin = nn.Linear(w_l.shape[0], w_l.shape[1], dtype=self.tdtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w_l.T.copy()))
                lin.bias.copy_(torch.from_numpy(b_l))
            layers.append(lin)
            last = l == len(w) - 1
            act = wl.output if last else wl.hidden
            if act == "sigmoid":
                layers.append(nn.Sigmoid())
            elif act == "relu":
                layers.append(nn.ReLU())
            elif act != "softmax":  # softmax is fused into F.cross_entropy below
                raise ValueError(act)
        self.model = nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=wl.eta, momentum=0.0)
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=wl.dtype))
        if wl.loss == "quadratic":
            self.T = torch.from_numpy(one_hot(y, wl.sizes[-1], np.dtype(wl.dtype)))
            self.loss_fn = lambda out, t: 0.5 * ((out - t) ** 2).sum(1).mean()
        elif wl.loss == "cross_entropy" and wl.output == "softmax":
            self.T = torch.from_numpy(y.astype(np.int64))
            self.loss_fn = torch.nn.functional.cross_entropy  # log-softmax + NLL, mean over the batch
        else:
            raise ValueError(f"torch trainer: unsupported {wl.loss}/{wl.output}")
        self.X_test = torch.from_numpy(np.ascontiguousarray(X_test, dtype=wl.dtype))
        self.y_test = torch.from_numpy(y_test.astype(np.int64))
        self.gen = torch.Generator().manual_seed(1)

    def epoch(self) -> None:
        perm = self.torch.randperm(len(self.X), generator=self.gen)
        X, T = self.X[perm], self.T[perm]
        B, model, opt, loss_fn = self.wl.batch_size, self.model, self.opt, self.loss_fn
        for k in range(0, len(X), B):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[k : k + B]), T[k : k + B])
            loss.backward()
            opt.step()

    def accuracy(self) -> float:
        with self.torch.inference_mode():
            pred = self.model(self.X_test).argmax(1)
        return float((pred == self.y_test).double().mean())

    def info(self) -> dict[str, Any]:
        t = self.torch
        return {
            "version": t.__version__,
            "param_dtype": str(next(self.model.parameters()).dtype),
            "num_threads": t.get_num_threads(),
            "mkldnn": bool(t.backends.mkldnn.is_available()),
        }


class SklearnTrainer:
    """scikit-learn MLPClassifier, solver="sgd", alpha=0, momentum=0, one epoch per partial_fit call."""

    name = "sklearn"

    def __init__(self, wl: Workload, threads: int) -> None:
        reason = not_applicable("sklearn", wl)
        if reason:
            raise ValueError(reason)
        self.wl = wl

    def setup(self, X, y, X_test, y_test) -> None:
        from sklearn.neural_network import MLPClassifier

        wl = self.wl
        self.clf = MLPClassifier(
            hidden_layer_sizes=wl.sizes[1:-1],
            activation={"sigmoid": "logistic"}.get(wl.hidden, wl.hidden),
            solver="sgd",
            alpha=0.0,
            batch_size=wl.batch_size,
            learning_rate="constant",
            learning_rate_init=wl.eta,
            momentum=0.0,
            nesterovs_momentum=False,
            shuffle=True,
            random_state=0,
        )
        self.X = np.ascontiguousarray(X, dtype=wl.dtype)
        self.y = y
        self.classes = np.arange(wl.sizes[-1])
        self.X_test, self.y_test = np.ascontiguousarray(X_test, dtype=wl.dtype), y_test

    def epoch(self) -> None:
        self.clf.partial_fit(self.X, self.y, classes=self.classes)

    def accuracy(self) -> float:
        return float(self.clf.score(self.X_test, self.y_test))

    def info(self) -> dict[str, Any]:
        import sklearn

        return {"version": sklearn.__version__, "param_dtype": str(self.clf.coefs_[0].dtype)}


class BpframeTrainer:
    """bpframe: ``Network(...).fit(X, y, epochs=1, ...)`` once per timed epoch (shuffling is fit's own), with
    ``bp.set_num_threads(threads)``."""

    name = "bpframe"

    def __init__(self, wl: Workload, threads: int) -> None:
        import bpframe as bp

        bp.set_num_threads(threads)  # bpframe's own setting (default 1, whatever OPENBLAS_NUM_THREADS says)
        self.bp, self.wl = bp, wl
        # steady state is the compiled engine's: a one-epoch fit would otherwise train in the NumPy tier until
        # compiling pays off (the engine gives the same numbers either way). bpframe 0.1 ignores the variable.
        os.environ["BPFRAME_ENGINE"] = "compiled"

    def setup(self, X, y, X_test, y_test) -> None:
        wl = self.wl
        self.net = self.bp.Network(
            list(wl.sizes), activation=wl.bpframe_activation, loss=wl.loss, dtype=wl.dtype, seed=0
        )
        self.X, self.y = np.ascontiguousarray(X, dtype=wl.dtype), y
        self.X_test, self.y_test = np.ascontiguousarray(X_test, dtype=wl.dtype), y_test

    def epoch(self) -> None:
        self.net.fit(self.X, self.y, epochs=1, batch_size=self.wl.batch_size, eta=self.wl.eta, verbose=0)

    def accuracy(self) -> float:
        acc = float(self.net.evaluate(self.X_test, self.y_test)["accuracy"])
        return acc / 100.0 if acc > 1.0 else acc

    def info(self) -> dict[str, Any]:
        bp = self.bp
        return {"version": str(getattr(bp, "__version__", "?")), "path": os.path.dirname(bp.__file__)}


class FloorTrainer:
    """Not a trainer: the workload's matrix products and shuffled row gather alone (``floor.py``), the time no
    implementation can beat with this BLAS. It learns nothing, so it has no accuracy."""

    name = "floor"

    def __init__(self, wl: Workload, threads: int) -> None:
        import floor

        self.floor, self.wl = floor, wl

    def setup(self, X, y, X_test, y_test) -> None:
        self.X = np.ascontiguousarray(X, dtype=self.wl.dtype)
        self.weights = self.floor.random_weights(self.wl.sizes, self.wl.dtype)
        self.rng = np.random.default_rng(1)

    def epoch(self) -> None:
        self.floor.epoch(self.X, self.rng.permutation(len(self.X)), self.weights, self.wl.batch_size, True)

    def accuracy(self) -> None:
        return None

    def info(self) -> dict[str, Any]:
        import numba

        return {"version": numba.__version__, "what": "matrix products + row gather only"}


_TRAINERS = {t.name: t for t in (NumpyTrainer, TorchTrainer, SklearnTrainer, BpframeTrainer, FloorTrainer)}
_TRAINERS["v1"] = BpframeTrainer  # the same calls, on the bpframe that benchmarks/run.py --v1 puts first on the path


def make_trainer(impl: str, wl: Workload, threads: int):
    """The trainer object for ``impl`` (imports that library)."""
    return _TRAINERS[impl](wl, threads)
