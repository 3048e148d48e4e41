"""PyTorch doing the job ``bpframe train`` does, for benchmarks/first_result.py: one process, timed as a whole.

    torch_job.py DIGITS_NPZ --hidden 64 --activation relu --dtype float64 --optimizer momentum --eta 0.05
                 [--loss cross_entropy|quadratic] [--epochs 30] [--batch-size 16] [--seed 0]

The same digits file and split, the same network (hidden layers with one activation, then softmax), cost,
optimizer, batch size and epochs, one thread, a shuffled epoch of index-gathered mini-batches (no DataLoader: it
would add per-batch Python overhead), the test split scored after every epoch as ``bpframe train`` scores its
validation data, and once at the end. Prints one line: ``torch: test accuracy A``.
"""

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np
import torch

ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "swish": torch.nn.SiLU,
               "gelu": torch.nn.GELU, "softplus": torch.nn.Softplus}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("digits")
    parser.add_argument("--hidden", default="64")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--loss", default="cross_entropy")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--optimizer", default="momentum")
    parser.add_argument("--eta", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    data = np.load(args.digits)
    images, labels = data["images"] / 16.0, data["labels"].astype(np.int64)
    train, test = data["train_index"], data["test_index"]
    X, y = torch.from_numpy(images[train]).to(dtype), torch.from_numpy(labels[train])
    Xt, yt = torch.from_numpy(images[test]).to(dtype), torch.from_numpy(labels[test])
    sizes = [64, *(int(h) for h in args.hidden.split(",")), 10]
    layers: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        layers.append(ACTIVATIONS[args.activation]() if i < len(sizes) - 2 else torch.nn.Identity())
    model = torch.nn.Sequential(*layers).to(dtype)
    if args.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), lr=args.eta)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=args.eta, momentum=0.9)

    def cost(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if args.loss == "cross_entropy":
            return torch.nn.functional.cross_entropy(logits, target)
        onehot = torch.nn.functional.one_hot(target, 10).to(dtype)
        return 0.5 * ((torch.softmax(logits, 1) - onehot) ** 2).sum(1).mean()

    def score() -> float:
        with torch.no_grad():
            out = model(Xt)
            cost(out, yt).item()
            return float((out.argmax(1) == yt).to(dtype).mean())

    for _ in range(args.epochs):
        order = torch.randperm(X.shape[0])
        for start in range(0, X.shape[0], args.batch_size):
            rows = order[start : start + args.batch_size]
            optimizer.zero_grad()
            cost(model(X[rows]), y[rows]).backward()
            optimizer.step()
        score()
    print(f"torch: test accuracy {score():.4f}")


if __name__ == "__main__":
    main()
