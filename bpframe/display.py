"""Rich display of a network in Jupyter: an HTML table of its layers and its training so far.

Jupyter calls :meth:`bpframe.Network._repr_html_`, which returns :func:`network_html`; a terminal keeps the
one-line ``repr``. Everything shown is escaped, since plugin names and descriptions come from other packages.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["network_html", "network_rows"]

_STYLE = (
    "<style>.bpframe-net{border-collapse:collapse;font-family:monospace;font-size:0.9em}"
    ".bpframe-net td,.bpframe-net th{border:1px solid #bbb;padding:2px 8px;text-align:left}"
    ".bpframe-net caption{text-align:left;font-weight:bold;padding-bottom:4px}</style>"
)


def network_rows(net: Any) -> list[tuple[str, str, str, str]]:
    """One ``(layer, neurons, activation, parameters)`` row per layer, input first.

    Examples
    --------
    >>> import bpframe as bp
    >>> network_rows(bp.Network([4, 3, 2], ["tanh", "softmax"], "cross_entropy"))
    [('0 (input)', '4', '', ''), ('1', '3', 'tanh', '15'), ('2', '2', 'softmax', '8')]
    """
    rows = [("0 (input)", str(net.sizes[0]), "", "")]
    for l in range(1, len(net.sizes)):
        count = net.sizes[l] * net.sizes[l - 1] + net.sizes[l]
        rows.append((str(l), str(net.sizes[l]), net.activations[l - 1].name, f"{count:,}"))
    return rows


def _training_lines(net: Any) -> list[str]:
    """What training did so far: epochs, the last epoch's metrics, the optimizer's state."""
    history = net.history
    if not len(history):
        return ["not trained yet"]
    last = f"epoch {history.epoch[-1]}: cost {history.cost[-1]:.4g}, accuracy {history.accuracy[-1]:.4g}"
    if history.val_cost:
        last += f", val_cost {history.val_cost[-1]:.4g}, val_accuracy {history.val_accuracy[-1]:.4g}"
    lines = [f"{len(history)} epochs trained", last]
    state = net.snapshot().optimizer
    if state is not None:
        lines.append(f"optimizer {state.config.get('name', '?')}, step {int(state.step)}")
    return lines


def network_html(net: Any) -> str:
    """The HTML table Jupyter shows for a network.

    Examples
    --------
    >>> import bpframe as bp
    >>> text = network_html(bp.Network([4, 3, 2], ["tanh", "softmax"], "cross_entropy"))
    >>> "<td>softmax</td>" in text and "not trained yet" in text
    True
    """
    esc = html.escape
    total = sum(int(row[3].replace(",", "") or 0) for row in network_rows(net))
    caption = f"Network {esc(str(list(net.sizes)))}: {total:,} parameters, {esc(net.dtype.name)}"
    head = "<tr><th>layer</th><th>neurons</th><th>activation</th><th>parameters</th></tr>"
    body = "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in network_rows(net))
    facts = [f"loss {net.loss.name}", f"seed {net.seed}", *_training_lines(net)]
    foot = "".join(f"<tr><td colspan='4'>{esc(line)}</td></tr>" for line in facts)
    return f"{_STYLE}<table class='bpframe-net'><caption>{caption}</caption>{head}{body}{foot}</table>"
