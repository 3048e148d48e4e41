"""Draw the learning curves of the book's network on the digits shipped with bpframe.

    python docs/figures/learning_curve.py docs/_generated/learning_curve.png

The docs build runs this (see ``make_figures`` in ``docs/conf.py``). The seed is fixed, so the curves are the
same on every build up to the last bits of floating point; it takes a few seconds, most of it compiling the
kernels the first time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import bpframe as bp
from bpframe.datasets import load_digits


def main(path: Path) -> None:
    X, y = load_digits("train")
    X_test, y_test = load_digits("test")
    net = bp.Network([64, 30, 10], activation="sigmoid", loss="quadratic", seed=0)
    history = net.fit(X, y, epochs=30, batch_size=10, eta=3.0, validation_data=(X_test, y_test), verbose=0)
    history.plot(path)
    print(
        f"{path.name}: after {len(history)} epochs, training accuracy {history.accuracy[-1]:.3f}, "
        f"validation accuracy {history.val_accuracy[-1]:.3f}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("learning_curve.png"))
