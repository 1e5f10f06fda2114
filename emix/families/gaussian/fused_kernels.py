"""Fused E-step and statistics kernels of the four scikit-learn covariance models.

:meth:`~.covariance.CovarianceModel.fused` computes, for one chunk, the
responsibilities, the chunk's log-likelihood and its statistics in one go,
with no temporaries larger than (n_chunk, max(D, K)). The base implementation
composes the generic ``log_prob`` + normalisation (:func:`normalize_columns`)
+ ``scatter``, so a new covariance model that implements only those gets a
correct fused step for free; the four built-in models (:mod:`.sklearn_models`)
use the BLAS-shaped kernels here as their ``_fused_fast``. The fast kernel is
used only when the instance's class has not overridden ``log_prob`` or
``scatter`` (a subclass that changes the density must not inherit a kernel
written for its parent's density).

Each kernel hands the chunk to the numba kernel of
:mod:`emix._kernels.numba_gaussian` when :func:`emix._kernels.kernels_for`
offers one, and otherwise runs in NumPy. All share one contract: arguments
``(X, w, log_weights, means, prec_chol, centre)`` with ``X`` (n, D), ``w``
(n,) or None, ``log_weights`` (K,), ``means`` and ``centre`` (K, D) and
``prec_chol`` in the model's shape; result ``(nk, s1, s2, loglik)`` as in
:meth:`~.covariance.CovarianceModel.fused`.
"""

from __future__ import annotations

import numpy as np

from ... import _kernels
from ..._linalg import LOG_2PI


def normalize_columns(ljT: np.ndarray, w: np.ndarray | None) -> float:
    """Turn joint log-probabilities into (weighted) responsibilities in place.

    Parameters
    ----------
    ljT : ndarray of shape (K, n)
        ``log pi_k + log p(x_n | k)``, component-major; overwritten with
        ``w_n p(k | x_n)``.
    w : ndarray of shape (n,) or None
        Sample weights.

    Returns
    -------
    float
        The chunk's (weighted) log-likelihood ``sum_n w_n log p(x_n)``.
    """
    m = ljT.max(axis=0)
    with np.errstate(invalid="ignore"):
        safe = np.where(np.isfinite(m), m, 0.0).astype(ljT.dtype, copy=False)
    ljT -= safe
    with np.errstate(under="ignore"):
        np.exp(ljT, out=ljT)
    s = ljT.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_norm = safe.astype(np.float64) + np.log(s.astype(np.float64))
        if w is None:
            np.divide(1.0, s, out=s)
        else:
            np.divide(w.astype(s.dtype, copy=False), s, out=s)
        ljT *= s
    if w is None:
        return float(log_norm.sum())
    return float(w.astype(np.float64) @ log_norm)


def global_centre(means: np.ndarray, log_weights: np.ndarray) -> np.ndarray:
    """Weighted centre of the components (D,), used to centre the data inside a kernel."""
    with np.errstate(under="ignore"):
        pi = np.exp(log_weights - log_weights.max())
    pi /= pi.sum()
    return (pi @ means.astype(np.float64)).astype(means.dtype)


def fused_full(X, w, log_weights, means, prec_chol, centre):
    """Fused kernel of the ``full`` model: one (n, D) x (D, D) product per component."""
    kern = _kernels.kernels_for("full", X)
    if kern is not None:
        return _full_numba(kern, X, w, log_weights, means, prec_chol, centre)
    n, d = X.shape
    k_ = means.shape[0]
    dt = X.dtype
    ljT = np.empty((k_, n), dtype=dt)
    diff = np.empty((n, d), dtype=dt)
    y = np.empty((n, d), dtype=dt)
    for k in range(k_):
        np.subtract(X, means[k], out=diff)
        np.matmul(diff, prec_chol[k], out=y)
        np.einsum("ij,ij->i", y, y, out=ljT[k])
    logdet = np.log(np.diagonal(prec_chol, axis1=1, axis2=2).astype(np.float64)).sum(axis=1)
    const = (logdet + log_weights - 0.5 * d * LOG_2PI).astype(dt)
    ljT *= -0.5
    ljT += const[:, None]
    loglik = normalize_columns(ljT, w)
    nk = ljT.sum(axis=1, dtype=np.float64)
    s1 = np.empty((k_, d))
    s2 = np.empty((k_, d, d))
    for k in range(k_):
        np.subtract(X, centre[k], out=diff)
        s1[k] = ljT[k] @ diff
        np.multiply(diff, ljT[k][:, None], out=y)
        s2[k] = y.T @ diff
    return nk, s1, s2, loglik


def fused_tied(X, w, log_weights, means, prec_chol, centre):
    """Fused kernel of the ``tied`` model.

    The data are centred on the components' weighted centre ``g`` and
    projected once by the shared Cholesky factor; the shared scatter is
    accumulated around ``g`` and shifted to the anchors in float64.
    """
    kern = _kernels.kernels_for("tied", X)
    if kern is not None:
        return _tied_numba(kern, X, w, log_weights, means, prec_chol, centre)
    n, d = X.shape
    dt = X.dtype
    g = global_centre(means, log_weights)
    xg = X - g
    xu = xg @ prec_chol
    mu = ((means - g).astype(np.float64) @ prec_chol.astype(np.float64)).astype(dt)
    ljT = mu @ xu.T
    sq = np.einsum("ij,ij->i", xu, xu)
    sq *= 0.5
    ljT -= sq
    logdet = np.log(np.diagonal(prec_chol).astype(np.float64)).sum()
    const = logdet + log_weights - 0.5 * d * LOG_2PI - 0.5 * np.einsum("ij,ij->i", mu, mu, dtype=np.float64)
    ljT += const.astype(dt)[:, None]
    loglik = normalize_columns(ljT, w)
    nk = ljT.sum(axis=1, dtype=np.float64)
    t = (ljT @ xg).astype(np.float64)  # (K, D) sums of r (x - g)
    if w is None:
        a = (xg.T @ xg).astype(np.float64)
    else:
        a = ((xg * w.astype(dt)[:, None]).T @ xg).astype(np.float64)
    delta = centre.astype(np.float64) - g.astype(np.float64)
    s1 = t - nk[:, None] * delta
    cross = t.T @ delta
    s2 = a - cross - cross.T + (delta.T * nk) @ delta
    return nk, s1, s2, loglik


def fused_axis_aligned(X, w, log_weights, means, prec, centre, spherical: bool = False):
    """Fused kernel of the diagonal models; ``prec`` (K, D) holds the precisions ``1 / var``.

    The data are centred on the components' weighted centre ``g``; with
    ``z = [x - g, (x - g)**2]`` both the densities and the statistics are
    one (n, 2D) x (2D, K) product each. With numba (:mod:`emix._kernels`) one
    pass per row computes the same values around the anchors directly
    (``spherical``: rows of ``prec`` are one value repeated, and the spherical
    kernel runs; see :class:`AxisAlignedPass`).
    """
    if _kernels.kernels_for("spherical" if spherical else "diag", X) is not None:
        return AxisAlignedPass(log_weights, means, prec, centre, spherical)(X, w)
    n, d = X.shape
    dt = X.dtype
    g = global_centre(means, log_weights)
    z = np.empty((n, 2 * d), dtype=dt)
    np.subtract(X, g, out=z[:, :d])
    np.square(z[:, :d], out=z[:, d:])
    m = (means - g).astype(np.float64)
    p64 = prec.astype(np.float64)
    coef = np.concatenate([p64 * m, -0.5 * p64], axis=1).astype(dt)  # (K, 2D)
    ljT = coef @ z.T
    logdet = 0.5 * np.log(p64).sum(axis=1)
    const = logdet + log_weights - 0.5 * d * LOG_2PI - 0.5 * (p64 * m * m).sum(axis=1)
    ljT += const.astype(dt)[:, None]
    loglik = normalize_columns(ljT, w)
    nk = ljT.sum(axis=1, dtype=np.float64)
    t = (ljT @ z).astype(np.float64)  # (K, 2D): sums of r (x - g) and r (x - g)**2
    t1, t2 = t[:, :d], t[:, d:]
    delta = centre.astype(np.float64) - g.astype(np.float64)
    s1 = t1 - nk[:, None] * delta
    s2 = t2 - 2.0 * delta * t1 + nk[:, None] * delta * delta
    return nk, s1, s2, loglik


# -- numba wrappers: argument preparation around the kernels of emix._kernels.numba_gaussian --


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _full_numba(kern, X, w, log_weights, means, prec_chol, centre):
    """:func:`fused_full` through ``full_fused_all`` of :mod:`emix._kernels.numba_prepared` (same contract)."""
    k_, d = means.shape
    nk, s1, s2 = np.zeros(k_), np.zeros((k_, d)), np.zeros((k_, d, d))
    loglik = _kernels.prepared_kernels().full_fused_all(
        np.ascontiguousarray(X),
        _kernels.weights_arg(w),
        _f64(log_weights),
        _f64(means),
        _f64(prec_chol),
        _f64(centre),
        nk,
        s1,
        s2,
    )
    return nk, s1, s2, float(loglik)


def _tied_numba(kern, X, w, log_weights, means, prec_chol, centre):
    """:func:`fused_tied` through ``kern.tied_fused_all`` (same contract).

    The shared scatter is accumulated around the components' weighted centre
    ``g`` and shifted to the anchors in float64, as in the NumPy kernel; the
    preparation (``g``, the projected means, the constants) is in the kernel.
    """
    k_, d = means.shape
    nk, s1, s2 = np.zeros(k_), np.zeros((k_, d)), np.zeros((d, d))
    loglik = kern.tied_fused_all(
        np.ascontiguousarray(X),
        _kernels.weights_arg(w),
        _f64(log_weights),
        _f64(means),
        _f64(prec_chol),
        _f64(centre),
        nk,
        s1,
        s2,
        True,
        np.empty((0, d)),
        0.0,
    )
    return nk, s1, s2, float(loglik)


class AxisAlignedPass:
    """Per-pass state of the diagonal models' kernels (see :meth:`.covariance.CovarianceModel.prepare`).

    For float64 data with numba, each chunk is one call of
    ``diag_fused_all`` (:mod:`emix._kernels.numba_prepared`, which prepares
    the coefficients itself).
    ``spherical``: each row of ``prec`` is one value repeated, and the kernels are those of
    :mod:`emix._kernels.numba_axis` (same statistics, half the work).
    Otherwise the components' weighted centre ``g``, the coefficients ``a =
    prec (mu - g)``, ``b = -prec / 2`` (K, D) and the constants (K,) are
    computed once in float64 (and cast once per data dtype); each chunk then
    costs one kernel call and the float64 shift of its statistics to the
    anchors.
    """

    def __init__(self, log_weights, means, prec, centre, spherical: bool = False):
        self.args = (log_weights, means, prec, centre)
        self.spherical = spherical
        self._prepared = False
        self._cast: dict = {}

    def _prepare(self) -> None:
        log_weights, means, prec, centre = self.args
        k_, d = means.shape
        p64 = _f64(prec)
        lw = _f64(log_weights)
        self.g = global_centre(_f64(means), lw)
        m = _f64(means) - self.g
        self.a, self.b = p64 * m, -0.5 * p64
        self.const = lw + 0.5 * np.log(p64).sum(axis=1) - 0.5 * d * LOG_2PI - 0.5 * (p64 * m * m).sum(axis=1)
        self.delta = _f64(centre) - self.g
        self._prepared = True

    def _coefficients(self, dt: np.dtype):
        c = self._cast.get(dt)
        if c is None:
            c = self._cast[dt] = (
                self.g.astype(dt),
                np.ascontiguousarray(self.a, dtype=dt),
                np.ascontiguousarray(self.b, dtype=dt),
            )
        return c

    def __call__(self, X: np.ndarray, w: np.ndarray | None):
        kern = _kernels.kernels_for("spherical" if self.spherical else "diag", X)
        if kern is None:
            return fused_axis_aligned(X, w, *self.args)
        log_weights, means, prec, centre = self.args
        k_, d = means.shape
        nk, s1, s2 = np.zeros(k_), np.zeros((k_, d)), np.zeros((k_, d))
        if X.dtype == np.float64:
            loglik = _kernels.prepared_kernels().diag_fused_all(
                np.ascontiguousarray(X),
                _kernels.weights_arg(w),
                _f64(log_weights),
                _f64(means),
                _f64(prec),
                _f64(centre),
                nk,
                s1,
                s2,
                True,
                self.spherical,
            )
            return nk, s1, s2, float(loglik)
        if not self._prepared:
            self._prepare()
        g, a, b = self._coefficients(X.dtype)
        axis = _kernels.axis_kernels()
        fn = axis.sph_fused_shifted if self.spherical else axis.diag_fused_shifted
        loglik = fn(np.ascontiguousarray(X), _kernels.weights_arg(w), g, a, b, self.const, nk, s1, s2)
        delta = self.delta
        t1 = s1
        s1 = t1 - nk[:, None] * delta
        s2 = s2 - 2.0 * delta * t1 + nk[:, None] * delta * delta
        return nk, s1, s2, float(loglik)
