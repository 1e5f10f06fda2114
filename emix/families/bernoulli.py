"""Bernoulli components: D independent binary features per component.

Density of a row ``x`` in ``{0, 1}^D`` under component ``k``::

    log p(x | k) = sum_d  x_d log p_kd + (1 - x_d) log(1 - p_kd)

Sufficient statistics: ``N_k = sum_n r_nk`` and ``S_k = sum_n r_nk x_n``.
M-step with pseudo-count ``alpha`` (a symmetric Beta(alpha + 1, alpha + 1)
prior, i.e. ``alpha`` imaginary zeros and ``alpha`` imaginary ones)::

    p_kd = (S_kd + alpha) / (N_k + 2 alpha)

``alpha = 0`` is plain maximum likelihood, where a feature never seen "on" in
a component gets ``p = 0`` and any row with that feature on has density zero
under the component.

A missing value (NaN) counts for neither outcome: a row's density is the
product over its observed features, and ``N_k`` becomes the per-feature count
``N_kd`` (see "Missing values" in :mod:`emix.families._common`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ._checks import check_binary, check_probabilities
from ._common import PseudoCounted, SumStats, component_rows, observed_mask, xlogy_matmul, zero_missing


@dataclasses.dataclass(frozen=True)
class BernoulliParams:
    """Parameters of K Bernoulli components.

    Attributes
    ----------
    probabilities : ndarray of shape (K, D)
        ``p_kd = P(x_d = 1 | k)``.
    """

    probabilities: np.ndarray


class BernoulliFamily(PseudoCounted):
    """Independent Bernoulli features.

    Parameters
    ----------
    alpha : float, default=1e-2
        Pseudo-count added to both outcomes of every feature in every
        component; ``0`` gives maximum likelihood.

    See Also
    --------
    emix.BernoulliMixture : The estimator with this family.

    Examples
    --------
    >>> import emix
    >>> from emix.families import BernoulliFamily
    >>> family = BernoulliFamily(alpha=0.0)
    >>> family.spec()
    {'family': 'bernoulli', 'alpha': 0.0}
    >>> emix.Mixture(2, family=family).get_params()["family"] is family
    True
    """

    name = "bernoulli"
    param = "probabilities"
    params_type = BernoulliParams
    #: the values a column may take (see emix.families.base.SUPPORTS)
    support = "binary"

    def log_prob(self, X: np.ndarray, params: BernoulliParams) -> np.ndarray:
        """``log p(x_n | k)`` over the observed bits of each row, shape (n, K)."""
        p = params.probabilities
        obs = observed_mask(X)
        ones = zero_missing(X, obs)
        zeros = 1.0 - X if obs is None else np.where(obs, 1.0 - X, 0.0).astype(X.dtype, copy=False)
        return xlogy_matmul(ones, p) + xlogy_matmul(zeros, 1.0 - p)

    def m_step(self, stats: SumStats, previous: BernoulliParams | None) -> BernoulliParams:
        """``p_kd`` of the module docstring, shape (K, D)."""
        p = self.smoothed_m_step(stats, previous, outcomes=2.0)
        return BernoulliParams(probabilities=np.clip(p, 0.0, 1.0))

    def sample(self, rng: np.random.Generator, params: BernoulliParams, counts: np.ndarray) -> np.ndarray:
        """Draws grouped by component, shape (sum(counts), D)."""
        p = params.probabilities
        rows = component_rows(counts, p.shape[0])
        return (rng.random((rows.size, p.shape[1])) < p[rows]).astype(np.float64)

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        check_binary(X, "bernoulli", columns)

    def check_parameters(self, values: np.ndarray) -> None:
        check_probabilities(values, "probabilities")
