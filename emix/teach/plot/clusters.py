"""Pictures of the data and its components: clusters, ellipses, and responsibilities as colour blends.

Models fitted on standardised features can be drawn in the data's own units:
pass the ``loc`` and ``scale`` used (``X_model = (X - loc) / scale``) and the
data ``X`` in its own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import (
    Components,
    blend_colours,
    colour,
    components,
    figure,
    from_model,
    limits,
    names_or_default,
)

__all__ = ["plot_clusters", "plot_responsibilities", "plot_trace_responsibilities"]


def ellipses(ax, comps: Components, dims: tuple[int, int]) -> None:
    """Draw each component's 1 and 2 sigma ellipses on ``dims`` and mark its mean."""
    from matplotlib.patches import Ellipse

    i, j = dims
    for k, (mu, cov) in enumerate(zip(comps.means, comps.covariances, strict=True)):
        c = cov[np.ix_([i, j], [i, j])]
        vals, vecs = np.linalg.eigh(c)
        angle = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1])))
        for n_sigma, style in ((1, "-"), (2, "--")):
            width, height = 2 * n_sigma * np.sqrt(np.maximum(vals[::-1], 0))
            ax.add_patch(
                Ellipse(
                    (mu[i], mu[j]),
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    lw=1.6,
                    ls=style,
                    ec=colour(k),
                    zorder=3,
                )
            )
        ax.plot(mu[i], mu[j], marker="X", ms=9, mec="black", mfc=colour(k), zorder=4)


def panel(
    ax,
    X: np.ndarray,
    point_colours: Any,
    comps: Components | None,
    dims: tuple[int, int],
    contours: bool = True,
    size: float = 12,
) -> None:
    """One scatter panel of ``dims``: points in ``point_colours``, and the components when given."""
    i, j = dims
    xlim, ylim = limits(X[:, i], comps, i), limits(X[:, j], comps, j)
    if contours and comps is not None:
        gx, gy = np.meshgrid(np.linspace(*xlim, 120), np.linspace(*ylim, 120))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        z = comps.log_density(grid, (i, j)).reshape(gx.shape)
        levels = float(z.max()) - np.array([9.0, 7.0, 5.0, 3.5, 2.0, 1.0, 0.3])
        ax.contour(gx, gy, z, levels=levels, colors="0.55", linewidths=0.7, zorder=1)
    ax.scatter(X[:, i], X[:, j], s=size, c=point_colours, alpha=0.8, linewidths=0, zorder=2)
    if comps is not None:
        ellipses(ax, comps, (i, j))
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)


def histogram(ax, x: np.ndarray, labels: np.ndarray, n_components: int) -> None:
    """Histograms of ``x`` by component, on shared bins."""
    bins = np.histogram_bin_edges(x, bins="auto")[:60]
    for k in range(n_components):
        sel = x[labels == k]
        if sel.size:
            ax.hist(sel, bins=bins, color=colour(k), alpha=0.55)
    ax.set_yticks([])


def plot_clusters(
    model: Any,
    X: Any,
    *,
    feature_names: Sequence[str] | None = None,
    loc: Any = None,
    scale: Any = None,
    title: str | None = None,
):
    """Points coloured by component, 1 and 2 sigma ellipses and density contours.

    With two features this is one panel; with more it is a pairs grid (each
    off-diagonal panel shows the marginal mixture of two features, the
    diagonal the histogram of one feature by component).

    Parameters
    ----------
    model : fitted GaussianMixture
    X : array-like of shape (n_samples, D)
        Data in its own units.
    feature_names : sequence of D str, optional
    loc, scale : array-like of shape (D,), optional
        The standardisation the model was fitted under.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_clusters
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> len(plot_clusters(gm, X, feature_names=["eruptions", "waiting"]).axes)
    1

    Three features give a 3 x 3 grid of pairs:

    >>> X3 = emix.datasets.load_iris()[:, :3]
    >>> len(plot_clusters(emix.GaussianMixture(2, random_state=0).fit(X3), X3).axes)
    9
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    comps = from_model(model, loc, scale)
    labels = comps.labels(X)
    colours = [colour(int(k)) for k in labels]
    names = names_or_default(feature_names, d)
    k = len(comps.weights)
    if d == 1:
        fig = figure(6.0, 4.0)
        ax = fig.add_subplot()
        histogram(ax, X[:, 0], labels, k)
        ax.set_xlabel(names[0])
    elif d == 2:
        fig = figure(6.0, 4.8)
        ax = fig.add_subplot()
        panel(ax, X, colours, comps, (0, 1))
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    else:
        size = min(2.2 * d, 12.0)
        fig = figure(size, size)
        axes = fig.subplots(d, d, squeeze=False)
        for r in range(d):
            for c in range(d):
                ax = axes[r][c]
                if r == c:
                    histogram(ax, X[:, r], labels, k)
                else:
                    panel(ax, X, colours, comps, (c, r), contours=n <= 50_000)
                _pair_labels(ax, names, r, c, d)
    if title:
        fig.suptitle(title)
    return fig


def _pair_labels(ax, names: list[str], r: int, c: int, d: int) -> None:
    if r == d - 1:
        ax.set_xlabel(names[c])
    else:
        ax.tick_params(labelbottom=False)
    if c == 0:
        ax.set_ylabel(names[r])
    ax.tick_params(labelsize=7)


def _legend(ax, n_components: int) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], ls="", marker="o", ms=7, mfc=colour(k), mec="none", label=f"k = {k}")
        for k in range(n_components)
    ]
    ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.8)


def _model_parts(model: Any, X: np.ndarray, q: Any, loc: Any, scale: Any):
    """``q`` (the model's posterior when None) and the Gaussian components to draw, if any."""
    comps = None
    if model is not None and hasattr(model, "means_") and hasattr(model, "covariances_"):
        comps = from_model(model, loc, scale)
    if q is None:
        if model is None:
            from ...exceptions import InvalidParameterError

            raise InvalidParameterError("give the responsibilities q, or a fitted model to compute them")
        Z = X if loc is None else X - np.asarray(loc, dtype=np.float64)
        Z = Z if scale is None else Z / np.asarray(scale, dtype=np.float64)
        q = model.predict_proba(Z)
    return np.asarray(q, dtype=np.float64), comps


def plot_responsibilities(
    X: Any,
    q: Any = None,
    *,
    model: Any = None,
    dims: tuple[int, int] = (0, 1),
    feature_names: Sequence[str] | None = None,
    loc: Any = None,
    scale: Any = None,
    title: str | None = None,
    ax: Any = None,
):
    """Each point coloured by the mix of its components' colours: the responsibilities at a glance.

    A point that component 0 (blue) and component 1 (red) share equally is
    purple; one that a component owns has that component's colour. With one
    feature the points lie on a line, and the curves below show ``q_nk``
    against ``x``.

    Parameters
    ----------
    X : array-like of shape (n_samples, D)
        The data, in its own units.
    q : array-like of shape (n_samples, K), optional
        Responsibilities (any rows summing to one); default: the model's
        posterior ``predict_proba``.
    model : fitted emix estimator, optional
        Gives ``q`` when it is omitted; a Gaussian or Student-t model also
        draws its ellipses.
    dims : (int, int), default=(0, 1)
        The two features drawn.
    feature_names : sequence of D str, optional
    loc, scale : array-like of shape (D,), optional
        The standardisation ``model`` was fitted under.
    title : str, optional
    ax : matplotlib Axes, optional
        Where to draw (two features only); a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_responsibilities
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> len(plot_responsibilities(X, model=gm).axes)
    1

    One feature: the points on a line above the curves ``q_nk``:

    >>> len(plot_responsibilities(X[:, :1], gm.predict_proba(X)).axes)
    2
    """
    X = np.asarray(X, dtype=np.float64)
    q, comps = _model_parts(model, X, q, loc, scale)
    names = names_or_default(feature_names, X.shape[1])
    if X.shape[1] == 1:
        return _responsibilities_1d(X[:, 0], q, names[0], title)
    fig = figure(6.0, 4.8) if ax is None else ax.figure
    ax = fig.add_subplot() if ax is None else ax
    panel(ax, X, blend_colours(q), comps, dims, contours=False, size=18)
    ax.set_xlabel(names[dims[0]])
    ax.set_ylabel(names[dims[1]])
    _legend(ax, q.shape[1])
    ax.set_title(title or "responsibilities as colour blends: Σ_k q_nk · colour_k", fontsize=10)
    return fig


def _responsibilities_1d(x: np.ndarray, q: np.ndarray, name: str, title: str | None):
    fig = figure(6.4, 4.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1, 2))
    jitter = np.random.default_rng(0).uniform(-1, 1, x.size)
    top.scatter(x, jitter, s=14, c=blend_colours(q), linewidths=0)
    top.set_yticks([])
    order = np.argsort(x)
    for k in range(q.shape[1]):
        bottom.plot(x[order], q[order, k], color=colour(k), lw=1.5, marker=".", ms=3, label=f"q_n{k}")
    bottom.set_ylim(-0.03, 1.03)
    bottom.set_ylabel("q_nk")
    bottom.set_xlabel(name)
    bottom.legend(fontsize=8, loc="best")
    bottom.grid(alpha=0.3)
    top.set_title(title or "responsibilities as colour blends", fontsize=10)
    return fig


def plot_trace_responsibilities(
    trace: Any,
    *,
    iterations: Sequence[int] | None = None,
    dims: tuple[int, int] = (0, 1),
    feature_names: Sequence[str] | None = None,
    columns: int = 3,
):
    """The responsibilities of a trace's E-steps as colour blends, one panel per iteration.

    Each panel shows ``q = p(z | X, θ_t)`` of one E-step; for a Gaussian or
    Student-t trace also the components ``θ_t`` it was computed under.

    Parameters
    ----------
    trace : EMTrace
        What :func:`emix.teach.trace_em` returned (data with at least two features).
    iterations : sequence of int, optional
        Which E-steps (1 for the first); default: all, at most nine spread over the run.
    dims : (int, int), default=(0, 1)
    feature_names : sequence of D str, optional
    columns : int, default=3

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from emix.teach import trace_lecture_example
    >>> from emix.teach.plot import plot_trace_responsibilities
    >>> trace = trace_lecture_example(n_iter=3)
    >>> len(plot_trace_responsibilities(trace).axes)  # one panel per E-step
    3
    >>> len(plot_trace_responsibilities(trace, iterations=[1]).axes)
    1
    """
    X = trace.X
    e_steps = [s for s in trace.steps if s.step == "E"]
    if iterations is None:
        pick = np.unique(np.round(np.linspace(0, len(e_steps) - 1, min(9, len(e_steps)))).astype(int))
        chosen = [e_steps[i] for i in pick]
    else:
        chosen = [s for s in e_steps if s.iteration in set(iterations)]
    names = names_or_default(feature_names, X.shape[1])
    cols = max(1, min(columns, len(chosen)))
    rows = -(-len(chosen) // cols)
    fig = figure(3.3 * cols, 3.0 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, s in zip(axes, chosen, strict=False):
        comps = None
        if "means" in s.arrays and "covariances" in s.arrays:
            comps = components(s.weights, s.arrays["means"], s.arrays["covariances"], "full")
        panel(ax, X, blend_colours(s.responsibilities), comps, dims, contours=False, size=22)
        ax.set_title(f"E-step {s.iteration}: ln p = {s.log_likelihood:.3f}", fontsize=9)
        ax.set_xlabel(names[dims[0]], fontsize=8)
        ax.set_ylabel(names[dims[1]], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(chosen) :]:
        ax.set_visible(False)
    return fig
