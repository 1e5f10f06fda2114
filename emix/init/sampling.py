"""Random draws that do not depend on the chunking: per-row uniforms and a one-pass weighted row draw.

Draws are keyed by a seed taken from the caller's generator and made row by
row in data order, so a chunk can draw its rows' numbers wherever it is
processed (a thread, a Dask worker) and the result does not depend on the
chunk size.
"""

from __future__ import annotations

import numpy as np

from .. import _kernels
from ..sources import map_chunks


def row_uniforms(seed: int, offset: int, n: int, width: int) -> np.ndarray:
    """Uniforms for rows ``offset .. offset + n``, the same however rows are chunked.

    A counter-based generator (Philox) keyed by ``seed``: row ``i`` always uses
    the counter steps from ``i * ceil(width / 4)``, so a chunk can draw its
    rows' numbers wherever it is processed (a thread, a Dask worker).

    Returns
    -------
    ndarray of shape (n, width), float64
    """
    steps = -(-width // 4)  # Philox yields 4 values per counter step
    bitgen = np.random.Philox(key=seed, counter=[offset * steps, 0, 0, 0])
    return np.random.Generator(bitgen).random((n, 4 * steps))[:, :width]


def min_keys(u: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest exponential keys ``-log(u[n, t]) / weights[n, j]`` over the rows, for each
    weighting ``j`` and draw ``t``, and their rows (ties to the first; a zero weight never wins).

    Parameters
    ----------
    u : ndarray of shape (n, T)
        The rows' uniforms (:func:`row_uniforms`).
    weights : ndarray of shape (n, L), non-negative

    Returns
    -------
    keys : ndarray of shape (L, T), float64
        ``inf`` where every weight is zero.
    rows : ndarray of shape (L, T), int
    """
    with np.errstate(divide="ignore"):
        e = -np.log(u)
    kern = _kernels.init_kernels()
    if kern is not None:
        return kern.min_keys(e, np.ascontiguousarray(weights, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        keys = e[:, None, :] / weights[:, :, None]  # (n, L, T)
    keys[np.isnan(keys)] = np.inf  # a zero weight (and a zero uniform) never wins
    idx = np.argmin(keys, axis=0)
    return np.take_along_axis(keys, idx[None], axis=0)[0], idx


def streaming_choice(source, rng: np.random.Generator, weight_fn, pool=None, size: int | None = None):
    """Draw a row with probability proportional to ``weight_fn(X_chunk, w_chunk)``.

    Uses exponential keys (``-log(u) / weight``; the smallest wins), which is an
    exact weighted draw in one pass. The uniforms come from
    :func:`row_uniforms`, so the draw does not depend on the chunking and
    each chunk is handled where it lives (:func:`emix.sources.map_chunks`).

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    rng : numpy.random.Generator
        Gives the seed of the draw.
    weight_fn : callable
        ``weight_fn(X_chunk, w_chunk)``, ``X_chunk`` of shape (n, D), gives
        non-negative weights of shape (n,).
    pool : ChunkPool, optional
    size : int or None
        ``None``: one row, shape (D,). An int ``L``: ``L`` independent draws
        (with replacement) in the same pass, shape (L, D).

    Returns
    -------
    ndarray of shape (D,) or (L, D), float64, or None
        ``None`` when every weight is zero (for ``size``: when any draw failed).
    """
    width = 1 if size is None else int(size)
    seed = int(rng.integers(0, 2**63 - 1))

    def work(X, w, offset):
        weights = np.asarray(weight_fn(X, w), dtype=np.float64)
        keys, idx = min_keys(row_uniforms(seed, offset, X.shape[0], width), weights[:, None])
        return keys[0], X[idx[0]]

    best_key = np.full(width, np.inf)
    best_row = np.full((width, source.n_features), np.nan)
    for keys, rows in map_chunks(source, work, pool):  # in chunk order: ties go to the earlier row
        better = keys < best_key
        best_key[better] = keys[better]
        best_row[better] = rows[better]
    if not np.isfinite(best_key).all():
        return None
    return best_row[0] if size is None else best_row
