"""Exact EM for Gaussian mixtures with values missing at random (NaN).

For a row with observed coordinates O and missing coordinates M, and
component k with mean mu and covariance S:

* **E-step.** The row's density is the *marginal* of its observed part,
  ``N(x_O | mu_O, S_OO)``; responsibilities follow by Bayes' rule as usual.
* **Statistics.** The missing part is replaced by its conditional expectation
  ``x_M* = mu_M + S_MO S_OO^-1 (x_O - mu_O)``, and the scatter gains the
  conditional covariance ``C = S_MM - S_MO S_OO^-1 S_OM`` in its M-M block:
  ``E[x x^T | x_O] = x* x*^T + C``. The M-step is then the ordinary one.

Rows are grouped by missingness pattern within each chunk, so each pattern
costs one factorisation per component, and complete rows take the ordinary
fast path. The statistics have the same shape as the complete-data ones, so
every covariance model works unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg

from ..._linalg import LOG_2PI, normalize_log_rows
from .params import GaussianParams, GaussianStats


def _patterns(mask: np.ndarray):
    """Yield ``(missing_columns, row_indices)`` for each distinct missingness pattern."""
    patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    for j, pattern in enumerate(patterns):
        yield pattern, np.flatnonzero(inverse == j)


class _Conditional:
    """Per-component pieces of the Gaussian conditioned on an observed set."""

    def __init__(self, cov: np.ndarray, mean: np.ndarray, miss: np.ndarray) -> None:
        obs = ~miss
        s_oo = cov[np.ix_(obs, obs)]
        self.chol = linalg.cholesky(s_oo, lower=True, check_finite=False)
        self.mean_o = mean[obs]
        self.mean_m = mean[miss]
        s_mo = cov[np.ix_(miss, obs)]
        # A = S_MO S_OO^-1, via two triangular solves
        self.gain = linalg.cho_solve((self.chol, True), s_mo.T, check_finite=False).T
        self.cond_cov = cov[np.ix_(miss, miss)] - self.gain @ s_mo.T
        self.log_det = 2.0 * np.log(np.diag(self.chol)).sum()

    def log_density(self, x_obs: np.ndarray) -> np.ndarray:
        z = linalg.solve_triangular(self.chol, (x_obs - self.mean_o).T, lower=True, check_finite=False)
        d = x_obs.shape[1]
        return -0.5 * (np.einsum("ij,ij->j", z, z) + d * LOG_2PI + self.log_det)

    def fill(self, x_obs: np.ndarray) -> np.ndarray:
        return self.mean_m + (x_obs - self.mean_o) @ self.gain.T


class MissingGaussianFamily:
    """A :class:`GaussianFamily` that accepts NaN as "missing at random".

    Its anchor is the whole parameter set (the conditional expectations need
    the current covariances). Complete rows are delegated to the base family.
    """

    name = "gaussian"

    def __init__(self, base: Any) -> None:  # a GaussianFamily (not imported: it imports this module)
        self.base = base
        self.model = base.model
        self.reg_covar = base.reg_covar

    # the initial M-step runs on mean-filled data with the base family
    @property
    def init_family(self) -> Any:
        return self.base

    def _full_covs(self, params: GaussianParams) -> list[np.ndarray]:
        k, d = params.means.shape
        return [self.model.component_covariance(params.covariances, j, d) for j in range(k)]

    def _groups(self, X: np.ndarray, params: GaussianParams):
        """Complete rows, then per pattern the rows and each component's conditional."""
        mask = np.isnan(X)
        incomplete = mask.any(axis=1)
        complete = np.flatnonzero(~incomplete)
        groups = []
        if incomplete.any():
            covs = self._full_covs(params)
            rows_inc = np.flatnonzero(incomplete)
            for miss, idx in _patterns(mask[rows_inc]):
                rows = rows_inc[idx]
                conds = [_Conditional(covs[j], params.means[j], miss) for j in range(len(covs))]
                groups.append((miss, rows, conds))
        return complete, groups

    def log_prob(self, X: np.ndarray, params: GaussianParams) -> np.ndarray:
        """Marginal log-densities of the observed coordinates, shape (n, K)."""
        complete, groups = self._groups(X, params)
        out = np.empty((X.shape[0], params.means.shape[0]), dtype=X.dtype)
        if complete.size:
            out[complete] = self.base.log_prob(X[complete], params)
        for miss, rows, conds in groups:
            x_obs = X[np.ix_(rows, ~miss)]
            for j, cond in enumerate(conds):
                out[rows, j] = cond.log_density(x_obs)
        return out

    def anchor(self, params: GaussianParams) -> GaussianParams:
        return params

    def anchor_from_centres(self, centres: np.ndarray):  # pragma: no cover - init uses the base
        return self.base.anchor_from_centres(centres)

    def recentre_stats(self, stats: GaussianStats, like: GaussianStats) -> GaussianStats:
        """As the complete-data family's: the statistics have the same form."""
        return self.base.recentre_stats(stats, like)

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: GaussianParams) -> GaussianStats:
        params = anchor
        centre = params.means
        complete, groups = self._groups(X, params)
        k, d = centre.shape
        if complete.size:
            s1, s2 = self.model.scatter(X[complete], resp[complete], centre)
        else:
            s1 = np.zeros((k, d), dtype=X.dtype)
            s2 = np.zeros(self.model.scatter_shape(k, d), dtype=X.dtype)
        for miss, rows, conds in groups:
            obs = ~miss
            x_obs = X[np.ix_(rows, obs)]
            full = np.zeros((k, d, d), dtype=X.dtype)
            for j, cond in enumerate(conds):
                xhat = X[rows].copy()
                xhat[:, miss] = cond.fill(x_obs)
                diff = xhat - centre[j]
                r = resp[rows, j]
                rd = diff * r[:, None]
                s1[j] += rd.sum(axis=0)
                full[j] = rd.T @ diff
                full[j][np.ix_(miss, miss)] += r.sum() * cond.cond_cov
            s2 = s2 + self.model.reduce_scatter(full)
        return GaussianStats(nk=resp.sum(axis=0), s1=s1, s2=s2, centre=centre)

    def m_step(self, stats: GaussianStats, previous: GaussianParams | None) -> GaussianParams:
        return self.base.m_step(stats, previous)

    def n_parameters(self, params: GaussianParams) -> int:
        return self.base.n_parameters(params)

    def singular_components(self, params: GaussianParams) -> tuple[int, ...]:
        return self.base.singular_components(params)

    def repaired_components(self, stats: GaussianStats, previous: GaussianParams | None) -> tuple[int, ...]:
        return self.base.repaired_components(stats, previous)

    def sample(self, rng, params, counts):
        return self.base.sample(rng, params, counts)

    def impute(self, X: np.ndarray, params: GaussianParams, weights: np.ndarray) -> np.ndarray:
        """Fill NaN with ``E[x_M | x_O]``: the responsibility-weighted conditional means."""
        out = X.copy()
        _, groups = self._groups(X, params)
        if not groups:
            return out
        log_w = np.log(weights)
        for miss, rows, conds in groups:
            x_obs = X[np.ix_(rows, ~miss)]
            lj = np.column_stack([c.log_density(x_obs) for c in conds]) + log_w
            resp, _ = normalize_log_rows(lj)
            filled = sum(resp[:, [j]] * c.fill(x_obs) for j, c in enumerate(conds))
            out[np.ix_(rows, miss)] = filled
        return out
