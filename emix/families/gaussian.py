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
import warnings
from typing import ClassVar

import numpy as np
from scipy import linalg

from .._linalg import LOG_2PI, cholesky_lower, precision_cholesky_from_covariance
from ..exceptions import (
    DegenerateComponentWarning,
    InvalidParameterError,
    NumericalError,
)
from .base import Stats


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

    def covariance(self, stats, nk, reg):
        d = stats.s1.shape[1]
        cov = stats.s2 - np.einsum("ki,kj->kij", stats.s1, stats.s1) / nk[:, None, None]
        cov /= nk[:, None, None]
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
        cov += reg * np.eye(d, dtype=cov.dtype)
        return cov

    def precision_cholesky(self, cov):
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

    def covariance(self, stats, nk, reg):
        d = stats.s1.shape[1]
        cov = stats.s2 - (stats.s1.T / nk) @ stats.s1
        cov /= nk.sum()
        cov = 0.5 * (cov + cov.T)
        cov += reg * np.eye(d, dtype=cov.dtype)
        return cov

    def precision_cholesky(self, cov):
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

    def n_parameters(self, k, d):
        return k

    def check_precisions(self, precisions, k, d):
        super().check_precisions(precisions, k, d)
        _check_positive(precisions)


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
            if previous is not None:
                means[idx] = previous.means[idx]
                if self.model.per_component:
                    cov[idx] = previous.covariances[idx]
            else:
                means[idx] = stats.centre[idx]
        cov, prec_chol = self.model.precision_cholesky(cov)
        return GaussianParams(means=means, covariances=cov, precisions_cholesky=prec_chol)

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
