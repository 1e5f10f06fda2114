"""Categorical components: D independent integer-coded features per component.

Feature ``d`` takes the levels ``0 .. L_d - 1``. Density of a row ``x`` under
component ``k``::

    log p(x | k) = sum_d  log p_kd[x_d]

Sufficient statistics: ``N_k = sum_n r_nk`` and the weighted level counts
``C_kdl = sum_n r_nk [x_nd = l]``. M-step with pseudo-count ``alpha`` (a
symmetric Dirichlet(alpha + 1) prior)::

    p_kd[l] = (C_kdl + alpha) / (N_k + alpha L_d)

so that a level never seen in a component keeps a small probability;
``alpha = 0`` is plain maximum likelihood.

The probabilities are stored padded to the largest number of levels: shape
(K, D, L_max), zeros beyond ``L_d``; ``n_levels`` (D,) says where each
feature's levels end.

Missing values (NaN) are skipped: a row's density is the product over its
observed features, a missing cell adds to no level count, and ``N_k`` becomes
the per-feature count ``N_kd = sum_n r_nk [x_nd observed]`` in the M-step.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from ..exceptions import InvalidInputError, InvalidParameterError
from ._checks import check_alpha, check_nonneg_integer, get_array
from ._common import (
    FeatureCountsMixin,
    component_rows,
    empty_mask,
    observed_mask,
    safe_log,
    unobserved_cells,
    warn_empty,
)
from .base import Stats


@dataclasses.dataclass(frozen=True)
class CategoricalParams:
    """Parameters of K categorical components.

    Attributes
    ----------
    probabilities : ndarray of shape (K, D, L_max)
        ``p_kd[l]``; each ``probabilities[k, d, :n_levels[d]]`` sums to one,
        entries beyond ``n_levels[d]`` are zero.
    n_levels : ndarray of int, shape (D,)
    """

    probabilities: np.ndarray
    n_levels: np.ndarray


@dataclasses.dataclass(frozen=True)
class CategoricalStats(FeatureCountsMixin, Stats):
    """Weighted level counts.

    Attributes
    ----------
    nk : ndarray of shape (K,)
    counts : ndarray of shape (K, D, L_max)
        ``C_kdl`` over the observed cells.
    n_levels : tuple of int, length D
        Not summed: the same in every chunk.
    nkd : ndarray of shape (K, D) or None
        ``sum_n r_nk [x_nd observed]``; ``None`` when no value was missing.
    """

    counts: np.ndarray
    n_levels: tuple
    nkd: np.ndarray | None = None

    _fixed: ClassVar[tuple[str, ...]] = ("n_levels",)


def _levels_mask(n_levels: Sequence[int]) -> np.ndarray:
    """(D, L_max) mask of the valid levels."""
    n_levels = np.asarray(n_levels, dtype=np.int64)
    return np.arange(int(n_levels.max())) < n_levels[:, None]


#: most levels a column may have (its codes are 0 .. MAX_LEVELS - 1); more is a column to recode
MAX_LEVELS = 1 << 16


class CategoricalFamily:
    """Independent categorical features, each coded as integers from 0 to ``L_d - 1``.

    Parameters
    ----------
    alpha : float, default=1e-2
        Pseudo-count added to every level of every feature in every component;
        ``0`` gives maximum likelihood.
    n_levels : int or sequence of int, optional
        Number of levels of each feature (one int for all). ``None`` takes
        ``max(code) + 1`` of each column of the training data.

    Notes
    -----
    The fitted estimator has ``probabilities_`` of shape (K, D, L_max), the
    level probabilities of every feature in every component (zero beyond a
    feature's own levels), and ``n_levels_`` of shape (D,).

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> from emix.families import CategoricalFamily
    >>> rng = np.random.default_rng(0)
    >>> codes = np.vstack([rng.choice(3, (300, 2), p=[0.7, 0.2, 0.1]),
    ...                    rng.choice(3, (200, 2), p=[0.1, 0.2, 0.7])]).astype(float)
    >>> cm = emix.Mixture(2, family=CategoricalFamily(), random_state=0).fit(codes)
    >>> cm.probabilities_.shape, cm.n_levels_
    ((2, 2, 3), array([3, 3]))
    >>> cm.probabilities_[:, 0].round(1)        # feature 0's levels in each component
    array([[0.8, 0.2, 0. ],
           [0. , 0.2, 0.8]])
    """

    name = "categorical"
    handles_missing = True
    #: the values a column may take (see emix.families.base.SUPPORTS)
    support = "nonnegative_integers"

    def __init__(self, alpha: float = 1e-2, n_levels: int | Sequence[int] | None = None) -> None:
        self.alpha = check_alpha(alpha)
        if n_levels is not None:
            arr = np.atleast_1d(np.asarray(n_levels))
            if arr.ndim != 1 or arr.dtype.kind not in "iu" or (arr < 1).any():
                raise InvalidParameterError(
                    f"n_levels must be a positive int or a sequence of positive ints, got {n_levels!r}"
                )
            if (arr > MAX_LEVELS).any():
                raise InvalidParameterError(
                    f"n_levels must be at most {MAX_LEVELS} per column, got {n_levels!r}; recode the "
                    "column to consecutive codes 0..L-1 (e.g. with pandas.factorize)"
                )
            n_levels = tuple(int(v) for v in arr)
        self.n_levels = n_levels

    @property
    def exact_m_step(self) -> bool:
        return self.alpha == 0

    def _levels_for(self, d: int) -> tuple[int, ...] | None:
        if self.n_levels is None:
            return None
        if len(self.n_levels) == 1:
            return self.n_levels * d
        if len(self.n_levels) != d:
            raise InvalidInputError(
                f"X has {d} features but n_levels gives {len(self.n_levels)} numbers of levels"
            )
        return self.n_levels

    def _check_codes(self, X: np.ndarray, n_levels: Sequence[int]) -> None:
        bad = X >= np.asarray(n_levels)[None, :]
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise InvalidInputError(
                f"X has level {X[i, j].item()!r} at row {i}, column {j}; the categorical model knows "
                f"levels 0..{int(n_levels[j]) - 1} for that column"
            )

    # -- EM --------------------------------------------------------------------
    @staticmethod
    def _codes(X: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
        """Integer codes, shape (n, D); -1 marks a missing cell."""
        if obs is None:
            return X.astype(np.int64)
        return np.where(obs, X, -1.0).astype(np.int64)

    def log_prob(self, X: np.ndarray, params: CategoricalParams) -> np.ndarray:
        """``log p(x_n | k)`` over the observed features of each row, shape (n, K)."""
        self._check_codes(X, params.n_levels)
        logp = safe_log(params.probabilities)
        obs = observed_mask(X)
        codes = self._codes(X, obs)
        out = np.zeros((X.shape[0], logp.shape[0]), dtype=np.float64)
        for d in range(X.shape[1]):
            if obs is None or obs[:, d].all():
                out += logp[:, d, codes[:, d]].T
            else:
                rows = obs[:, d]
                out[rows] += logp[:, d, codes[rows, d]].T
        return out.astype(X.dtype, copy=False)

    def anchor(self, params: CategoricalParams) -> tuple:
        return tuple(int(v) for v in params.n_levels)

    def anchor_from_centres(self, centres: np.ndarray) -> tuple:
        levels = self._levels_for(centres.shape[1])
        if levels is None:
            raise InvalidParameterError(
                "the categorical family needs n_levels; call configure(X) or pass n_levels"
            )
        return levels

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: tuple) -> CategoricalStats:
        n_levels = anchor
        self._check_codes(X, n_levels)
        r = resp.astype(np.float64, copy=False)
        k, d = r.shape[1], X.shape[1]
        counts = np.zeros((k, d, max(n_levels)))
        obs = observed_mask(X)
        codes = self._codes(X, obs)  # a missing cell (-1) matches no level
        for j in range(d):
            onehot = codes[:, j, None] == np.arange(n_levels[j])
            counts[:, j, : n_levels[j]] = r.T @ onehot
        nkd = None if obs is None else r.T @ obs.astype(np.float64)
        return CategoricalStats(nk=r.sum(axis=0), counts=counts, n_levels=tuple(n_levels), nkd=nkd)

    def m_step(self, stats: CategoricalStats, previous: CategoricalParams | None) -> CategoricalParams:
        nk, counts = stats.nk, stats.counts
        n = stats.feature_counts()
        n_levels = np.asarray(stats.n_levels, dtype=np.int64)
        mask = _levels_mask(n_levels)
        a = self.alpha
        empty = empty_mask(nk)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = (counts + a) / (n[:, :, None] + a * n_levels[None, :, None])
            overall = (counts.sum(axis=0) + a) / (n.sum(axis=0)[:, None] + a * n_levels[:, None])
        have_previous = previous is not None and previous.probabilities.shape == p.shape
        if empty.any():
            warn_empty(empty, previous is not None)
            if have_previous:
                p[empty] = previous.probabilities[empty]
            else:
                p[empty] = overall
        cells = unobserved_cells(nk, stats.nkd, empty)
        if cells is not None:
            keep = previous.probabilities if have_previous else np.broadcast_to(overall, p.shape)
            p = np.where(cells[:, :, None], keep, p)
        p = np.where(mask[None], p, 0.0)
        return CategoricalParams(probabilities=p, n_levels=n_levels)

    def n_parameters(self, params: CategoricalParams) -> int:
        k = params.probabilities.shape[0]
        return int(k * (np.asarray(params.n_levels) - 1).sum())

    def sample(self, rng: np.random.Generator, params: CategoricalParams, counts: np.ndarray) -> np.ndarray:
        p = params.probabilities
        rows = component_rows(counts, p.shape[0])
        d = p.shape[1]
        out = np.empty((rows.size, d))
        for j in range(d):
            cdf = np.cumsum(p[rows, j, :], axis=1)
            u = rng.random(rows.size) * cdf[:, -1]
            out[:, j] = (u[:, None] >= cdf).sum(axis=1)
        return out

    # -- initialisation ------------------------------------------------------------------
    def init_encode(self, X: np.ndarray) -> np.ndarray:
        """One-hot codes (n, sum_d L_d) on which k-means initialisation runs.

        A missing cell gives NaN in all its feature's columns (the
        initialisation fills them with the level frequencies).
        """
        if self.n_levels is None:
            raise InvalidParameterError("the categorical family needs n_levels; call configure(X) first")
        levels = self._levels_for(X.shape[1])
        self._check_codes(X, levels)
        nan = np.isnan(X)
        blocks = []
        for j, L in enumerate(levels):
            onehot = (X[:, j, None] == np.arange(L)).astype(np.float64)
            blocks.append(np.where(nan[:, j, None], np.nan, onehot) if nan[:, j].any() else onehot)
        return np.concatenate(blocks, axis=1)

    def init_decode_centres(self, centres: np.ndarray) -> np.ndarray:
        """Centres in code space (their values are not used: the anchor is ``n_levels``)."""
        return np.zeros((centres.shape[0], len(self.n_levels)))

    # -- estimator support -----------------------------------------------------------
    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        check_nonneg_integer(X, "categorical", columns)

    def configure(self, X: np.ndarray) -> CategoricalFamily:
        """A copy whose ``n_levels`` covers the codes seen in ``X`` (NaN ignored; a
        column with no observed code gets one level)."""
        observed = np.where(np.isnan(X), -1.0, X)
        top = observed.max(axis=0)
        if (top >= MAX_LEVELS).any():
            j = int(np.flatnonzero(top >= MAX_LEVELS)[0])
            i = int(np.argmax(observed[:, j]))
            raise InvalidInputError(
                f"X has code {X[i, j].item()!r} at row {i}, column {j}; the categorical family codes levels "
                f"0..L-1, so this column would need {int(top[j]) + 1} levels (at most {MAX_LEVELS}). Recode it "
                "to consecutive codes (e.g. with pandas.factorize)"
            )
        seen = tuple(max(int(v) + 1, 1) for v in top)
        given = self._levels_for(X.shape[1])
        if given is not None:
            self._check_codes(X, given)
            seen = given
        out = copy.copy(self)
        out.n_levels = seen
        return out

    def array_names(self) -> tuple[str, ...]:
        return ("probabilities", "n_levels")

    def init_names(self) -> set[str]:
        """``probabilities``; ``n_levels`` defaults to the family's or the array's width."""
        return {"probabilities"}

    def to_arrays(self, params: CategoricalParams) -> dict[str, np.ndarray]:
        return {
            "probabilities": params.probabilities,
            "n_levels": np.asarray(params.n_levels, dtype=np.int64),
        }

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> CategoricalParams:
        if arrays.get("n_levels") is not None:
            n_levels = get_array(arrays, "n_levels", (n_features,), dtype=np.int64, owner="categorical")
        else:
            given = self._levels_for(n_features)
            width = np.asarray(arrays.get("probabilities")).shape[-1]
            n_levels = np.asarray(given if given is not None else (width,) * n_features, dtype=np.int64)
        if (n_levels < 1).any():
            raise InvalidParameterError(f"n_levels must be positive, got {n_levels.tolist()}")
        p = get_array(
            arrays, "probabilities", (n_components, n_features, int(n_levels.max())), owner="categorical"
        )
        mask = _levels_mask(n_levels)
        if (p < 0).any() or (p[:, ~mask] != 0).any():
            raise InvalidParameterError(
                "probabilities must be non-negative, and zero beyond each feature's n_levels"
            )
        sums = p.sum(axis=2)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
            k, j = (int(v) for v in np.argwhere(~np.isclose(sums, 1.0, rtol=0, atol=1e-6))[0])
            raise InvalidParameterError(
                f"probabilities of component {k}, feature {j} sum to {sums[k, j].item()!r}, not 1"
            )
        return CategoricalParams(probabilities=p, n_levels=n_levels)

    def spec(self) -> dict:
        return {
            "family": self.name,
            "alpha": self.alpha,
            "n_levels": None if self.n_levels is None else list(self.n_levels),
        }
