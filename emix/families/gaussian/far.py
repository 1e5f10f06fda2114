"""Squared Mahalanobis distances of rows far from every component, without overflow.

A row such as ``[1e200, 0]`` against a model fitted on standard normal data has
whitened residuals near ``1e200``; squaring them overflows, so every component's
log-density is ``-inf`` and its responsibilities are ``0 / 0``. The densities are
still ordered: the true log-joint of component ``k`` is

    log pi_k + log N(x | mu_k, Sigma_k) = -0.5 q_k + b_k,   q_k = |(x - mu_k) U_k|^2

with ``b_k`` the log weight plus the log normalising constant. Here the row is
scaled by a power of two (exact) before anything is squared, the components are
compared through the differences of their ``q`` (see :func:`relative_log_joint`),
and the log-joint is returned as ``base + rel_k`` with ``base = -0.5 min_j q_j``
(possibly ``-inf``: a log-density below the float range) and ``rel_k`` finite for
the nearest component. The estimators use it only for the rows whose ordinary
log-joint has no finite entry (see :mod:`emix.engine.posterior`), so the hot
kernels are untouched.
"""

from __future__ import annotations

import numpy as np


def dense_factors(model, prec_chol: np.ndarray, k: int, d: int) -> np.ndarray:
    """The precision factors of any covariance model as K dense upper matrices, shape (K, D, D)."""
    pc = np.asarray(prec_chol, dtype=np.float64)
    if pc.ndim == 3:
        return pc
    if pc.ndim == 2 and not model.per_component:  # tied: one (D, D) factor
        return np.broadcast_to(pc, (k, d, d))
    diag = pc if pc.ndim == 2 else np.repeat(pc[:, None], d, axis=1)  # diag (K, D), spherical (K,)
    out = np.zeros((k, d, d))
    out[:, np.arange(d), np.arange(d)] = diag
    return out


def relative_log_joint(
    X: np.ndarray, means: np.ndarray, factors: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``log pi_k + log p(x_n | k) = -0.5 q_nk + b_k`` as ``base_n + rel_nk``, without overflow.

    Each row is scaled by a power of two ``s`` (exact) so that ``q / s**2`` is of
    moderate size; the components are compared through the differences
    ``q_k - q_j = (y_k - y_j) . (y_k + y_j)`` with ``y_k = (x - mu_k) U_k``, the
    part ``x (U_k - U_j)`` kept apart from the means' part ``mu_k U_k - mu_j U_j``,
    so that components with equal covariances are still told apart by their means
    however far the row is.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    means : ndarray of shape (K, D)
    factors : ndarray of shape (K, D, D)
        Upper precision factors ``U_k`` (:func:`dense_factors`).
    b : ndarray of shape (K,)
        Log weight plus log normalising constant of each component.

    Returns
    -------
    base : ndarray of shape (n,)
        ``-0.5 min_k q_nk``, ``-inf`` when that is below the float range.
    rel : ndarray of shape (n, K)
        ``b_k`` minus the gap to the nearest component: finite for the nearest
        (where its ``b`` is finite), ``-inf`` where the gap is beyond the float range.
    """
    X = np.asarray(X, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    n = X.shape[0]
    top = np.maximum(np.max(np.abs(X), axis=1), float(np.max(np.abs(means))))
    s = np.ldexp(1.0, np.frexp(top)[1] - 1)  # |x| / s < 2, and s is finite
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        xu = np.einsum("nd,kde->nke", X / s[:, None], factors)  # x U_k / s
        mu = np.einsum("kd,kde->ke", means, factors)  # mu_k U_k
        y = xu - mu[None] / s[:, None, None]  # (x - mu_k) U_k / s
        q = np.einsum("nke,nke->nk", y, y)  # q_k / s**2
        rows = np.arange(n)
        j = np.argmin(np.where(np.isnan(q), np.inf, q), axis=1)  # nearest, up to rounding
        a = xu - xu[rows, j][:, None]  # x (U_k - U_j) / s: exactly 0 where U_k == U_j
        m = mu[None] - mu[j][:, None]  # mu_k U_k - mu_j U_j
        both = y + y[rows, j][:, None]  # (y_k + y_j) / s
        h = s[:, None] * np.einsum("nke,nke->nk", a, both) - np.einsum("nke,nke->nk", m, both)
        h = np.where(np.isnan(h), np.inf, h)  # (q_k - q_j) / s
        i = np.argmin(h, axis=1)
        h_min = h[rows, i]
        gap = (0.5 * s)[:, None] * (h - h_min[:, None])
        base = -(0.5 * s) * (s * q[rows, j] + h_min)
    gap[rows, i] = 0.0
    rel = np.broadcast_to(np.asarray(b, dtype=np.float64), (n, means.shape[0])) - gap
    rel[np.isnan(rel)] = -np.inf
    return np.where(np.isnan(base), -np.inf, base), rel


def log_squared_distances(X: np.ndarray, means: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``log |(x_n - mu_k) U_k|^2``, shape (n, K), finite however far the rows are (``-inf`` at distance 0).

    The residuals are scaled by a power of two before they are squared, as in
    :func:`relative_log_joint` (the Student-t family's far rows).

    Parameters
    ----------
    X : ndarray of shape (n, D)
    means : ndarray of shape (K, D)
    factors : ndarray of shape (K, D, D)

    Returns
    -------
    ndarray of shape (n, K)
    """
    X = np.asarray(X, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    top = np.maximum(np.max(np.abs(X), axis=1), float(np.max(np.abs(means))))
    e = np.frexp(top)[1] - 1
    s = np.ldexp(1.0, e)
    with np.errstate(under="ignore", divide="ignore"):
        y = np.einsum("nd,kde->nke", X / s[:, None], factors)
        y -= np.einsum("kd,kde->ke", means, factors)[None] / s[:, None, None]
        return np.log(np.einsum("nke,nke->nk", y, y)) + (2.0 * np.log(2.0)) * e[:, None]
