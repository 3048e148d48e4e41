"""Draw a [3, 4, 2] network with the quantities of the four equations marked, and their names in bpframe.

    python docs/figures/network_diagram.py docs/_generated/network_diagram.png

The docs build runs this (see ``make_figures`` in ``docs/conf.py``); it only needs matplotlib.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the non-interactive backend

SIZES = (3, 4, 2)
X_GAP = 4.2  # horizontal distance between layers
Y_GAP = 1.25  # vertical distance between neurons
RADIUS = 0.36
FORWARD, BACKWARD, NEUTRAL, LIGHT = "#1f6fb4", "#c0392b", "#333333", "#c8c8c8"
J, K = 0, 3  # the highlighted weight w^2_{jk}: neuron k of layer 1 into neuron j of layer 2 (0-based, as in code)


def positions() -> list[list[tuple[float, float]]]:
    """The centre of every neuron, layer by layer, each layer centred vertically."""
    return [[(l * X_GAP, (n - 1) / 2 * Y_GAP - i * Y_GAP) for i in range(n)] for l, n in enumerate(SIZES)]


def draw(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 6.2))
    ax.set_xlim(-2.2, 2 * X_GAP + 3.2)
    ax.set_ylim(-5.0, 3.3)
    ax.set_aspect("equal")
    ax.axis("off")
    pos = positions()

    for l in (1, 2):  # every weight, light; the one we name, dark
        for j, (xj, yj) in enumerate(pos[l]):
            for k, (xk, yk) in enumerate(pos[l - 1]):
                strong = l == 2 and j == J and k == K
                ax.plot([xk, xj], [yk, yj], color=NEUTRAL if strong else LIGHT, lw=2.2 if strong else 1, zorder=1)
    (xk, yk), (xj, yj) = pos[1][K], pos[2][J]
    ax.text((xk + xj) / 2 + 0.25, (yk + yj) / 2 - 0.1, r"$w^2_{jk}$", fontsize=15, ha="left", va="top", color=NEUTRAL,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})  # fmt: skip

    for l, layer in enumerate(pos):
        for x, y in layer:
            face = "#eef3f8" if l == 0 else "white"
            ax.add_patch(plt.Circle((x, y), RADIUS, facecolor=face, edgecolor=NEUTRAL, lw=1.4, zorder=2))

    # layer 0: the input
    ax.text(pos[0][0][0] - 0.6, pos[0][0][1], r"$a^0_k = x_k$", fontsize=13, ha="right", va="center")
    # layer 1: a hidden neuron k, the source of the named weight
    x, y = pos[1][K]
    ax.text(x, y, r"$k$", fontsize=12, ha="center", va="center", zorder=3)
    ax.text(x, y - 0.62, r"$z^1_k \;\; a^1_k \;\; \delta^1_k$", fontsize=12, ha="center", va="top")
    # layer 2 = L: the output neuron j
    x, y = pos[2][J]
    ax.text(x, y, r"$j$", fontsize=12, ha="center", va="center", zorder=3)
    ax.text(x + 0.55, y + 0.62, r"$z^2_j = \sum_k w^2_{jk}\, a^1_k + b^2_j$", fontsize=12.5, va="bottom",
            color=FORWARD)  # fmt: skip
    ax.text(x + 0.55, y + 0.08, r"$a^2_j = \sigma(z^2_j)$", fontsize=12.5, va="center", color=FORWARD)
    ax.text(x + 0.55, y - 0.5, r"$\delta^2_j = \partial C / \partial z^2_j$", fontsize=12.5, va="center",
            color=BACKWARD)  # fmt: skip
    ax.text(pos[2][-1][0] + 0.55, pos[2][-1][1], r"$C(a^2, y)$", fontsize=13, va="center")

    # the two directions
    top, bottom = 2.75, -3.75
    ax.annotate("", xy=(2 * X_GAP, top), xytext=(0, top),
                arrowprops={"arrowstyle": "-|>", "color": FORWARD, "lw": 1.8})  # fmt: skip
    ax.text(X_GAP, top + 0.15, r"forward pass: $z^l = w^l a^{l-1} + b^l,\;\; a^l = \sigma(z^l)$",
            ha="center", va="bottom", fontsize=12, color=FORWARD)  # fmt: skip
    ax.annotate("", xy=(X_GAP, bottom), xytext=(2 * X_GAP, bottom),
                arrowprops={"arrowstyle": "-|>", "color": BACKWARD, "lw": 1.8})  # fmt: skip
    ax.text(1.5 * X_GAP, bottom - 0.15, r"BP1: $\delta^2$ from $\nabla_a C$ and $z^2$", ha="center", va="top",
            fontsize=11.5, color=BACKWARD)  # fmt: skip
    ax.text(0.5 * X_GAP, bottom - 0.15, r"BP2: $\delta^1$ from $\delta^2$ and $w^2$", ha="center",
            va="top", fontsize=11.5, color=BACKWARD)  # fmt: skip
    ax.text(X_GAP, bottom - 0.7, r"BP3, BP4: $\partial C/\partial b^l = \delta^l,\;\;"
            r"\partial C/\partial w^l_{jk} = a^{l-1}_k\,\delta^l_j$", ha="center", va="top", fontsize=11.5,
            color=BACKWARD)  # fmt: skip

    # what each layer is called in bpframe
    names = ("layer 0 (input)\na[0]", "layer 1 (hidden)\nz[1]  a[1]  delta[1]", "layer 2 = L (output)\n"
             "z[2]  a[2]  delta[2]")  # fmt: skip
    for l, text in enumerate(names):
        ax.text(l * X_GAP, -2.95, text, ha="center", va="top", fontsize=10,
                family="monospace", color="#555555")  # fmt: skip
    for l in (1, 2):
        ax.text((l - 0.5) * X_GAP, 2.2, f"weights[{l}]  {SIZES[l]}×{SIZES[l - 1]}\nbiases[{l}]  ({SIZES[l]},)",
                ha="center", va="center", fontsize=10, family="monospace", color="#555555")  # fmt: skip

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"{path.name}: network {list(SIZES)}")


if __name__ == "__main__":
    draw(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("network_diagram.png"))
