"""Exponential components: D independent non-negative durations per component.

Density of a row ``x >= 0`` under component ``k`` (rate parameterisation)::

    log p(x | k) = sum_d  log lambda_kd - lambda_kd x_d

Sufficient statistics: ``N_k = sum_n r_nk`` and ``S_k = sum_n r_nk x_n``.
M-step (exact maximum likelihood)::

    lambda_kd = N_k / S_kd

A component whose weighted sum of a feature is zero (it holds only zeros)
would get an infinite rate; its mean is floored at a tiny fraction of the data
mean, with a :class:`~emix.exceptions.DegenerateComponentWarning`.

Missing values (NaN) are skipped as in every family of independent features
(:mod:`emix.families._common`): the rate becomes ``N_kd / S_kd``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np

from ..exceptions import DegenerateComponentWarning
from . import repairs
from ._checks import check_nonneg, check_positive
from ._common import (
    IndependentFeatures,
    SumStats,
    component_rows,
    empty_mask,
    observed_mask,
    unobserved_cells,
    warn_empty,
    zero_missing,
)


@dataclasses.dataclass(frozen=True)
class ExponentialParams:
    """Parameters of K exponential components.

    Attributes
    ----------
    rates : ndarray of shape (K, D)
        ``lambda_kd``; the component mean of feature d is ``1 / lambda_kd``.
    """

    rates: np.ndarray


class ExponentialFamily(IndependentFeatures):
    """Independent exponential features, for non-negative reals (the family has no options).

    Component ``k`` has density ``lambda_kd exp(-lambda_kd x_d)`` in each
    feature; the M-step is the weighted maximum likelihood
    ``lambda_kd = N_kd / S_kd``. NaN cells are missing values.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.exponential(1.0, (300, 1)), rng.exponential(10.0, (200, 1))])
    >>> em = emix.Mixture(2, family="exponential", random_state=0).fit(X)
    >>> em.rates_.round(2)                      # 1 / the component means
    array([[0.1 ],
           [0.89]])
    """

    name = "exponential"
    param = "rates"
    params_type = ExponentialParams
    #: the values a column may take (see emix.families.base.SUPPORTS)
    support = "nonnegative"

    def log_prob(self, X: np.ndarray, params: ExponentialParams) -> np.ndarray:
        """``log p(x_n | k)`` over the observed features of each row, shape (n, K)."""
        lam = params.rates
        obs = observed_mask(X)
        out = -(zero_missing(X, obs) @ lam.T.astype(X.dtype, copy=False))
        if obs is None:
            out += np.log(lam).sum(axis=1)
        else:
            out += obs.astype(X.dtype) @ np.log(lam).T.astype(X.dtype, copy=False)
        return out

    def m_step(self, stats: SumStats, previous: ExponentialParams | None) -> ExponentialParams:
        """``lambda_kd`` of the module docstring, shape (K, D), with the mean floored."""
        nk, sx = stats.nk, stats.sx
        n = stats.feature_counts()
        empty = empty_mask(nk)
        cells = unobserved_cells(nk, stats.nkd, empty)
        skip = empty[:, None] if cells is None else empty[:, None] | cells
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(skip, 1.0, sx) / np.where(skip, 1.0, n)
        overall = sx.sum(axis=0) / n.sum(axis=0)
        floor = 1e-10 * np.where(overall > 0, overall, 1.0)
        tiny = (mean < floor) & ~skip
        if tiny.any():
            repairs.note(
                np.flatnonzero(tiny.any(axis=1)).tolist(),
                f"{int(tiny.sum())} zero mean(s) floored at 1e-10 times the data mean",
            )
            warnings.warn(
                f"{int(tiny.sum())} component mean(s) are zero (a component holds only zeros "
                "in a feature); floored at 1e-10 times the data mean",
                DegenerateComponentWarning,
                stacklevel=3,
            )
            mean = np.where(tiny, floor, mean)
        if empty.any():
            warn_empty(empty, previous is not None)
            if previous is not None:
                mean[empty] = 1.0 / previous.rates[empty]
            else:
                mean[empty] = np.maximum(overall, floor)
        if cells is not None:
            keep = np.maximum(overall, floor) if previous is None else 1.0 / previous.rates
            mean = np.where(cells, keep, mean)
        return ExponentialParams(rates=1.0 / mean)

    def sample(self, rng: np.random.Generator, params: ExponentialParams, counts: np.ndarray) -> np.ndarray:
        """Draws grouped by component, shape (sum(counts), D)."""
        lam = params.rates
        return rng.exponential(1.0 / lam[component_rows(counts, lam.shape[0])])

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        check_nonneg(X, "exponential", columns)

    def check_parameters(self, values: np.ndarray) -> None:
        check_positive(values, "rates")
