"""Model-based agglomerative hierarchical clustering, as mclust's ``hc`` (Banfield and Raftery 1993; Fraley 1998).

:func:`svd_transform` is mclust's default data transformation (``hcUse =
"SVD"``); :func:`hierarchical_merges` agglomerates with a criterion of
:data:`HC_CRITERIA` (``"VVV"``, mclust's default ``hcModelName``, or ``"EII"``,
Ward's); :func:`cut_tree` and :func:`cut_merges` cut the tree into partitions.
:mod:`.mclust_start` turns the partitions into EM's start.

**The VVV criterion** (mclust's ``hcVVV`` with ``alpha = beta = 1``). With
``alpha = tr(W_data) / (n p)`` (the mean squared deviation of the transformed
data), a cluster of ``m`` rows with scatter ``W`` about its mean costs

==========  =============================================
``m = 1``   ``log alpha``
``m <= p``  ``m log((tr W + alpha) / m)``
``m > p``   ``m log(det(W / m) + (tr W + alpha) / m)``
==========  =============================================

and the agglomeration merges, at each step, the two clusters whose union
increases the total least. Clusters smaller than the dimension have a
singular scatter; the trace term keeps them finite.

**Order and ties.** Clusters sit in numbered slots (at first, slot ``i`` holds
row ``i``). Merging the clusters of slots ``i < j`` puts the union in slot
``i`` and moves the cluster of the last slot into slot ``j``. Among equal
costs the pair that comes last in the order ``(j, i)``, ``j`` major, wins.
This is the bookkeeping of mclust's Fortran, so exact ties (duplicated rows,
which all merge at the same cost) are broken as mclust breaks them.
"""

from __future__ import annotations

import hashlib
import math
import threading

import numpy as np

from ..exceptions import InvalidParameterError

#: Largest number of rows agglomerated; larger data use a random subset (mclust's ``subset`` option).
HC_SUBSET = 2000


def svd_transform(X: np.ndarray) -> np.ndarray:
    """mclust's ``hcUse = "SVD"``: standardised columns, principal components scaled by ``1/sqrt(d_j)``.

    The columns are centred and divided by their standard deviation (constant
    columns are dropped); with ``U diag(d) V^T`` the singular value
    decomposition of the result, the transformed data are ``U diag(sqrt(d))``.

    Parameters
    ----------
    X : ndarray of shape (n, D)

    Returns
    -------
    Z : ndarray of shape (n, min(n, D')), float64
        ``D'`` is the number of non-constant columns.
    """
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    sd = np.sqrt((Xc * Xc).sum(axis=0) / max(X.shape[0] - 1, 1))
    keep = np.isfinite(sd) & (sd > 0)
    Xs = Xc[:, keep] / sd[keep]
    if Xs.shape[1] == 0:
        return np.zeros((X.shape[0], 1))
    _, s, vt = np.linalg.svd(Xs, full_matrices=False)
    s = np.maximum(s, s[0] * 1e-15 if s[0] > 0 else 1.0)
    return (Xs @ vt.T) / np.sqrt(s)


def _half_sq_distances(Z: np.ndarray, block: int = 256) -> np.ndarray:
    """(n, n) ``|z_i - z_j|^2 / 2`` from the differences themselves (no Gram-matrix cancellation).

    Each difference is scaled by ``sqrt(1/2)`` before it is squared, as mclust
    does, so that equal differences give equal values.
    """
    n = Z.shape[0]
    out = np.empty((n, n))
    half = math.sqrt(0.5)
    for start in range(0, n, block):
        v = (Z[start : start + block, None, :] - Z[None, :, :]) * half
        out[start : start + block] = np.einsum("ijk,ijk->ij", v, v)
    return out


class _Clusters:
    """Counts, means and scatter traces of the clusters in their slots (float64)."""

    def __init__(self, Z: np.ndarray) -> None:
        self.count = np.ones(Z.shape[0])
        self.mean = Z.copy()
        self.trace = np.zeros(Z.shape[0])

    def merged(self, a: int, others: np.ndarray):
        """Counts, ``n_a n_o / (n_a + n_o)``, mean differences and traces of the unions of ``a``
        with each of ``others``."""
        na, no = self.count[a], self.count[others]
        nm = na + no
        delta = self.mean[others] - self.mean[a]
        c = na * no / nm
        tr = (self.trace[a] + self.trace[others]) + c * np.einsum("ij,ij->i", delta, delta)
        return nm, c, delta, tr

    def merge(self, i: int, j: int) -> tuple[float, np.ndarray]:
        """Put the union of slots ``i`` and ``j`` in slot ``i``; return ``n_i n_j / n`` and ``mean_j - mean_i``."""
        ni, nj = self.count[i], self.count[j]
        nm = ni + nj
        delta = self.mean[j] - self.mean[i]
        c = ni * nj / nm
        self.trace[i] = (self.trace[i] + self.trace[j]) + c * float(delta @ delta)
        self.mean[i] = (ni * self.mean[i] + nj * self.mean[j]) / nm
        self.count[i] = nm
        return c, delta

    def move(self, src: int, dst: int) -> None:
        for arr in (self.count, self.mean, self.trace):
            arr[dst] = arr[src]


def _det(W: np.ndarray) -> np.ndarray:
    """Determinants of a stack (K, p, p) of symmetric matrices (closed forms for p <= 3)."""
    p = W.shape[-1]
    if p == 1:
        return W[:, 0, 0].copy()
    if p == 2:
        return W[:, 0, 0] * W[:, 1, 1] - W[:, 0, 1] * W[:, 1, 0]
    if p == 3:
        a, b, c = W[:, 0, 0], W[:, 0, 1], W[:, 0, 2]
        d, e, f = W[:, 1, 1], W[:, 1, 2], W[:, 2, 2]
        return a * (d * f - e * e) - b * (b * f - e * c) + c * (b * e - d * c)
    sign, logdet = np.linalg.slogdet(W)
    return np.where(sign > 0, np.exp(logdet), 0.0)


def _logdet_scaled(W: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``log det(W_k / m_k)`` for a stack (K, p, p); ``-inf`` where singular."""
    p = W.shape[-1]
    if p <= 3:
        det = _det(W)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(det > 0, np.log(det) - p * np.log(m), -np.inf)
    sign, logdet = np.linalg.slogdet(W)
    with np.errstate(divide="ignore"):
        return np.where(sign > 0, logdet - p * np.log(m), -np.inf)


def _stored_scatter(W: np.ndarray, m: float) -> np.ndarray:
    """The scatter mclust's ``hcvvv`` reads back for a cluster formed by a merge.

    It keeps ``min(m - 1, p)`` rows of the cluster's triangular factor, but
    writes the factor's first row ``r`` into each of them, so that row ``k``
    reads back as ``r`` from column ``k`` on: the scatter it works with is
    then ``r_a r_b min(min(a, b) + 1, q)`` with ``q = min(m - 1, p)``.
    """
    p = W.shape[0]
    q = int(min(m - 1, p))
    if q <= 0 or not W[0, 0] > 0:
        return np.zeros_like(W)
    r = W[0] / math.sqrt(W[0, 0])
    idx = np.arange(p)
    mult = np.minimum(np.minimum.outer(idx, idx) + 1, q)
    return np.outer(r, r) * mult


class _HcVVV:
    """mclust's VVV classification criterion, as its ``hcvvv`` computes it (module docstring).

    Each cluster has two scatters: ``mem``, that of its factor when it was
    formed, and ``sto``, the one mclust reads back from where it stored the
    factor (:func:`_stored_scatter`). The most recently formed cluster
    (``fresh``) is merged with the others using its ``mem``; every other
    cluster enters with its ``sto``. For clusters of one or two rows, and
    for 1-D data, the two agree.
    """

    def __init__(self, Z: np.ndarray) -> None:
        n, p = Z.shape
        Zc = Z - Z.mean(axis=0)
        self.alpha = max(float((Zc * Zc).sum()) / (n * p), float(np.finfo(np.float64).eps))
        self.ablog = math.log(self.alpha)
        self.p = p
        self.clusters = _Clusters(Z)
        self.mem = np.zeros((n, p, p))
        self.sto = np.zeros((n, p, p))
        self.term = np.full(n, self.ablog)
        self.fresh = -1  # slot of the cluster formed last
        self.pair_terms = np.zeros(n)  # by slot: the criterion of fresh's union with that slot

    def terms(self, m: np.ndarray, W: np.ndarray, tr: np.ndarray) -> np.ndarray:
        """The criterion of clusters of ``m`` rows with scatters ``W`` and traces ``tr``."""
        base = (tr + self.alpha) / m
        out = m * np.log(base)
        big = m > self.p
        if big.any():
            ld = _logdet_scaled(W[big], m[big])
            b = base[big]
            fin = np.isfinite(ld)
            val = np.log(b)
            lo, hi = fin & (ld <= 0.0), fin & (ld > 0.0)
            # log(exp(ld) + b), in the form that does not overflow
            val[lo] = np.log(np.exp(ld[lo]) + b[lo])
            val[hi] = np.log1p(np.exp(-ld[hi]) * b[hi]) + ld[hi]
            out[big] = m[big] * val
        return out

    def singleton_costs(self, Z: np.ndarray) -> np.ndarray:
        """(n, n) costs of merging two rows: ``2 log((t + alpha) / 2) - 2 log alpha``, ``t = |z_i - z_j|^2 / 2``."""
        t = _half_sq_distances(Z)
        return 2.0 * np.log((t + self.alpha) / 2.0) - (self.ablog + self.ablog)

    def costs_with(self, a: int, others: np.ndarray) -> np.ndarray:
        """Costs of merging the fresh cluster in slot ``a`` with each of ``others``."""
        m, c, delta, tr = self.clusters.merged(a, others)
        W = self.mem[a] + self.sto[others] + c[:, None, None] * (delta[:, :, None] * delta[:, None, :])
        t = self.terms(m, W, tr)
        self.pair_terms[others] = t
        return t - (self.term[a] + self.term[others])

    def merge(self, i: int, j: int, cost: float) -> None:
        fresh = self.fresh
        Wi = self.mem[i] if i == fresh else self.sto[i]
        Wj = self.mem[j] if j == fresh else self.sto[j]
        if fresh in (i, j):
            term = self.pair_terms[j if fresh == i else i]
        else:
            term = cost + (self.term[i] + self.term[j])
        c, delta = self.clusters.merge(i, j)
        self.mem[i] = Wi + Wj + c * np.outer(delta, delta)
        self.sto[i] = _stored_scatter(self.mem[i], self.clusters.count[i])
        self.term[i] = term
        self.fresh = i

    def move(self, src: int, dst: int) -> None:
        self.clusters.move(src, dst)
        for arr in (self.mem, self.sto, self.term):
            arr[dst] = arr[src]
        if self.fresh == src:
            self.fresh = dst


class _HcEII:
    """Ward's criterion (mclust's ``hcEII``): the increase of the within-cluster sum of squares."""

    def __init__(self, Z: np.ndarray) -> None:
        self.clusters = _Clusters(Z)

    def singleton_costs(self, Z: np.ndarray) -> np.ndarray:
        return _half_sq_distances(Z)

    def costs_with(self, a: int, others: np.ndarray) -> np.ndarray:
        cl = self.clusters
        delta = cl.mean[others] - cl.mean[a]
        na, no = cl.count[a], cl.count[others]
        return na * no / (na + no) * np.einsum("ij,ij->i", delta, delta)

    def merge(self, i: int, j: int, cost: float) -> None:
        self.clusters.merge(i, j)

    def move(self, src: int, dst: int) -> None:
        self.clusters.move(src, dst)


#: Criteria of :func:`hierarchical_merges` by mclust model name.
HC_CRITERIA = {"VVV": _HcVVV, "EII": _HcEII}


def _last_min(values: np.ndarray) -> int:
    """Index of the minimum of a 1-D array; among equal minima, the last."""
    return values.shape[0] - 1 - int(np.argmin(values[::-1]))


def _row_minima(C: np.ndarray, rows: np.ndarray, best: np.ndarray, arg: np.ndarray) -> None:
    """Recompute ``best[r], arg[r]`` = the last minimum of ``C[r, :r]`` for each of ``rows``, in place."""
    rows = rows[rows > 0]
    if rows.size == 0:
        return
    width = int(rows.max())
    block = C[rows, :width].copy()
    block[np.arange(width)[None, :] >= rows[:, None]] = np.inf
    rev = block[:, ::-1]
    j = width - 1 - np.argmin(rev, axis=1)
    best[rows] = block[np.arange(rows.size), j]
    arg[rows] = j


def _refresh_minima(C, i: int, j: int, size: int, best: np.ndarray, arg: np.ndarray) -> None:
    """Keep the row minima right after slot ``i`` got new costs and slot ``j`` new contents.

    Rows ``i`` and ``j`` are scanned again, and so are the rows whose minimum
    was in column ``i`` or ``j``; every other row below ``i`` compares its
    minimum with its new entries in those columns.
    """
    rest = np.arange(i + 1, size)
    a = arg[rest]
    after_j = rest > j
    stale = (a == i) | ((a == j) & after_j)
    ok = ~stale & (rest != j)
    for col, rows in ((i, rest[ok]), (j, rest[ok & after_j])):
        if rows.size == 0:
            continue
        v = C[rows, col]
        b = best[rows]
        take = (v < b) | ((v == b) & (col > arg[rows]))
        best[rows[take]] = v[take]
        arg[rows[take]] = col
    scan = rest[stale]
    head = [i, j] if j < size else [i]
    _row_minima(C, np.concatenate([np.array(head, dtype=np.intp), scan]), best, arg)


def hierarchical_merges(
    X: np.ndarray, model: str = "VVV", *, transform: bool = True, return_costs: bool = False
):
    """Model-based agglomerative hierarchical clustering (mclust's ``hc``).

    Starting from singletons, repeatedly merges the two clusters whose union
    increases the classification criterion of ``model`` least (see the module
    docstring for the criterion, the slots and the tie rule).

    Parameters
    ----------
    X : ndarray of shape (n, D)
    model : {'VVV', 'EII'}, default='VVV'
        mclust's ``hcModelName``: ``'VVV'`` (its default) or ``'EII'`` (Ward).
    transform : bool, default=True
        Agglomerate :func:`svd_transform` of ``X`` (mclust's default
        ``hcUse = "SVD"``); ``False`` uses ``X`` as it is.
    return_costs : bool, default=False
        Also return the increase of the criterion at each merge.

    Returns
    -------
    merges : ndarray of int of shape (n - 1, 2)
        ``merges[t] = (a, b)``: at step ``t`` the cluster represented by row
        ``b`` joins the one represented by row ``a`` (a cluster is represented
        by the first row of the first slot it occupied). Cut with
        :func:`cut_tree` or :func:`cut_merges`.
    costs : ndarray of shape (n - 1,)
        Only with ``return_costs``.
    """
    try:
        criterion_type = HC_CRITERIA[model]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"hierarchical model must be one of {sorted(HC_CRITERIA)}, got {model!r}"
        ) from None
    Z = svd_transform(X) if transform else np.asarray(X, dtype=np.float64)
    n = Z.shape[0]
    merges = np.empty((max(n - 1, 0), 2), dtype=np.intp)
    costs = np.empty(max(n - 1, 0))
    if n < 2:
        return (merges, costs) if return_costs else merges
    crit = criterion_type(Z)
    C = crit.singleton_costs(Z)  # C[j, i] for i < j is the cost of slots (i, j)
    best = np.full(n, np.inf)
    arg = np.zeros(n, dtype=np.intp)
    _row_minima(C, np.arange(1, n), best, arg)
    rep = np.arange(n)  # the representative row of the cluster in each slot
    size = n
    for t in range(n - 1):
        j = _last_min(best[1:size]) + 1
        i = int(arg[j])
        merges[t] = rep[i], rep[j]
        costs[t] = best[j]
        crit.merge(i, j, float(best[j]))
        last = size - 1
        if j != last:
            crit.move(last, j)
            rep[j] = rep[last]
            C[j, :j] = C[last, :j]
            C[j + 1 : last, j] = C[last, j + 1 : last]
        size -= 1
        if size == 1:
            break
        others = np.concatenate([np.arange(i), np.arange(i + 1, size)])
        c = crit.costs_with(i, others)
        lower, upper = others < i, others > i
        C[i, others[lower]] = c[lower]
        C[others[upper], i] = c[upper]
        best[last] = np.inf
        _refresh_minima(C, i, j, size, best, arg)
    return (merges, costs) if return_costs else merges


def cut_tree(merges: np.ndarray, n_rows: int, n_clusters) -> dict[int, np.ndarray]:
    """Partitions of the tree at several numbers of clusters, in one pass over the merges.

    Parameters
    ----------
    merges : ndarray of shape (n_rows - 1, 2)
        From :func:`hierarchical_merges`.
    n_rows : int
    n_clusters : iterable of int
        Numbers of clusters, each in ``[1, n_rows]``.

    Returns
    -------
    dict of int to ndarray of shape (n_rows,)
        Labels ``0..k-1`` numbered in order of first appearance (as mclust's
        ``hclass``), for each ``k``.
    """
    wanted = sorted({int(k) for k in n_clusters if 1 <= int(k) <= n_rows}, reverse=True)
    owner = np.arange(n_rows)  # an arbitrary id of each row's cluster
    members = {r: [r] for r in range(n_rows)}  # by id
    id_of = {r: r for r in range(n_rows)}  # a cluster's id from its representative row
    out: dict[int, np.ndarray] = {}
    clusters = n_rows
    steps = iter(merges)
    for k in wanted:
        while clusters > k:
            a, b = (int(v) for v in next(steps))
            keep, gone = id_of[a], id_of.pop(b)
            if len(members[keep]) < len(members[gone]):
                keep, gone = gone, keep  # move the smaller cluster's rows
            moved = members.pop(gone)
            members[keep].extend(moved)
            owner[moved] = keep
            id_of[a] = keep
            clusters -= 1
        _, first, inverse = np.unique(owner, return_index=True, return_inverse=True)
        out[k] = np.argsort(np.argsort(first))[inverse]
    return out


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
    return cut_tree(merges, n_rows, [n_clusters])[int(n_clusters)]


_CACHE: dict[tuple, np.ndarray] = {}
_LOCK = threading.Lock()


def clear_merges() -> None:
    """Forget the trees of :func:`cached_merges`."""
    with _LOCK:
        _CACHE.clear()


def cached_merges(Z: np.ndarray, model: str = "VVV") -> np.ndarray:
    """:func:`hierarchical_merges` of ``Z`` with a small cache keyed by the rows' bytes.

    A model-selection grid fits many (model, K) to the same rows: the tree is
    built once per data set and cut at every K, as mclust does.
    """
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    key = (hashlib.sha1(Z.view(np.uint8)).hexdigest(), Z.shape, model)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    merges = hierarchical_merges(Z, model if Z.shape[0] > Z.shape[1] else "EII")
    with _LOCK:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = merges
    return merges
