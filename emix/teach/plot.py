"""Pictures of mixtures and of EM at work (matplotlib, imported lazily).

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot`` (so nothing needs a display) or, for the animation, writes a file.
:func:`save_figure` writes a figure atomically.

Models fitted on standardised features can be drawn in the data's own units:
pass the ``loc`` and ``scale`` used (``X_model = (X - loc) / scale``) and the
data ``X`` in its own units.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "plot_clusters",
    "plot_convergence",
    "plot_trace",
    "animate_em",
    "plot_criterion",
    "save_figure",
]

_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)


def _colour(k: int) -> str:
    return _COLOURS[k % len(_COLOURS)]


@dataclasses.dataclass(frozen=True)
class _Components:
    """Mixture parameters in display units: weights (K,), means (K, D), full covariances (K, D, D)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def log_density(self, points: np.ndarray, dims: Sequence[int]) -> np.ndarray:
        """Log density of the marginal mixture on ``dims`` at ``points`` (m, len(dims))."""
        dims = list(dims)
        out = []
        for w, mu, cov in zip(self.weights, self.means, self.covariances, strict=True):
            c = cov[np.ix_(dims, dims)]
            chol = np.linalg.cholesky(c)
            z = np.linalg.solve(chol, (points - mu[dims]).T)
            logdet = 2.0 * np.log(np.diag(chol)).sum()
            out.append(np.log(w) - 0.5 * (np.sum(z * z, axis=0) + logdet + len(dims) * np.log(2 * np.pi)))
        a = np.stack(out, axis=1)
        m = a.max(axis=1, keepdims=True)
        return (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True)))[:, 0]

    def labels(self, X: np.ndarray) -> np.ndarray:
        """Most probable component of each row of ``X`` (n, D), in display units."""
        d = X.shape[1]
        cols = []
        for w, mu, cov in zip(self.weights, self.means, self.covariances, strict=True):
            single = _Components(np.ones(1), mu[None], cov[None])
            cols.append(np.log(w) + single.log_density(X, range(d)))
        return np.argmax(np.stack(cols, axis=1), axis=1)


def _components(weights, means, covariances, covariance_type: str, loc=None, scale=None) -> _Components:
    from ..families.gaussian import get_covariance_model

    model = get_covariance_model(covariance_type)
    means = np.asarray(means, dtype=np.float64)
    k, d = means.shape
    covs = np.stack([model.component_covariance(np.asarray(covariances), j, d) for j in range(k)])
    covs = covs.astype(np.float64)
    if scale is not None:
        s = np.asarray(scale, dtype=np.float64)
        means = means * s
        covs = covs * np.outer(s, s)
    if loc is not None:
        means = means + np.asarray(loc, dtype=np.float64)
    return _Components(np.asarray(weights, dtype=np.float64), means, covs)


def _from_model(model: Any, loc=None, scale=None) -> _Components:
    return _components(model.weights_, model.means_, model.covariances_, model.covariance_type, loc, scale)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _ellipses(ax, comps: _Components, dims: tuple[int, int]) -> None:
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
                    ec=_colour(k),
                    zorder=3,
                )
            )
        ax.plot(mu[i], mu[j], marker="X", ms=9, mec="black", mfc=_colour(k), zorder=4)


def _limits(values: np.ndarray, comps: _Components, dim: int) -> tuple[float, float]:
    sd = np.sqrt(comps.covariances[:, dim, dim])
    lo = min(values.min(), (comps.means[:, dim] - 2.2 * sd).min())
    hi = max(values.max(), (comps.means[:, dim] + 2.2 * sd).max())
    pad = 0.05 * (hi - lo or 1.0)
    return float(lo - pad), float(hi + pad)


def _panel(
    ax, X: np.ndarray, labels: np.ndarray, comps: _Components, dims: tuple[int, int], contours: bool = True
) -> None:
    i, j = dims
    xlim, ylim = _limits(X[:, i], comps, i), _limits(X[:, j], comps, j)
    if contours:
        gx, gy = np.meshgrid(np.linspace(*xlim, 120), np.linspace(*ylim, 120))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        z = comps.log_density(grid, (i, j)).reshape(gx.shape)
        top = float(z.max())
        levels = top - np.array([9.0, 7.0, 5.0, 3.5, 2.0, 1.0, 0.3])
        ax.contour(gx, gy, z, levels=levels, colors="0.55", linewidths=0.7, zorder=1)
    colours = [_colour(int(k)) for k in labels]
    ax.scatter(X[:, i], X[:, j], s=12, c=colours, alpha=0.75, linewidths=0, zorder=2)
    _ellipses(ax, comps, (i, j))
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)


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
    model : GaussianMixture
        A fitted Gaussian mixture (any ``covariance_type``).
    X : array-like of shape (n_samples, D)
        Data in its own units.
    feature_names : sequence of D str, optional
        Axis labels (default ``x0``, ``x1``...).
    loc, scale : array-like of shape (D,), optional
        The standardisation the model was fitted under.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_clusters, save_figure
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(X)
    >>> fig = plot_clusters(gm, X, feature_names=["eruptions", "waiting"], title="Old Faithful")
    >>> len(fig.axes)                            # two features: one panel
    1
    >>> save_figure(fig, "clusters.png")
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    comps = _from_model(model, loc, scale)
    labels = comps.labels(X)
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(d)]
    if d == 1:
        fig = _figure(6.0, 4.0)
        ax = fig.add_subplot()
        _histogram(ax, X[:, 0], labels, comps, 0)
        ax.set_xlabel(names[0])
    elif d == 2:
        fig = _figure(6.0, 4.8)
        ax = fig.add_subplot()
        _panel(ax, X, labels, comps, (0, 1))
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    else:
        size = min(2.2 * d, 12.0)
        fig = _figure(size, size)
        axes = fig.subplots(d, d, squeeze=False)
        for r in range(d):
            for c in range(d):
                ax = axes[r][c]
                if r == c:
                    _histogram(ax, X[:, r], labels, comps, r)
                else:
                    _panel(ax, X, labels, comps, (c, r), contours=n <= 50_000)
                if r == d - 1:
                    ax.set_xlabel(names[c])
                else:
                    ax.tick_params(labelbottom=False)
                if c == 0:
                    ax.set_ylabel(names[r])
                ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title)
    return fig


def _histogram(ax, x: np.ndarray, labels: np.ndarray, comps: _Components, dim: int) -> None:
    bins = np.histogram_bin_edges(x, bins="auto")[:60]
    for k in range(len(comps.weights)):
        sel = x[labels == k]
        if sel.size:
            ax.hist(sel, bins=bins, color=_colour(k), alpha=0.55)
    ax.set_yticks([])


def plot_convergence(history: Sequence[float], *, title: str | None = None):
    """The log-likelihood at each EM iteration.

    Parameters
    ----------
    history : sequence of float, length n_iter + 1
        ``GaussianMixture.history_``.
    title : str, optional
        Default: the number of iterations and the final log-likelihood.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_convergence
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> plot_convergence(gm.history_).axes[0].get_title()
    'EM convergence: 7 iterations, final -1130.2640'
    """
    h = np.asarray(history, dtype=np.float64)
    fig = _figure(6.0, 3.6)
    ax = fig.add_subplot()
    ax.plot(np.arange(h.size), h, marker="o", ms=3, color=_colour(0))
    ax.set_xlabel("iteration")
    ax.set_ylabel("ln p(X | θ)")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"EM convergence: {h.size - 1} iterations, final {h[-1]:.4f}")
    return fig


def plot_trace(trace: Any, *, title: str | None = None):
    """The E/M staircase of an :class:`~emix.teach.trace.EMTrace`.

    Top panel: the log-likelihood ``ln p(X|θ)`` and the lower bound
    ``L(q, θ)`` after every step. An E-step lifts the bound up to the
    log-likelihood; an M-step raises both. Bottom panel: the gap
    ``KL(q || p(z|X, θ))`` on a symmetric-log scale.

    Parameters
    ----------
    trace : EMTrace
        What :func:`~emix.teach.trace.trace_em` returned.
    title : str, optional
        The title of the top panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from emix.teach.plot import plot_trace
    >>> from emix.teach.trace import trace_lecture_example
    >>> fig = plot_trace(trace_lecture_example(n_iter=3))
    >>> len(fig.axes), fig.axes[0].get_title()
    (2, 'E-step closes the gap, M-step raises the bound')
    """
    states = [trace.initial, *trace.steps]
    x = np.arange(len(states))
    ll = np.array([s.log_likelihood for s in states])
    lb = np.array([s.lower_bound for s in states])
    kl = np.array([s.kl for s in states])
    fig = _figure(6.4, 5.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    top.plot(x, lb, marker="s", mfc="none", ms=8, color=_colour(0), lw=1.2, label="L(q, θ)", zorder=2)
    top.plot(x, ll, marker="o", ms=4, color=_colour(1), lw=1.0, label="ln p(X | θ)", zorder=3)
    top.set_ylabel("nats")
    top.legend(loc="lower right")
    top.grid(alpha=0.3)
    top.set_title(title or "E-step closes the gap, M-step raises the bound", fontsize=11)
    bottom.bar(x, kl, color=_colour(2), width=0.5)
    bottom.set_yscale("symlog", linthresh=1e-3)
    bottom.set_ylabel("KL(q ‖ p)")
    labels = ["start"] + [f"{s.step}{s.iteration}" for s in trace.steps]
    bottom.set_xticks(x, labels, fontsize=8)
    bottom.grid(alpha=0.3)
    return fig


def save_figure(fig: Any, path: str | os.PathLike, *, dpi: int = 100) -> None:
    """Write ``fig`` to ``path`` atomically; the format comes from the suffix (png, svg, pdf...).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        What the other functions of this module return.
    path : str or path-like
        The file; an existing file is replaced only once the new one is complete.
    dpi : int, default=100
        Resolution of raster formats.

    Examples
    --------
    >>> import os
    >>> import emix
    >>> from emix.teach.plot import plot_convergence, save_figure
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> save_figure(plot_convergence(gm.history_), "convergence.svg")
    >>> os.path.exists("convergence.svg")
    True
    """
    from .._files import atomic_write_bytes

    fmt = os.path.splitext(str(path))[1].lstrip(".").lower() or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())


def animate_em(
    X: Any,
    path: Sequence[Any],
    out: str | os.PathLike,
    *,
    covariance_type: str = "full",
    feature_names: Sequence[str] | None = None,
    loc: Any = None,
    scale: Any = None,
    dims: tuple[int, int] = (0, 1),
    fps: float = 4.0,
    dpi: int = 72,
    max_frames: int = 60,
) -> int:
    """Write an animated GIF of EM: points and ellipses, iteration by iteration.

    Parameters
    ----------
    X : array-like of shape (n_samples, D)
        Data in its own units; two features (``dims``) are drawn.
    path : sequence of MixtureParams
        Parameters at the start and after each iteration (:func:`~emix.teach.trace.em_path`).
    out : str or path-like
        The GIF, written atomically.
    covariance_type : str, default='full'
        How ``path``'s covariances are shaped.
    feature_names : sequence of D str, optional
        Axis labels.
    loc, scale : array-like of shape (D,), optional
        The standardisation ``path`` lives in.
    dims : (int, int), default=(0, 1)
        The two features drawn.
    fps : float, default=4.0
        Frames per second (the last frame stays two seconds).
    dpi : int, default=72
        Resolution of the frames.
    max_frames : int, default=60
        Longer paths are thinned (first and last frame kept).

    Returns
    -------
    int
        Number of frames written.

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import animate_em
    >>> from emix.teach.trace import em_path
    >>> X = emix.datasets.load_faithful()
    >>> path = em_path(emix.GaussianMixture(2, random_state=0), X)
    >>> animate_em(X, path, "em.gif", feature_names=["eruptions", "waiting"])
    8
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from .._files import atomic_write_bytes

    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(d)]
    idx = np.arange(len(path))
    if len(idx) > max_frames:
        idx = np.unique(np.round(np.linspace(0, len(path) - 1, max_frames)).astype(int))
    all_comps = [
        _components(p.weights, p.components.means, p.components.covariances, covariance_type, loc, scale)
        for p in path
    ]
    # fixed axes over the whole run
    i, j = dims
    lims = [_limits(X[:, i], all_comps[-1], i), _limits(X[:, j], all_comps[-1], j)]
    frames = []
    for t in idx:
        comps = all_comps[t]
        fig = _figure(5.0, 4.0)
        fig.set_dpi(dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        labels = comps.labels(X)
        _panel(ax, X, labels, comps, (i, j), contours=False)
        ax.set_xlim(lims[0])
        ax.set_ylim(lims[1])
        ax.set_xlabel(names[i])
        ax.set_ylabel(names[j])
        ax.set_title("start" if t == 0 else f"EM iteration {t}")
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        frames.append(Image.fromarray(rgba[..., :3].copy()).convert("P", palette=Image.Palette.ADAPTIVE))
        del fig
    durations = [int(1000 / fps)] * len(frames)
    durations[-1] = 2000
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    atomic_write_bytes(out, buf.getvalue())
    return len(frames)


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
    >>> result = emix.select(emix.datasets.load_faithful(), range(1, 4), models=["EEE", "VVV"], n_jobs=1)
    >>> plot_criterion(result).axes[0].get_title()
    'best: EEE, K = 3 (by BIC)'
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4.5), layout="constrained")
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
