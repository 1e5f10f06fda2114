"""The four covariance models of scikit-learn: ``full``, ``tied``, ``diag``, ``spherical``.

Their densities, statistics, M-steps, parameter counts and free coordinates
(for EM acceleration); their fused E-step kernels are in
:mod:`.fused_kernels`. Importing this module registers them in
:data:`~.covariance.COVARIANCE_MODELS`. Shapes: :mod:`.params`.
"""

from __future__ import annotations

import functools

import numpy as np

from ..._linalg import LOG_2PI, cholesky_lower, precision_cholesky_batch, precision_cholesky_from_covariance
from ...exceptions import InvalidParameterError
from .covariance import CovarianceModel, register_covariance_models
from .fused_kernels import AxisAlignedPass, fused_axis_aligned, fused_full, fused_tied
from .repair import repair_cholesky, repair_variances


class FullCovariance(CovarianceModel):
    """Each component has its own unrestricted covariance matrix (mclust VVV)."""

    name = "full"

    def shape(self, k, d):
        return (k, d, d)

    def log_prob(self, X, means, prec_chol):
        n, d = X.shape
        out = np.empty((n, means.shape[0]), dtype=X.dtype)
        for k in range(means.shape[0]):
            # (x - mu) U, not x U - mu U: no cancellation when features have large offsets
            y = (X - means[k]) @ prec_chol[k]
            out[:, k] = np.einsum("ij,ij->i", y, y)
        logdet = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
        out *= -0.5
        out += logdet - 0.5 * d * LOG_2PI
        return out

    def scatter(self, X, resp, centre):
        k_, d = centre.shape
        s1 = np.empty((k_, d), dtype=X.dtype)
        s2 = np.empty((k_, d, d), dtype=X.dtype)
        for k in range(k_):
            diff = X - centre[k]
            rd = diff * resp[:, k : k + 1]
            s1[k] = rd.sum(axis=0)
            s2[k] = rd.T @ diff
        return s1, s2

    def reduce_scatter(self, full):
        return full

    _fused_fast = staticmethod(fused_full)

    def covariance(self, stats, nk, reg):
        d = stats.s1.shape[1]
        cov = stats.s2 - np.einsum("ki,kj->kij", stats.s1, stats.s1) / nk[:, None, None]
        cov /= nk[:, None, None]
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
        cov += reg * np.eye(d, dtype=cov.dtype)
        return cov

    def precision_cholesky(self, cov):
        pc = precision_cholesky_batch(cov)
        if pc is not None:
            return cov, pc.astype(cov.dtype, copy=False)
        cov = cov.copy()
        pc = np.empty_like(cov)
        eye = np.eye(cov.shape[1], dtype=cov.dtype)
        for k in range(cov.shape[0]):
            chol, jitter = repair_cholesky(cov[k], f"component {k}", (k,))
            if jitter:
                cov[k] += jitter * eye
            pc[k] = precision_cholesky_from_covariance(chol)
        return cov, pc

    def from_precisions(self, precisions):
        return _covariances_from_precisions(precisions)

    def precisions(self, prec_chol):
        return prec_chol @ np.swapaxes(prec_chol, 1, 2)

    def component_covariance(self, cov, k, d):
        return cov[k]

    def root_diagonals(self, prec_chol, k):
        return _inverse_abs(np.diagonal(prec_chol, axis1=1, axis2=2))

    def _factor_diagonals(self, prec_chol):
        return np.diagonal(prec_chol, axis1=1, axis2=2)

    def to_free(self, cov):
        return _chol_to_free(cov)

    def from_free(self, vec, k, d):
        return _chol_from_free(vec, k, d)

    def n_parameters(self, k, d):
        return k * d * (d + 1) // 2

    def check_precisions(self, precisions, k, d):
        super().check_precisions(precisions, k, d)
        _check_spd(precisions, "precisions_init")

    def checked_from_precisions(self, precisions, k, d):
        CovarianceModel.check_precisions(self, precisions, k, d)
        return _covariances_from_cholesky(_check_spd(precisions, "precisions_init"))


class TiedCovariance(CovarianceModel):
    """All components share one covariance matrix (mclust EEE)."""

    name = "tied"
    per_component = False

    def shape(self, k, d):
        return (d, d)

    def log_prob(self, X, means, prec_chol):
        n, d = X.shape
        # centre on the mean of the means before projecting, so large offsets cancel exactly
        shift = means.mean(axis=0)
        xu = (X - shift) @ prec_chol
        mu = (means - shift) @ prec_chol
        out = np.empty((n, means.shape[0]), dtype=X.dtype)
        for k in range(means.shape[0]):
            y = xu - mu[k]
            out[:, k] = np.einsum("ij,ij->i", y, y)
        logdet = np.log(np.diagonal(prec_chol)).sum()
        out *= -0.5
        out += logdet - 0.5 * d * LOG_2PI
        return out

    def scatter(self, X, resp, centre):
        k_, d = centre.shape
        s1 = np.empty((k_, d), dtype=X.dtype)
        s2 = np.zeros((d, d), dtype=X.dtype)
        for k in range(k_):
            diff = X - centre[k]
            rd = diff * resp[:, k : k + 1]
            s1[k] = rd.sum(axis=0)
            s2 += rd.T @ diff
        return s1, s2

    def reduce_scatter(self, full):
        return full.sum(axis=0)

    _fused_fast = staticmethod(fused_tied)

    def covariance(self, stats, nk, reg):
        d = stats.s1.shape[1]
        cov = stats.s2 - (stats.s1.T / nk) @ stats.s1
        cov /= nk.sum()
        cov = 0.5 * (cov + cov.T)
        cov += reg * np.eye(d, dtype=cov.dtype)
        return cov

    def precision_cholesky(self, cov):
        pc = precision_cholesky_batch(cov[None])
        if pc is not None:
            return cov, pc[0].astype(cov.dtype, copy=False)
        chol, jitter = repair_cholesky(cov, "shared (tied) covariance")
        cov = cov + jitter * np.eye(cov.shape[0], dtype=cov.dtype)
        return cov, precision_cholesky_from_covariance(chol)

    def from_precisions(self, precisions):
        cov, chol = _covariances_from_precisions(precisions[None])
        return cov[0], chol[0]

    def precisions(self, prec_chol):
        return prec_chol @ prec_chol.T

    def component_covariance(self, cov, k, d):
        return cov

    def root_diagonals(self, prec_chol, k):
        return np.broadcast_to(_inverse_abs(np.diagonal(prec_chol)), (k, prec_chol.shape[0]))

    def _factor_diagonals(self, prec_chol):
        return np.diagonal(prec_chol)

    def to_free(self, cov):
        return _chol_to_free(cov[None])

    def from_free(self, vec, k, d):
        cov, pc = _chol_from_free(vec, 1, d)
        return cov[0], pc[0]

    def n_parameters(self, k, d):
        return d * (d + 1) // 2

    def check_precisions(self, precisions, k, d):
        super().check_precisions(precisions, k, d)
        _check_spd(precisions[None], "precisions_init", indexed=False)

    def checked_from_precisions(self, precisions, k, d):
        CovarianceModel.check_precisions(self, precisions, k, d)
        cov, chol = _covariances_from_cholesky(_check_spd(precisions[None], "precisions_init", indexed=False))
        return cov[0], chol[0]


class DiagCovariance(CovarianceModel):
    """Each component has its own axis-aligned covariance (mclust VVI)."""

    name = "diag"

    def shape(self, k, d):
        return (k, d)

    def log_prob(self, X, means, prec_chol):
        n, d = X.shape
        out = np.empty((n, means.shape[0]), dtype=X.dtype)
        for k in range(means.shape[0]):
            y = X - means[k]
            y *= prec_chol[k]
            out[:, k] = np.einsum("ij,ij->i", y, y)
        logdet = np.log(prec_chol).sum(axis=1)
        out *= -0.5
        out += logdet - 0.5 * d * LOG_2PI
        return out

    def scatter(self, X, resp, centre):
        k_, d = centre.shape
        s1 = np.empty((k_, d), dtype=X.dtype)
        s2 = np.empty((k_, d), dtype=X.dtype)
        for k in range(k_):
            diff = X - centre[k]
            r = resp[:, k]
            s1[k] = r @ diff
            diff *= diff
            s2[k] = r @ diff
        return s1, s2

    def reduce_scatter(self, full):
        return np.diagonal(full, axis1=1, axis2=2).copy()

    def _fused_fast(self, X, w, log_weights, means, prec_chol, centre):
        return fused_axis_aligned(X, w, log_weights, means, np.square(prec_chol, dtype=np.float64), centre)

    def _precisions64(self, prec_chol: np.ndarray, d: int) -> np.ndarray:
        """Precisions ``1 / var`` as a (K, D) float64 array."""
        return np.square(prec_chol, dtype=np.float64)

    def prepare(self, log_weights, means, prec_chol, centre):
        if not self._fast_kernel_applies():
            return super().prepare(log_weights, means, prec_chol, centre)
        prec = self._precisions64(prec_chol, means.shape[1])
        return AxisAlignedPass(log_weights, means, prec, centre, spherical=self.name == "spherical")

    def covariance(self, stats, nk, reg):
        var = (stats.s2 - stats.s1**2 / nk[:, None]) / nk[:, None]
        np.maximum(var, 0.0, out=var)
        return var + reg

    def precision_cholesky(self, cov):
        if cov.size and cov.min() > 0.0 and cov.max() < np.inf:  # the usual case: nothing to repair
            return cov, 1.0 / np.sqrt(cov)
        cov = np.stack([repair_variances(cov[k], f"component {k}", (k,)) for k in range(cov.shape[0])])
        return cov, 1.0 / np.sqrt(cov)

    def from_precisions(self, precisions):
        return 1.0 / precisions, np.sqrt(precisions)

    def precisions(self, prec_chol):
        return prec_chol**2

    def component_covariance(self, cov, k, d):
        return np.diag(cov[k])

    def root_diagonals(self, prec_chol, k):
        return _inverse_abs(prec_chol)

    def _factor_diagonals(self, prec_chol):
        return prec_chol

    def to_free(self, cov):
        return np.log(np.asarray(cov, dtype=np.float64)).ravel()

    def from_free(self, vec, k, d):
        var = np.exp(vec).reshape(k, d)
        return var, 1.0 / np.sqrt(var)

    def n_parameters(self, k, d):
        return k * d

    def check_precisions(self, precisions, k, d):
        super().check_precisions(precisions, k, d)
        _check_positive(precisions)


class SphericalCovariance(CovarianceModel):
    """Each component has its own single variance (mclust VII)."""

    name = "spherical"

    def shape(self, k, d):
        return (k,)

    def log_prob(self, X, means, prec_chol):
        n, d = X.shape
        out = np.empty((n, means.shape[0]), dtype=X.dtype)
        for k in range(means.shape[0]):
            y = X - means[k]
            out[:, k] = np.einsum("ij,ij->i", y, y)
        out *= prec_chol**2
        out *= -0.5
        out += d * np.log(prec_chol) - 0.5 * d * LOG_2PI
        return out

    scatter = DiagCovariance.scatter
    reduce_scatter = DiagCovariance.reduce_scatter

    def scatter_shape(self, k, d):
        return (k, d)

    def _fused_fast(self, X, w, log_weights, means, prec_chol, centre):
        prec = self._precisions64(prec_chol, X.shape[1])
        return fused_axis_aligned(X, w, log_weights, means, prec, centre, spherical=True)

    def _precisions64(self, prec_chol: np.ndarray, d: int) -> np.ndarray:
        return np.repeat(np.square(prec_chol, dtype=np.float64)[:, None], d, axis=1)

    prepare = DiagCovariance.prepare

    def covariance(self, stats, nk, reg):
        return DiagCovariance.covariance(self, stats, nk, reg).mean(axis=1)

    def precision_cholesky(self, cov):
        if cov.size and cov.min() > 0.0 and cov.max() < np.inf:  # the usual case: nothing to repair
            return cov, 1.0 / np.sqrt(cov)
        cov = np.concatenate(
            [repair_variances(cov[k : k + 1], f"component {k}", (k,)) for k in range(cov.shape[0])]
        )
        return cov, 1.0 / np.sqrt(cov)

    from_precisions = DiagCovariance.from_precisions
    precisions = DiagCovariance.precisions

    def component_covariance(self, cov, k, d):
        return cov[k] * np.eye(d)

    def root_diagonals(self, prec_chol, k):
        return _inverse_abs(prec_chol)[:, None]

    def _factor_diagonals(self, prec_chol):
        return prec_chol

    def to_free(self, cov):
        return np.log(np.asarray(cov, dtype=np.float64)).ravel()

    def from_free(self, vec, k, d):
        var = np.exp(vec)
        return var, 1.0 / np.sqrt(var)

    def n_parameters(self, k, d):
        return k

    def check_precisions(self, precisions, k, d):
        super().check_precisions(precisions, k, d)
        _check_positive(precisions)


# -- log-Cholesky free coordinates (EM acceleration) and checks of user precisions ----------


@functools.lru_cache(maxsize=64)
def _tril_layout(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column indices of the lower triangle of a (d, d) matrix, and the diagonal's
    positions in that order (cached: ``np.tril_indices`` costs more than a small Cholesky)."""
    rows, cols = np.tril_indices(d)
    return rows, cols, np.flatnonzero(rows == cols)


def _chol_to_free(cov: np.ndarray) -> np.ndarray:
    """(..., D, D) SPD matrices -> flat log-Cholesky coordinates (lower triangle, log diagonal)."""
    cov = np.asarray(cov, dtype=np.float64)
    d = cov.shape[-1]
    rows, cols, diag = _tril_layout(d)
    tri = np.linalg.cholesky(cov.reshape(-1, d, d))[:, rows, cols]
    tri[:, diag] = np.log(tri[:, diag])
    return tri.ravel()


def _chol_from_free(vec: np.ndarray, m: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_chol_to_free` for ``m`` matrices: ``(cov, prec_chol)``, each (m, D, D)."""
    rows, cols, diag = _tril_layout(d)
    tri = np.array(vec, dtype=np.float64).reshape(m, -1)
    tri[:, diag] = np.exp(tri[:, diag])
    chol = np.zeros((m, d, d))
    chol[:, rows, cols] = tri
    cov = chol @ np.swapaxes(chol, 1, 2)
    # inv(L)^T, upper triangular (rounding above the diagonal of the batched inverse removed)
    pc = np.triu(np.swapaxes(np.linalg.inv(chol), 1, 2))
    return cov, pc


def _inverse_abs(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 1.0 / np.abs(np.asarray(a, dtype=np.float64))


def _check_spd(m: np.ndarray, label: str, indexed: bool = True) -> np.ndarray:
    """Raise InvalidParameterError naming the first matrix of ``m`` (K, D, D) that is not
    symmetric (``allclose`` to its transpose, ``rtol=1e-8``, ``atol`` 1e-12 of its largest
    entry) or not positive definite; ``label[j]`` names matrix ``j`` (``label`` alone when not
    ``indexed``). One batched test for all K; the matrices are looked at one by one only to
    name a failing one. Returns the lower Cholesky factors (K, D, D)."""
    mt = np.swapaxes(m, 1, 2)
    atol = 1e-12 * np.maximum(1.0, np.abs(m).max(axis=(1, 2)))
    asym = (np.abs(m - mt) > atol[:, None, None] + 1e-8 * np.abs(mt)).any(axis=(1, 2))
    name = (lambda j: f"{label}[{j}]") if indexed else (lambda j: label)
    if asym.any():
        raise InvalidParameterError(f"{name(int(np.argmax(asym)))} is not symmetric")
    chol = _cholesky_all(m)
    if chol is None:
        j = next(j for j in range(m.shape[0]) if cholesky_lower(m[j]) is None)
        raise InvalidParameterError(f"{name(j)} is not positive definite")
    return chol


def _cholesky_all(m: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factors of the symmetric matrices ``m`` (K, D, D) in one LAPACK call
    each, or ``None`` when one is not positive definite."""
    try:
        chol = np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return None
    diag = np.diagonal(chol, axis1=1, axis2=2)
    if not (np.all(diag > 0) and np.isfinite(chol).all()):
        return None
    return chol


def _covariances_from_precisions(precisions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariances ``inv(P_k)`` and lower precision factors ``L_k`` (``L_k L_k^T = P_k``) of
    checked precisions (K, D, D): ``inv(P_k) = inv(L_k)^T inv(L_k)``, batched."""
    return _covariances_from_cholesky(_cholesky_all(precisions))


def _covariances_from_cholesky(chol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariances and the factors themselves from lower precision factors ``L_k`` (K, D, D)."""
    inv = np.linalg.solve(chol, np.broadcast_to(np.eye(chol.shape[1]), chol.shape))
    return np.swapaxes(inv, 1, 2) @ inv, chol


def _check_positive(p: np.ndarray) -> None:
    if (p <= 0).any():
        idx = tuple(int(i) for i in np.argwhere(p <= 0)[0])
        raise InvalidParameterError(f"precisions_init must be positive; entry {idx} is {p[idx]!r}")


register_covariance_models(FullCovariance, TiedCovariance, DiagCovariance, SphericalCovariance)

#: the four models whose M-step repairs are counted by :func:`.repair.thread_repair_count`
BUILTIN_MODELS = frozenset((FullCovariance, TiedCovariance, DiagCovariance, SphericalCovariance))
