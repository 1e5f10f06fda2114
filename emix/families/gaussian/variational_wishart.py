"""The conjugate (Gauss-Wishart) update of a variational Gaussian mixture, one class per covariance type.

Every component has ``q(mu_k, Lambda_k) = N(mu_k | m_k, (beta_k Lambda_k)^-1)
W(Lambda_k | W_k, nu_k)``. Its parameters are stored as scikit-learn stores
them: ``means`` ``m_k``, ``mean_precision`` ``beta_k``, ``degrees_of_freedom``
``nu_k`` and ``covariances = W_k^-1 / nu_k`` (the inverse of ``E[Lambda_k]``),
with ``precisions_cholesky`` ``U_k`` (``U_k U_k^T = nu_k W_k``). The prior is
``beta_0``, ``m_0``, ``nu_0`` and ``Psi_0 = W_0^-1`` (``covariance_prior``).

The four covariance types restrict ``W_k`` (the update is then the optimum
within the restriction, so variational EM stays a coordinate ascent):

=============  =====================================  ==============================
type           ``W_k``                                ``covariance_prior`` shape
=============  =====================================  ==============================
``full``       any, one per component                 (D, D)
``tied``       one, shared (ELBO: K copies, below)    (D, D)
``diag``       diagonal, one per component            (D,)
``spherical``  ``w_k I``, one per component           scalar
=============  =====================================  ==============================

With ``N_k S_k`` the scatter of the rows about their component mean ``xbar_k``
and ``d_k = xbar_k - m_0``, the update (Bishop 2006, 10.60-10.63, and
scikit-learn's normalisation) is ``beta_k = beta_0 + N_k``, ``m_k = (beta_0
m_0 + N_k xbar_k) / beta_k``, ``nu_k = nu_0 + N_k`` and ``W_k^-1 = Psi_0 +
N_k (S_k + reg I) + N_k beta_0 / beta_k d_k d_k^T``, each term reduced to the
type's shape (diagonal, mean of the diagonal). ``tied`` follows scikit-learn:
``nu = nu_0 + N / K`` and ``W^-1 = Psi_0 + (sum_k N_k (S_k + reg I) + beta_0
sum_k N_k / beta_k d_k d_k^T) / K``, which is the exact optimum of an ELBO that
counts the shared Wishart's ``KL(q(Lambda) || p(Lambda))`` K times (see
:mod:`.variational`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._linalg import cholesky_lower
from ...exceptions import InvalidParameterError
from .covariance import CovarianceModel, get_covariance_model
from .params import GaussianStats


class ConjugateUpdate:
    """The Gauss-Wishart update of one covariance type (see the module docstring)."""

    name: ClassVar[str]
    #: one precision matrix shared by all components (``tied``)
    shared: ClassVar[bool] = False

    def __init__(self) -> None:
        self.model: CovarianceModel = get_covariance_model(self.name)

    # -- the prior ------------------------------------------------------------------
    def prior_shape(self, d: int) -> tuple[int, ...]:
        return (d, d)

    def check_prior(self, value, d: int) -> np.ndarray:
        """``covariance_prior`` as float64 of :meth:`prior_shape`, symmetric positive definite."""
        if value is None:
            raise InvalidParameterError("covariance_prior is missing")
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != self.prior_shape(d):
            raise InvalidParameterError(
                f"covariance_prior must have shape {self.prior_shape(d)} for covariance_type="
                f"{self.name!r} and {d} features, got {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise InvalidParameterError("covariance_prior contains NaN or inf")
        self._check_positive(arr)
        return arr

    def _check_positive(self, arr: np.ndarray) -> None:
        if not np.allclose(arr, arr.T) or cholesky_lower(arr) is None:
            raise InvalidParameterError(
                f"covariance_prior of covariance_type={self.name!r} must be symmetric positive definite"
            )

    def default_prior(self, total_scatter: np.ndarray, n: float) -> np.ndarray:
        """The data's covariance (``ddof=1``, as scikit-learn's ``np.cov``) from its (D, D) scatter."""
        return total_scatter / max(n - 1.0, np.finfo(np.float64).tiny)

    def log_det_prior(self, prior: np.ndarray, d: int) -> float:
        """``log|Psi_0|`` (so ``log|W_0| = -log|Psi_0|``)."""
        return float(np.linalg.slogdet(prior)[1])

    # -- the statistics -----------------------------------------------------------------
    def scatter_about_means(self, stats: GaussianStats, safe_nk: np.ndarray) -> np.ndarray:
        """``N_k S_k`` in the statistics' shape (s2 less the anchor's offset)."""
        return stats.s2 - np.einsum("ki,kj->kij", stats.s1, stats.s1) / safe_nk[:, None, None]

    def total_scatter(self, within: np.ndarray, nk: np.ndarray, spread: np.ndarray) -> np.ndarray:
        """The data's (D, D) scatter about its mean: within-component plus ``N_k`` times the
        spread of the component means (``spread``: ``xbar_k - mean``, (K, D))."""
        return within.sum(axis=0) + np.einsum("k,ki,kj->ij", nk, spread, spread)

    # -- the update ---------------------------------------------------------------------
    def n_copies(self, k: int) -> int:
        """How often the ELBO counts each Wishart's KL term (``tied``: K)."""
        return 1

    def update(self, within, nk, coef, dev, prior, nu0: float, reg: float):
        """``(covariances, nu)``: ``W^-1 / nu`` in the model's shape and the degrees of freedom.

        Parameters
        ----------
        within : ndarray
            ``N_k S_k`` (statistics' shape).
        nk : ndarray of shape (K,)
        coef : ndarray of shape (K,)
            ``N_k beta_0 / beta_k``.
        dev : ndarray of shape (K, D)
            ``xbar_k - m_0``.
        prior : ndarray
            ``Psi_0`` (:meth:`prior_shape`).
        nu0, reg : float
        """
        d = dev.shape[1]
        w_inv = (
            prior + within + nk[:, None, None] * reg * np.eye(d) + np.einsum("k,ki,kj->kij", coef, dev, dev)
        )
        nu = nu0 + nk
        cov = w_inv / nu[:, None, None]
        return 0.5 * (cov + np.swapaxes(cov, 1, 2)), nu

    # -- terms of the ELBO ------------------------------------------------------------
    def log_det_w(self, prec_chol: np.ndarray, nu: np.ndarray, d: int) -> np.ndarray:
        """``log|W_k|`` from ``U_k U_k^T = nu_k W_k``, shape of ``nu``."""
        return 2.0 * np.log(np.diagonal(prec_chol, axis1=-2, axis2=-1)).sum(axis=-1) - d * np.log(nu)

    def trace_prior_w(self, prior: np.ndarray, prec_chol: np.ndarray, nu: np.ndarray, d: int) -> np.ndarray:
        """``tr(Psi_0 W_k)``, shape of ``nu``."""
        prec = self.model.precisions(prec_chol)
        return np.einsum("ij,...ji->...", prior, prec) / nu

    def quad(self, dev: np.ndarray, prec_chol: np.ndarray, nu: np.ndarray) -> np.ndarray:
        """``(m_k - m_0)^T W_k (m_k - m_0)`` for ``dev`` (K, D), shape (K,)."""
        y = np.einsum("ki,kij->kj", dev, prec_chol)
        return (y * y).sum(axis=1) / nu


class FullUpdate(ConjugateUpdate):
    name = "full"


class TiedUpdate(ConjugateUpdate):
    name = "tied"
    shared = True

    def scatter_about_means(self, stats, safe_nk):
        return stats.s2 - (stats.s1.T / safe_nk) @ stats.s1

    def total_scatter(self, within, nk, spread):
        return within + np.einsum("k,ki,kj->ij", nk, spread, spread)

    def n_copies(self, k):
        return k

    def update(self, within, nk, coef, dev, prior, nu0, reg):
        k, d = dev.shape
        n = nk.sum()
        w_inv = prior + (within + n * reg * np.eye(d) + np.einsum("k,ki,kj->ij", coef, dev, dev)) / k
        nu = np.float64(nu0 + n / k)
        cov = w_inv / nu
        return 0.5 * (cov + cov.T), nu

    def log_det_w(self, prec_chol, nu, d):
        return 2.0 * np.log(np.diagonal(prec_chol)).sum() - d * np.log(nu)

    def trace_prior_w(self, prior, prec_chol, nu, d):
        return np.einsum("ij,ji->", prior, self.model.precisions(prec_chol)) / nu

    def quad(self, dev, prec_chol, nu):
        y = dev @ prec_chol
        return (y * y).sum(axis=1) / nu


class DiagUpdate(ConjugateUpdate):
    name = "diag"

    def prior_shape(self, d):
        return (d,)

    def _check_positive(self, arr):
        if (arr <= 0).any():
            raise InvalidParameterError("covariance_prior of covariance_type='diag' must be positive")

    def log_det_prior(self, prior, d):
        return float(np.log(prior).sum())

    def scatter_about_means(self, stats, safe_nk):
        return np.maximum(stats.s2 - stats.s1**2 / safe_nk[:, None], 0.0)

    def total_scatter(self, within, nk, spread):
        return within.sum(axis=0) + nk @ spread**2

    def update(self, within, nk, coef, dev, prior, nu0, reg):
        nu = nu0 + nk
        w_inv = prior + within + nk[:, None] * reg + coef[:, None] * dev**2
        return w_inv / nu[:, None], nu

    def log_det_w(self, prec_chol, nu, d):
        return 2.0 * np.log(prec_chol).sum(axis=1) - d * np.log(nu)

    def trace_prior_w(self, prior, prec_chol, nu, d):
        return (prec_chol**2 @ prior) / nu

    def quad(self, dev, prec_chol, nu):
        return ((dev * prec_chol) ** 2).sum(axis=1) / nu


class SphericalUpdate(DiagUpdate):
    name = "spherical"

    def prior_shape(self, d):
        return ()

    def _check_positive(self, arr):
        if arr <= 0:
            raise InvalidParameterError("covariance_prior of covariance_type='spherical' must be positive")

    def default_prior(self, total_scatter, n):
        return np.float64(np.mean(total_scatter) / max(n - 1.0, np.finfo(np.float64).tiny))

    def log_det_prior(self, prior, d):
        return float(d * np.log(prior))

    def update(self, within, nk, coef, dev, prior, nu0, reg):
        nu = nu0 + nk
        w_inv = prior + within.mean(axis=1) + nk * reg + coef * (dev**2).mean(axis=1)
        return w_inv / nu, nu

    def log_det_w(self, prec_chol, nu, d):
        return 2.0 * d * np.log(prec_chol) - d * np.log(nu)

    def trace_prior_w(self, prior, prec_chol, nu, d):
        return prior * d * prec_chol**2 / nu

    def quad(self, dev, prec_chol, nu):
        return (dev**2).sum(axis=1) * prec_chol**2 / nu


#: The conjugate updates by scikit-learn's ``covariance_type``.
CONJUGATE_UPDATES: dict[str, type[ConjugateUpdate]] = {
    c.name: c for c in (FullUpdate, TiedUpdate, DiagUpdate, SphericalUpdate)
}
