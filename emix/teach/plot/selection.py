"""Model selection drawn: a criterion against K, one line per covariance model."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import figure

__all__ = ["plot_criterion"]

_MARKERS = "os^vD<>ph*XP8dH"


def plot_criterion(result: Any, criterion: str = "bic", ax: Any = None) -> Any:
    """Draw a model-selection criterion against K, one line per covariance model.

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
    fig : matplotlib.figure.Figure
        The figure drawn on (save it with :func:`save_figure`).

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_criterion
    >>> result = emix.select(emix.datasets.load_faithful(), [1, 2, 3], models=["EII", "VVV"], n_jobs=1)
    >>> fig = plot_criterion(result)
    >>> len(fig.axes), len(fig.axes[0].get_legend().get_texts())  # one line per model
    (1, 2)
    """
    if ax is None:
        fig = figure(7, 4.5)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    values = result.table(criterion)
    ks = np.asarray(result.n_components)
    for j, model in enumerate(result.models):
        ax.plot(ks, values[:, j], marker=_MARKERS[j % len(_MARKERS)], markersize=4, linewidth=1, label=model)
    best = result.best
    y = getattr(best, criterion)
    if np.isfinite(y):
        ax.plot([best.n_components], [y], "o", markersize=12, markerfacecolor="none", color="black")
    ax.set_xlabel("number of components K")
    ax.set_ylabel(f"{criterion.upper()} (larger is better)")
    ax.set_xticks(ks)
    ax.set_title(f"best: {result.best_model}, K = {result.best_n_components} (by {result.criterion.upper()})")
    ax.legend(ncol=2, fontsize="small", loc="best")
    ax.grid(True, alpha=0.3)
    return fig
