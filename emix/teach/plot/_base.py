"""What every picture shares: the colours and their blends, figures, atomic writing, GIFs.

matplotlib and PIL are imported inside the functions that draw, so that
importing this module (and :mod:`emix`) stays light.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

#: one colour per component (matplotlib's "tab10" order, red second)
COLOURS = (
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


def colour(k: int) -> str:
    """The colour of component ``k`` (cycling after ten)."""
    return COLOURS[k % len(COLOURS)]


def component_rgb(n_components: int) -> np.ndarray:
    """The components' colours as RGB in [0, 1], shape (K, 3)."""
    hexes = [colour(k).lstrip("#") for k in range(n_components)]
    return np.array([[int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4)] for h in hexes])


def blend_colours(q: Any) -> np.ndarray:
    """Each point's colour as the mix of its components' colours: ``Σ_k q_nk c_k``.

    A point its components share equally gets the average of their colours;
    a point one component owns gets that component's colour.

    Parameters
    ----------
    q : array-like of shape (n_samples, K)
        Responsibilities (rows summing to one).

    Returns
    -------
    ndarray of shape (n_samples, 3)
        RGB in [0, 1].

    Examples
    --------
    Component 0 is blue, component 1 red; a point they share is between:

    >>> from emix.teach.plot import blend_colours
    >>> blend_colours([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]).round(3)
    array([[0.122, 0.467, 0.706],
           [0.48 , 0.31 , 0.431],
           [0.839, 0.153, 0.157]])
    """
    q = np.asarray(q, dtype=np.float64)
    return np.clip(q @ component_rgb(q.shape[1]), 0.0, 1.0)


def figure(width: float, height: float, dpi: float | None = None):
    """A matplotlib figure with constrained layout, made without pyplot (no display needed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    if dpi is not None:
        fig.set_dpi(dpi)
    return fig


def save_figure(fig: Any, path: str | os.PathLike, *, dpi: int = 100) -> None:
    """Write ``fig`` to ``path`` atomically; the format comes from the suffix (png, svg, pdf...).

    The picture is drawn into memory, then written to a temporary file beside
    ``path`` and renamed: an interrupted write leaves the old file or none.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        What one of the ``plot_*`` functions returned.
    path : str or path-like
        The file to write; without a suffix, PNG.
    dpi : int, default=100
        Resolution of raster formats.

    Raises
    ------
    OutputFileError
        The destination cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> import emix
    >>> from emix.teach.plot import plot_convergence, save_figure
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> fig = plot_convergence(gm.history_)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "convergence.png")
    ...     save_figure(fig, path, dpi=72)
    ...     os.path.exists(path)
    True
    """
    from ..._files import atomic_write_bytes

    fmt = os.path.splitext(str(path))[1].lstrip(".").lower() or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())


def frame(fig: Any):
    """``fig`` rendered to a palette image (one GIF frame)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return Image.fromarray(rgba[..., :3].copy()).convert("P", palette=Image.Palette.ADAPTIVE)


def write_gif(frames: Sequence[Any], out: str | os.PathLike, fps: float, hold_last_ms: int = 2000) -> int:
    """Write ``frames`` (PIL images) as a looping GIF, atomically; the last frame is held.

    Returns
    -------
    int
        The number of frames written.
    """
    from ..._files import atomic_write_bytes

    durations = [int(1000 / fps)] * len(frames)
    durations[-1] = hold_last_ms
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=list(frames[1:]), duration=durations, loop=0
    )
    atomic_write_bytes(out, buf.getvalue())
    return len(frames)


@dataclasses.dataclass(frozen=True)
class Components:
    """Gaussian mixture parameters in display units: weights (K,), means (K, D), full covariances (K, D, D)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def log_joint(self, points: np.ndarray, dims: Sequence[int]) -> np.ndarray:
        """``ln π_k + ln N(x | k)`` of the marginal components on ``dims``, shape (m, K)."""
        dims = list(dims)
        out = []
        for w, mu, cov in zip(self.weights, self.means, self.covariances, strict=True):
            c = cov[np.ix_(dims, dims)]
            chol = np.linalg.cholesky(c)
            z = np.linalg.solve(chol, (points - mu[dims]).T)
            logdet = 2.0 * np.log(np.diag(chol)).sum()
            with np.errstate(divide="ignore"):
                lw = np.log(w)
            out.append(lw - 0.5 * (np.sum(z * z, axis=0) + logdet + len(dims) * np.log(2 * np.pi)))
        return np.stack(out, axis=1)

    def log_density(self, points: np.ndarray, dims: Sequence[int]) -> np.ndarray:
        """Log density of the marginal mixture on ``dims`` at ``points`` (m, len(dims))."""
        a = self.log_joint(points, dims)
        m = a.max(axis=1, keepdims=True)
        return (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True)))[:, 0]

    def responsibilities(self, X: np.ndarray) -> np.ndarray:
        """``p(k | x_n)`` of each row of ``X`` (n, D), in display units, shape (n, K)."""
        a = self.log_joint(X, range(X.shape[1]))
        a = a - a.max(axis=1, keepdims=True)
        e = np.exp(a)
        return e / e.sum(axis=1, keepdims=True)

    def labels(self, X: np.ndarray) -> np.ndarray:
        """Most probable component of each row of ``X`` (n, D), in display units."""
        return np.argmax(self.log_joint(X, range(X.shape[1])), axis=1)


def components(weights, means, covariances, covariance_type: str, loc=None, scale=None) -> Components:
    """:class:`Components` from the arrays of a covariance model, optionally back in data units.

    Parameters
    ----------
    weights : array-like of shape (K,)
    means : array-like of shape (K, D)
    covariances : array-like
        In the shape of ``covariance_type`` (any of the 18 models).
    covariance_type : str
    loc, scale : array-like of shape (D,), optional
        The standardisation the arrays live in (``X_model = (X - loc) / scale``).
    """
    from ...families.gaussian import get_covariance_model

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
    return Components(np.asarray(weights, dtype=np.float64), means, covs)


def from_model(model: Any, loc=None, scale=None) -> Components:
    """:class:`Components` of a fitted Gaussian (or Student-t: its scale matrices) estimator."""
    return components(model.weights_, model.means_, model.covariances_, model.covariance_type, loc, scale)


def limits(values: np.ndarray, comps: Components | None, dim: int) -> tuple[float, float]:
    """Axis limits covering ``values`` and (when given) two standard deviations of each component."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if comps is not None:
        sd = np.sqrt(comps.covariances[:, dim, dim])
        lo = min(lo, float((comps.means[:, dim] - 2.2 * sd).min()))
        hi = max(hi, float((comps.means[:, dim] + 2.2 * sd).max()))
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def names_or_default(names: Sequence[str] | None, d: int) -> list[str]:
    """``names`` as a list, or ``x0, x1, ...``."""
    return list(names) if names is not None else [f"x{i}" for i in range(d)]
