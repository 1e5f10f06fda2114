"""Ancestral sampling pictured: first z from π, then x from the component z chose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import colour, figure, names_or_default

__all__ = ["plot_ancestral"]


def _draw_z(ax_bars, ax_strip, sample: Any, shown: int) -> None:
    """Step 1: the weights π against the share of draws each component made, and the first z_n."""
    k = sample.weights.size
    share = sample.counts / max(len(sample.z), 1)
    idx = np.arange(k)
    ax_bars.bar(idx, sample.weights, width=0.7, color="none", edgecolor="black", lw=1.2, label="π_k")
    ax_bars.bar(idx, share, width=0.45, color=[colour(j) for j in idx], label="share of the draws")
    ax_bars.set_xticks(idx, [str(j) for j in idx], fontsize=8)
    ax_bars.set_xlabel("component k", fontsize=8)
    ax_bars.set_ylim(0, max(1.05 * float(max(sample.weights.max(), share.max())), 0.1))
    ax_bars.legend(fontsize=7, loc="upper right")
    ax_bars.set_title("1. draw z_n ~ Categorical(π)", fontsize=10)
    z = sample.z[:shown]
    for n, zn in enumerate(z):
        ax_strip.add_patch(_square(n, colour(int(zn))))
        if len(z) <= 40:
            ax_strip.text(n + 0.5, 0.5, str(int(zn)), ha="center", va="center", fontsize=6, color="white")
    ax_strip.set_xlim(0, max(len(z), 1))
    ax_strip.set_ylim(0, 1)
    ax_strip.set_yticks([])
    ax_strip.set_xlabel(f"z_1 ... z_{len(z)}, in the order drawn", fontsize=8)


def _square(n: int, c: str):
    from matplotlib.patches import Rectangle

    return Rectangle((n + 0.05, 0.05), 0.9, 0.9, color=c)


def _is_binary(X: np.ndarray) -> bool:
    return bool(np.isin(X, (0.0, 1.0)).all())


def _draw_x(sub, sample: Any, image_shape: Sequence[int] | None, names: list[str], shown: int) -> None:
    """Step 2, on the subfigure ``sub``: each x_n drawn from component z_n, coloured by it."""
    X, z = sample.X, sample.z
    sub.suptitle("2. draw x_n ~ p(x | z_n), coloured by z_n", fontsize=10)
    if image_shape is not None:
        _images(sub, X[:shown], z[:shown], image_shape)
        return
    ax = sub.add_subplot()
    d = X.shape[1]
    if d == 1:
        bins = np.histogram_bin_edges(X[:, 0], bins="auto")[:60]
        parts = [X[z == k, 0] for k in range(sample.weights.size)]
        ax.hist(parts, bins=bins, stacked=True, color=[colour(k) for k in range(len(parts))])
        ax.set_xlabel(names[0])
        ax.set_ylabel("draws")
    elif _is_binary(X):
        rows = min(len(z), shown)
        ax.imshow(X[:rows], cmap="gray_r", aspect="auto", interpolation="nearest", vmin=0, vmax=1)
        for n in range(rows):
            ax.add_patch(_row_marker(n, colour(int(z[n]))))
        ax.set_xlim(-1.5, d - 0.5)
        ax.set_xlabel("features (left bar: z_n)")
        ax.set_ylabel("draw n")
    else:
        integer = bool(np.all(X[:, :2] == np.round(X[:, :2])))
        jitter = np.random.default_rng(0).uniform(-0.25, 0.25, (len(z), 2)) if integer else 0.0
        pts = X[:, :2] + jitter
        ax.scatter(pts[:, 0], pts[:, 1], s=12, c=[colour(int(k)) for k in z], alpha=0.8, linewidths=0)
        ax.set_xlabel(names[0] + (" (jittered)" if integer else ""))
        ax.set_ylabel(names[1])


def _row_marker(n: int, c: str):
    from matplotlib.patches import Rectangle

    return Rectangle((-1.5, n - 0.5), 0.9, 1.0, color=c, clip_on=False)


def _images(sub, X: np.ndarray, z: np.ndarray, image_shape: Sequence[int]) -> None:
    h, w = (int(v) for v in image_shape)
    cols = min(8, max(len(z), 1))
    rows = -(-len(z) // cols)
    axes = np.atleast_1d(sub.subplots(rows, cols, squeeze=False)).ravel()
    top = max(float(X.max()), 1e-12) if X.size else 1.0
    for n, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if n >= len(z):
            ax.set_visible(False)
            continue
        ax.imshow(X[n].reshape(h, w), cmap="gray_r", vmin=0, vmax=top, interpolation="nearest")
        for spine in ax.spines.values():
            spine.set_edgecolor(colour(int(z[n])))
            spine.set_linewidth(2.5)


def plot_ancestral(
    sample: Any,
    *,
    image_shape: Sequence[int] | None = None,
    feature_names: Sequence[str] | None = None,
    shown: int | None = None,
    title: str | None = None,
):
    """The two steps of ancestral sampling: z_n from the weights, then x_n from component z_n.

    Left: the weights ``π_k`` (outlined) against the share of draws each
    component made (filled), and the first draws ``z_n`` as coloured squares.
    Right: the ``x_n``, coloured by the ``z_n`` that chose their component:
    images (with ``image_shape``), a stacked histogram (one feature), the rows
    as a black-and-white table (binary data) or the first two features.

    Parameters
    ----------
    sample : AncestralSample
        What :func:`emix.teach.ancestral_sample` returned.
    image_shape : (int, int), optional
        Draw each ``x_n`` as an ``H x W`` image (e.g. 8x8 digits).
    feature_names : sequence of D str, optional
    shown : int, optional
        How many draws the strip and the images or table show (default: 40
        for the strip and table, 24 images); scatter and histogram show all.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach import ancestral_sample
    >>> from emix.teach.plot import plot_ancestral
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> sample = ancestral_sample(gm, 100, random_state=0)
    >>> fig = plot_ancestral(sample, feature_names=["eruptions", "waiting"])
    >>> len(fig.axes)  # the weights, the strip of z, the x
    3
    """
    fig = figure(10.0, 4.6)
    left, right = fig.subfigures(1, 2, width_ratios=(1, 1.5))
    axes = left.subplots(2, 1, height_ratios=(4, 1))
    strip = shown or 40
    _draw_z(axes[0], axes[1], sample, strip)
    names = names_or_default(feature_names, sample.X.shape[1])
    _draw_x(right, sample, image_shape, names, shown or (24 if image_shape is not None else 40))
    fig.suptitle(
        title or f"ancestral sampling from a {sample.family_name} mixture: z first, then x", fontsize=11
    )
    return fig
