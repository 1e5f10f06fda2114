"""When a Gaussian component is degenerate: mclust's test of a singular covariance.

mclust stops EM and reports ``NA`` when a covariance becomes singular by its
test against ``emControl()$eps`` (``.Machine$double.eps``). For its
unconstrained model it takes the triangular factor ``R`` of each
covariance (``R^T R = Sigma_k``) and calls the covariance singular when

    rc_k = min_j |R_jj| / (1 + max_j |R_jj|)  <=  sqrt(eps)       (about 1.5e-8)

(the reciprocal condition number of ``Sigma_k`` is about ``rc_k^2``, so this
is ``rcond <= eps``); its other models apply the same kind of test to their
own decomposition (scale, shape, eigenvalues). emix applies the first form to
every model: ``|R_jj|`` are the diagonal of the Cholesky factor of
``Sigma_k`` (read off ``precisions_cholesky_``, whose diagonal is their
inverse), the standard deviations for diagonal models and ``sqrt(lambda_k)``
for spherical ones.

A component is also degenerate when it holds (numerically) no rows: mclust's
``sum_n z_nk <= sqrt(eps)``.
"""

from __future__ import annotations

import math

import numpy as np

#: ``sqrt(eps)``: the threshold of :func:`rcond` (mclust's ``sqrt(emControl()$eps)``).
RCOND_MIN = math.sqrt(float(np.finfo(np.float64).eps))


def rcond(roots: np.ndarray) -> np.ndarray:
    """mclust's ``min_j |R_jj| / (1 + max_j |R_jj|)`` of each component.

    Parameters
    ----------
    roots : ndarray of shape (K, D)
        ``|R_jj|`` of each component (see
        :meth:`~.covariance.CovarianceModel.root_diagonals`).

    Returns
    -------
    ndarray of shape (K,)
        ``0`` where a value is not finite.
    """
    r = np.asarray(roots, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        out = r.min(axis=1) / (1.0 + r.max(axis=1))
    return np.where(np.isfinite(out), out, 0.0)


def singular_components(roots: np.ndarray) -> tuple[int, ...]:
    """Components whose covariance is singular by mclust's test (``rcond <= sqrt(eps)``).

    Parameters
    ----------
    roots : ndarray of shape (K, D)
        ``|R_jj|`` of each component.
    """
    return tuple(int(k) for k in np.flatnonzero(~(rcond(roots) > RCOND_MIN)))


def empty_components(weights: np.ndarray, total_weight: float) -> tuple[int, ...]:
    """Components holding (numerically) no rows: ``weight * n <= sqrt(eps)``, mclust's threshold."""
    w = np.asarray(weights, dtype=np.float64)
    return tuple(int(k) for k in np.flatnonzero(w * float(total_weight) <= RCOND_MIN))
