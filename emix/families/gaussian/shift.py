"""Centred statistics moved to another centre: the exact shift behind online EM's blending.

Statistics centred on ``c`` (``s1 = sum_n r_n (x_n - c)``, ``s2 = sum_n r_n
(x_n - c)(x_n - c)^T``) describe the same rows about another centre ``c'``
through ``x - c' = (x - c) + delta`` with ``delta = c - c'``::

    s1' = s1 + N delta
    s2' = s2 + s1 delta^T + delta s1^T + N delta delta^T

This is the pairwise update of Chan, Golub and LeVeque (1979) written for
sums rather than means: no raw moment ``sum r x x^T`` is ever formed, so
features with large offsets lose no digits when statistics of different
passes are added. The correction is formed as a full (K, D, D) array and
turned into the model's layout of ``s2`` by the model's own
``reduce_scatter`` (summed over components for ``tied``, the diagonal for
``diag`` and ``spherical``), so it holds for every covariance model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .params import GaussianStats


def shift_centre(
    weight: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    old: np.ndarray,
    new: np.ndarray,
    reduce_scatter: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """``(s1, s2)`` centred on ``old`` re-expressed about ``new``.

    Parameters
    ----------
    weight : ndarray of shape (K,)
        The summed row weights behind ``s1`` and ``s2`` (``N_k``; ``U_k`` for
        the Student-t's scale-weighted sums).
    s1 : ndarray of shape (K, D)
    s2 : ndarray
        The covariance model's layout: (K, D, D), (D, D), or (K, D).
    old, new : ndarray of shape (K, D)
        The current centre and the one wanted.
    reduce_scatter : callable
        The covariance model's ``reduce_scatter``: (K, D, D) to its layout of ``s2``.

    Returns
    -------
    s1, s2 : ndarray
        Same shapes, float64 (or the inputs' dtype if wider).
    """
    if old is new or np.array_equal(old, new):
        return s1, s2
    delta = np.asarray(old, dtype=np.float64) - np.asarray(new, dtype=np.float64)
    n = np.asarray(weight, dtype=np.float64)[:, None]
    s1 = np.asarray(s1, dtype=np.float64)
    cross = s1[:, :, None] * delta[:, None, :]
    full = cross + np.swapaxes(cross, 1, 2) + (n[:, :, None] * delta[:, :, None]) * delta[:, None, :]
    return s1 + n * delta, np.asarray(s2, dtype=np.float64) + reduce_scatter(full)


def recentre_gaussian_stats(
    stats: GaussianStats, like: GaussianStats, reduce_scatter: Callable[[np.ndarray], np.ndarray]
) -> GaussianStats:
    """``stats`` re-centred on ``like.centre`` (:func:`shift_centre`), so that the two add.

    The ``recentre_stats`` of every family whose statistics are :class:`GaussianStats`
    (maximum likelihood and variational), which online EM needs to blend batches
    centred on different parameters.

    Parameters
    ----------
    stats, like : GaussianStats
        ``s1`` (K, D), ``s2`` in the covariance model's layout, ``centre`` (K, D).
    reduce_scatter : callable
        The covariance model's ``reduce_scatter``.

    Returns
    -------
    GaussianStats
        The same rows' statistics with ``like.centre``.
    """
    s1, s2 = shift_centre(stats.nk, stats.s1, stats.s2, stats.centre, like.centre, reduce_scatter)
    return GaussianStats(nk=stats.nk, s1=s1, s2=s2, centre=like.centre)
