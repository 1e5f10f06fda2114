"""Starting points for EM: k-means, k-means++, random, random_from_data, hierarchical.

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
import hashlib
import threading
from collections.abc import Callable

import numpy as np

from ..exceptions import InvalidParameterError
from ..sources import map_chunks


@dataclasses.dataclass(frozen=True)
class Initialiser:
    """Responsibilities for the first M-step, and centres to anchor statistics."""

    resp_fn: Callable[[np.ndarray, int], np.ndarray]  # (X_chunk, row_offset) -> (n, K)
    centres: np.ndarray  # (K, D)


def _reference_point(source) -> np.ndarray:
    """The first row: distances are computed around it to limit cancellation.

    It depends only on the data, not on the chunk size, so every initialiser
    gives the same result however the rows are chunked (the mean of the
    first chunk would not: ties between equal distances, common in discrete
    data, would then break differently).
    """
    return np.array(source.first_chunk()[0], dtype=source.dtype)


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

    resp_fn.by_nearest = True  # hard assignment to ``centres`` (seed_from_labels may move them)
    return resp_fn


def _row_uniforms(seed: int, offset: int, n: int, width: int) -> np.ndarray:
    """Uniforms for rows ``offset .. offset + n``, shape (n, width), the same however rows are chunked.

    A counter-based generator (Philox) keyed by ``seed``: row ``i`` always uses
    the counter steps from ``i * ceil(width / 4)``, so a chunk can draw its
    rows' numbers wherever it is processed (a thread, a Dask worker).
    """
    steps = -(-width // 4)  # Philox yields 4 values per counter step
    bitgen = np.random.Philox(key=seed, counter=[offset * steps, 0, 0, 0])
    return np.random.Generator(bitgen).random((n, 4 * steps))[:, :width]


def _streaming_choice(source, rng: np.random.Generator, weight_fn, pool=None, size: int | None = None):
    """Draw a row with probability proportional to ``weight_fn(X_chunk, w_chunk)``.

    Uses exponential keys (``-log(u) / weight``; the smallest wins), which is an
    exact weighted draw in one pass. The uniforms come from
    :func:`_row_uniforms`, so the draw does not depend on the chunking and
    each chunk is handled where it lives (:func:`emix.sources.map_chunks`).

    Parameters
    ----------
    size : int or None
        ``None``: one row, shape (D,). An int ``L``: ``L`` independent draws
        (with replacement) in the same pass, shape (L, D).

    Returns
    -------
    ndarray of shape (D,) or (L, D), or None
        ``None`` when every weight is zero (for ``size``: when any draw failed).
    """
    width = 1 if size is None else int(size)
    seed = int(rng.integers(0, 2**63 - 1))

    def work(X, w, offset):
        weights = np.asarray(weight_fn(X, w), dtype=np.float64)
        u = _row_uniforms(seed, offset, X.shape[0], width)
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


def _potentials(source, C: np.ndarray, candidates: np.ndarray, shift: np.ndarray, pool=None) -> np.ndarray:
    """k-means potential ``sum_n w_n min(d2(x_n, C), d2(x_n, c))`` for each candidate ``c``.

    Returns
    -------
    ndarray of shape (L,), float64
    """

    def work(X, w, offset):
        closest = _sq_dist(X, C, shift).min(axis=1).astype(np.float64)
        d2 = _sq_dist(X, candidates, shift).astype(np.float64)
        np.minimum(d2, closest[:, None], out=d2)
        return d2.sum(axis=0) if w is None else w.astype(np.float64) @ d2

    total = np.zeros(candidates.shape[0])
    for p in map_chunks(source, work, pool):  # in chunk order
        total += p
    return total


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
    shift = _reference_point(source)
    trials = 2 + int(np.log(n_components)) if n_local_trials is None else int(n_local_trials)
    if trials < 1:
        raise InvalidParameterError(f"n_local_trials must be a positive int, got {n_local_trials}")

    def base_w(X, w):
        return np.ones(X.shape[0]) if w is None else w.astype(np.float64)

    first = _streaming_choice(source, rng, base_w, pool)
    centres = [first]
    for _ in range(1, n_components):
        C = np.asarray(centres)

        def d2_w(X, w, C=C):
            d2 = _sq_dist(X, C, shift).min(axis=1).astype(np.float64)
            return d2 * base_w(X, w)

        if trials == 1:
            nxt = _streaming_choice(source, rng, d2_w, pool)
        else:
            cands = _streaming_choice(source, rng, d2_w, pool, size=trials)
            if cands is None:
                nxt = None
            else:
                pot = _potentials(source, C, cands, shift, pool)
                nxt = cands[int(np.argmin(pot))]
        if nxt is None:  # every row coincides with a chosen centre: fall back to uniform
            nxt = _streaming_choice(source, rng, base_w, pool)
        centres.append(nxt)
    return np.asarray(centres, dtype=source.dtype)


def _data_variance(source, pool=None) -> float:
    """Mean per-feature variance of the data (weighted), in one centred pass."""
    shift = _reference_point(source)

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
    shift = _reference_point(source).astype(np.float64)
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


def make_initialiser(
    method: str, source, n_components: int, rng: np.random.Generator, *, pool=None
) -> Initialiser:
    """Build the initialiser named by ``init_params``.

    ``kmeans``: Lloyd from k-means++ seeds, then hard assignment.
    ``k-means++``: k-means++ seeds, hard assignment to the nearest seed.
    ``random``: uniform random responsibilities, normalised per row.
    ``random_from_data``: random rows as seeds, hard assignment to the nearest.
    ``hierarchical``: mclust's default, model-based agglomeration with the VVV
    criterion (see :func:`hierarchical_initialiser`).
    """
    if method == "hierarchical":
        return hierarchical_initialiser(source, n_components, rng)
    shift = _reference_point(source)
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
            "init_params must be one of ['hierarchical', 'k-means++', 'kmeans', 'random', "
            "'random_from_data'], "
            f"got {method!r}"
        )
    centres = np.asarray(centres, dtype=source.dtype)
    return Initialiser(resp_fn=_one_hot_nearest(centres, shift), centres=centres)


# -- model-based hierarchical agglomeration (mclust's default initialisation) ----------

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
    """
    n = source.n_samples
    k = n_components
    if n <= subset:
        Z = np.concatenate([X for X, _ in source.chunks()], axis=0)
        rows = None
    else:
        rows = np.sort(rng.choice(n, size=subset, replace=False))
        parts, offset = [], 0
        for X, _ in source.chunks():
            sel = rows[(rows >= offset) & (rows < offset + X.shape[0])] - offset
            parts.append(X[sel])
            offset += X.shape[0]
        Z = np.concatenate(parts, axis=0)
    merges = _cached_merges(Z, model)
    labels = cut_merges(merges, Z.shape[0], min(k, Z.shape[0]))
    centres = np.stack([Z[labels == j].mean(axis=0) for j in range(k)]).astype(source.dtype)
    if rows is None:

        def resp_fn(X: np.ndarray, offset: int) -> np.ndarray:
            resp = np.zeros((X.shape[0], k), dtype=X.dtype)
            resp[np.arange(X.shape[0]), labels[offset : offset + X.shape[0]]] = 1.0
            return resp

        return Initialiser(resp_fn=resp_fn, centres=centres)
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

    return Initialiser(resp_fn=soft_resp, centres=centres)


def seed_from_labels(initialiser: Initialiser, source, labels: np.ndarray) -> Initialiser:
    """Move the centres of labelled components to the mean of their labelled rows.

    Components without labelled rows keep the initialiser's centre; rows are
    then assigned to the nearest centre (labelled rows are overridden with
    their label by the caller). The random initialiser is returned unchanged.

    Parameters
    ----------
    initialiser : Initialiser
    source : a source
    labels : ndarray of int of shape (n_samples,)
        ``-1`` or a component index per row.
    """
    centres = np.array(initialiser.centres, dtype=np.float64)
    k, d = centres.shape
    sums = np.zeros((k, d))
    counts = np.zeros(k)
    offset = 0
    for X, w in source.chunks():
        y = labels[offset : offset + X.shape[0]]
        offset += X.shape[0]
        known = y >= 0
        if not known.any():
            continue
        ww = np.ones(int(known.sum())) if w is None else w[known].astype(np.float64)
        np.add.at(sums, y[known], ww[:, None] * X[known])
        np.add.at(counts, y[known], ww)
    seen = counts > 0
    centres[seen] = sums[seen] / counts[seen, None]
    centres = centres.astype(source.dtype)
    if getattr(initialiser.resp_fn, "by_nearest", False):
        shift = _reference_point(source)
        return Initialiser(resp_fn=_one_hot_nearest(centres, shift), centres=centres)
    return Initialiser(resp_fn=initialiser.resp_fn, centres=centres)
