"""The Gaussian family and its covariance models.

Each covariance model is a class registered under its name in
:data:`COVARIANCE_MODELS`; :func:`get_covariance_model` is the one place that
turns a name into a model. Shapes of the model-dependent arrays:

=============  ======================  ==========================
model          ``covariances_``        ``precisions_cholesky_``
=============  ======================  ==========================
``full``       (K, D, D)               (K, D, D)
``tied``       (D, D)                  (D, D)
``diag``       (K, D)                  (K, D)
``spherical``  (K,)                    (K,)
=============  ======================  ==========================

Statistics are centred on an *anchor* (the current means during EM), so that
features with large offsets lose no digits to raw-moment cancellation.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import warnings
from typing import ClassVar

import numpy as np
from scipy import linalg

from ... import _kernels
from ..._linalg import LOG_2PI, cholesky_lower, precision_cholesky_batch, precision_cholesky_from_covariance
from ...exceptions import (
    DegenerateComponentWarning,
    InvalidParameterError,
    NumericalError,
)
from ..base import Stats


@dataclasses.dataclass(frozen=True)
class GaussianParams:
    """Parameters of K Gaussian components (shapes: module docstring)."""

    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


@dataclasses.dataclass(frozen=True)
class GaussianStats(Stats):
    """Sufficient statistics of a chunk, centred on ``centre``.

    Attributes
    ----------
    nk : ndarray of shape (K,)
        Summed responsibilities.
    s1 : ndarray of shape (K, D)
        ``sum_n r_nk (x_n - c_k)``.
    s2 : ndarray
        ``sum_n r_nk (x_n - c_k)(x_n - c_k)^T`` in the model's shape: (K, D, D)
        full, (D, D) tied (summed over components), (K, D) diag and spherical.
    centre : ndarray of shape (K, D)
        The anchor ``c``; identical in every chunk of one pass, not summed.
    """

    s1: np.ndarray
    s2: np.ndarray
    centre: np.ndarray

    _fixed: ClassVar[tuple[str, ...]] = ("centre",)


_REPAIRS = threading.local()


def _note_repair() -> None:
    """Count a repaired M-step on this thread (see :meth:`GaussianFamily.repair_count`)."""
    _REPAIRS.n = getattr(_REPAIRS, "n", 0) + 1


def _repair_cholesky(cov: np.ndarray, label: str) -> tuple[np.ndarray, float]:
    """Lower Cholesky of ``cov`` and the jitter added to its diagonal to make it exist.

    Warns :class:`DegenerateComponentWarning` when jitter was needed and raises
    :class:`NumericalError` when no reasonable jitter helps.
    """
    chol = cholesky_lower(cov)
    if chol is not None:
        return chol, 0.0
    d = cov.shape[0]
    diag = np.diag(cov)
    finite = np.isfinite(cov).all()
    if not finite:
        raise NumericalError(
            f"{label}: covariance has non-finite entries; the data may contain extreme values. "
            "Standardise the features or increase reg_covar"
        )
    scale = float(np.mean(np.abs(diag))) if np.any(diag > 0) else 1.0
    eps = float(np.finfo(cov.dtype).eps)
    eye = np.eye(d, dtype=cov.dtype)
    for power in range(0, 14):
        jitter = scale * eps * 10.0 * (10.0**power)
        chol = cholesky_lower(cov + jitter * eye)
        if chol is not None:
            _note_repair()
            warnings.warn(
                f"{label}: covariance is not positive definite (singular: a constant "
                f"feature, duplicated points or a collapsed component); added {jitter:.3g} "
                "to its diagonal. Set reg_covar > 0, use fewer components or standardise "
                "the features to avoid this",
                DegenerateComponentWarning,
                stacklevel=4,
            )
            return chol, jitter
    raise NumericalError(
        f"{label}: covariance is not positive definite even with jitter {jitter:.3g}. "
        "Increase reg_covar, use fewer components, or standardise the features"
    )


def _repair_variances(var: np.ndarray, label: str) -> np.ndarray:
    """Variances must be positive and finite; floor zeros with jitter and a warning."""
    if not np.isfinite(var).all():
        raise NumericalError(
            f"{label}: variance is not finite. Standardise the features or increase reg_covar"
        )
    bad = var <= 0
    if not bad.any():
        return var
    pos = var[var > 0]
    scale = float(pos.mean()) if pos.size else 1.0
    jitter = scale * float(np.finfo(var.dtype).eps) * 10.0
    _note_repair()
    warnings.warn(
        f"{label}: {int(bad.sum())} variance(s) are zero (a constant feature or a collapsed "
        f"component); set to {jitter:.3g}. Set reg_covar > 0 to avoid this",
        DegenerateComponentWarning,
        stacklevel=4,
    )
    var = var.copy()
    var[bad] = jitter
    return var


class CovarianceModel:
    """Base of the covariance models; subclasses fill in the shape-specific parts."""

    name: ClassVar[str]
    #: True when ``covariances_`` has one entry per component along axis 0
    per_component: ClassVar[bool] = True

    def shape(self, k: int, d: int) -> tuple[int, ...]:
        raise NotImplementedError

    def log_prob(self, X: np.ndarray, means: np.ndarray, prec_chol: np.ndarray) -> np.ndarray:
        """Log-densities ``log N(x_n | mu_k, Sigma_k)``, shape (n, K)."""
        raise NotImplementedError

    def scatter(self, X: np.ndarray, resp: np.ndarray, centre: np.ndarray):
        """Return ``(s1, s2)`` of one chunk (see :class:`GaussianStats`)."""
        raise NotImplementedError

    def scatter_shape(self, k: int, d: int) -> tuple[int, ...]:
        """Shape of ``s2`` (the same as the covariances for full, tied and diag)."""
        return self.shape(k, d)

    def reduce_scatter(self, full: np.ndarray) -> np.ndarray:
        """Turn per-component full scatter matrices (K, D, D) into this model's ``s2``."""
        raise NotImplementedError

    def covariance(self, stats: GaussianStats, nk: np.ndarray, reg: float) -> np.ndarray:
        """Covariances from centred statistics, with ``reg`` added to the diagonal."""
        raise NotImplementedError

    def m_step_covariance(
        self, stats: GaussianStats, nk: np.ndarray, reg: float, previous: np.ndarray | None
    ) -> np.ndarray:
        """Covariances of the M-step; ``previous`` (model shape, or ``None``) warm-starts
        models whose M-step is iterative (see :mod:`emix.families.mclust`)."""
        return self.covariance(stats, nk, reg)

    def precision_cholesky(self, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(cov, prec_chol)``; ``cov`` may carry jitter if it was singular."""
        raise NotImplementedError

    def from_precisions(self, precisions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(covariances, prec_chol)`` from user precisions (already shape-checked)."""
        raise NotImplementedError

    def precisions(self, prec_chol: np.ndarray) -> np.ndarray:
        """Precision matrices from their Cholesky factors (model shape)."""
        raise NotImplementedError

    def component_covariance(self, cov: np.ndarray, k: int, d: int) -> np.ndarray:
        """Full (D, D) covariance matrix of component ``k``."""
        raise NotImplementedError

    def n_parameters(self, k: int, d: int) -> int:
        """Free parameters of the covariances of K components in D dimensions."""
        raise NotImplementedError

    def check_precisions(self, precisions: np.ndarray, k: int, d: int) -> None:
        """Validate user-supplied precisions: shape, symmetry, positive definiteness."""
        want = self.shape(k, d)
        if precisions.shape != want:
            raise InvalidParameterError(
                f"precisions_init has shape {precisions.shape}; covariance_type="
                f"{self.name!r} with n_components={k} and {d} features needs {want}"
            )
        if not np.isfinite(precisions).all():
            raise InvalidParameterError("precisions_init contains NaN or inf")

    def fused(
        self,
        X: np.ndarray,
        w: np.ndarray | None,
        log_weights: np.ndarray,
        means: np.ndarray,
        prec_chol: np.ndarray,
        centre: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """E-step and statistics of one chunk in one call.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        w : ndarray of shape (n,) or None
            Sample weights of the rows.
        log_weights : ndarray of shape (K,)
            Log mixing weights.
        means : ndarray of shape (K, D)
        prec_chol : ndarray
            Model shape (module docstring).
        centre : ndarray of shape (K, D)
            Anchor of the statistics.

        Returns
        -------
        nk : ndarray of shape (K,), float64
        s1 : ndarray of shape (K, D), float64
        s2 : ndarray, float64, model shape of :class:`GaussianStats`
        loglik : float
            ``sum_n w_n log p(x_n)`` of the chunk.
        """
        if self._fast_kernel_applies():
            return self._fused_fast(X, w, log_weights, means, prec_chol, centre)
        lj = self.log_prob(X, means, prec_chol)
        lj += log_weights.astype(lj.dtype)
        ljT = np.ascontiguousarray(lj.T)
        loglik = _normalize_columns(ljT, w)
        resp = ljT.T
        s1, s2 = self.scatter(X, resp, centre)
        nk = ljT.sum(axis=1, dtype=np.float64)
        return nk, np.asarray(s1, np.float64), np.asarray(s2, np.float64), loglik

    def prepare(self, log_weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray, centre: np.ndarray):
        """Per-pass preparation: a function ``(X, w) -> fused(X, w, ...)`` for one pass's chunks.

        The parameters are those of :meth:`fused`. Models whose kernels need
        constants derived from the parameters (shifts, coefficients) compute
        them here once per pass instead of once per chunk; the default simply
        calls :meth:`fused`.
        """

        def run(X: np.ndarray, w: np.ndarray | None):
            return self.fused(X, w, log_weights, means, prec_chol, centre)

        return run

    def to_free(self, cov: np.ndarray) -> np.ndarray:
        """Covariances as an unconstrained flat vector (for EM acceleration).

        Models that do not implement this (and :meth:`from_free`) are fitted
        without acceleration. Any vector must map back to valid covariances.
        """
        raise NotImplementedError

    def from_free(self, vec: np.ndarray, k: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(covariances, prec_chol)`` from :meth:`to_free`'s vector."""
        raise NotImplementedError

    @property
    def supports_acceleration(self) -> bool:
        """True when ``to_free``/``from_free`` describe exactly this model's covariances.

        A subclass that changes the M-step (``covariance`` or
        ``precision_cholesky``, e.g. to add a constraint) without its own
        ``to_free``/``from_free`` would extrapolate outside its model, so it
        runs plain EM.
        """
        cls = type(self)
        if cls.to_free is CovarianceModel.to_free or cls.from_free is CovarianceModel.from_free:
            return False
        owner = next(c for c in cls.__mro__ if "to_free" in c.__dict__)
        return all(
            getattr(cls, m) is getattr(owner, m) for m in ("from_free", "covariance", "precision_cholesky")
        )

    #: optional BLAS-shaped kernel with the signature of :meth:`fused`
    _fused_fast = None
    _fast_ok_cache: ClassVar[dict] = {}

    def _fast_kernel_applies(self) -> bool:
        """True when this class's ``_fused_fast`` computes its own ``log_prob`` and ``scatter``."""
        cls = type(self)
        ok = CovarianceModel._fast_ok_cache.get(cls)
        if ok is None:
            owner = next(c for c in cls.__mro__ if "_fused_fast" in c.__dict__)
            ok = (
                owner.__dict__["_fused_fast"] is not None
                and cls.log_prob is owner.log_prob
                and cls.scatter is owner.scatter
            )
            CovarianceModel._fast_ok_cache[cls] = ok
        return ok


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

    def _fused_fast(self, X, w, log_weights, means, prec_chol, centre):
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
        loglik = _normalize_columns(ljT, w)
        nk = ljT.sum(axis=1, dtype=np.float64)
        s1 = np.empty((k_, d))
        s2 = np.empty((k_, d, d))
        for k in range(k_):
            np.subtract(X, centre[k], out=diff)
            s1[k] = ljT[k] @ diff
            np.multiply(diff, ljT[k][:, None], out=y)
            s2[k] = y.T @ diff
        return nk, s1, s2, loglik

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
            chol, jitter = _repair_cholesky(cov[k], f"component {k}")
            if jitter:
                cov[k] += jitter * eye
            pc[k] = precision_cholesky_from_covariance(chol)
        return cov, pc

    def from_precisions(self, precisions):
        pc = np.empty_like(precisions)
        cov = np.empty_like(precisions)
        for k in range(precisions.shape[0]):
            chol = cholesky_lower(precisions[k])
            pc[k] = chol
            cov[k] = linalg.cho_solve((chol, True), np.eye(chol.shape[0]))
        return cov, pc

    def precisions(self, prec_chol):
        return prec_chol @ np.swapaxes(prec_chol, 1, 2)

    def component_covariance(self, cov, k, d):
        return cov[k]

    def to_free(self, cov):
        return _chol_to_free(cov)

    def from_free(self, vec, k, d):
        return _chol_from_free(vec, k, d)

    def n_parameters(self, k, d):
        return k * d * (d + 1) // 2

    def check_precisions(self, precisions, k, d):
        super().check_precisions(precisions, k, d)
        for j in range(k):
            _check_spd(precisions[j], f"precisions_init[{j}]")


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

    def _fused_fast(self, X, w, log_weights, means, prec_chol, centre):
        kern = _kernels.kernels_for("tied", X)
        if kern is not None:
            return _tied_numba(kern, X, w, log_weights, means, prec_chol, centre)
        n, d = X.shape
        dt = X.dtype
        g = _global_centre(means, log_weights)
        xg = X - g
        xu = xg @ prec_chol
        mu = ((means - g).astype(np.float64) @ prec_chol.astype(np.float64)).astype(dt)
        ljT = mu @ xu.T
        sq = np.einsum("ij,ij->i", xu, xu)
        sq *= 0.5
        ljT -= sq
        logdet = np.log(np.diagonal(prec_chol).astype(np.float64)).sum()
        const = (
            logdet + log_weights - 0.5 * d * LOG_2PI - 0.5 * np.einsum("ij,ij->i", mu, mu, dtype=np.float64)
        )
        ljT += const.astype(dt)[:, None]
        loglik = _normalize_columns(ljT, w)
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
        chol, jitter = _repair_cholesky(cov, "shared (tied) covariance")
        cov = cov + jitter * np.eye(cov.shape[0], dtype=cov.dtype)
        return cov, precision_cholesky_from_covariance(chol)

    def from_precisions(self, precisions):
        chol = cholesky_lower(precisions)
        return linalg.cho_solve((chol, True), np.eye(chol.shape[0])), chol

    def precisions(self, prec_chol):
        return prec_chol @ prec_chol.T

    def component_covariance(self, cov, k, d):
        return cov

    def to_free(self, cov):
        return _chol_to_free(cov[None])

    def from_free(self, vec, k, d):
        cov, pc = _chol_from_free(vec, 1, d)
        return cov[0], pc[0]

    def n_parameters(self, k, d):
        return d * (d + 1) // 2

    def check_precisions(self, precisions, k, d):
        super().check_precisions(precisions, k, d)
        _check_spd(precisions, "precisions_init")


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
        return _fused_axis_aligned(X, w, log_weights, means, np.square(prec_chol, dtype=np.float64), centre)

    def _precisions64(self, prec_chol: np.ndarray, d: int) -> np.ndarray:
        """Precisions ``1 / var`` as a (K, D) float64 array."""
        return np.square(prec_chol, dtype=np.float64)

    def prepare(self, log_weights, means, prec_chol, centre):
        if not self._fast_kernel_applies():
            return super().prepare(log_weights, means, prec_chol, centre)
        return _AxisAlignedPass(log_weights, means, self._precisions64(prec_chol, means.shape[1]), centre)

    def covariance(self, stats, nk, reg):
        var = (stats.s2 - stats.s1**2 / nk[:, None]) / nk[:, None]
        np.maximum(var, 0.0, out=var)
        return var + reg

    def precision_cholesky(self, cov):
        cov = np.stack([_repair_variances(cov[k], f"component {k}") for k in range(cov.shape[0])])
        return cov, 1.0 / np.sqrt(cov)

    def from_precisions(self, precisions):
        return 1.0 / precisions, np.sqrt(precisions)

    def precisions(self, prec_chol):
        return prec_chol**2

    def component_covariance(self, cov, k, d):
        return np.diag(cov[k])

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
        return _fused_axis_aligned(X, w, log_weights, means, prec, centre)

    def _precisions64(self, prec_chol: np.ndarray, d: int) -> np.ndarray:
        return np.repeat(np.square(prec_chol, dtype=np.float64)[:, None], d, axis=1)

    prepare = DiagCovariance.prepare

    def covariance(self, stats, nk, reg):
        return DiagCovariance.covariance(self, stats, nk, reg).mean(axis=1)

    def precision_cholesky(self, cov):
        cov = np.concatenate(
            [_repair_variances(cov[k : k + 1], f"component {k}") for k in range(cov.shape[0])]
        )
        return cov, 1.0 / np.sqrt(cov)

    from_precisions = DiagCovariance.from_precisions
    precisions = DiagCovariance.precisions

    def component_covariance(self, cov, k, d):
        return cov[k] * np.eye(d)

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


# -- fused E-step + statistics kernels -----------------------------------------------
#
# ``CovarianceModel.fused`` computes, for one chunk, the responsibilities, the
# chunk's log-likelihood and its statistics in one go, with no temporaries
# larger than (n_chunk, max(D, K)). The base implementation composes the
# generic ``log_prob`` + normalisation + ``scatter``, so a new covariance model
# that implements only those gets a correct fused step for free; the four
# built-in models override ``_fused_fast`` with BLAS-shaped kernels. The fast
# kernel is used only when the instance's class has not overridden
# ``log_prob`` or ``scatter`` (a subclass that changes the density must not
# inherit a kernel written for its parent's density).


def _normalize_columns(ljT: np.ndarray, w: np.ndarray | None) -> float:
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


def _global_centre(means: np.ndarray, log_weights: np.ndarray) -> np.ndarray:
    """Weighted centre of the components (D,), used to centre the data inside a kernel."""
    with np.errstate(under="ignore"):
        pi = np.exp(log_weights - log_weights.max())
    pi /= pi.sum()
    return (pi @ means.astype(np.float64)).astype(means.dtype)


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


def _fused_axis_aligned(X, w, log_weights, means, prec, centre):
    """Fused kernel of the diagonal models; ``prec`` (K, D) holds the precisions ``1 / var``.

    The data are centred on the components' weighted centre ``g``; with
    ``z = [x - g, (x - g)**2]`` both the densities and the statistics are
    one (n, 2D) x (2D, K) product each. With numba (:mod:`emix._kernels`) one
    pass per row computes the same values around the anchors directly.
    """
    kern = _kernels.kernels_for("diag", X)
    if kern is not None:
        return _diag_numba(kern, X, w, log_weights, means, prec, centre)
    n, d = X.shape
    dt = X.dtype
    g = _global_centre(means, log_weights)
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
    loglik = _normalize_columns(ljT, w)
    nk = ljT.sum(axis=1, dtype=np.float64)
    t = (ljT @ z).astype(np.float64)  # (K, 2D): sums of r (x - g) and r (x - g)**2
    t1, t2 = t[:, :d], t[:, d:]
    delta = centre.astype(np.float64) - g.astype(np.float64)
    s1 = t1 - nk[:, None] * delta
    s2 = t2 - 2.0 * delta * t1 + nk[:, None] * delta * delta
    return nk, s1, s2, loglik


# -- numba wrappers: argument preparation around the kernels of emix._numba_kernels ----------


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _full_numba(kern, X, w, log_weights, means, prec_chol, centre):
    """:meth:`FullCovariance._fused_fast` through ``kern.full_fused`` (same contract)."""
    k_, d = means.shape
    U = _f64(prec_chol)
    logdet = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    const = _f64(log_weights) + logdet - 0.5 * d * LOG_2PI
    nk, s1, s2 = np.zeros(k_), np.zeros((k_, d)), np.zeros((k_, d, d))
    loglik = kern.full_fused(
        np.ascontiguousarray(X), _kernels.weights_arg(w), _f64(means), U, const, _f64(centre), nk, s1, s2
    )
    return nk, s1, s2, float(loglik)


def _tied_numba(kern, X, w, log_weights, means, prec_chol, centre):
    """:meth:`TiedCovariance._fused_fast` through ``kern.tied_fused_all`` (same contract).

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
    )
    return nk, s1, s2, float(loglik)


class _AxisAlignedPass:
    """Per-pass state of the diagonal models' kernels (see :meth:`CovarianceModel.prepare`).

    The components' weighted centre ``g``, the coefficients ``a = prec (mu -
    g)``, ``b = -prec / 2`` (K, D) and the constants (K,) are computed once in
    float64 (and cast once per data dtype); each chunk then costs one kernel
    call and the float64 shift of its statistics to the anchors.
    """

    def __init__(self, log_weights, means, prec, centre):
        self.args = (log_weights, means, prec, centre)
        k_, d = means.shape
        p64 = _f64(prec)
        lw = _f64(log_weights)
        self.g = _global_centre(_f64(means), lw)
        m = _f64(means) - self.g
        self.a, self.b = p64 * m, -0.5 * p64
        self.const = lw + 0.5 * np.log(p64).sum(axis=1) - 0.5 * d * LOG_2PI - 0.5 * (p64 * m * m).sum(axis=1)
        self.delta = _f64(centre) - self.g
        self._cast: dict = {}

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
        kern = _kernels.kernels_for("diag", X)
        if kern is None:
            return _fused_axis_aligned(X, w, *self.args)
        k_, d = self.a.shape
        g, a, b = self._coefficients(X.dtype)
        nk, t1, t2 = np.zeros(k_), np.zeros((k_, d)), np.zeros((k_, d))
        loglik = kern.diag_fused_shifted(
            np.ascontiguousarray(X), _kernels.weights_arg(w), g, a, b, self.const, nk, t1, t2
        )
        delta = self.delta
        s1 = t1 - nk[:, None] * delta
        s2 = t2 - 2.0 * delta * t1 + nk[:, None] * delta * delta
        return nk, s1, s2, float(loglik)


def _diag_numba(kern, X, w, log_weights, means, prec, centre):
    """:func:`_fused_axis_aligned` through ``kern.diag_fused_shifted`` (same contract).

    As in the NumPy kernel, the data are centred on the components' weighted
    centre ``g`` and the densities expanded in ``z = x - g`` and ``z**2``
    (coefficients computed in float64, cast to the data's dtype); the
    statistics around ``g`` are shifted to the anchors in float64.
    """
    return _AxisAlignedPass(log_weights, means, prec, centre)(X, w)


def _check_spd(m: np.ndarray, label: str) -> None:
    if not np.allclose(m, m.T, rtol=1e-8, atol=1e-12 * max(1.0, float(np.abs(m).max()))):
        raise InvalidParameterError(f"{label} is not symmetric")
    if cholesky_lower(m) is None:
        raise InvalidParameterError(f"{label} is not positive definite")


def _check_positive(p: np.ndarray) -> None:
    if (p <= 0).any():
        idx = tuple(int(i) for i in np.argwhere(p <= 0)[0])
        raise InvalidParameterError(f"precisions_init must be positive; entry {idx} is {p[idx]!r}")


#: Registry of covariance models by name. The 14 mclust models register here from
#: :mod:`emix.families.mclust` (imported by the ``emix.families`` package).
COVARIANCE_MODELS: dict[str, type[CovarianceModel]] = {
    m.name: m for m in (FullCovariance, TiedCovariance, DiagCovariance, SphericalCovariance)
}


_BUILTIN_MODELS = frozenset(COVARIANCE_MODELS.values())


def keep_empty_components(
    model: CovarianceModel,
    empty: np.ndarray,
    means: np.ndarray,
    cov: np.ndarray,
    previous,
    centre: np.ndarray,
) -> None:
    """Give emptied components their previous mean and covariance, in place.

    Parameters
    ----------
    model : CovarianceModel
    empty : ndarray of bool of shape (K,)
    means : ndarray of shape (K, D)
        New means, overwritten for the empty components.
    cov : ndarray
        New covariances (model shape); per-component ones are overwritten.
    previous : parameters with ``means`` and ``covariances``, or None
        Without previous parameters an empty component is placed at ``centre``.
    centre : ndarray of shape (K, D)
        The anchor of the statistics.
    """
    if previous is not None:
        means[empty] = previous.means[empty]
        if model.per_component:
            cov[empty] = previous.covariances[empty]
    else:
        means[empty] = centre[empty]


def get_covariance_model(name: str) -> CovarianceModel:
    """The single lookup from a ``covariance_type`` name to its model."""
    try:
        return COVARIANCE_MODELS[name]()
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"covariance_type must be one of {sorted(COVARIANCE_MODELS)}, got {name!r}"
        ) from None


class GaussianFamily:
    """Gaussian components under one covariance model.

    Parameters
    ----------
    covariance_type : str
        A name in :data:`COVARIANCE_MODELS`.
    reg_covar : float
        Non-negative jitter added to the covariance diagonals at every M-step.
    """

    name = "gaussian"

    def __init__(self, covariance_type: str = "full", reg_covar: float = 1e-6) -> None:
        self.model = get_covariance_model(covariance_type)
        self.reg_covar = float(reg_covar)

    # -- EM ---------------------------------------------------------------
    def log_prob(self, X: np.ndarray, params: GaussianParams) -> np.ndarray:
        """Component log-densities, shape (n, K)."""
        return self.model.log_prob(X, params.means, params.precisions_cholesky)

    def anchor(self, params: GaussianParams) -> np.ndarray:
        return params.means

    def anchor_from_centres(self, centres: np.ndarray) -> np.ndarray:
        return centres

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: np.ndarray) -> GaussianStats:
        s1, s2 = self.model.scatter(X, resp, anchor)
        return GaussianStats(nk=resp.sum(axis=0), s1=s1, s2=s2, centre=anchor)

    def e_step_accumulate(
        self,
        X: np.ndarray,
        w: np.ndarray | None,
        log_weights: np.ndarray,
        params: GaussianParams,
        anchor: np.ndarray,
    ) -> tuple[GaussianStats, float]:
        """Optional fused fast path: E-step and statistics of one chunk.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        w : ndarray of shape (n,) or None
        log_weights : ndarray of shape (K,)
        params : GaussianParams
        anchor : ndarray of shape (K, D)

        Returns
        -------
        stats : GaussianStats
            Same values as ``accumulate(X, w * resp, anchor)`` (float64).
        loglik : float
            ``sum_n w_n log p(x_n)``.
        """
        nk, s1, s2, loglik = self.model.fused(
            X, w, log_weights, params.means, params.precisions_cholesky, anchor
        )
        return GaussianStats(nk=nk, s1=s1, s2=s2, centre=anchor), loglik

    def repair_count(self) -> int | None:
        """Repaired M-steps so far on this thread (emptied components, jitter, floored variances).

        The driver compares it before and after an M-step to learn that the
        step was repaired (so a small drop of the likelihood after it is
        expected) without catching warnings. ``None`` for covariance models
        other than the four built-in ones, or a subclass that overrides
        :meth:`m_step`, which may repair in their own way: the driver then
        watches the warnings instead.
        """
        if type(self.model) not in _BUILTIN_MODELS or type(self).m_step is not GaussianFamily.m_step:
            return None  # a model or a subclassed M-step that may repair in its own way
        return getattr(_REPAIRS, "n", 0)

    def prepare_pass(self, log_weights: np.ndarray, params: GaussianParams, anchor: np.ndarray):
        """Optional: :meth:`e_step_accumulate` for one pass, with per-pass constants computed once.

        Returns a function ``(X, w) -> (stats, loglik)`` with the values of
        ``e_step_accumulate(X, w, log_weights, params, anchor)``.
        """
        run = self.model.prepare(log_weights, params.means, params.precisions_cholesky, anchor)

        def chunk(X: np.ndarray, w: np.ndarray | None) -> tuple[GaussianStats, float]:
            nk, s1, s2, loglik = run(X, w)
            return GaussianStats(nk=nk, s1=s1, s2=s2, centre=anchor), loglik

        return chunk

    # -- acceleration (optional protocol: to_vector / from_vector) ----------
    @property
    def supports_acceleration(self) -> bool:
        return self.model.supports_acceleration

    def to_vector(self, params: GaussianParams) -> np.ndarray:
        """Parameters as one unconstrained float64 vector (means, then free covariance coordinates)."""
        return np.concatenate(
            [np.asarray(params.means, dtype=np.float64).ravel(), self.model.to_free(params.covariances)]
        )

    def from_vector(self, vec: np.ndarray, like: GaussianParams) -> GaussianParams:
        """Inverse of :meth:`to_vector`; arrays take ``like``'s dtype."""
        k, d = like.means.shape
        dt = like.means.dtype
        means = vec[: k * d].reshape(k, d)
        cov, pc = self.model.from_free(vec[k * d :], k, d)
        return GaussianParams(
            means=means.astype(dt), covariances=cov.astype(dt), precisions_cholesky=pc.astype(dt)
        )

    def m_step(self, stats: GaussianStats, previous: GaussianParams | None) -> GaussianParams:
        """Weighted maximum likelihood from summed statistics.

        A component whose responsibility mass is (numerically) zero keeps its
        previous mean and covariance, with a warning.
        """
        nk = stats.nk
        total = float(nk.sum())
        floor = 10.0 * float(np.finfo(stats.s1.dtype).eps) * max(total, 1.0)
        empty = nk <= floor
        safe_nk = np.where(empty, 1.0, nk)
        means = stats.centre + stats.s1 / safe_nk[:, None]
        cov = self.model.m_step_covariance(
            stats, safe_nk, self.reg_covar, None if previous is None else previous.covariances
        )
        if empty.any():
            idx = np.flatnonzero(empty)
            _note_repair()
            warnings.warn(
                f"component(s) {idx.tolist()} received no responsibility; "
                + (
                    "they keep their previous parameters"
                    if previous is not None
                    else "they are placed at the anchor"
                )
                + ". Consider fewer components",
                DegenerateComponentWarning,
                stacklevel=3,
            )
            keep_empty_components(self.model, empty, means, cov, previous, stats.centre)
        cov, prec_chol = self.model.precision_cholesky(cov)
        # statistics may be float64 for float32 data: parameters keep the data's dtype
        dt = stats.centre.dtype if np.issubdtype(stats.centre.dtype, np.floating) else means.dtype
        return GaussianParams(
            means=means.astype(dt, copy=False),
            covariances=cov.astype(dt, copy=False),
            precisions_cholesky=prec_chol.astype(dt, copy=False),
        )

    def n_parameters(self, params: GaussianParams) -> int:
        k, d = params.means.shape
        return k * d + self.model.n_parameters(k, d)

    def sample(self, rng: np.random.Generator, params: GaussianParams, counts: np.ndarray) -> np.ndarray:
        k_, d = params.means.shape
        parts = []
        for k in range(k_):
            n = int(counts[k])
            cov = self.model.component_covariance(params.covariances, k, d)
            chol = np.linalg.cholesky(cov)
            z = rng.standard_normal((n, d))
            parts.append(params.means[k] + z @ chol.T)
        return np.concatenate(parts, axis=0) if parts else np.empty((0, d))
