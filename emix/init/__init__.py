"""Starting points for EM: k-means, k-means++, random, random_from_data, hierarchical.

Every method reads the data through a source, chunk by chunk, like EM
itself, so initialisation needs no more memory than one chunk. Random draws
are made row by row in data order, so the result does not depend on the chunk
size.

Each method returns an :class:`Initialiser`: a function giving the
responsibilities of a chunk, and centres to anchor the statistics. The initial
parameters are the M-step of those responsibilities, as in scikit-learn.

This face is what the rest of emix imports; the methods live in modules:

- :mod:`.base`: the :class:`Initialiser` type, distances, assignment to the nearest centre;
- :mod:`.sampling`: chunking-independent random draws;
- :mod:`.kmeans`: k-means++ seeds and Lloyd's iterations;
- :mod:`.random`: ``random`` and ``random_from_data``;
- :mod:`.hierarchical`: mclust's model-based hierarchical agglomeration;
- :mod:`.trimmed`: trimmed k-means, a start outliers cannot capture;
- :mod:`.mclust_start`: mclust's start from it (quantile classes for 1-D data, a subset for large data).

:func:`make_initialiser` is the one place an ``init_params`` name is looked up.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import InvalidParameterError
from .base import Initialiser, nearest_initialiser
from .hierarchical import HC_CRITERIA, HC_SUBSET, cut_merges, cut_tree, hierarchical_merges, svd_transform
from .kmeans import kmeans_initialiser, kmeans_plusplus, kmeans_plusplus_initialiser, lloyd
from .mclust_start import clear_cache, hierarchical_initialiser, mclust_partition, qclass
from .random import random_from_data_initialiser, random_initialiser
from .trimmed import trimmed_kmeans_initialiser


def _hierarchical(source, n_components: int, rng: np.random.Generator, *, pool=None) -> Initialiser:
    return hierarchical_initialiser(source, n_components, rng)  # one process: no pool


def _random(source, n_components: int, rng: np.random.Generator, *, pool=None) -> Initialiser:
    return random_initialiser(source, n_components, rng)  # no pass over the data


def _random_from_data(source, n_components: int, rng: np.random.Generator, *, pool=None) -> Initialiser:
    return random_from_data_initialiser(source, n_components, rng)


#: The initialisers by ``init_params`` name, each called as ``f(source, n_components, rng, pool=pool)``.
INITIALISERS = {
    "hierarchical": _hierarchical,
    "k-means++": kmeans_plusplus_initialiser,
    "kmeans": kmeans_initialiser,
    "random": _random,
    "random_from_data": _random_from_data,
    "trimmed-kmeans": trimmed_kmeans_initialiser,
}


def start_plan(init_params) -> tuple[str, ...]:
    """The initialisers each restart runs EM from: one name, or a tuple of names (the most likely fit kept).

    Parameters
    ----------
    init_params : str or tuple of str
        Keys of :data:`INITIALISERS`.

    Returns
    -------
    tuple of str

    Raises
    ------
    InvalidParameterError
        An unknown name, or an empty tuple.
    """
    names = tuple(init_params) if isinstance(init_params, (tuple, list)) else (init_params,)
    if not names or any(not isinstance(n, str) or n not in INITIALISERS for n in names):
        raise InvalidParameterError(
            f"init_params must be one of {sorted(INITIALISERS)} or a tuple of them (EM from each start, "
            f"the most likely fit kept), got {init_params!r}"
        )
    return names


def make_initialiser(
    method: str, source, n_components: int, rng: np.random.Generator, *, pool=None
) -> Initialiser:
    """Build the initialiser named by ``init_params``.

    ``kmeans``: Lloyd from k-means++ seeds, then hard assignment.
    ``k-means++``: k-means++ seeds, hard assignment to the nearest seed.
    ``random``: uniform random responsibilities, normalised per row.
    ``random_from_data``: random rows as seeds, hard assignment to the nearest.
    ``trimmed-kmeans``: trimmed k-means on a sample, the start from its kept rows
    (see :mod:`.trimmed`): a clump of outliers gets no component.
    ``hierarchical``: mclust's default start, model-based agglomeration with
    the VVV criterion on mclust's SVD transformation of the data, quantile
    classes for 1-D data (see :mod:`.mclust_start`).

    Parameters
    ----------
    method : str
        A key of :data:`INITIALISERS`.
    source : a source (see :mod:`emix.sources`)
    n_components : int
    rng : numpy.random.Generator
    pool : ChunkPool, optional
        Threads for the passes of the k-means methods.

    Returns
    -------
    Initialiser
        Centres of shape (n_components, D); responsibilities of shape (n, n_components).

    Raises
    ------
    InvalidParameterError
        When ``method`` is not a known name.
    """
    try:
        build = INITIALISERS[method]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"init_params must be one of {sorted(INITIALISERS)}, got {method!r}"
        ) from None
    return build(source, n_components, rng, pool=pool)


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
        return nearest_initialiser(source, centres)
    return Initialiser(resp_fn=initialiser.resp_fn, centres=centres)


__all__ = [
    "HC_CRITERIA",
    "HC_SUBSET",
    "INITIALISERS",
    "Initialiser",
    "clear_cache",
    "cut_merges",
    "cut_tree",
    "hierarchical_initialiser",
    "hierarchical_merges",
    "kmeans_plusplus",
    "lloyd",
    "make_initialiser",
    "mclust_partition",
    "qclass",
    "seed_from_labels",
    "svd_transform",
]
