"""Student-t components, fitted by EM with latent scale variables.

A Student-t component is a Gaussian scale mixture: ``u ~ Gamma(nu/2, nu/2)``
and ``x | u ~ N(mu, Sigma / u)``. Its density is::

    log p(x | k) = log Gamma((nu + D)/2) - log Gamma(nu/2) - D/2 log(nu pi)
                   - 1/2 log|Sigma| - (nu + D)/2 log(1 + delta / nu)

with ``delta = (x - mu)^T Sigma^{-1} (x - mu)``. Given the current
parameters, the E-step also takes the expected latent scales (McLachlan and
Peel, *Finite Mixture Models*, ch. 7)::

    E[u_nk]     = (nu_k + D) / (nu_k + delta_nk)
    E[log u_nk] = log E[u_nk] + psi((nu_k + D)/2) - log((nu_k + D)/2)

Sufficient statistics (centred on the current means ``c``): ``N_k = sum r``,
``U_k = sum r u``, ``s1_k = sum r u (x - c)``, ``s2_k = sum r u (x - c)(x - c)^T``
(in the covariance model's shape) and ``L_k = sum r (log u - u)``. M-step::

    mu_k    = c_k + s1_k / U_k
    Sigma_k = (s2_k - s1_k s1_k^T / U_k) / N_k            (+ reg_covar I)

and ``nu_k`` solves ``-psi(nu/2) + log(nu/2) + 1 + L_k/N_k + psi((nu_old + D)/2)
- log((nu_old + D)/2) = 0`` (one-dimensional, concave objective; solved by
bracketing within ``dof_bounds``), unless ``dof`` is fixed. Each part maximises
the expected complete-data log-likelihood exactly, so the log-likelihood never
decreases when ``reg_covar = 0``.

Covariance models: ``full``, ``tied``, ``diag``, ``spherical`` (the Gaussian
family's, with the same shapes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from scipy import optimize, special

from .._linalg import LOG_2PI
from ..exceptions import InvalidParameterError
from ._checks import check_no_missing, check_positive, get_array
from ._common import empty_mask, warn_empty
from .base import Stats
from .gaussian import (
    LOCATION_SCALE_ARRAYS,
    GaussianStats,
    checked_covariances,
    far,
    get_covariance_model,
    keep_empty_components,
    location_scale_arrays,
    shift_centre,
)

#: covariance models for which the scaled Gaussian M-step is the exact Student-t M-step
STUDENT_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


@dataclasses.dataclass(frozen=True)
class StudentParams:
    """Parameters of K Student-t components.

    Attributes
    ----------
    means : ndarray of shape (K, D)
        Locations ``mu_k``.
    covariances : ndarray
        Scale matrices ``Sigma_k`` (the covariance is ``nu/(nu-2) Sigma`` for
        ``nu > 2``), shaped as the Gaussian ``covariances_`` of the model.
    precisions_cholesky : ndarray
        Cholesky factors of ``Sigma_k^{-1}``, same shape.
    dof : ndarray of shape (K,)
        Degrees of freedom ``nu_k``.
    """

    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    dof: np.ndarray


@dataclasses.dataclass(frozen=True)
class StudentAnchor:
    """Reference of one pass: centres for the statistics and the current parameters."""

    centre: np.ndarray  # (K, D)
    params: StudentParams | None  # None: first M-step from initial responsibilities (u = 1)


@dataclasses.dataclass(frozen=True)
class StudentStats(Stats):
    """Sufficient statistics (module docstring); ``centre`` and ``dof_old`` are not summed."""

    su: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    slog: np.ndarray
    centre: np.ndarray
    dof_old: np.ndarray | None

    _fixed: ClassVar[tuple[str, ...]] = ("centre", "dof_old")


class StudentFamily:
    """Multivariate Student-t components.

    Parameters
    ----------
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Model of the scale matrices, with the Gaussian family's shapes.
    reg_covar : float, default=1e-6
        Jitter added to the scale matrices' diagonals at every M-step.
    dof : float, optional
        Fixed degrees of freedom for every component; ``None`` estimates one
        per component.
    dof_init : float, default=10.0
        Starting degrees of freedom when they are estimated.
    dof_bounds : (float, float), default=(0.1, 1000.0)
        Range searched for the estimated degrees of freedom.

    See Also
    --------
    emix.StudentMixture : The estimator with this family.

    Examples
    --------
    >>> from emix.families import StudentFamily
    >>> StudentFamily(dof=5.0).spec()
    {'family': 'student', 'covariance_type': 'full', 'reg_covar': 1e-06, 'dof': 5.0, 'dof_init': 10.0, 'dof_bounds': [0.1, 1000.0]}
    """

    name = "student"
    #: NaN is an error (EM with missing values would need the t marginals; not done)
    handles_missing = False

    def __init__(
        self,
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        dof: float | None = None,
        dof_init: float = 10.0,
        dof_bounds: tuple[float, float] = (0.1, 1000.0),
    ) -> None:
        if covariance_type not in STUDENT_COVARIANCE_TYPES:
            raise InvalidParameterError(
                f"covariance_type for Student-t components must be one of "
                f"{list(STUDENT_COVARIANCE_TYPES)}, got {covariance_type!r}"
            )
        self.covariance_type = covariance_type
        self.model = get_covariance_model(covariance_type)
        self.reg_covar = float(reg_covar)
        if self.reg_covar < 0 or not np.isfinite(self.reg_covar):
            raise InvalidParameterError(f"reg_covar must be >= 0, got {reg_covar!r}")
        for label, v in (("dof", dof), ("dof_init", dof_init)):
            if v is not None and not (
                isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v) and v > 0
            ):
                raise InvalidParameterError(f"{label} must be a positive number, got {v!r}")
        lo, hi = (float(b) for b in dof_bounds)
        if not (0 < lo < hi and np.isfinite(hi)):
            raise InvalidParameterError(f"dof_bounds must satisfy 0 < low < high, got {dof_bounds!r}")
        self.dof = None if dof is None else float(dof)
        self.dof_init = float(dof_init)
        self.dof_bounds = (lo, hi)

    @property
    def exact_m_step(self) -> bool:
        return self.reg_covar == 0

    # -- densities ---------------------------------------------------------------
    def _mahalanobis(self, X: np.ndarray, params: StudentParams) -> tuple[np.ndarray, np.ndarray]:
        """``delta`` (n, K) and ``log|Sigma_k|^{-1/2}`` (K,)."""
        means, pc = params.means, params.precisions_cholesky
        gauss = self.model.log_prob(X, means, pc).astype(np.float64, copy=False)
        d = X.shape[1]
        at_mean = np.diagonal(self.model.log_prob(means, means, pc)).astype(np.float64)
        half_logdet = at_mean + 0.5 * d * LOG_2PI
        delta = -2.0 * (gauss - at_mean[None, :])
        np.maximum(delta, 0.0, out=delta)
        return delta, half_logdet

    def log_prob(self, X: np.ndarray, params: StudentParams) -> np.ndarray:
        """``log p(x_n | k)``, shape (n, K)."""
        delta, half_logdet = self._mahalanobis(X, params)
        d = X.shape[1]
        nu = np.asarray(params.dof, dtype=np.float64)
        const = special.gammaln(0.5 * (nu + d)) - special.gammaln(0.5 * nu) - 0.5 * d * np.log(nu * np.pi)
        out = -0.5 * (nu + d) * np.log1p(delta / nu)
        out += const + half_logdet
        return out.astype(X.dtype, copy=False)

    def far_log_joint(
        self, X: np.ndarray, params: StudentParams, log_weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``log pi_k + log p(x_n | k)`` as ``(0, rel)`` for rows whose distances overflow: the
        heavy tails keep it finite, ``-(nu + D)/2 log(1 + delta/nu)`` with ``log delta`` from
        residuals scaled before squaring (:mod:`emix.families.gaussian.far`)."""
        means, pc = params.means, params.precisions_cholesky
        d = X.shape[1]
        log_delta = far.log_squared_distances(X, means, far.dense_factors(self.model, pc, *means.shape))
        nu = np.asarray(params.dof, dtype=np.float64)
        const = special.gammaln(0.5 * (nu + d)) - special.gammaln(0.5 * nu) - 0.5 * d * np.log(nu * np.pi)
        half_logdet = (
            np.diagonal(self.model.log_prob(means, means, pc)).astype(np.float64) + 0.5 * d * LOG_2PI
        )
        rel = -0.5 * (nu + d) * np.logaddexp(0.0, log_delta - np.log(nu)) + const + half_logdet + log_weights
        return np.zeros(X.shape[0]), rel

    # -- EM ------------------------------------------------------------------------
    def anchor(self, params: StudentParams) -> StudentAnchor:
        return StudentAnchor(centre=params.means, params=params)

    def anchor_from_centres(self, centres: np.ndarray) -> StudentAnchor:
        return StudentAnchor(centre=centres, params=None)

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: StudentAnchor) -> StudentStats:
        d = X.shape[1]
        r = resp.astype(np.float64, copy=False)
        if anchor.params is None:
            u = np.ones_like(r)
            slog = -r.sum(axis=0)
            dof_old = None
        else:
            nu = np.asarray(anchor.params.dof, dtype=np.float64)
            delta, _ = self._mahalanobis(X, anchor.params)
            u = (nu + d) / (nu + delta)
            slog = (r * (np.log(u) - u)).sum(axis=0)
            dof_old = nu
        ru = (r * u).astype(X.dtype, copy=False)
        s1, s2 = self.model.scatter(X, ru, anchor.centre)
        return StudentStats(
            nk=r.sum(axis=0),
            su=ru.sum(axis=0, dtype=np.float64),
            s1=s1,
            s2=s2,
            slog=slog,
            centre=anchor.centre,
            dof_old=dof_old,
        )

    def recentre_stats(self, stats: StudentStats, like: StudentStats) -> StudentStats:
        """``stats`` expressed about ``like``'s centre and previous degrees of freedom.

        The scale-weighted sums move as the Gaussian's (weights ``U_k``); ``L_k``
        is re-referenced to ``like.dof_old``: the M-step of ``nu`` reads
        ``L_k + N_k g(nu_old)`` with ``g(nu) = psi((nu + D)/2) - log((nu + D)/2)``,
        so ``L_k`` gains ``N_k (g(stats.dof_old) - g(like.dof_old))``.
        """
        s1, s2 = shift_centre(
            stats.su, stats.s1, stats.s2, stats.centre, like.centre, self.model.reduce_scatter
        )
        d = stats.s1.shape[1]

        def g(nu: np.ndarray | None) -> np.ndarray | float:
            if nu is None:
                return 0.0
            half = 0.5 * (np.asarray(nu, dtype=np.float64) + d)
            return special.digamma(half) - np.log(half)

        slog = stats.slog
        if stats.dof_old is not like.dof_old:
            slog = slog + np.asarray(stats.nk, dtype=np.float64) * (g(stats.dof_old) - g(like.dof_old))
        return dataclasses.replace(stats, s1=s1, s2=s2, slog=slog, centre=like.centre, dof_old=like.dof_old)

    def _reg_term(self, s1: np.ndarray, s2: np.ndarray, centre: np.ndarray) -> np.ndarray:
        """``reg_covar`` times the identity, in the covariance model's shape."""
        k = s1.shape[0]
        zero = GaussianStats(nk=np.ones(k), s1=np.zeros_like(s1), s2=np.zeros_like(s2), centre=centre)
        return self.model.covariance(zero, np.ones(k), self.reg_covar)

    def m_step(self, stats: StudentStats, previous: StudentParams | None) -> StudentParams:
        nk, su = stats.nk, stats.su
        empty = empty_mask(nk) | (su <= 0)
        safe_nk = np.where(empty, 1.0, nk)
        safe_su = np.where(empty, 1.0, su)
        means = stats.centre + stats.s1 / safe_su[:, None]
        gstats = GaussianStats(nk=safe_su, s1=stats.s1, s2=stats.s2, centre=stats.centre)
        cov = self.model.covariance(gstats, safe_su, 0.0)
        if self.model.per_component:
            cov = cov * (safe_su / safe_nk).reshape((-1,) + (1,) * (cov.ndim - 1))
        else:
            cov = cov * (safe_su.sum() / safe_nk.sum())
        cov = cov + self._reg_term(stats.s1, stats.s2, stats.centre)
        dof = self._dof_step(stats, previous, empty)
        if empty.any():
            warn_empty(empty, previous is not None)
            keep_empty_components(self.model, empty, means, cov, previous, stats.centre)
        cov, pc = self.model.precision_cholesky(cov)
        return StudentParams(means=means, covariances=cov, precisions_cholesky=pc, dof=dof)

    def _dof_step(self, stats: StudentStats, previous: StudentParams | None, empty: np.ndarray) -> np.ndarray:
        k = stats.nk.shape[0]
        if self.dof is not None:
            return np.full(k, self.dof)
        if stats.dof_old is None:
            return (
                np.full(k, self.dof_init)
                if previous is None
                else np.asarray(previous.dof, dtype=np.float64).copy()
            )
        d = stats.s1.shape[1]
        old = np.asarray(stats.dof_old, dtype=np.float64)
        lo, hi = self.dof_bounds
        out = old.copy()
        for j in range(k):
            if empty[j]:
                continue
            c = (
                1.0
                + stats.slog[j] / stats.nk[j]
                + special.digamma(0.5 * (old[j] + d))
                - np.log(0.5 * (old[j] + d))
            )

            def f(nu: float, c: float = c) -> float:
                return float(-special.digamma(0.5 * nu) + np.log(0.5 * nu) + c)

            f_lo, f_hi = f(lo), f(hi)
            if f_hi >= 0:
                out[j] = hi
            elif f_lo <= 0:
                out[j] = lo
            else:
                out[j] = optimize.brentq(f, lo, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=200)
        return out

    def n_parameters(self, params: StudentParams) -> int:
        k, d = params.means.shape
        n = k * d + self.model.n_parameters(k, d)
        return int(n + (k if self.dof is None else 0))

    def sample(self, rng: np.random.Generator, params: StudentParams, counts: np.ndarray) -> np.ndarray:
        """Draws grouped by component, shape (sum(counts), D)."""
        k_, d = params.means.shape
        parts = []
        for k, z in self.model.normal_draws(rng, params.covariances, counts, k_, d):
            nu = float(params.dof[k])
            w = rng.chisquare(nu, size=z.shape[0]) / nu
            parts.append(params.means[k] + z / np.sqrt(w)[:, None])
        return np.concatenate(parts, axis=0) if parts else np.empty((0, d))

    # -- teaching (optional method, see emix.families.base) -------------------------------
    def latent_expectations(self, X: np.ndarray, params: StudentParams) -> dict[str, np.ndarray]:
        """The expected scale weights: the second latent variable, given the first.

        ``u_nk = E[u | x_n, z_n = k] = (nu_k + D) / (nu_k + delta_nk)``, where
        ``delta_nk`` is the squared Mahalanobis distance of ``x_n`` from ``mu_k``
        under ``Sigma_k``. The E-step weights row ``n`` by ``r_nk u_nk`` in
        component ``k``'s mean and scale, so a point far from the centre
        counts less: this is what makes the Student-t robust. The same
        values :meth:`accumulate` computes under ``params``.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        params : StudentParams

        Returns
        -------
        dict
            ``{"u": ndarray of shape (n, K)}``.
        """
        delta, _ = self._mahalanobis(X, params)
        nu = np.asarray(params.dof, dtype=np.float64)
        return {"u": (nu + X.shape[1]) / (nu + delta)}

    # -- estimator support -----------------------------------------------------------
    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        """Any finite real values are allowed; missing values (NaN) are not."""
        check_no_missing(X, "student", columns)

    def configure(self, X: np.ndarray) -> StudentFamily:
        return self

    def array_names(self) -> tuple[str, ...]:
        return (*LOCATION_SCALE_ARRAYS, "dof")

    def init_names(self) -> set[str]:
        """``means`` and ``covariances``; ``precisions_cholesky`` follows, ``dof`` has defaults."""
        return {"means", "covariances"}

    def to_arrays(self, params: StudentParams) -> dict[str, np.ndarray]:
        """The Gaussian's arrays (:func:`~.gaussian.params.location_scale_arrays`) and ``dof`` (K,)."""
        return {**location_scale_arrays(params), "dof": np.asarray(params.dof, dtype=np.float64)}

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> StudentParams:
        """Parameters from arrays; ``precisions_cholesky`` is recomputed from ``covariances``.

        ``dof`` may be omitted (then ``dof`` or ``dof_init`` is used).
        """
        k, d = n_components, n_features
        means = get_array(arrays, "means", (k, d), owner="student")
        cov = get_array(arrays, "covariances", self.model.shape(k, d), owner="student")
        if arrays.get("dof") is None:
            dof = np.full(k, self.dof if self.dof is not None else self.dof_init)
        else:
            dof = get_array(arrays, "dof", (k,), owner="student")
            check_positive(dof, "dof")
        cov, pc = checked_covariances(self.model, cov, k, d)
        return StudentParams(means=means, covariances=cov, precisions_cholesky=pc, dof=dof)

    def derived_arrays(self, params: StudentParams) -> dict[str, np.ndarray]:
        """Fitted attributes computed from the parameters, not stored: ``precisions`` of the scale matrices."""
        return {"precisions": self.model.precisions(params.precisions_cholesky)}

    def spec(self) -> dict:
        return {
            "family": self.name,
            "covariance_type": self.covariance_type,
            "reg_covar": self.reg_covar,
            "dof": self.dof,
            "dof_init": self.dof_init,
            "dof_bounds": list(self.dof_bounds),
        }
