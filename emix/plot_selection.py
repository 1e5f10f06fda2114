"""The BIC-versus-K picture of a model selection (matplotlib is imported here only)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_criterion", "save_criterion_plot"]

_MARKERS = "os^vD<>ph*XP8dH"


def plot_criterion(result, criterion: str = "bic", ax: Any = None):
    """Draw ``criterion`` against K, one line per model, the best fit circled.

    Parameters
    ----------
    result : SelectionResult
        What :func:`emix.select` returned.
    criterion : {'bic', 'icl', 'aic', 'log_likelihood'}, default='bic'
        Plotted in mclust's sign (larger is better); degenerate fits are gaps.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    values = result.table(criterion)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    ks = np.asarray(result.n_components)
    for j, model in enumerate(result.models):
        ax.plot(ks, values[:, j], marker=_MARKERS[j % len(_MARKERS)], markersize=4, linewidth=1, label=model)
    best = result.record(result.best_model, result.best_n_components)
    y = getattr(best, criterion)
    if np.isfinite(y):
        ax.plot([best.n_components], [y], "o", markersize=12, markerfacecolor="none", color="black")
    ax.set_xlabel("number of components K")
    ax.set_ylabel(f"{criterion.upper()} (larger is better)")
    ax.set_xticks(ks)
    ax.set_title(f"best: {result.best_model}, K = {result.best_n_components} (by {result.criterion.upper()})")
    ax.legend(ncol=2, fontsize="small", loc="best")
    ax.grid(True, alpha=0.3)
    return ax


def save_criterion_plot(result, path, criterion: str = "bic") -> None:
    """Write the :func:`plot_criterion` picture to ``path`` (format from its suffix)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot_criterion(result, criterion=criterion, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
