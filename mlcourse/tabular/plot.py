"""Training curves: loss and accuracy per epoch, for notebook 03 and the d3 command line."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def plot_history(history: list[dict[str, float]], title: str = "training", path: Path | None = None) -> Figure:
    """Two panels, loss and accuracy, train and validation; saved as PNG when `path` is given."""
    epochs = range(1, len(history) + 1)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(9, 3.2))
    for axis, metric in ((loss_axis, "loss"), (accuracy_axis, "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            key = prefix + metric
            if history and key in history[0]:
                axis.plot(epochs, [row[key] for row in history], style, label=key)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100)
    return figure
