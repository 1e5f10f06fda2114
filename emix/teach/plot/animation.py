"""EM animated: the points and the components' ellipses, iteration by iteration, as a GIF."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import blend_colours, colour, components, figure, frame, limits, names_or_default, write_gif
from .clusters import panel

__all__ = ["animate_em"]


def _frame_indices(n: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` of ``range(n)``, evenly spread, first and last kept."""
    idx = np.arange(n)
    if n > max_frames:
        idx = np.unique(np.round(np.linspace(0, n - 1, max_frames)).astype(int))
    return idx


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
    blend: bool = True,
    fps: float = 4.0,
    dpi: int = 72,
    max_frames: int = 60,
) -> int:
    """Write an animated GIF of EM: points and ellipses, iteration by iteration.

    Works for every covariance model (the four scikit-learn names and the 14
    mclust ones): each frame draws the full covariance each model implies.

    Parameters
    ----------
    X : array-like of shape (n_samples, D)
        Data in its own units; two features (``dims``) are drawn.
    path : sequence of MixtureParams
        Parameters at the start and after each iteration (:func:`emix.teach.em_path`).
    out : str or path-like
        The GIF, written atomically.
    covariance_type : str
        How ``path``'s covariances are shaped.
    feature_names : sequence of D str, optional
    loc, scale : array-like of shape (D,), optional
        The standardisation ``path`` lives in.
    dims : (int, int)
        The two features drawn.
    blend : bool, default=True
        Colour each point by the blend of its components' colours weighted by
        its responsibilities in that frame (else by its most probable component).
    fps : float
    dpi : int
    max_frames : int
        Longer paths are thinned (first and last frame kept).

    Returns
    -------
    int
        Number of frames written.

    Examples
    --------
    >>> import os, tempfile
    >>> import emix
    >>> from emix.teach import em_path
    >>> from emix.teach.plot import animate_em
    >>> X = emix.datasets.load_faithful()
    >>> path = em_path(emix.GaussianMixture(2, random_state=0), X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     gif = os.path.join(folder, "em.gif")
    ...     n_frames = animate_em(X, path, gif, feature_names=["eruptions", "waiting"])
    ...     n_frames == len(path), os.path.getsize(gif) > 0
    (True, True)
    """
    X = np.asarray(X, dtype=np.float64)
    names = names_or_default(feature_names, X.shape[1])
    all_comps = [
        components(p.weights, p.components.means, p.components.covariances, covariance_type, loc, scale)
        for p in path
    ]
    i, j = dims
    lims = [limits(X[:, i], all_comps[-1], i), limits(X[:, j], all_comps[-1], j)]  # fixed over the run
    frames = []
    for t in _frame_indices(len(path), max_frames):
        comps = all_comps[t]
        fig = figure(5.0, 4.0, dpi=dpi)
        ax = fig.add_subplot()
        point_colours = (
            blend_colours(comps.responsibilities(X)) if blend else [colour(int(k)) for k in comps.labels(X)]
        )
        panel(ax, X, point_colours, comps, (i, j), contours=False)
        ax.set_xlim(lims[0])
        ax.set_ylim(lims[1])
        ax.set_xlabel(names[i])
        ax.set_ylabel(names[j])
        ax.set_title(("start" if t == 0 else f"EM iteration {t}") + f"   ({covariance_type})")
        frames.append(frame(fig))
    return write_gif(frames, out, fps)
