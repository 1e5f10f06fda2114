"""A start that a clump of outliers cannot capture: trimmed k-means on a sample (``init_params='trimmed-kmeans'``).

Trimmed k-means (Cuesta-Albertos, Gordaliza and Matrán 1997) minimises the
k-means cost of the ``1 - TRIM`` fraction of rows nearest to their centres and
leaves the rest out, so a group of gross outliers smaller than ``TRIM`` of the
data is left out instead of being given a centre of its own (plain k-means
gives twenty identical far rows their own cluster: that is its optimum). It
runs on a sample of about ``SAMPLE`` rows, drawn in one pass with per-row
uniforms (so it does not depend on the chunking; a row is drawn with a chance
proportional to its sample weight), from ``SEEDINGS`` seedings of distinct
sample rows, each improved by concentration steps (assign to the nearest
centre, keep the nearest ``1 - TRIM``, move each centre to the mean of its kept
rows) until the kept partition stops changing; the lowest trimmed cost wins.

The start is the M-step of the kept sample rows' partition (the
initialiser's ``subset``), so the trimmed rows do not pull it either; EM then
uses every row. ``StudentMixture`` fits from this start and from k-means by
default and keeps the more likely fit.
"""

from __future__ import annotations

import numpy as np

from ..sources import map_chunks
from .base import Initialiser, one_hot_nearest, sq_dist
from .sampling import row_uniforms

#: The fraction of sample rows left out by the trimmed cost.
TRIM = 0.1
#: About this many rows are sampled (all rows of smaller data).
SAMPLE = 4000
#: Random seedings tried; the lowest trimmed cost is kept.
SEEDINGS = 10
#: The most concentration steps of one seeding.
STEPS = 100


def sample_rows(source, rng: np.random.Generator, size: int = SAMPLE, pool=None) -> np.ndarray:
    """About ``size`` rows of ``source``, each kept with chance ``min(1, size * w / W)``, in data order.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    rng : numpy.random.Generator
        Gives the seed of the per-row uniforms.
    size : int
    pool : ChunkPool, optional

    Returns
    -------
    ndarray of shape (m, D), float64
    """
    seed = int(rng.integers(0, 2**63 - 1))
    total = float(source.total_weight)

    def work(X, w, offset):
        chance = np.full(X.shape[0], size / total) if w is None else size * w.astype(np.float64) / total
        keep = row_uniforms(seed, offset, X.shape[0], 1)[:, 0] < chance
        return np.asarray(X[keep], dtype=np.float64)

    parts = list(map_chunks(source, work, pool))  # in chunk order
    return np.concatenate(parts, axis=0) if parts else np.empty((0, source.n_features))


def _concentrate(Z: np.ndarray, centres: np.ndarray, shift: np.ndarray, n_keep: int):
    """Concentration steps from ``centres``; the final centres, kept rows and trimmed cost."""
    kept = None
    for _ in range(STEPS):
        d2 = sq_dist(Z, centres, shift)
        labels = d2.argmin(axis=1)
        near = d2[np.arange(Z.shape[0]), labels]
        order = np.argsort(near, kind="stable")[:n_keep]
        now = np.zeros(Z.shape[0], dtype=bool)
        now[order] = True
        for k in range(centres.shape[0]):
            rows = now & (labels == k)
            if rows.any():  # an emptied centre stays where it is
                centres[k] = Z[rows].mean(axis=0)
        if kept is not None and np.array_equal(now, kept):
            break
        kept = now
    d2 = sq_dist(Z, centres, shift)
    near = np.sort(d2.min(axis=1))[:n_keep]
    return centres, float(near.sum())


def trimmed_kmeans(
    Z: np.ndarray, n_components: int, rng: np.random.Generator, trim: float = TRIM
) -> tuple[np.ndarray, np.ndarray]:
    """Trimmed k-means of the rows ``Z``: the best of :data:`SEEDINGS` seedings.

    Parameters
    ----------
    Z : ndarray of shape (m, D)
    n_components : int
    rng : numpy.random.Generator
    trim : float
        The fraction of rows left out, in [0, 1).

    Returns
    -------
    centres : ndarray of shape (K, D)
    kept : ndarray of bool of shape (m,)
        The rows the trimmed cost keeps (nearest ``1 - trim`` to the centres).
    """
    m, k = Z.shape[0], n_components
    n_keep = max(int(np.ceil((1.0 - trim) * m)), min(k, m))
    shift = Z[0] if m else np.zeros(Z.shape[1])
    distinct = np.unique(Z, axis=0, return_index=True)[1]
    best, best_cost = None, np.inf
    for _ in range(SEEDINGS):
        pick = rng.choice(distinct, size=min(k, distinct.size), replace=False)
        seeds = Z[np.resize(pick, k)].copy()
        centres, cost = _concentrate(Z, seeds, shift, n_keep)
        if cost < best_cost:
            best, best_cost = centres, cost
    d2 = sq_dist(Z, best, shift).min(axis=1)
    kept = np.zeros(m, dtype=bool)
    kept[np.argsort(d2, kind="stable")[:n_keep]] = True
    return best, kept


def trimmed_kmeans_initialiser(
    source, n_components: int, rng: np.random.Generator, *, pool=None
) -> Initialiser:
    """Trimmed k-means on a sample; the start is the M-step of the kept rows' partition.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    n_components : int
    rng : numpy.random.Generator
    pool : ChunkPool, optional

    Returns
    -------
    Initialiser
        Centres of shape (n_components, D) and ``subset``: the kept sample rows.
    """
    Z = sample_rows(source, rng, pool=pool)
    if Z.shape[0] < n_components:  # a tiny sample (very unequal weights): use the first rows too
        Z = np.concatenate([Z, np.asarray(source.first_chunk()[0], dtype=np.float64)], axis=0)
    centres, kept = trimmed_kmeans(Z, n_components, rng)
    rows = Z[kept].astype(source.dtype)
    centres = centres.astype(source.dtype)
    return Initialiser(resp_fn=one_hot_nearest(centres, rows[0]), centres=centres, subset=rows)
