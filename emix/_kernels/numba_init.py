"""Distances of the k-means starts (importing this module imports numba).

:mod:`emix.init.kmeans` asks these for every chunk of its k-means++ and Lloyd
passes. NumPy computes the same distances as ``|x|^2 - 2 x.c + |c|^2`` around
a reference row, which makes an (n, D) and two (n, K) temporaries per call; here
each row's differences ``x - c`` are squared and summed directly in float64, one
row at a time, with no temporary that grows with the rows (and no cancellation
to guard against).

``X`` : (n, D) float64 or float32, C-contiguous; ``C`` : (L, D) float64, C-contiguous.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_gaussian import _FAST, _JIT


@nb.njit(fastmath=_FAST, **_JIT)
def _sq(X, i, C, k):
    s = 0.0
    for j in range(X.shape[1]):
        e = np.float64(X[i, j]) - C[k, j]
        s += e * e
    return s


@nb.njit(fastmath=_FAST, **_JIT)
def sq_all(X, C):
    """Squared distances of every row to every centre: (n, L) float64."""
    n = X.shape[0]
    m = C.shape[0]
    out = np.empty((n, m))
    for i in range(n):
        for k in range(m):
            out[i, k] = _sq(X, i, C, k)
    return out


@nb.njit(fastmath=_FAST, **_JIT)
def nearest(X, C):
    """Each row's squared distance to its nearest centre (n,) float64 and that centre (n,) int64
    (ties to the first)."""
    n = X.shape[0]
    m = C.shape[0]
    d2 = np.empty(n)
    labels = np.zeros(n, np.int64)
    for i in range(n):
        best = _sq(X, i, C, 0)
        lab = 0
        for k in range(1, m):
            s = _sq(X, i, C, k)
            if s < best:
                best = s
                lab = k
        d2[i] = best
        labels[i] = lab
    return d2, labels


@nb.njit(fastmath=_FAST, **_JIT)
def lloyd_sums(X, w, C, shift):
    """One Lloyd pass over a chunk: the (weighted) counts (L,) and the sums (L, D) of
    ``x - shift`` over the rows nearest to each centre, float64; ``w`` length 0: no weights."""
    n, d = X.shape
    m = C.shape[0]
    counts = np.zeros(m)
    sums = np.zeros((m, d))
    weighted = w.shape[0] > 0
    for i in range(n):
        best = _sq(X, i, C, 0)
        lab = 0
        for k in range(1, m):
            s = _sq(X, i, C, k)
            if s < best:
                best = s
                lab = k
        wi = w[i] if weighted else 1.0
        counts[lab] += wi
        for j in range(d):
            sums[lab, j] += wi * (np.float64(X[i, j]) - shift[j])
    return counts, sums


@nb.njit(**_JIT)
def min_keys(E, W):
    """The exponential-key draw of :func:`emix.init.sampling.streaming_choice`, for ``L``
    weightings at once: for each weighting ``j`` and draw ``t``, the row ``n`` with the
    smallest key ``E[n, t] / W[n, j]`` (ties to the first row; a zero weight never wins).

    ``E`` (n, T): ``-log`` of the rows' uniforms; ``W`` (n, L): non-negative weights.
    Returns the keys (L, T) float64 (``inf`` where every weight is zero) and rows (L, T) int64.
    """
    n, t_count = E.shape
    m = W.shape[1]
    best = np.full((m, t_count), np.inf)
    idx = np.zeros((m, t_count), np.int64)
    for i in range(n):
        for j in range(m):
            wij = W[i, j]
            if not wij > 0.0:
                continue
            for t in range(t_count):
                key = E[i, t] / wij
                if key < best[j, t]:
                    best[j, t] = key
                    idx[j, t] = i
    return best, idx
