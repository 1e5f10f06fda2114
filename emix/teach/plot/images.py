"""Components drawn as images: the digits' component means, and how EM shapes them iteration by iteration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...exceptions import InvalidParameterError
from ._base import colour, figure

__all__ = ["plot_component_images", "plot_trace_images"]


def _check_shape(values: np.ndarray, image_shape: Sequence[int]) -> tuple[int, int]:
    h, w = (int(v) for v in image_shape)
    if h * w != values.shape[-1]:
        raise InvalidParameterError(
            f"image_shape {h}x{w} has {h * w} pixels, but each component has {values.shape[-1]} values"
        )
    return h, w


def _frame(ax, k: int) -> None:
    """Frame an image in component ``k``'s colour, no ticks."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor(colour(k))
        spine.set_linewidth(2.5)


def plot_component_images(
    images: Any,
    image_shape: Sequence[int],
    *,
    weights: Any = None,
    columns: int | None = None,
    cmap: str = "gray_r",
    vmin: float | None = 0.0,
    vmax: float | None = None,
    title: str | None = None,
):
    """One image per component: e.g. the pixel probabilities of a Bernoulli mixture on digits.

    Parameters
    ----------
    images : array-like of shape (K, H * W)
        One row per component: ``probabilities_`` of a Bernoulli mixture,
        ``means_`` of a Gaussian, ``rates_`` of a Poisson ...
    image_shape : (int, int)
        ``(H, W)``: 8x8 for scikit-learn's digits.
    weights : array-like of shape (K,), optional
        The mixing weights, shown above each image (and used to order them,
        largest first).
    columns : int, optional
        Images per row (default: up to 10).
    cmap : str, default='gray_r'
        A matplotlib colour map: dark is a high value.
    vmin, vmax : float, optional
        The colour range; ``vmax`` defaults to the largest value.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    Binary 3 x 3 images of a row or a column, one pixel in ten flipped:

    >>> import numpy as np
    >>> import emix
    >>> from emix.teach.plot import plot_component_images
    >>> rng = np.random.default_rng(0)
    >>> bars = np.array([[1, 1, 1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 1, 0, 0]])
    >>> X = np.abs(bars[rng.integers(2, size=60)] - (rng.random((60, 9)) < 0.1))
    >>> bm = emix.BernoulliMixture(2, random_state=0).fit(X)
    >>> fig = plot_component_images(bm.probabilities_, (3, 3), weights=bm.weights_)
    >>> len(fig.axes)
    2
    """
    values = np.asarray(images, dtype=np.float64)
    if values.ndim != 2:
        raise InvalidParameterError(f"images must be (K, H * W), got shape {values.shape}")
    h, w = _check_shape(values, image_shape)
    k = values.shape[0]
    order = (
        np.arange(k) if weights is None else np.argsort(-np.asarray(weights, dtype=np.float64), kind="stable")
    )
    cols = columns or min(k, 10)
    rows = -(-k // cols)
    fig = figure(1.25 * cols + 0.3, 1.45 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    top = float(values.max()) if vmax is None else vmax
    for ax, j in zip(axes, order, strict=False):
        ax.imshow(values[j].reshape(h, w), cmap=cmap, vmin=vmin, vmax=top, interpolation="nearest")
        _frame(ax, int(j))
        label = f"k = {j}" if weights is None else f"k = {j}, π = {float(np.asarray(weights)[j]):.2f}"
        ax.set_title(label, fontsize=8)
    for ax in axes[k:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _image_array(step: Any, pixels: int, name: str | None) -> str:
    """The name of the step's (K, pixels) array to draw: ``name``, else the first that fits."""
    if name is not None:
        if name not in step.arrays:
            raise InvalidParameterError(f"the trace has no array {name!r}; it has {sorted(step.arrays)}")
        return name
    for candidate, value in step.arrays.items():
        if value.ndim == 2 and value.shape[1] == pixels:
            return candidate
    raise InvalidParameterError(
        f"no array of the trace has {pixels} values per component; name one with array="
    )


def plot_trace_images(
    trace: Any,
    image_shape: Sequence[int],
    *,
    array: str | None = None,
    iterations: Sequence[int] | None = None,
    cmap: str = "gray_r",
):
    """The components as images after the start and each chosen M-step: EM drawing the digits.

    Rows are iterations (the start first), columns are components.

    Parameters
    ----------
    trace : EMTrace
        A trace on image data (e.g. binarised digits, a Bernoulli family).
    image_shape : (int, int)
    array : str, optional
        Which of the family's arrays to draw (default: the first with H * W
        values per component, e.g. ``probabilities``).
    iterations : sequence of int, optional
        The M-steps to show (default: up to five spread over the run).
    cmap : str, default='gray_r'

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from emix.teach import trace_em
    >>> from emix.teach.plot import plot_trace_images
    >>> rng = np.random.default_rng(0)
    >>> bars = np.array([[1, 1, 1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 1, 0, 0]])
    >>> X = np.abs(bars[rng.integers(2, size=60)] - (rng.random((60, 9)) < 0.1))
    >>> trace = trace_em(X, 2, family="bernoulli", n_iter=4, random_state=0)
    >>> len(plot_trace_images(trace, (3, 3)).axes)  # (start + 4 M-steps) x 2 components
    10
    """
    h, w = (int(v) for v in image_shape)
    name = _image_array(trace.initial, h * w, array)
    m_steps = [s for s in trace.steps if s.step == "M"]
    if iterations is None:
        pick = np.unique(np.round(np.linspace(0, len(m_steps) - 1, min(5, len(m_steps)))).astype(int))
        chosen = [m_steps[i] for i in pick]
    else:
        chosen = [s for s in m_steps if s.iteration in set(iterations)]
    rows = [trace.initial, *chosen]
    k = trace.initial.weights.size
    top = max(float(s.arrays[name].max()) for s in rows)
    fig = figure(1.0 * k + 1.2, 1.15 * len(rows) + 0.5)
    axes = fig.subplots(len(rows), k, squeeze=False)
    for r, s in enumerate(rows):
        values = s.arrays[name]
        _check_shape(values, (h, w))
        for j in range(k):
            ax = axes[r][j]
            ax.imshow(values[j].reshape(h, w), cmap=cmap, vmin=0.0, vmax=top, interpolation="nearest")
            _frame(ax, j)
            if r == 0:
                ax.set_title(f"k = {j}", fontsize=8)
        axes[r][0].set_ylabel("start" if s.step == "start" else f"M{s.iteration}", fontsize=8)
    fig.suptitle(f"{trace.family_name} components ({name}) as EM shapes them", fontsize=10)
    return fig
