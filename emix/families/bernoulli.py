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

Missing values (NaN) are skipped: a row's density is the product over its
observed features, and ``N_k`` becomes the per-feature count
``N_kd = sum_n r_nk [x_nd observed]`` in the M-step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ._common import (
    SumStats,
    check_alpha,
    check_binary,
    check_probabilities,
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
class BernoulliParams:
    """Parameters of K Bernoulli components.

    Attributes
    ----------
    probabilities : ndarray of shape (K, D)
        ``p_kd = P(x_d = 1 | k)``.
    """

    probabilities: np.ndarray


class BernoulliFamily:
    """Independent Bernoulli features.

    Parameters
    ----------
    alpha : float, default=1e-2
        Pseudo-count added to both outcomes of every feature in every
        component; ``0`` gives maximum likelihood.
    """

    name = "bernoulli"
    handles_missing = True
    #: the values a column may take (see emix.families.base.SUPPORTS)
    support = "binary"

    def __init__(self, alpha: float = 1e-2) -> None:
        self.alpha = check_alpha(alpha)

    @property
    def exact_m_step(self) -> bool:
        return self.alpha == 0

    # -- EM --------------------------------------------------------------------
    def log_prob(self, X: np.ndarray, params: BernoulliParams) -> np.ndarray:
        """``log p(x_n | k)`` over the observed features of each row, shape (n, K)."""
        p = params.probabilities
        obs = observed_mask(X)
        ones = zero_missing(X, obs)
        zeros = 1.0 - X if obs is None else np.where(obs, 1.0 - X, 0.0).astype(X.dtype, copy=False)
        return xlogy_matmul(ones, p) + xlogy_matmul(zeros, 1.0 - p)

    def anchor(self, params: BernoulliParams) -> None:
        return None

    def anchor_from_centres(self, centres: np.ndarray) -> None:
        return None

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: None) -> SumStats:
        return sum_stats(X, resp)

    def m_step(self, stats: SumStats, previous: BernoulliParams | None) -> BernoulliParams:
        nk, sx = stats.nk, stats.sx
        n = stats.feature_counts()
        empty = empty_mask(nk)
        a = self.alpha
        with np.errstate(invalid="ignore", divide="ignore"):
            p = (sx + a) / (n + 2.0 * a)
            overall = (sx.sum(axis=0) + a) / (n.sum(axis=0) + 2.0 * a)
        if empty.any():
            warn_empty(empty, previous is not None)
            if previous is not None:
                p[empty] = previous.probabilities[empty]
            else:
                p[empty] = overall
        cells = unobserved_cells(nk, stats.nkd, empty)
        if cells is not None:
            keep = np.broadcast_to(overall, p.shape) if previous is None else previous.probabilities
            p = np.where(cells, keep, p)
        return BernoulliParams(probabilities=np.clip(p, 0.0, 1.0))

    def n_parameters(self, params: BernoulliParams) -> int:
        return int(params.probabilities.size)

    def sample(self, rng: np.random.Generator, params: BernoulliParams, counts: np.ndarray) -> np.ndarray:
        p = params.probabilities
        rows = np.repeat(np.arange(p.shape[0]), np.asarray(counts, dtype=np.int64))
        return (rng.random((rows.size, p.shape[1])) < p[rows]).astype(np.float64)

    # -- estimator support -----------------------------------------------------------
    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        check_binary(X, "bernoulli", columns)

    def configure(self, X: np.ndarray) -> BernoulliFamily:
        return self

    def array_names(self) -> tuple[str, ...]:
        return ("probabilities",)

    def to_arrays(self, params: BernoulliParams) -> dict[str, np.ndarray]:
        return {"probabilities": params.probabilities}

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> BernoulliParams:
        p = get_array(arrays, "probabilities", (n_components, n_features), owner="bernoulli")
        check_probabilities(p, "probabilities")
        return BernoulliParams(probabilities=p)

    def spec(self) -> dict:
        return {"family": self.name, "alpha": self.alpha}
