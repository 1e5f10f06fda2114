"""Pictures of uncertainty: the posterior weights of a Bayesian mixture, and bootstrap intervals.

Like the rest of :mod:`emix.teach.plot`, every function returns a
:class:`matplotlib.figure.Figure` built with the object API (no pyplot, no
global state); write it with :func:`emix.teach.plot.save_figure`, which
writes atomically.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import colour as _colour
from ._base import figure as _figure


def plot_posterior_weights(
    model: Any, *, conf_level: float = 0.95, n_draws: int = 4000, random_state: int = 0
):
    """Bars of a :class:`~emix.BayesianGaussianMixture`'s posterior weights, with credible intervals.

    Components are drawn in their order (for a Dirichlet process, the order
    of the sticks); each bar is the posterior mean ``weights_[k]``, its
    whisker the central ``conf_level`` interval of ``q(pi_k)`` from
    ``n_draws`` draws (:meth:`~emix.BayesianGaussianMixture.sample_weights`).
    The dashed line is ``1 / K``; the title counts the components whose
    weight exceeds 1%.

    Parameters
    ----------
    model : fitted BayesianGaussianMixture
    conf_level : float, default=0.95
    n_draws : int, default=4000
    random_state : int, default=0

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_posterior_weights
    >>> X = emix.datasets.load_faithful()
    >>> bgm = emix.BayesianGaussianMixture(
    ...     5, weight_concentration_prior=0.01, max_iter=500, random_state=0
    ... ).fit(X)
    >>> fig = plot_posterior_weights(bgm, n_draws=500)
    >>> len(fig.axes), len(fig.axes[0].patches)  # one bar per component
    (1, 5)
    """
    w = np.asarray(model.weights_, dtype=np.float64)
    k = len(w)
    draws = model.sample_weights(n_draws, random_state=random_state)
    lo, hi = np.quantile(draws, [(1 - conf_level) / 2, (1 + conf_level) / 2], axis=0)
    fig = _figure(max(4.0, 0.55 * k + 2.0), 3.6)
    ax = fig.add_subplot()
    x = np.arange(k)
    ax.bar(x, w, color=[_colour(j) for j in range(k)], alpha=0.8, width=0.7)
    # (a tiny weight's posterior is so skewed that its mean may lie outside the central interval)
    ax.vlines(x, lo, hi, color="black", lw=1)
    ax.hlines(np.concatenate([lo, hi]), np.tile(x - 0.12, 2), np.tile(x + 0.12, 2), color="black", lw=1)
    ax.axhline(1.0 / k, ls="--", lw=0.8, color="grey", label="1 / K")
    ax.set_xticks(x)
    ax.set_xlabel("component")
    ax.set_ylabel("weight")
    ax.set_ylim(0, max(1.05 * float(hi.max()), 1.2 / k))
    prior = getattr(model, "weight_concentration_prior_type", "")
    alpha = getattr(model, "weight_concentration_prior_", None)
    used = int(np.sum(w > 0.01))
    ax.set_title(
        f"posterior weights ({prior}, alpha_0 = {alpha:.3g}): {used} of {k} above 1%"
        + f"\nbars: posterior mean; whiskers: {100 * conf_level:g}% credible interval",
        fontsize=9,
    )
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def plot_intervals(result: Any, *, max_features: int = 4):
    """Bootstrap estimates and percentile intervals, one small panel per parameter.

    Panels: the weights, then per feature the means, then the covariance
    entries (upper triangle) of the first ``max_features`` features; each
    panel shows every component's estimate (dot), its percentile interval
    (thick line) and the spread of the replicates (thin line, 1st to 99th
    percentile).

    Parameters
    ----------
    result : BootstrapResult
        What :func:`emix.bootstrap` returned.
    max_features : int, default=4
        Features shown in the mean and covariance panels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_intervals
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> result = emix.bootstrap(gm, X, n_boot=20, random_state=0)
    >>> len(plot_intervals(result).axes)  # the weights, two means, three covariance entries
    6
    """
    panels = _panels(result, max_features)
    cols = min(3, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    fig = _figure(3.2 * cols, 2.3 * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (title, est, reps, lo, hi) in zip(axes.ravel(), panels, strict=False):
        k = len(est)
        y = np.arange(k)[::-1]
        wide = np.quantile(reps, [0.01, 0.99], axis=0) if len(reps) else np.stack([est, est])
        for j in range(k):
            c = _colour(j)
            ax.plot(wide[:, j], [y[j]] * 2, color=c, lw=1, alpha=0.6)
            ax.plot([lo[j], hi[j]], [y[j]] * 2, color=c, lw=4, solid_capstyle="butt")
            ax.plot(est[j], y[j], "o", color="black", ms=4)
        ax.set_yticks(y)
        ax.set_yticklabels([f"k={j}" for j in range(k)], fontsize=8)
        ax.set_ylim(-0.6, k - 0.4)
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{result.kind} bootstrap, {result.n_replicates} replicates: estimate, "
        f"{100 * result.conf_level:g}% interval (thick), 1-99% of replicates (thin)",
        fontsize=9,
    )
    return fig


def _panels(
    result: Any, max_features: int
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(title, estimate (K,), replicates (B, K), lower (K,), upper (K,))`` per panel."""
    names = result.feature_names
    out = []

    def add(title, name, idx):
        sl = (slice(None), *idx)
        out.append(
            (
                title,
                result.estimate[name][sl],
                result.replicates[name][(slice(None), *sl)],
                result.lower[name][sl],
                result.upper[name][sl],
            )
        )

    add("weight", "weights", ())
    for name, est in result.estimate.items():
        if name == "weights":
            continue
        d = min(est.shape[1], max_features) if est.ndim > 1 else 0
        if name == "covariances":
            for i in range(d):
                for j in range(i, d):
                    add(f"cov {names[i]}, {names[j]}", name, (i, j))
        elif est.ndim == 2:
            for i in range(d):
                add(f"{name.rstrip('s')} {names[i]}", name, (i,))
    return out
