"""The k-means starts: greedy k-means++ seeds, then Lloyd's iterations, one pass each.

``init_params='k-means++'`` assigns every row to its nearest seed;
``'kmeans'`` (the default, as in scikit-learn) first runs Lloyd from the seeds.
Seeds are drawn in data order (:mod:`.sampling`), so neither depends on the
chunk size or the number of threads.
"""

from __future__ import annotations

import numpy as np

from .. import _kernels
from .._kernels import weights_arg
from ..exceptions import InvalidParameterError
from ..sources import map_chunks
from .base import Initialiser, nearest_initialiser, nearest_sq, reference_point, sq_to
from .sampling import min_keys, row_uniforms, streaming_choice


def _base_weights(X: np.ndarray, w) -> np.ndarray:
    return np.ones(X.shape[0]) if w is None else w.astype(np.float64)


def _potentials_and_next(source, C, candidates, shift, seed, trials, pool=None):
    """One pass for a greedy k-means++ step and the draw of the next step's candidates.

    For each candidate ``c_j`` (L of them): the k-means potential ``sum_n w_n
    min(d2(x_n, C), d2(x_n, c_j))`` it would give, and, were it kept, the
    ``trials`` candidates of the next step, drawn with probability proportional
    to ``w_n min(d2(x_n, C), d2(x_n, c_j))`` from the row uniforms of ``seed``
    (the exponential keys of :func:`~.sampling.streaming_choice`). The draw is
    the one a separate pass after the choice would make, so one pass per seed
    does what two did. ``seed=None``: the last step, no draw.

    Returns
    -------
    potentials : ndarray of shape (L,)
    rows : ndarray of shape (L, trials, D) or None
        ``rows[j]``: the next candidates were ``c_j`` kept; NaN where a draw
        failed (every weight zero). ``None`` when ``seed`` is.
    """
    m = candidates.shape[0]

    def work(X, w, offset):
        weights = _base_weights(X, w)
        closest = nearest_sq(X, C, shift)[0]
        d2 = sq_to(X, candidates, shift)
        np.minimum(d2, closest[:, None], out=d2)
        pot = weights @ d2
        if seed is None:
            return pot, None, None
        d2 *= weights[:, None]
        best, idx = min_keys(row_uniforms(seed, offset, X.shape[0], trials), d2)  # (L, trials)
        return pot, best, X[idx]

    pot = np.zeros(m)
    best_key = np.full((m, trials), np.inf)
    best_row = np.full((m, trials, source.n_features), np.nan)
    for p, keys, rows in map_chunks(source, work, pool):  # in chunk order: ties go to the earlier row
        pot += p
        if keys is not None:
            better = keys < best_key
            best_key[better] = keys[better]
            best_row[better] = rows[better]
    if seed is None:
        return pot, None
    return pot, np.where(np.isfinite(best_key)[..., None], best_row, np.nan)


def kmeans_plusplus(
    source, n_components: int, rng: np.random.Generator, pool=None, n_local_trials: int | None = None
) -> np.ndarray:
    """Greedy k-means++ seeds (Arthur and Vassilvitskii 2007), as scikit-learn's default.

    The first seed is a (weighted) uniform draw. Each further step draws
    ``n_local_trials`` candidates with probability proportional to the squared
    distance to the nearest seed so far (one pass), computes the k-means
    potential each candidate would give (a second pass) and keeps the
    candidate with the lowest. Draws are made in data order, so the seeds do
    not depend on the chunk size or the number of threads.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    n_components : int
    rng : numpy.random.Generator
    pool : ChunkPool, optional
    n_local_trials : int or None
        Candidates per step; ``None``: ``2 + int(log(n_components))``
        (scikit-learn's choice); ``1``: plain k-means++ (one pass per seed).

    Returns
    -------
    centres : ndarray of shape (n_components, n_features)
    """
    shift = reference_point(source)
    trials = 2 + int(np.log(n_components)) if n_local_trials is None else int(n_local_trials)
    if trials < 1:
        raise InvalidParameterError(f"n_local_trials must be a positive int, got {n_local_trials}")

    def draw(C, size=None):
        """Rows drawn with probability proportional to ``w_n d2(x_n, C)`` (one pass)."""

        def d2_w(X, w):
            return nearest_sq(X, C, shift)[0] * _base_weights(X, w)

        return streaming_choice(source, rng, d2_w, pool, size=size)

    centres = [streaming_choice(source, rng, _base_weights, pool)]
    cands = None
    for step in range(1, n_components):
        C = np.asarray(centres, dtype=np.float64)
        if trials == 1:
            nxt = draw(C)
        else:
            if cands is None:  # the first step, or after a failed draw
                cands = draw(C, size=trials)
            if cands is None:
                nxt = None
            else:
                # the next step's seed is taken now: the generator's draws keep their order
                seed = None if step == n_components - 1 else int(rng.integers(0, 2**63 - 1))
                pot, nexts = _potentials_and_next(source, C, cands, shift, seed, trials, pool)
                j = int(np.argmin(pot))
                nxt = cands[j]
                cands = None if nexts is None or np.isnan(nexts[j]).any() else nexts[j]
        if nxt is None:  # every row coincides with a chosen centre: fall back to uniform
            nxt = streaming_choice(source, rng, _base_weights, pool)
        centres.append(nxt)
    return np.asarray(centres, dtype=source.dtype)


def _data_variance(source, pool=None) -> float:
    """Mean per-feature variance of the data (weighted), in one centred pass."""
    shift = reference_point(source)

    def work(X, w, offset):
        d = (X - shift).astype(np.float64)
        ww = np.ones(X.shape[0]) if w is None else w.astype(np.float64)
        return ww.sum(), ww @ d, ww @ (d * d)

    s0, s1, s2 = 0.0, 0.0, 0.0
    for a, b, c in map_chunks(source, work, pool):
        s0, s1, s2 = s0 + a, s1 + b, s2 + c
    mean = s1 / s0
    return float(np.mean(s2 / s0 - mean**2))


def _lloyd_chunk(X: np.ndarray, w, centres_s: np.ndarray, shift: np.ndarray):
    """Counts (K,) and sums (K, D) of ``x - shift`` over the rows of one chunk nearest to each
    centre (``centres_s``: the centres minus ``shift``), float64.

    Compiled where numba is (distances in float64); otherwise distances in the
    data's dtype around ``shift``.
    """
    kern = _kernels.init_kernels() if X.dtype in (np.float64, np.float32) else None
    if kern is not None:
        return kern.lloyd_sums(
            np.ascontiguousarray(X), weights_arg(w), np.ascontiguousarray(centres_s + shift), shift
        )
    k = centres_s.shape[0]
    dt = X.dtype
    Xd = X - shift.astype(dt)
    c = centres_s.astype(dt)
    # argmin_k |x - c_k|^2 = argmin_k (|c_k|^2 - 2 x.c_k): one (n, D) x (D, K) product
    score = Xd @ (-2.0 * c.T)
    score += np.einsum("ij,ij->i", c, c)
    labels = score.argmin(axis=1)
    ww = np.ones(X.shape[0]) if w is None else w.astype(np.float64)
    counts = np.bincount(labels, weights=ww, minlength=k)
    onehot = np.zeros((k, X.shape[0]), dtype=dt)
    onehot[labels, np.arange(X.shape[0])] = ww
    sums = (onehot @ Xd).astype(np.float64)
    return counts, sums


def lloyd(
    source,
    centres: np.ndarray,
    *,
    max_iter: int = 300,
    tol: float = 1e-4,
    pool=None,
) -> np.ndarray:
    """Lloyd's k-means iterations from ``centres``, one pass per iteration.

    Stops when the squared centre shift falls below ``tol`` times the mean
    feature variance (scikit-learn's rule). An empty cluster keeps its centre.
    Chunks are spread over ``pool`` (a :class:`emix.engine.ChunkPool`) when given.
    """
    centres = np.array(centres, dtype=np.float64)
    k, d = centres.shape
    shift = reference_point(source).astype(np.float64)
    threshold = tol * _data_variance(source, pool)
    for _ in range(max_iter):
        sums = np.zeros((k, d))
        counts = np.zeros(k)
        cs = centres - shift

        def work(X, w, offset, cs=cs):
            return _lloyd_chunk(X, w, cs, shift)

        for c_part, s_part in map_chunks(source, work, pool):
            counts += c_part
            sums += s_part
        new = centres.copy()
        filled = counts > 0
        new[filled] = shift + sums[filled] / counts[filled, None]
        moved = float(((new - centres) ** 2).sum())
        centres = new
        if moved <= threshold:
            break
    return centres.astype(source.dtype)


def kmeans_plusplus_initialiser(
    source, n_components: int, rng: np.random.Generator, *, pool=None
) -> Initialiser:
    """k-means++ seeds, hard assignment to the nearest seed (``init_params='k-means++'``)."""
    return nearest_initialiser(source, kmeans_plusplus(source, n_components, rng, pool))


def kmeans_initialiser(source, n_components: int, rng: np.random.Generator, *, pool=None) -> Initialiser:
    """Lloyd from k-means++ seeds, then hard assignment (``init_params='kmeans'``)."""
    seeds = kmeans_plusplus(source, n_components, rng, pool)
    return nearest_initialiser(source, lloyd(source, seeds, pool=pool))
