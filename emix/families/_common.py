"""What the families share: the estimator interface, statistics, missing cells, a base class.

Data and parameter checks are in :mod:`._checks`. :class:`IndependentFeatures`
(and :class:`PseudoCounted`) is the base of the families whose components are
D independent features with one (K, D) parameter array (Bernoulli, Poisson,
exponential): everything but their densities, M-steps, draws and checks.

Besides the five methods of :class:`~emix.families.base.Family` that EM
needs, every family in this package (Gaussian, Student-t, Bernoulli,
categorical, Poisson, exponential, product) provides the methods below, which
the estimators (:mod:`emix.estimators`) use; the driver never needs them:

``validate(X, columns=None)``
    Raise :class:`~emix.exceptions.InvalidInputError` naming the first bad
    cell (row and column) when ``X`` is outside the family's support.
    ``columns`` maps local column indices to the caller's (for the product
    family).
``configure(X) -> family``
    A copy with data-dependent settings fixed (the number of levels of a
    categorical column); identity for most families.
``array_names() -> tuple[str, ...]`` / ``to_arrays(params)`` / ``from_arrays(arrays, k, d)``
    The parameters as named numeric arrays (what the estimator exposes as
    ``name_`` attributes and what the model file stores), and back, with
    consistency checks.
``init_names() -> set[str]``
    The array names a user must give for EM to start from user-given
    component parameters: ``array_names()`` less the arrays that follow
    from the others or have defaults (:data:`DERIVED_ARRAYS`).
``spec() -> dict``
    JSON-able description from which :func:`emix.families.registry.family_from_spec`
    rebuilds the family.
``exact_m_step``
    True when the M-step maximises the likelihood exactly (no pseudo-count,
    no jitter), so that any decrease of the log-likelihood is a bug.
``handles_missing``
    True when NaN in X means "missing at random" for the family (its
    ``log_prob`` and ``accumulate`` accept NaN, or ``for_missing(X)`` returns
    a variant that does). Families without it reject NaN.

Missing values in the independent families
------------------------------------------
Features are independent given the component, so the observed-data density of
a row is the product over its *observed* features, and the statistics of a
feature only count the rows where it is observed. The statistics then carry
the per-feature counts ``nkd = sum_n r_nk [x_nd observed]`` (K, D), which take
the place of ``N_k`` in the per-feature M-step. A chunk without NaN leaves
``nkd`` as ``None`` (meaning "``N_k`` for every feature"), so complete data
take the same fast path as before.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, ClassVar

import numpy as np

from ..exceptions import DegenerateComponentWarning
from . import repairs
from ._checks import check_alpha
from .base import FamilyBase, Stats

#: Array names that follow from the others or have defaults: ``precisions_cholesky``
#: (from ``covariances``), ``dof`` (the Student-t family's ``dof`` or ``dof_init``) and
#: ``n_levels`` (the categorical family's setting, or the width of ``probabilities``).
#: A user starting EM from given parameters need not give them (see ``init_names``).
DERIVED_ARRAYS = frozenset({"precisions_cholesky", "dof", "n_levels"})


def empty_mask(nk: np.ndarray) -> np.ndarray:
    """Components whose responsibility mass is numerically zero, shape (K,)."""
    total = float(np.sum(nk))
    floor = 10.0 * float(np.finfo(np.float64).eps) * max(total, 1.0)
    return np.asarray(nk) <= floor


def warn_empty(empty: np.ndarray, has_previous: bool, stacklevel: int = 4) -> None:
    """Warn that components received no responsibility.

    Parameters
    ----------
    empty : ndarray of bool, shape (K,)
    has_previous : bool
        Whether the components keep previous parameters.
    stacklevel : int, default=4
        Of the warning; the default suits a call from a family's ``m_step``
        (the warning names the caller of the function that called ``m_step``).
    """
    idx = np.flatnonzero(empty).tolist()
    kept = "kept its previous parameters" if has_previous else "started from the data average"
    repairs.note(idx, f"received no responsibility: {kept}")
    warnings.warn(
        f"component(s) {idx} received no responsibility; "
        + ("they keep their previous parameters" if has_previous else "they start from the data average")
        + ". Consider fewer components",
        DegenerateComponentWarning,
        stacklevel=stacklevel,
    )


def safe_log(p: np.ndarray) -> np.ndarray:
    """``log(p)`` with ``log(0) = -inf`` and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def xlogy_matmul(X: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``sum_d X[n, d] * log(p[k, d])`` as an (n, K) array with ``0 * log 0 = 0``.

    A positive ``X[n, d]`` against ``p[k, d] = 0`` gives ``-inf``.

    Parameters
    ----------
    X : ndarray of shape (n, D), non-negative
    p : ndarray of shape (K, D), non-negative
    """
    zero = p <= 0
    logp = np.where(zero, 0.0, safe_log(np.where(zero, 1.0, p))).astype(X.dtype, copy=False)
    out = X @ logp.T
    if zero.any():
        hits = X @ zero.T.astype(X.dtype)
        out[hits > 0] = -np.inf
    return out


def observed_mask(X: np.ndarray) -> np.ndarray | None:
    """Mask of the observed (non-NaN) cells of ``X``, or ``None`` when nothing is missing.

    Parameters
    ----------
    X : ndarray of shape (n, D)

    Returns
    -------
    obs : ndarray of bool, shape (n, D), or None
    """
    nan = np.isnan(X)
    return ~nan if nan.any() else None


def zero_missing(X: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
    """``X`` with its missing cells set to 0 (``X`` itself when ``obs`` is None), shape (n, D)."""
    return X if obs is None else np.where(obs, X, 0.0).astype(X.dtype, copy=False)


def _full_counts(stats: Stats, shape: tuple[int, int]) -> np.ndarray:
    nkd = getattr(stats, "nkd", None)
    if nkd is not None:
        return nkd
    return np.broadcast_to(np.asarray(stats.nk, dtype=np.float64)[:, None], shape)


class FeatureCountsMixin:
    """Adds statistics that carry optional per-feature counts ``nkd`` (K, D).

    ``nkd is None`` means "every feature observed in every row": the counts
    are ``nk`` for each feature. Adding a chunk with counts to one without
    materialises the latter's counts, so the sum is always right.
    """

    def __add__(self, other):
        out = super().__add__(other)
        if out is NotImplemented or (self.nkd is None) == (other.nkd is None):
            return out
        shape = (self.nkd if self.nkd is not None else other.nkd).shape
        return dataclasses.replace(out, nkd=_full_counts(self, shape) + _full_counts(other, shape))

    def feature_counts(self) -> np.ndarray:
        """``nkd`` as an array of shape (K, D) or (K, 1) (``N_k`` broadcast when nothing is missing)."""
        nk = np.asarray(self.nk, dtype=np.float64)
        return nk[:, None] if self.nkd is None else self.nkd


def unobserved_cells(nk: np.ndarray, nkd: np.ndarray | None, empty: np.ndarray) -> np.ndarray | None:
    """(K, D) mask of the (component, feature) pairs with no observed data, or None.

    Components that are empty altogether (``empty``, shape (K,)) are left to
    the empty-component repair. For the remaining cells the likelihood does
    not depend on the parameter, so keeping its previous value is still an
    exact M-step.
    """
    if nkd is None:
        return None
    floor = 10.0 * float(np.finfo(np.float64).eps) * max(float(np.sum(nk)), 1.0)
    cells = (nkd <= floor) & ~np.asarray(empty)[:, None]
    return cells if cells.any() else None


@dataclasses.dataclass(frozen=True)
class SumStats(FeatureCountsMixin, Stats):
    """Statistics of families whose M-step needs only weighted feature sums.

    Attributes
    ----------
    nk : ndarray of shape (K,)
        ``sum_n r_nk``.
    sx : ndarray of shape (K, D)
        ``sum_n r_nk x_n`` over the observed cells.
    nkd : ndarray of shape (K, D) or None
        ``sum_n r_nk [x_nd observed]``; ``None`` when no value was missing.
    """

    sx: np.ndarray
    nkd: np.ndarray | None = None


def sum_stats(X: np.ndarray, resp: np.ndarray) -> SumStats:
    """:class:`SumStats` of one chunk, skipping missing (NaN) cells.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    resp : ndarray of shape (n, K)

    Returns
    -------
    SumStats
        ``resp.sum(0)``, ``resp.T @ X`` and, when ``X`` has NaN, the
        per-feature counts (all in float64).
    """
    r = resp.astype(np.float64, copy=False)
    obs = observed_mask(X)
    if obs is None:
        return SumStats(nk=r.sum(axis=0), sx=r.T @ X.astype(np.float64, copy=False))
    x0 = np.where(obs, X, 0.0).astype(np.float64, copy=False)
    return SumStats(nk=r.sum(axis=0), sx=r.T @ x0, nkd=r.T @ obs.astype(np.float64))


def component_rows(counts: np.ndarray, k: int) -> np.ndarray:
    """Component index of each draw, grouped by component, shape (sum(counts),).

    Parameters
    ----------
    counts : ndarray of int, shape (K,)
        Draws per component.
    k : int
        Number of components K.
    """
    return np.repeat(np.arange(k), np.asarray(counts, dtype=np.int64))


class IndependentFeatures(FamilyBase):
    """Base of the families of D independent features with one (K, D) parameter array.

    On top of :class:`~emix.families.base.FamilyBase` (no anchor, the estimator
    interface) it provides the statistics (:func:`sum_stats`, missing cells
    skipped) and the number of free parameters (the array's size). A subclass
    sets the class attributes below and writes ``log_prob``, ``m_step``,
    ``sample``, ``validate`` (its data check) and :meth:`check_parameters`.
    """

    #: name of the parameter array, of its field in :attr:`params_type` and in model files
    param: ClassVar[str]
    #: NaN cells are skipped (module docstring, "Missing values")
    handles_missing: ClassVar[bool] = True

    def check_parameters(self, values: np.ndarray) -> None:
        """Raise :class:`InvalidParameterError` unless ``values`` (K, D) are valid parameters."""
        raise NotImplementedError

    def check_params(self, params: Any) -> None:
        self.check_parameters(getattr(params, self.param))

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: None) -> SumStats:
        """:func:`sum_stats` of the chunk ``X`` (n, D) with responsibilities ``resp`` (n, K)."""
        return sum_stats(X, resp)

    def n_parameters(self, params: Any) -> int:
        return int(getattr(params, self.param).size)


class PseudoCounted(IndependentFeatures):
    """:class:`IndependentFeatures` whose M-step adds a pseudo-count.

    Parameters
    ----------
    alpha : float, default=1e-2
        The pseudo-count (its meaning: the subclass's docstring); ``0`` gives
        maximum likelihood.
    """

    def __init__(self, alpha: float = 1e-2) -> None:
        self.alpha = check_alpha(alpha)

    @property
    def exact_m_step(self) -> bool:
        return self.alpha == 0

    def smoothed_m_step(self, stats: SumStats, previous: Any | None, outcomes: float) -> np.ndarray:
        """``(S_kd + alpha) / (N_kd + outcomes alpha)``, shape (K, D), with the usual repairs.

        An empty component keeps its previous value (or, without one, takes the
        value of all the data), with a warning; a (component, feature) cell
        with no observed data keeps its previous value (or that of all the data).

        Parameters
        ----------
        stats : SumStats
        previous : parameters or None
        outcomes : float
            How many times ``alpha`` the denominator gets (2 for the two outcomes of a
            Bernoulli feature, 1 for the one imaginary count of a Poisson feature).
        """
        nk, sx = stats.nk, stats.sx
        n = stats.feature_counts()
        empty = empty_mask(nk)
        a = self.alpha
        with np.errstate(invalid="ignore", divide="ignore"):
            p = (sx + a) / (n + outcomes * a)
            overall = (sx.sum(axis=0) + a) / (n.sum(axis=0) + outcomes * a)
        if empty.any():
            warn_empty(empty, previous is not None, stacklevel=5)  # one frame deeper than m_step
            if previous is not None:
                p[empty] = getattr(previous, self.param)[empty]
            else:
                p[empty] = overall
        cells = unobserved_cells(nk, stats.nkd, empty)
        if cells is not None:
            keep = np.broadcast_to(overall, p.shape) if previous is None else getattr(previous, self.param)
            p = np.where(cells, keep, p)
        return p
