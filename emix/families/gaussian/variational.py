"""A variational Gaussian mixture: variational EM through the ordinary engine of sufficient statistics.

The model (Bishop 2006, ch. 10.2; Blei and Jordan 2006 for the Dirichlet
process) has a prior on the weights ``p(pi)`` (a Dirichlet, or a truncated
stick-breaking process; :mod:`.variational_weights`), and per component a
Gauss-Wishart prior ``p(mu_k, Lambda_k) = N(mu_k | m_0, (beta_0
Lambda_k)^-1) W(Lambda_k | W_0, nu_0)``. The posterior is approximated by
``q(Z) q(pi) prod_k q(mu_k, Lambda_k)``, each factor of the prior's form.

One iteration of the engine is one sweep of coordinate ascent:

* **the pass** (``log_prob`` + the weights): the optimal ``q(Z)`` given
  ``q(theta)``, ``r_nk propto exp(E[log pi_k] + E[log N(x_n | mu_k,
  Lambda_k)])``, with ``E[log N(x | mu_k, Lambda_k)] = -D/2 log 2 pi + 1/2
  E[log|Lambda_k|] - 1/2 (nu_k (x - m_k)^T W_k (x - m_k) + D / beta_k)``, and
  the Gaussian statistics of the rows under ``r`` (``accumulate``);
* **the M-step**: the optimal ``q(theta)`` given ``q(Z)``: the conjugate
  update of :mod:`.variational_wishart` (``m_step``) and of the weights'
  concentration (``weights_step``, the engine's weights hook).

The engine adds ``log pi_k`` of the weights it holds (the posterior-mean
weights, scikit-learn's ``weights_``) to ``log_prob``; ``log_prob`` therefore
returns ``E[log N(x | k)] + E[log pi_k] - log weights_k``, so that the pass
sees ``E[log pi_k] + E[log N(x | k)]``, the log-joint of variational EM (the
weights are a function of the concentration, so both come from the same
``N_k``). Predictions use the same log-joint, as scikit-learn's do.

The evidence lower bound, term by term
--------------------------------------
The pass total is ``sum_n w_n log sum_k exp(E[log pi_k] + E[log N(x_n | k)])
= E_q[log p(X, Z | pi, mu, Lambda)] - E_q[log q(Z)]`` at the optimal
``q(Z)``, and ``log_prior`` (the engine's objective hook) adds the parameter
terms ``E_q[log p(theta)] - E_q[log q(theta)] = -KL(q(theta) || p(theta))``:

``ELBO = pass total - KL_pi - sum_k KL_mu,k - c sum_k KL_Lambda,k`` with

* ``KL_pi``: ``KL(Dirichlet(alpha) || Dirichlet(alpha_0))`` = ``lgamma(sum
  alpha) - sum lgamma(alpha_k) - lgamma(K alpha_0) + K lgamma(alpha_0) +
  sum_k (alpha_k - alpha_0)(psi(alpha_k) - psi(sum alpha))``, or for the
  Dirichlet process ``sum_k KL(Beta(a_k, b_k) || Beta(1, alpha_0))``;
* ``KL_mu,k`` = ``E_q(Lambda)[KL(q(mu_k | Lambda_k) || p(mu_k | Lambda_k))]``
  = ``D/2 (log(beta_k / beta_0) - 1 + beta_0 / beta_k) + beta_0 nu_k / 2
  (m_k - m_0)^T W_k (m_k - m_0)``;
* ``KL_Lambda,k`` = ``KL(W(W_k, nu_k) || W(W_0, nu_0))`` = ``log B(W_k,
  nu_k) - log B(W_0, nu_0) + (nu_k - nu_0)/2 E[log|Lambda_k|] - nu_k D/2 +
  nu_k/2 tr(W_0^-1 W_k)``, with ``log B(W, nu) = -nu/2 log|W| - nu D/2 log 2
  - log Gamma_D(nu/2)`` and ``E[log|Lambda|] = psi_D(nu/2) + D log 2 +
  log|W|``;
* ``c = 1``, except for ``tied`` (one shared ``Lambda``), whose update
  (scikit-learn's, ``nu = nu_0 + N/K``) is the exact optimum when the shared
  Wishart's KL is counted ``c = K`` times.

Each half-step maximises this bound exactly (with ``reg_covar=0``; the
jitter makes the update inexact, as it makes EM's), so the history never
decreases. scikit-learn's ``lower_bound_`` is the same bound less the
constants it drops (:meth:`VariationalGaussianFamily.sklearn_offset`).

Parameters are :class:`VariationalParams`: ``q``'s parameters (scikit-learn's
names) and the prior they were fitted under. A prior left to the data
(``mean_prior=None`` ...) is taken from the statistics of the first M-step,
whose totals are those of the whole (weighted) data whatever the
responsibilities: the mean of the rows, their covariance (``ddof=1``), so
files and Dask sources need no extra pass.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...exceptions import InvalidParameterError
from ..base import FamilyBase
from . import far
from .params import GaussianStats
from .shift import recentre_gaussian_stats
from .variational_priors import Priors, check_prior_options, params_from_arrays, resolve_priors
from .variational_weights import WEIGHT_PRIORS, expected_log_det, multi_digamma, wishart_kl, wishart_log_norm
from .variational_wishart import CONJUGATE_UPDATES


@dataclasses.dataclass(frozen=True)
class VariationalParams:
    """``q(theta)`` of a variational Gaussian mixture, and its prior (shapes in the table).

    ======================================  ==============================================
    field                                   shape
    ======================================  ==============================================
    ``weight_concentration``                (K,) Dirichlet; (2, K) Dirichlet process
    ``mean_precision``                      (K,) ``beta_k``
    ``means``                               (K, D) ``m_k``
    ``degrees_of_freedom``                  (K,) ``nu_k``; () for ``tied``
    ``covariances``, ``precisions_cholesky``  the covariance model's (``W_k^-1 / nu_k``)
    ``weight_concentration_prior``          () ``alpha_0``
    ``mean_precision_prior``                () ``beta_0``
    ``mean_prior``                          (D,) ``m_0``
    ``degrees_of_freedom_prior``            () ``nu_0``
    ``covariance_prior``                    (D, D) full / tied, (D,) diag, () spherical
    ======================================  ==============================================
    """

    weight_concentration: np.ndarray
    mean_precision: np.ndarray
    means: np.ndarray
    degrees_of_freedom: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    weight_concentration_prior: np.ndarray
    mean_precision_prior: np.ndarray
    mean_prior: np.ndarray
    degrees_of_freedom_prior: np.ndarray
    covariance_prior: np.ndarray

    @property
    def priors(self) -> Priors:
        return Priors(
            float(self.weight_concentration_prior),
            float(self.mean_precision_prior),
            np.asarray(self.mean_prior, dtype=np.float64),
            float(self.degrees_of_freedom_prior),
            np.asarray(self.covariance_prior, dtype=np.float64),
        )


#: attributes whose scikit-learn value is a Python float
_SCALARS = ("weight_concentration_prior", "mean_precision_prior", "degrees_of_freedom_prior")


class VariationalGaussianFamily(FamilyBase):
    """Gaussian components with conjugate priors, fitted by variational EM (module docstring).

    Parameters
    ----------
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    reg_covar : float
        Jitter added to the scatter of every component (scikit-learn's).
    weight_concentration_prior_type : {'dirichlet_process', 'dirichlet_distribution'}
    weight_concentration_prior, mean_precision_prior, degrees_of_freedom_prior : float or None
        ``alpha_0`` (default ``1 / K``), ``beta_0`` (default 1), ``nu_0``
        (default ``D``; more than ``D - 1``).
    mean_prior : array-like of shape (D,) or None
        ``m_0`` (default: the data's mean).
    covariance_prior : float or array-like or None
        ``Psi_0 = W_0^-1``, shaped as in :class:`VariationalParams` (default:
        the data's covariance, its diagonal, or the mean of its diagonal).
    """

    name = "variational_gaussian"
    #: components the data do not need stay at the prior, alike: not duplicates (see diagnostics_)
    keeps_unused_components = True
    params_type = VariationalParams
    handles_missing = False
    accepts_any_real = True

    def __init__(
        self,
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        weight_concentration_prior_type: str = "dirichlet_process",
        weight_concentration_prior: float | None = None,
        mean_precision_prior: float | None = None,
        mean_prior: Any = None,
        degrees_of_freedom_prior: float | None = None,
        covariance_prior: Any = None,
    ) -> None:
        if covariance_type not in CONJUGATE_UPDATES:
            raise InvalidParameterError(
                f"covariance_type must be one of {sorted(CONJUGATE_UPDATES)}, got {covariance_type!r}"
            )
        if weight_concentration_prior_type not in WEIGHT_PRIORS:
            raise InvalidParameterError(
                f"weight_concentration_prior_type must be one of {sorted(WEIGHT_PRIORS)}, "
                f"got {weight_concentration_prior_type!r}"
            )
        self.update = CONJUGATE_UPDATES[covariance_type]()
        self.model = self.update.model
        self.weight_prior = WEIGHT_PRIORS[weight_concentration_prior_type]()
        self.reg_covar = float(reg_covar)
        self.options = check_prior_options(
            weight_concentration_prior,
            mean_precision_prior,
            mean_prior,
            degrees_of_freedom_prior,
            covariance_prior,
        )

    @property
    def exact_m_step(self) -> bool:
        """True when the update adds no jitter (``reg_covar == 0``): the ELBO then never drops."""
        return self.reg_covar == 0

    # -- the pass ----------------------------------------------------------------------
    def log_prob(self, X: np.ndarray, params: VariationalParams) -> np.ndarray:
        """``E_q[log N(x_n | k)] + E_q[log pi_k] - log weights_k``, shape (n, K) (module docstring)."""
        out = self.model.log_prob(X, params.means, params.precisions_cholesky)
        out += self._row_constant(params).astype(out.dtype)
        return out

    def far_log_joint(
        self, X: np.ndarray, params: VariationalParams, log_weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The log-joint of rows whose distances overflow as ``base + rel`` (see
        :meth:`GaussianFamily.far_log_joint`): ``log_prob`` is a Gaussian's plus a row constant."""
        means, pc = params.means, params.precisions_cholesky
        b = np.diagonal(self.model.log_prob(means, means, pc)).astype(np.float64) + self._row_constant(params)
        return far.relative_log_joint(
            X, means, far.dense_factors(self.model, pc, *means.shape), b + log_weights
        )

    def _row_constant(self, params: VariationalParams) -> np.ndarray:
        """The part of ``log_prob`` that does not depend on the row, shape (K,), float64."""
        d = params.means.shape[1]
        nu = np.asarray(params.degrees_of_freedom, dtype=np.float64)
        beta = np.asarray(params.mean_precision, dtype=np.float64)
        log_lambda = d * math.log(2.0) + multi_digamma(0.5 * nu, d)
        gauss = -0.5 * d * np.log(nu) + 0.5 * (log_lambda - d / beta)
        conc = np.asarray(params.weight_concentration, dtype=np.float64)
        elog_pi = self.weight_prior.expected_log(conc)
        with np.errstate(divide="ignore"):
            weights = np.log(self.weight_prior.mean(conc))
        return gauss + elog_pi - weights

    def anchor(self, params: VariationalParams) -> np.ndarray:
        return np.asarray(params.means, dtype=np.float64)

    def anchor_from_centres(self, centres: np.ndarray) -> np.ndarray:
        return np.asarray(centres, dtype=np.float64)

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: np.ndarray) -> GaussianStats:
        """The Gaussian statistics of the chunk (float64), centred on ``anchor`` (K, D)."""
        s1, s2 = self.model.scatter(X, resp, anchor)
        return GaussianStats(
            nk=resp.sum(axis=0, dtype=np.float64),
            s1=np.asarray(s1, np.float64),
            s2=np.asarray(s2, np.float64),
            centre=anchor,
        )

    def recentre_stats(self, stats: GaussianStats, like: GaussianStats) -> GaussianStats:
        """``stats`` re-centred on ``like.centre``, so that online EM can blend two batches.

        Parameters
        ----------
        stats, like : GaussianStats
            ``s1`` (K, D), ``s2`` in the model's layout, ``centre`` (K, D).
        """
        return recentre_gaussian_stats(stats, like, self.model.reduce_scatter)

    # -- the M-step ----------------------------------------------------------------------
    def weights_step(self, nk: np.ndarray, previous_weights: np.ndarray | None) -> np.ndarray:
        """The posterior-mean weights of ``q(pi)`` after the update from ``nk`` (K,)."""
        conc = self.weight_prior.concentration(nk, self.options.concentration(len(nk)))
        return self.weight_prior.mean(conc)

    def m_step(self, stats: GaussianStats, previous: VariationalParams | None) -> VariationalParams:
        """The conjugate update of ``q(pi)`` and ``q(mu, Lambda)`` from summed statistics.

        The prior is ``previous``'s; at the first M-step (``previous=None``)
        it is resolved from the options and, where left to the data, from the
        statistics (module docstring).
        """
        nk = np.asarray(stats.nk, dtype=np.float64)
        safe = np.where(nk > 0, nk, 1.0)
        centre = np.asarray(stats.centre, dtype=np.float64)
        xbar = centre + stats.s1 / safe[:, None]
        within = self.update.scatter_about_means(stats, safe)
        if previous is None:
            priors = resolve_priors(self.options, self.update, nk, xbar, within, len(nk))
        else:
            priors = previous.priors
        beta = priors.mean_precision + nk
        means = (priors.mean_precision * priors.mean + nk[:, None] * xbar) / beta[:, None]
        dev = xbar - priors.mean
        coef = nk * priors.mean_precision / beta
        cov, nu = self.update.update(
            within, nk, coef, dev, priors.covariance, priors.degrees_of_freedom, self.reg_covar
        )
        cov, prec_chol = self.model.precision_cholesky(cov)
        return VariationalParams(
            weight_concentration=self.weight_prior.concentration(nk, priors.weight_concentration),
            mean_precision=beta,
            means=means,
            degrees_of_freedom=np.asarray(nu, dtype=np.float64),
            covariances=cov,
            precisions_cholesky=prec_chol,
            **priors.as_fields(),
        )

    # -- the objective: the ELBO's parameter terms -------------------------------------------
    def log_prior(self, weights: np.ndarray, params: VariationalParams) -> float:
        """``-KL(q(theta) || p(theta))`` (module docstring, term by term)."""
        kl_pi, kl_mu, kl_lambda = self.kl_terms(params)
        return -(kl_pi + kl_mu + kl_lambda)

    def kl_terms(self, params: VariationalParams) -> tuple[float, float, float]:
        """``(KL_pi, sum_k KL_mu,k, c sum_k KL_Lambda,k)`` of the module docstring."""
        pr = params.priors
        k, d = params.means.shape
        nu = np.asarray(params.degrees_of_freedom, dtype=np.float64)
        beta = np.asarray(params.mean_precision, dtype=np.float64)
        pc = np.asarray(params.precisions_cholesky, dtype=np.float64)
        conc = np.asarray(params.weight_concentration, dtype=np.float64)
        kl_pi = self.weight_prior.kl(conc, pr.weight_concentration)
        quad = self.update.quad(np.asarray(params.means, np.float64) - pr.mean, pc, nu)
        b0 = pr.mean_precision
        kl_mu = float((0.5 * d * (np.log(beta / b0) - 1.0 + b0 / beta) + 0.5 * b0 * nu * quad).sum())
        log_det_w = self.update.log_det_w(pc, nu, d)
        trace = self.update.trace_prior_w(pr.covariance, pc, nu, d)
        log_det_w0 = -self.update.log_det_prior(pr.covariance, d)
        kl_w = wishart_kl(log_det_w, nu, trace, log_det_w0, pr.degrees_of_freedom, d)
        return kl_pi, kl_mu, float(self.update.n_copies(k) * np.sum(kl_w))

    def sklearn_offset(self, params: VariationalParams, total_weight: float) -> float:
        """What scikit-learn's ``lower_bound_`` leaves out of the ELBO (its constants).

        At an exact update ``ELBO = -sum r log r + log C(alpha_0) - log C(alpha) + sum_k (log
        B_0 - log B_k + D/2 log(beta_0 / beta_k)) - N D/2 log 2 pi``; scikit-learn keeps the
        terms in ``r``, ``alpha``, ``B_k`` (with ``D (D - 1)/4 log pi`` more) and ``beta_k``.
        """
        pr = params.priors
        k, d = params.means.shape
        log_b0 = wishart_log_norm(-self.update.log_det_prior(pr.covariance, d), pr.degrees_of_freedom, d)
        return float(
            self.weight_prior.sklearn_constant(k, pr.weight_concentration)
            + k * log_b0
            + 0.5 * k * d * math.log(pr.mean_precision)
            - 0.5 * total_weight * d * math.log(2.0 * math.pi)
            + 0.25 * k * d * (d - 1) * math.log(math.pi)
        )

    def expected_log_det(self, params: VariationalParams) -> np.ndarray:
        """``E_q[log|Lambda_k|]``, shape (K,) (or () for ``tied``)."""
        d = params.means.shape[1]
        nu = np.asarray(params.degrees_of_freedom, dtype=np.float64)
        return expected_log_det(self.update.log_det_w(params.precisions_cholesky, nu, d), nu, d)

    # -- the rest of EM's protocol -------------------------------------------------------
    def n_parameters(self, params: VariationalParams) -> int:
        """Free parameters of the Gaussian components (means and covariances)."""
        k, d = params.means.shape
        return k * d + self.model.n_parameters(k, d)

    def sample(self, rng: np.random.Generator, params: VariationalParams, counts: np.ndarray) -> np.ndarray:
        """Draws from ``N(means_k, covariances_k)``, grouped by component, shape (sum(counts), D)."""
        k_, d = params.means.shape
        draws = self.model.normal_draws(rng, params.covariances, counts, k_, d)
        parts = [params.means[k] + z for k, z in draws]
        return np.concatenate(parts, axis=0) if parts else np.empty((0, d))

    # -- the estimator interface ------------------------------------------------------------
    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        """Any real values; the priors given must fit ``X``'s D columns."""
        self.options.check_dimension(X.shape[1], self.update)

    def to_arrays(self, params: VariationalParams) -> dict[str, Any]:
        """scikit-learn's attribute values: ``weight_concentration`` a tuple ``(a, b)`` for the
        Dirichlet process, the scalar priors (and ``tied``'s degrees of freedom) floats."""
        out: dict[str, Any] = {f: getattr(params, f) for f in self.array_names()}
        if self.weight_prior.name == "dirichlet_process":
            out["weight_concentration"] = (params.weight_concentration[0], params.weight_concentration[1])
        for name in _SCALARS:
            out[name] = float(out[name])
        if np.ndim(params.degrees_of_freedom) == 0:
            out["degrees_of_freedom"] = float(params.degrees_of_freedom)
        if np.ndim(params.covariance_prior) == 0:
            out["covariance_prior"] = float(params.covariance_prior)
        return out

    def array_shapes(self, n_components: int, n_features: int) -> dict[str, tuple[int, ...]]:
        """The shape of every array (the table of :class:`VariationalParams`)."""
        k, d = n_components, n_features
        kind = self.update.name
        cov_prior = {"full": (d, d), "tied": (d, d), "diag": (d,)}.get(kind, ())
        model_shape = tuple(self.model.shape(k, d))
        return {
            "weight_concentration": (2, k) if self.weight_prior.name == "dirichlet_process" else (k,),
            "mean_precision": (k,),
            "means": (k, d),
            "degrees_of_freedom": () if kind == "tied" else (k,),
            "covariances": model_shape,
            "precisions_cholesky": model_shape,
            "weight_concentration_prior": (),
            "mean_precision_prior": (),
            "mean_prior": (d,),
            "degrees_of_freedom_prior": (),
            "covariance_prior": cov_prior,
        }

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> VariationalParams:
        """Parameters from fitted attributes or a model file, checked (shapes, positivity)."""
        return params_from_arrays(self, arrays, n_components, n_features)

    def derived_arrays(self, params: VariationalParams) -> dict[str, np.ndarray]:
        """``precisions`` (the covariance model's shape)."""
        return {"precisions": self.model.precisions(params.precisions_cholesky)}

    def spec(self) -> dict:
        return {
            "family": self.name,
            "covariance_type": self.update.name,
            "reg_covar": self.reg_covar,
            "weight_concentration_prior_type": self.weight_prior.name,
            **self.options.spec(),
        }
