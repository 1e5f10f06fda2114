"""Starting points for EM: k-means, k-means++, random, random_from_data.

Every method here reads the data through a source, chunk by chunk, like EM
itself, so initialisation needs no more memory than one chunk. Random draws
are made row by row in data order, so the result does not depend on the chunk
size.

Each method returns an :class:`Initialiser`: a function giving the
responsibilities of a chunk, and centres to anchor the statistics. The initial
parameters are the M-step of those responsibilities, as in scikit-learn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .exceptions import InvalidParameterError


@dataclasses.dataclass(frozen=True)
class Initialiser:
    """Responsibilities for the first M-step, and centres to anchor statistics."""

    resp_fn: Callable[[np.ndarray, int], np.ndarray]  # (X_chunk, row_offset) -> (n, K)
    centres: np.ndarray  # (K, D)


def _sq_dist(X: np.ndarray, centres: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Squared distances (n, K), computed around ``shift`` to limit cancellation."""
    Xs = X - shift
    Cs = centres - shift
    d2 = np.einsum("ij,ij->i", Xs, Xs)[:, None] - 2.0 * (Xs @ Cs.T)
    d2 += np.einsum("ij,ij->i", Cs, Cs)[None, :]
    np.maximum(d2, 0.0, out=d2)
    return d2


def _one_hot_nearest(centres: np.ndarray, shift: np.ndarray) -> Callable[[np.ndarray, int], np.ndarray]:
    def resp_fn(X: np.ndarray, offset: int) -> np.ndarray:
        labels = _sq_dist(X, centres, shift).argmin(axis=1)
        resp = np.zeros((X.shape[0], centres.shape[0]), dtype=X.dtype)
        resp[np.arange(X.shape[0]), labels] = 1.0
        return resp

    return resp_fn


def _streaming_choice(source, rng: np.random.Generator, weight_fn, pool=None) -> np.ndarray:
    """Draw one row with probability proportional to ``weight_fn(X_chunk, w_chunk)``.

    Uses exponential keys (``-log(u) / weight``; the smallest wins), which is an
    exact weighted draw in one pass and independent of the chunking.
    """
    best_key = np.inf
    best_row = None

    def work(chunk):
        return chunk[0], weight_fn(chunk[0], chunk[1])

    pairs = pool.map(work, source.chunks()) if pool is not None else map(work, source.chunks())
    for X, weights in pairs:  # the weights may come from threads; the draws stay in data order
        u = rng.random(X.shape[0])
        with np.errstate(divide="ignore"):
            keys = -np.log(u) / weights
        i = int(np.argmin(keys))
        if keys[i] < best_key:
            best_key = keys[i]
            best_row = X[i].copy()
    if best_row is None or not np.isfinite(best_key):
        return None
    return best_row


def kmeans_plusplus(source, n_components: int, rng: np.random.Generator, pool=None) -> np.ndarray:
    """k-means++ seeds (Arthur and Vassilvitskii 2007), one pass per seed.

    Returns
    -------
    centres : ndarray of shape (n_components, n_features)
    """
    shift = source.first_chunk().mean(axis=0)

    def base_w(X, w):
        return np.ones(X.shape[0]) if w is None else w.astype(np.float64)

    first = _streaming_choice(source, rng, base_w)
    centres = [first]
    for _ in range(1, n_components):
        C = np.asarray(centres)

        def d2_w(X, w, C=C):
            d2 = _sq_dist(X, C, shift).min(axis=1).astype(np.float64)
            return d2 * base_w(X, w)

        nxt = _streaming_choice(source, rng, d2_w, pool)
        if nxt is None:  # every row coincides with a chosen centre: fall back to uniform
            nxt = _streaming_choice(source, rng, base_w)
        centres.append(nxt)
    return np.asarray(centres, dtype=source.dtype)


def _data_variance(source) -> float:
    """Mean per-feature variance of the data (weighted), in one centred pass."""
    shift = source.first_chunk().mean(axis=0)
    s0, s1, s2 = 0.0, 0.0, 0.0
    for X, w in source.chunks():
        d = (X - shift).astype(np.float64)
        ww = np.ones(X.shape[0]) if w is None else w.astype(np.float64)
        s0 += ww.sum()
        s1 = s1 + ww @ d
        s2 = s2 + ww @ (d * d)
    mean = s1 / s0
    return float(np.mean(s2 / s0 - mean**2))


def _lloyd_chunk(X: np.ndarray, w, centres_s: np.ndarray, shift: np.ndarray):
    """Counts (K,) and sums (K, D) of the rows of one chunk nearest to each centre.

    Distances are taken in the data's dtype around ``shift``; the sums in float64.
    """
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
    Chunks are spread over ``pool`` (a :class:`emix._parallel.ChunkPool`) when given.
    """
    centres = np.array(centres, dtype=np.float64)
    k, d = centres.shape
    shift = source.first_chunk().mean(axis=0).astype(np.float64)
    threshold = tol * _data_variance(source)
    for _ in range(max_iter):
        sums = np.zeros((k, d))
        counts = np.zeros(k)
        cs = centres - shift

        def work(chunk, cs=cs):
            return _lloyd_chunk(chunk[0], chunk[1], cs, shift)

        parts = pool.map(work, source.chunks()) if pool is not None else map(work, source.chunks())
        for c_part, s_part in parts:
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


def make_initialiser(
    method: str, source, n_components: int, rng: np.random.Generator, *, pool=None
) -> Initialiser:
    """Build the initialiser named by ``init_params``.

    ``kmeans``: Lloyd from k-means++ seeds, then hard assignment.
    ``k-means++``: k-means++ seeds, hard assignment to the nearest seed.
    ``random``: uniform random responsibilities, normalised per row.
    ``random_from_data``: random rows as seeds, hard assignment to the nearest.
    """
    shift = source.first_chunk().mean(axis=0)
    k = n_components
    if method == "kmeans":
        centres = lloyd(source, kmeans_plusplus(source, k, rng, pool), pool=pool)
    elif method == "k-means++":
        centres = kmeans_plusplus(source, k, rng, pool)
    elif method == "random_from_data":
        centres = np.asarray(
            [_streaming_choice(source, rng, lambda X, w: np.ones(X.shape[0])) for _ in range(k)]
        )
        # distinct rows where possible: redraw duplicates a few times
        for _ in range(10):
            _, first = np.unique(centres, axis=0, return_index=True)
            dup = np.setdiff1d(np.arange(k), first)
            if dup.size == 0:
                break
            for j in dup:
                centres[j] = _streaming_choice(source, rng, lambda X, w: np.ones(X.shape[0]))
    elif method == "random":
        seed = int(rng.integers(0, 2**63 - 1))

        width = 4 * -(-k // 4)  # Philox yields 4 values per counter step

        def resp_fn(X: np.ndarray, offset: int) -> np.ndarray:
            # counter-based stream: row i always uses counter steps from i * width / 4,
            # so rows draw the same numbers whatever the chunking
            bitgen = np.random.Philox(key=seed, counter=[offset * width // 4, 0, 0, 0])
            resp = np.random.Generator(bitgen).random((X.shape[0], width))[:, :k]
            resp /= resp.sum(axis=1, keepdims=True)
            return resp.astype(X.dtype, copy=False)

        centres = np.tile(shift, (k, 1))
        return Initialiser(resp_fn=resp_fn, centres=centres)
    else:
        raise InvalidParameterError(
            "init_params must be one of ['k-means++', 'kmeans', 'random', 'random_from_data'], "
            f"got {method!r}"
        )
    centres = np.asarray(centres, dtype=source.dtype)
    return Initialiser(resp_fn=_one_hot_nearest(centres, shift), centres=centres)
