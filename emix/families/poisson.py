"""Poisson components: D independent counts per component.

Density of a row ``x`` of non-negative integers under component ``k``::

    log p(x | k) = sum_d  x_d log lambda_kd - lambda_kd - log(x_d!)

Sufficient statistics: ``N_k = sum_n r_nk`` and ``S_k = sum_n r_nk x_n``.
M-step with pseudo-count ``alpha`` (``alpha`` imaginary observations of
count 1 in every component, a Gamma(alpha + 1, alpha) prior)::

    lambda_kd = (S_kd + alpha) / (N_k + alpha)

so that a component that has only seen zeros in a feature keeps a small
positive rate; ``alpha = 0`` is plain maximum likelihood.

Missing values (NaN) are skipped: a row's density is the product over its
observed features, and ``N_k`` becomes the per-feature count
``N_kd = sum_n r_nk [x_nd observed]`` in the M-step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from scipy.special import gammaln

from ._common import (
    SumStats,
    check_alpha,
    check_nonneg_integer,
    check_positive,
    empty_mask,
    get_array,
    observed_mask,
    sum_stats,
    unobserved_cells,
    warn_empty,
    xlogy_matmul,
    zero_missing,
)


@dataclasses.dataclass(frozen=True)
class PoissonParams:
    """Parameters of K Poisson components.

    Attributes
    ----------
    rates : ndarray of shape (K, D)
        ``lambda_kd``, the mean count of feature d in component k.
    """

    rates: np.ndarray


class PoissonFamily:
    """Independent Poisson counts.

    Parameters
    ----------
    alpha : float, default=1e-2
        Pseudo-count (see the module docstring); ``0`` gives maximum likelihood.
    """

    name = "poisson"
    handles_missing = True
    #: the values a column may take (see emix.families.base.SUPPORTS)
    support = "nonnegative_integers"

    def __init__(self, alpha: float = 1e-2) -> None:
        self.alpha = check_alpha(alpha)

    @property
    def exact_m_step(self) -> bool:
        return self.alpha == 0

    def log_prob(self, X: np.ndarray, params: PoissonParams) -> np.ndarray:
        """``log p(x_n | k)`` over the observed features of each row, shape (n, K)."""
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

    def anchor(self, params: PoissonParams) -> None:
        return None

    def anchor_from_centres(self, centres: np.ndarray) -> None:
        return None

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: None) -> SumStats:
        return sum_stats(X, resp)

    def m_step(self, stats: SumStats, previous: PoissonParams | None) -> PoissonParams:
        nk, sx = stats.nk, stats.sx
        n = stats.feature_counts()
        a = self.alpha
        empty = empty_mask(nk)
        with np.errstate(invalid="ignore", divide="ignore"):
            lam = (sx + a) / (n + a)
            overall = (sx.sum(axis=0) + a) / (n.sum(axis=0) + a)
        if empty.any():
            warn_empty(empty, previous is not None)
            if previous is not None:
                lam[empty] = previous.rates[empty]
            else:
                lam[empty] = overall
        cells = unobserved_cells(nk, stats.nkd, empty)
        if cells is not None:
            keep = np.broadcast_to(overall, lam.shape) if previous is None else previous.rates
            lam = np.where(cells, keep, lam)
        return PoissonParams(rates=lam)

    def n_parameters(self, params: PoissonParams) -> int:
        return int(params.rates.size)

    def sample(self, rng: np.random.Generator, params: PoissonParams, counts: np.ndarray) -> np.ndarray:
        lam = params.rates
        rows = np.repeat(np.arange(lam.shape[0]), np.asarray(counts, dtype=np.int64))
        return rng.poisson(lam[rows]).astype(np.float64)

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        check_nonneg_integer(X, "poisson", columns)

    def configure(self, X: np.ndarray) -> PoissonFamily:
        return self

    def array_names(self) -> tuple[str, ...]:
        return ("rates",)

    def to_arrays(self, params: PoissonParams) -> dict[str, np.ndarray]:
        return {"rates": params.rates}

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> PoissonParams:
        lam = get_array(arrays, "rates", (n_components, n_features), owner="poisson")
        check_positive(lam, "rates", allow_zero=True)
        return PoissonParams(rates=lam)

    def spec(self) -> dict:
        return {"family": self.name, "alpha": self.alpha}
