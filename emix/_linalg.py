"""Small linear-algebra helpers shared by the families: log-sum-exp and Cholesky."""

from __future__ import annotations

import numpy as np
from scipy import linalg

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
