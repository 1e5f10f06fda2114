"""The :class:`Initialiser` type and what the initialisers share.

An initialiser gives the responsibilities of a chunk and centres to anchor
the statistics; the initial parameters are the M-step of those
responsibilities, as in scikit-learn. Distances are compiled where numba is
(:func:`sq_to`, :func:`nearest_sq`: each difference squared directly) and
otherwise taken in NumPy around a reference point (the first row) to limit
cancellation; the centre-based initialisers assign every row to its nearest
centre (:func:`nearest_initialiser`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .. import _kernels


@dataclasses.dataclass(frozen=True)
class Initialiser:
    """Responsibilities for the first M-step, and centres to anchor statistics.

    Attributes
    ----------
    resp_fn : callable
        ``resp_fn(X_chunk, row_offset)``, ``X_chunk`` of shape (n, D), gives
        the chunk's responsibilities, shape (n, K).
    centres : ndarray of shape (K, D)
    subset : ndarray of shape (m, D) or None
        When set, ``resp_fn`` gives the responsibilities of these rows (a
        subset of the data), and the start is the M-step of their statistics
        alone (mclust's start for large data); ``None``: ``resp_fn`` covers
        every row of the data.
    """

    resp_fn: Callable[[np.ndarray, int], np.ndarray]  # (X_chunk, row_offset) -> (n, K)
    centres: np.ndarray  # (K, D)
    subset: np.ndarray | None = None  # (m, D): rows resp_fn covers, when not all of them


def reference_point(source) -> np.ndarray:
    """The first row: distances are computed around it to limit cancellation.

    It depends only on the data, not on the chunk size, so every initialiser
    gives the same result however the rows are chunked (the mean of the
    first chunk would not: ties between equal distances, common in discrete
    data, would then break differently).

    Returns
    -------
    ndarray of shape (D,), in the source's dtype
    """
    return np.array(source.first_chunk()[0], dtype=source.dtype)


def sq_dist(X: np.ndarray, centres: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Squared distances, computed around ``shift`` to limit cancellation.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    centres : ndarray of shape (K, D)
    shift : ndarray of shape (D,)

    Returns
    -------
    ndarray of shape (n, K), non-negative
    """
    Xs = X - shift
    Cs = centres - shift
    d2 = np.einsum("ij,ij->i", Xs, Xs)[:, None] - 2.0 * (Xs @ Cs.T)
    d2 += np.einsum("ij,ij->i", Cs, Cs)[None, :]
    np.maximum(d2, 0.0, out=d2)
    return d2


def _compiled(X: np.ndarray):
    """The compiled distances (:mod:`emix._kernels.numba_init`) when they apply to ``X``, else ``None``."""
    if X.dtype not in (np.float64, np.float32):
        return None
    return _kernels.init_kernels()


def sq_to(X: np.ndarray, centres: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Squared distances of every row to every centre, float64, shape (n, K).

    Compiled where numba is (each difference squared directly, no temporaries of
    the rows' size); otherwise :func:`sq_dist` around ``shift``.
    """
    kern = _compiled(X)
    if kern is None:
        return sq_dist(X, centres, shift).astype(np.float64)
    return kern.sq_all(np.ascontiguousarray(X), np.ascontiguousarray(centres, dtype=np.float64))


def nearest_sq(X: np.ndarray, centres: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's squared distance to its nearest centre (n,) float64, and that centre's index
    (n,) int (ties to the first); as :func:`sq_to`, compiled where numba is."""
    kern = _compiled(X)
    if kern is None:
        d2 = sq_dist(X, centres, shift)
        labels = d2.argmin(axis=1)
        return d2[np.arange(d2.shape[0]), labels].astype(np.float64), labels
    return kern.nearest(np.ascontiguousarray(X), np.ascontiguousarray(centres, dtype=np.float64))


def one_hot_nearest(centres: np.ndarray, shift: np.ndarray) -> Callable[[np.ndarray, int], np.ndarray]:
    """A ``resp_fn`` assigning each row to its nearest centre (ties to the first).

    Parameters
    ----------
    centres : ndarray of shape (K, D)
    shift : ndarray of shape (D,)
        The reference point distances are computed around.

    Returns
    -------
    callable
        ``resp_fn(X_chunk, row_offset)`` giving one-hot rows of shape (n, K),
        in ``X_chunk``'s dtype; its attribute ``by_nearest`` is True.
    """

    def resp_fn(X: np.ndarray, offset: int) -> np.ndarray:
        labels = nearest_sq(X, centres, shift)[1]
        resp = np.zeros((X.shape[0], centres.shape[0]), dtype=X.dtype)
        resp[np.arange(X.shape[0]), labels] = 1.0
        return resp

    resp_fn.by_nearest = True  # hard assignment to ``centres`` (seed_from_labels may move them)
    return resp_fn


def nearest_initialiser(source, centres: np.ndarray) -> Initialiser:
    """The initialiser assigning every row of ``source`` to its nearest centre.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    centres : array-like of shape (K, D)
        Converted to the source's dtype.
    """
    centres = np.asarray(centres, dtype=source.dtype)
    return Initialiser(resp_fn=one_hot_nearest(centres, reference_point(source)), centres=centres)
