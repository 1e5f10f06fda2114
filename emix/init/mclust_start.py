"""mclust's default start (``init_params='hierarchical'``), as ``mclustBIC`` makes it.

=====================  ========================================================
data                   start
=====================  ========================================================
D > 1, n <= 2000       the hierarchical tree of :mod:`.hierarchical` (mclust's
                       ``hc(X, "VVV", use = "SVD")``; ``"EII"`` when ``n <= D``)
                       cut at K clusters: EM starts with an M-step on that
                       hard partition
D = 1                  quantile classes (mclust's ``qclass``): :func:`qclass`
n > 2000               the same on a random subset of 2000 rows; the start is
                       the model's own M-step on the subset's partition (EM's
                       first E-step then covers every row)
=====================  ========================================================

The tree is built once per data set (a small cache keyed by the rows) and its
partitions for K = 1..9 are cut in one pass, so a model-selection grid pays
for one agglomeration, as mclust does.
"""

from __future__ import annotations

import hashlib
import math
import threading

import numpy as np

from .base import Initialiser
from .hierarchical import HC_SUBSET, cached_merges, clear_merges, cut_tree

_CUTS: dict[tuple, dict[int, np.ndarray]] = {}
_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget the trees and partitions kept for the data sets seen so far (benchmarks time the
    agglomeration every run with it, as mclust builds its tree at every call)."""
    with _LOCK:
        _CUTS.clear()
    clear_merges()


def _r_probs(m: int) -> np.ndarray:
    """R's ``seq(0, 1, length = m)``: ``c(0, (1:(m-2)) * by, 1)`` with ``by = 1 / (m - 1)``."""
    if m < 2:
        return np.zeros(max(m, 0))
    by = 1.0 / (m - 1)
    return np.concatenate([[0.0], np.arange(1, m - 1) * by, [1.0]])


def _r_quantile7(xs: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)`` of sorted ``xs``, with R's arithmetic."""
    n = xs.shape[0]
    index = 1.0 + max(n - 1, 0) * probs
    lo = np.floor(index).astype(np.intp)
    hi = np.ceil(index).astype(np.intp)
    qs = xs[lo - 1].copy()
    i = (index > lo) & (xs[hi - 1] != qs)
    h = (index - lo)[i]
    qs[i] = (1.0 - h) * qs[i] + h * xs[hi[i] - 1]
    return qs


def qclass(x: np.ndarray, k: int) -> np.ndarray:
    """mclust's start for 1-D data: ``k`` classes between sample quantiles.

    The smallest number ``m > k`` of equally spaced quantiles (R's type 7)
    that has ``k + 1`` distinct values is taken; if it has more, the left
    ends of the smallest gaps are dropped. Row ``i`` is in class ``j`` when
    ``q_j <= x_i < q_{j+1}``, the outer quantiles being moved out by
    ``sd(x) sqrt(eps)``.

    Parameters
    ----------
    x : ndarray of shape (n,) or (n, 1)
    k : int

    Returns
    -------
    labels : ndarray of int of shape (n,)
        Classes ``0..k-1`` in increasing order of ``x`` (a class may be empty
        when ``x`` has fewer than ``k`` distinct values).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    xs = np.sort(x)
    eps = float(np.std(x, ddof=1)) * math.sqrt(np.finfo(np.float64).eps) if x.size > 1 else 0.0
    distinct = np.unique(xs).size
    q = np.unique(xs)  # the fallback when x has too few distinct values
    for m in range(k + 1, max(4 * x.size, k + 2) + 1):
        if distinct < k + 1:
            break
        cand = np.unique(_r_quantile7(xs, _r_probs(m)))
        if cand.size >= k + 1:
            q = cand
            break
    if q.size > k + 1:
        drop = np.argsort(np.diff(q), kind="stable")[: q.size - k - 1]
        q = np.delete(q, drop)
    q = q.copy()
    q[0] = xs[0] - eps
    q[-1] = xs[-1] + eps
    labels = np.zeros(x.size, dtype=np.intp)
    for j in range(q.size - 1):
        labels[(x >= q[j]) & (x < q[j + 1])] = j
    return labels


def _tree_rows(source, rng: np.random.Generator, subset: int):
    """The rows the start is made from: all of them, or ``subset`` random ones (in data order).

    Returns
    -------
    Z : ndarray of shape (m, D), in the source's dtype
    rows : ndarray of int of shape (m,), or None when ``Z`` holds every row
    """
    n = source.n_samples
    if n <= subset:
        parts = [X for X, _ in source.chunks()]
        return (parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)), None
    rows = np.sort(rng.choice(n, size=subset, replace=False))
    parts, offset = [], 0
    for X, _ in source.chunks():
        sel = rows[(rows >= offset) & (rows < offset + X.shape[0])] - offset
        parts.append(X[sel])
        offset += X.shape[0]
    return np.concatenate(parts, axis=0), rows


def mclust_partition(Z: np.ndarray, k: int, model: str = "VVV") -> np.ndarray:
    """mclust's starting partition of the rows ``Z`` into ``k`` classes (cached per data set).

    Parameters
    ----------
    Z : ndarray of shape (m, D)
    k : int
    model : {'VVV', 'EII'}, default='VVV'
        The agglomeration criterion (D > 1).

    Returns
    -------
    labels : ndarray of int of shape (m,)
        Classes ``0..k-1``, numbered in order of first appearance for the
        tree's cuts, in increasing order of ``x`` for quantile classes.
    """
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    one_d = Z.shape[1] == 1
    key = (hashlib.sha1(Z.view(np.uint8)).hexdigest(), Z.shape, "qclass" if one_d else model)
    with _LOCK:
        cuts = _CUTS.setdefault(key, {}) if key in _CUTS or len(_CUTS) < 8 else None
    if cuts is None:  # the cache is full: forget the oldest data set
        with _LOCK:
            _CUTS.pop(next(iter(_CUTS)))
            cuts = _CUTS.setdefault(key, {})
    k = min(k, Z.shape[0])
    if k not in cuts:
        if one_d:
            cuts[k] = qclass(Z, k)
        else:
            cuts.update(cut_tree(cached_merges(Z, model), Z.shape[0], range(1, max(k, 9) + 1)))
    return cuts[k]


def hierarchical_initialiser(
    source, n_components: int, rng: np.random.Generator, *, model: str = "VVV", subset: int = HC_SUBSET
) -> Initialiser:
    """mclust's start: a hard partition of the rows (or of a random subset of ``subset`` rows).

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    n_components : int
    rng : numpy.random.Generator
        Draws the subset (only when there are more than ``subset`` rows).
    model : {'VVV', 'EII'}, default='VVV'
        The agglomeration criterion.
    subset : int, default=HC_SUBSET
        Largest number of rows the partition is made of.

    Returns
    -------
    Initialiser
        Hard responsibilities of shape (n, n_components), centres (the classes'
        means) of shape (n_components, D); with a subset, ``subset`` holds its
        rows and the responsibilities are those of the subset's rows.
    """
    k = n_components
    Z, rows = _tree_rows(source, rng, subset)
    labels = mclust_partition(Z, k, model)
    counts = np.bincount(labels, minlength=k)
    onehot = np.zeros((Z.shape[0], k))
    onehot[np.arange(Z.shape[0]), labels] = 1.0
    sums = onehot.T @ Z.astype(np.float64, copy=False)
    if counts.min() > 0:
        centres = sums / counts[:, None]
    else:
        centres = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], Z.mean(axis=0))
    centres = centres.astype(source.dtype)

    def resp_fn(X: np.ndarray, offset: int) -> np.ndarray:
        if offset == 0 and X.shape[0] == onehot.shape[0]:
            return onehot if X.dtype == onehot.dtype else onehot.astype(X.dtype)
        resp = np.zeros((X.shape[0], k), dtype=X.dtype)
        resp[np.arange(X.shape[0]), labels[offset : offset + X.shape[0]]] = 1.0
        return resp

    return Initialiser(resp_fn=resp_fn, centres=centres, subset=None if rows is None else Z)
