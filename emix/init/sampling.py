"""Random draws that do not depend on the chunking: per-row uniforms and a one-pass weighted row draw.

Draws are keyed by a seed taken from the caller's generator and made row by
row in data order, so a chunk can draw its rows' numbers wherever it is
processed (a thread, a Dask worker) and the result does not depend on the
chunk size.
"""

from __future__ import annotations

import numpy as np

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
        u = row_uniforms(seed, offset, X.shape[0], width)
        with np.errstate(divide="ignore"):
            keys = -np.log(u) / weights[:, None]
        idx = np.argmin(keys, axis=0)
        return keys[idx, np.arange(width)], X[idx].copy()

    best_key = np.full(width, np.inf)
    best_row = np.full((width, source.n_features), np.nan)
    for keys, rows in map_chunks(source, work, pool):  # in chunk order: ties go to the earlier row
        better = keys < best_key
        best_key[better] = keys[better]
        best_row[better] = rows[better]
    if not np.isfinite(best_key).all():
        return None
    return best_row[0] if size is None else best_row
