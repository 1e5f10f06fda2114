"""Poisson components: D independent counts per component.

Density of a row ``x`` of non-negative integers under component ``k``::

    log p(x | k) = sum_d  x_d log lambda_kd - lambda_kd - log(x_d!)

Sufficient statistics: ``N_k = sum_n r_nk`` and ``S_k = sum_n r_nk x_n``.
M-step with pseudo-count ``alpha`` (``alpha`` imaginary observations of
count 1 in every component, a Gamma(alpha + 1, alpha) prior)::

    lambda_kd = (S_kd + alpha) / (N_k + alpha)

so that a component that has only seen zeros in a feature keeps a small
positive rate; ``alpha = 0`` is plain maximum likelihood.

Missing counts (NaN) are skipped: the rate of a feature is estimated from
the rows where it was counted, ``N_k`` becoming ``N_kd`` in the M-step
(see :mod:`emix.families._common`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from scipy.special import gammaln

from ._checks import check_nonneg_integer, check_positive
from ._common import PseudoCounted, SumStats, component_rows, observed_mask, xlogy_matmul, zero_missing


@dataclasses.dataclass(frozen=True)
class PoissonParams:
    """Parameters of K Poisson components.

    Attributes
    ----------
    rates : ndarray of shape (K, D)
        ``lambda_kd``, the mean count of feature d in component k.
    """

    rates: np.ndarray


class PoissonFamily(PseudoCounted):
    """Independent Poisson counts.

    Parameters
    ----------
    alpha : float, default=1e-2
        Pseudo-count: ``lambda_kd = (S_kd + alpha) / (N_k + alpha)``, so that a
        component that saw only zeros keeps a small positive rate; ``0`` gives
        maximum likelihood.

    See Also
    --------
    emix.PoissonMixture : The estimator with this family.

    Examples
    --------
    >>> from emix.families import PoissonFamily
    >>> PoissonFamily(alpha=0.5).spec()
    {'family': 'poisson', 'alpha': 0.5}
    """

    name = "poisson"
    param = "rates"
    params_type = PoissonParams
    #: the values a column may take (see emix.families.base.SUPPORTS)
    support = "nonnegative_integers"

    def log_prob(self, X: np.ndarray, params: PoissonParams) -> np.ndarray:
        """``log p(x_n | k)`` over the observed counts of each row, shape (n, K)."""
        lam = params.rates
        obs = observed_mask(X)
        x = zero_missing(X, obs)
        out = xlogy_matmul(x, lam)
        if obs is None:
            out -= lam.sum(axis=1)
        else:
            out -= obs.astype(out.dtype) @ lam.T.astype(out.dtype, copy=False)
        out -= gammaln(x + 1.0).sum(axis=1)[:, None]  # log(0!) = 0 for the missing cells
        return out

    def m_step(self, stats: SumStats, previous: PoissonParams | None) -> PoissonParams:
        """``lambda_kd`` of the module docstring, shape (K, D)."""
        return PoissonParams(rates=self.smoothed_m_step(stats, previous, outcomes=1.0))

    def sample(self, rng: np.random.Generator, params: PoissonParams, counts: np.ndarray) -> np.ndarray:
        """Draws grouped by component, shape (sum(counts), D)."""
        lam = params.rates
        return rng.poisson(lam[component_rows(counts, lam.shape[0])]).astype(np.float64)

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        check_nonneg_integer(X, "poisson", columns)

    def check_parameters(self, values: np.ndarray) -> None:
        check_positive(values, "rates", allow_zero=True)
