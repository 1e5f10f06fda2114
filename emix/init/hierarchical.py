"""mclust's default start: model-based hierarchical agglomeration (Banfield and Raftery 1993; Fraley 1998).

:func:`hierarchical_merges` builds the tree on whitened data with a
classification criterion (``HC_CRITERIA``: VVV, mclust's default, or EII,
Ward's); :func:`cut_merges` cuts it; :func:`hierarchical_initialiser` turns
the cut into initial responsibilities (``init_params='hierarchical'``). The
module is self-contained: it needs only :class:`.base.Initialiser`.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np

from ..exceptions import InvalidParameterError
from .base import Initialiser

#: Largest number of rows agglomerated; larger data use a random subset (as mclust).
HC_SUBSET = 2000


class _HcCriterion:
    """Cost of merging clusters in model-based agglomeration (Banfield and Raftery 1993).

    Clusters are kept as (count, mean, scatter); :meth:`merge_costs` gives the
    increase of the criterion when cluster ``a`` merges with each of ``others``.
    """

    def __init__(self, d: int) -> None:
        self.d = d

    def own_costs(self, n: np.ndarray, W: np.ndarray) -> np.ndarray:
        """Criterion of each cluster on its own (cached by the agglomeration)."""
        return np.zeros(n.shape[0])

    def merge_costs(self, n, mean, W, own, a, others) -> np.ndarray:
        raise NotImplementedError

    def initial_costs(self, Z: np.ndarray) -> np.ndarray:
        """(n, n) costs between singletons, ``inf`` on the diagonal."""
        raise NotImplementedError


class _HcEII(_HcCriterion):
    """Spherical equal-volume criterion: the within-cluster sum of squares (Ward)."""

    def merge_costs(self, n, mean, W, own, a, others):
        delta = mean[others] - mean[a]
        return n[a] * n[others] / (n[a] + n[others]) * np.einsum("ij,ij->i", delta, delta)

    def initial_costs(self, Z):
        sq = (Z * Z).sum(axis=1)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * Z @ Z.T, 0.0)
        c = 0.5 * d2
        np.fill_diagonal(c, np.inf)
        return c


class _HcVVV(_HcCriterion):
    """Unconstrained criterion ``sum_c n_c log det((W_c + alpha I) / n_c)``.

    ``alpha`` (in units of the whitened data's unit variance) keeps singletons
    and pairs, whose scatter is singular, finite.
    """

    alpha = 1.0

    def own_costs(self, n, W):
        sign, logdet = np.linalg.slogdet((W + self.alpha * np.eye(self.d)) / n[:, None, None])
        return n * logdet

    def merge_costs(self, n, mean, W, own, a, others):
        delta = mean[others] - mean[a]
        nm = n[a] + n[others]
        Wm = W[a] + W[others] + (n[a] * n[others] / nm)[:, None, None] * np.einsum("ki,kj->kij", delta, delta)
        return self.own_costs(nm, Wm) - own[a] - own[others]

    def initial_costs(self, Z):
        d, al = self.d, self.alpha
        sq = (Z * Z).sum(axis=1)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * Z @ Z.T, 0.0)
        # det((delta delta^T / 2 + alpha I) / 2) has one eigenvalue (|delta|^2/2 + alpha)/2
        c = 2.0 * (np.log(d2 / 2.0 + al) + (d - 1) * np.log(al) - d * np.log(2.0)) - 2.0 * d * np.log(al)
        np.fill_diagonal(c, np.inf)
        return c


#: Criteria of :func:`hierarchical_merges` by mclust model name.
HC_CRITERIA: dict[str, type[_HcCriterion]] = {"VVV": _HcVVV, "EII": _HcEII}


def _whiten(X: np.ndarray) -> np.ndarray:
    """Centred, scaled principal components (unit variance each), as mclust's ``hcUse="SVD"``."""
    Xc = X.astype(np.float64) - X.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    s = np.maximum(s, s[0] * 1e-12 if s.size and s[0] > 0 else 1.0)
    return Xc @ vt.T / s * np.sqrt(max(X.shape[0] - 1, 1))


def hierarchical_merges(X: np.ndarray, model: str = "VVV") -> np.ndarray:
    """Model-based agglomerative hierarchical clustering (Banfield and Raftery 1993; Fraley 1998).

    Starting from singletons, repeatedly merges the two clusters whose union
    increases the classification criterion of ``model`` least, on the whitened
    data (scaled principal components, as mclust's default ``hcUse="SVD"``).

    Parameters
    ----------
    X : ndarray of shape (n, D)
    model : {'VVV', 'EII'}
        ``'VVV'``: ``sum_c n_c log det((W_c + alpha I)/n_c)`` (mclust's default
        ``hcModelName``); ``'EII'``: within-cluster sum of squares (Ward).

    Returns
    -------
    merges : ndarray of shape (n - 1, 2)
        ``merges[t] = (a, b)``: at step ``t`` cluster ``b`` joins cluster ``a``
        (clusters are named by a row index). Cut with :func:`cut_merges`.
    """
    try:
        crit = HC_CRITERIA[model](X.shape[1])
    except KeyError:
        raise InvalidParameterError(
            f"hierarchical model must be one of {sorted(HC_CRITERIA)}, got {model!r}"
        ) from None
    Z = _whiten(X)
    n_rows, d = Z.shape
    n = np.ones(n_rows)
    mean = Z.copy()
    W = np.zeros((n_rows, d, d))
    active = np.ones(n_rows, dtype=bool)
    own = crit.own_costs(n, W)
    C = crit.initial_costs(Z)  # (n, n) merge costs, inf on the diagonal and for merged-away rows
    best_j = C.argmin(axis=1)
    best = C[np.arange(n_rows), best_j]
    merges = np.empty((max(n_rows - 1, 0), 2), dtype=np.intp)
    for t in range(n_rows - 1):
        a = int(np.argmin(best))
        b = int(best_j[a])
        a, b = min(a, b), max(a, b)
        merges[t] = a, b
        delta = mean[b] - mean[a]
        nm = n[a] + n[b]
        W[a] = W[a] + W[b] + (n[a] * n[b] / nm) * np.outer(delta, delta)
        mean[a] = (n[a] * mean[a] + n[b] * mean[b]) / nm
        n[a] = nm
        own[a] = crit.own_costs(n[a : a + 1], W[a : a + 1])[0]
        active[b] = False
        C[b, :] = np.inf
        C[:, b] = np.inf
        best[b] = np.inf
        if t == n_rows - 2:
            break
        others = np.flatnonzero(active)
        others = others[others != a]
        c = crit.merge_costs(n, mean, W, own, a, others)
        C[a, others] = c
        C[others, a] = c
        i = int(np.argmin(c))
        best[a], best_j[a] = c[i], others[i]
        # rows whose best partner was a or b look again (a cheap argmin over stored costs)
        stale = others[(best_j[others] == a) | (best_j[others] == b)]
        better = c < best[others]
        best[others[better]] = c[better]
        best_j[others[better]] = a
        for r in stale:
            j = int(np.argmin(C[r]))
            best[r], best_j[r] = C[r, j], j
    return merges


def cut_merges(merges: np.ndarray, n_rows: int, n_clusters: int) -> np.ndarray:
    """Labels 0..n_clusters-1 (in order of first appearance) after ``n_rows - n_clusters`` merges.

    Parameters
    ----------
    merges : ndarray of shape (n_rows - 1, 2)
        From :func:`hierarchical_merges`.
    n_rows : int
    n_clusters : int

    Returns
    -------
    labels : ndarray of shape (n_rows,)
    """
    labels = np.arange(n_rows)
    for a, b in merges[: n_rows - n_clusters]:
        labels[labels == b] = a
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse]


_HC_CACHE: dict[tuple, np.ndarray] = {}
_HC_LOCK = threading.Lock()


def _cached_merges(Z: np.ndarray, model: str) -> np.ndarray:
    """:func:`hierarchical_merges` with a small cache, so a model-selection grid builds each tree once."""
    key = (hashlib.sha1(np.ascontiguousarray(Z).view(np.uint8)).hexdigest(), Z.shape, model)
    with _HC_LOCK:
        hit = _HC_CACHE.get(key)
    if hit is not None:
        return hit
    merges = hierarchical_merges(Z, model)
    with _HC_LOCK:
        if len(_HC_CACHE) >= 8:
            _HC_CACHE.pop(next(iter(_HC_CACHE)))
        _HC_CACHE[key] = merges
    return merges


def _tree_rows(source, rng: np.random.Generator, subset: int):
    """The rows the tree is built on: all of them, or ``subset`` random ones (in data order).

    Returns
    -------
    Z : ndarray of shape (m, D), in the source's dtype
    rows : ndarray of int of shape (m,), or None when ``Z`` holds every row
    """
    n = source.n_samples
    if n <= subset:
        return np.concatenate([X for X, _ in source.chunks()], axis=0), None
    rows = np.sort(rng.choice(n, size=subset, replace=False))
    parts, offset = [], 0
    for X, _ in source.chunks():
        sel = rows[(rows >= offset) & (rows < offset + X.shape[0])] - offset
        parts.append(X[sel])
        offset += X.shape[0]
    return np.concatenate(parts, axis=0), rows


def _posterior_resp_fn(Z: np.ndarray, labels: np.ndarray, k: int):
    """A ``resp_fn`` giving each row its posterior under one Gaussian per cluster of ``Z``.

    Each Gaussian has its cluster's mean and covariance (plus a small floor,
    so that singletons stay finite) and its share of the rows as weight.

    Parameters
    ----------
    Z : ndarray of shape (m, D)
    labels : ndarray of int of shape (m,)
        Clusters 0..k-1 of ``Z``'s rows.
    k : int

    Returns
    -------
    callable
        ``resp_fn(X_chunk, row_offset)`` giving rows of shape (n, k) in ``X_chunk``'s dtype.
    """
    d = Z.shape[1]
    Zf = Z.astype(np.float64)
    floor = 1e-6 * np.mean(np.var(Zf, axis=0)) + np.finfo(np.float64).tiny
    log_w, means, chols = [], [], []
    for j in range(k):
        part = Zf[labels == j]
        cov = np.cov(part, rowvar=False).reshape(d, d) if part.shape[0] > 1 else np.zeros((d, d))
        cov = cov + floor * np.eye(d)
        means.append(part.mean(axis=0))
        chols.append(np.linalg.cholesky(cov))
        log_w.append(np.log(part.shape[0] / Z.shape[0]))

    def soft_resp(X: np.ndarray, offset: int) -> np.ndarray:
        lj = np.empty((X.shape[0], k))
        for j in range(k):
            y = np.linalg.solve(chols[j], (X - means[j]).T)
            lj[:, j] = log_w[j] - 0.5 * (y * y).sum(axis=0) - np.log(np.diag(chols[j])).sum()
        lj -= lj.max(axis=1, keepdims=True)
        r = np.exp(lj)
        r /= r.sum(axis=1, keepdims=True)
        return r.astype(X.dtype, copy=False)

    return soft_resp


def hierarchical_initialiser(
    source, n_components: int, rng: np.random.Generator, *, model: str = "VVV", subset: int = HC_SUBSET
) -> Initialiser:
    """Initial responsibilities from model-based hierarchical agglomeration (mclust's default).

    With at most ``subset`` rows, the tree is built on all rows and cut at
    ``n_components`` clusters: the responsibilities are the hard partition.
    With more rows, the tree is built on ``subset`` random rows; each cluster
    of the cut gives a Gaussian (its mean and a regularised covariance) and
    every row gets its posterior under those Gaussians. Sample weights are not
    used to build the tree.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    n_components : int
    rng : numpy.random.Generator
        Draws the subset (only when there are more than ``subset`` rows).
    model : {'VVV', 'EII'}, default='VVV'
        The criterion of :func:`hierarchical_merges`.
    subset : int, default=HC_SUBSET
        Largest number of rows the tree is built on.

    Returns
    -------
    Initialiser
        Responsibilities of shape (n, n_components) in the chunk's dtype;
        centres (the clusters' means) of shape (n_components, D).
    """
    k = n_components
    Z, rows = _tree_rows(source, rng, subset)
    merges = _cached_merges(Z, model)
    labels = cut_merges(merges, Z.shape[0], min(k, Z.shape[0]))
    centres = np.stack([Z[labels == j].mean(axis=0) for j in range(k)]).astype(source.dtype)
    if rows is None:

        def resp_fn(X: np.ndarray, offset: int) -> np.ndarray:
            resp = np.zeros((X.shape[0], k), dtype=X.dtype)
            resp[np.arange(X.shape[0]), labels[offset : offset + X.shape[0]]] = 1.0
            return resp

        return Initialiser(resp_fn=resp_fn, centres=centres)
    return Initialiser(resp_fn=_posterior_resp_fn(Z, labels, k), centres=centres)
