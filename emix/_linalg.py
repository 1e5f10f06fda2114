"""Small linear-algebra helpers shared by the families: log-sum-exp and Cholesky."""

from __future__ import annotations

import numpy as np
from scipy import linalg

from . import _kernels

LOG_2PI = float(np.log(2.0 * np.pi))


def logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """Row-wise ``log(sum(exp(a), axis=1))``, stable for very negative rows.

    Parameters
    ----------
    a : ndarray of shape (n, k)

    Returns
    -------
    out : ndarray of shape (n,)
    """
    m = a.max(axis=1)
    # rows that are all -inf keep m=-inf; avoid inf-inf=nan
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(under="ignore"):
        s = np.exp(a - safe[:, None]).sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.log(s) + safe


def normalize_log_rows(log_joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn joint log-probabilities into responsibilities, in place.

    Parameters
    ----------
    log_joint : ndarray of shape (n, k)
        ``log pi_k + log p(x_n | k)``; overwritten with the responsibilities.

    Returns
    -------
    resp : ndarray of shape (n, k)
        The same buffer, now holding ``p(k | x_n)``; rows sum to one.
    log_norm : ndarray of shape (n,)
        ``log p(x_n)``.
    """
    log_norm = logsumexp_rows(log_joint)
    log_joint -= log_norm[:, None]
    with np.errstate(under="ignore"):
        np.exp(log_joint, out=log_joint)
    return log_joint, log_norm


def cholesky_lower(a: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor of a symmetric matrix, or ``None`` if not positive definite."""
    if not np.isfinite(a).all():
        return None
    try:
        c = linalg.cholesky(a, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    d = np.diag(c)
    if not (np.all(d > 0) and np.isfinite(c).all()):
        return None
    return c


def precision_cholesky_from_covariance(cov_chol: np.ndarray) -> np.ndarray:
    """Upper factor ``U`` with ``U U^T = inv(cov)``, from the lower Cholesky of ``cov``.

    Parameters
    ----------
    cov_chol : ndarray of shape (d, d)
        Lower Cholesky factor ``L`` of the covariance, ``L L^T = cov``.

    Returns
    -------
    prec_chol : ndarray of shape (d, d)
        ``inv(L)^T`` (upper triangular), scikit-learn's ``precisions_cholesky_``.
    """
    d = cov_chol.shape[0]
    eye = np.eye(d, dtype=cov_chol.dtype)
    return linalg.solve_triangular(cov_chol, eye, lower=True, check_finite=False).T


def precision_cholesky_batch(cov: np.ndarray) -> np.ndarray | None:
    """:func:`precision_cholesky_from_covariance` of the Cholesky factors of a stack, in one call.

    For the small matrices of the M-step a per-matrix SciPy call costs far more
    than the arithmetic; this takes the whole stack at once (a numba routine
    when the kernels are enabled, else NumPy's batched ``cholesky`` and
    ``inv``). Results agree with the SciPy path to rounding.

    Parameters
    ----------
    cov : ndarray of shape (m, d, d)
        Symmetric matrices.

    Returns
    -------
    prec_chol : ndarray of shape (m, d, d), float64, or None
        Upper factors ``U_k`` with ``U_k U_k^T = inv(cov_k)``; ``None`` when a
        matrix is not positive definite or not finite (the caller then takes
        the per-matrix path, which repairs and warns).
    """
    cov = np.ascontiguousarray(cov, dtype=np.float64)
    kern = _kernels.kernels()
    if kern is not None:
        out = np.empty_like(cov)
        return out if kern.precision_cholesky_batch(cov, out) else None
    if not np.isfinite(cov).all():
        return None
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    if not (np.diagonal(chol, axis1=1, axis2=2) > 0).all():
        return None
    # inv of a lower-triangular matrix is lower triangular; LU pivoting may leave rounding above
    out = np.triu(np.swapaxes(np.linalg.inv(chol), 1, 2))
    return out if np.isfinite(out).all() else None
