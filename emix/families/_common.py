"""Helpers shared by the non-Gaussian families: data checks, empty components, arrays.

Besides the five methods of :class:`~emix.families.base.Family` that EM
needs, the families in this package provide a few optional methods that the
estimators (:mod:`emix.estimators`) use; the driver never needs them:

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
from collections.abc import Sequence

import numpy as np

from ..exceptions import DegenerateComponentWarning, InvalidInputError, InvalidParameterError
from .base import Stats


def _col(j: int, columns: Sequence[int] | None) -> int:
    return int(j) if columns is None else int(columns[j])


def raise_first_bad(
    bad: np.ndarray, X: np.ndarray, what: str, family: str, columns: Sequence[int] | None = None
) -> None:
    """Raise :class:`InvalidInputError` naming the first ``True`` cell of ``bad``.

    Parameters
    ----------
    bad : ndarray of bool, shape (n, d)
        NaN cells of ``X`` (missing values) are never reported.
    X : ndarray of shape (n, d)
    what : str
        What the values should be, e.g. ``"0 or 1"``.
    family : str
        The family's name, for the message.
    columns : sequence of int, optional
        Original column index of each local column.
    """
    bad = bad & ~np.isnan(X)  # a missing value is not a bad value
    if not bad.any():
        return
    i, j = (int(v) for v in np.argwhere(bad)[0])
    raise InvalidInputError(
        f"X has value {X[i, j].item()!r} at row {i}, column {_col(j, columns)}; the {family} family "
        f"needs {what} ({int(bad.sum())} bad value(s) in all)"
    )


def check_no_missing(X: np.ndarray, family: str, columns: Sequence[int] | None = None) -> None:
    """Raise :class:`InvalidInputError` naming the first NaN cell, for families without missing-data support.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    family : str
        The family's name, for the message.
    columns : sequence of int, optional
        Original column index of each local column.
    """
    nan = np.isnan(X)
    if not nan.any():
        return
    i, j = (int(v) for v in np.argwhere(nan)[0])
    raise InvalidInputError(
        f"X has a missing value (NaN) at row {i}, column {_col(j, columns)} ({int(nan.sum())} in all); "
        f"the {family} family does not handle missing values: drop or impute those rows"
    )


def check_binary(X: np.ndarray, family: str, columns: Sequence[int] | None = None) -> None:
    """Every value is 0 or 1."""
    _refuse_negative(X, "values 0 or 1", family, columns)
    raise_first_bad((X != 0) & (X != 1), X, "values 0 or 1", family, columns)


def check_nonneg_integer(X: np.ndarray, family: str, columns: Sequence[int] | None = None) -> None:
    """Every value is a non-negative integer (stored as a float or int)."""
    _refuse_negative(X, "non-negative integers", family, columns)
    raise_first_bad(X != np.floor(X), X, "non-negative integers", family, columns)


def check_nonneg(X: np.ndarray, family: str, columns: Sequence[int] | None = None) -> None:
    """Every value is >= 0."""
    _refuse_negative(X, "non-negative values", family, columns)


def _refuse_negative(X: np.ndarray, what: str, family: str, columns: Sequence[int] | None) -> None:
    """Negative values first, in scikit-learn's words too (``Negative values in data``)."""
    try:
        raise_first_bad(X < 0, X, what, family, columns)
    except InvalidInputError as exc:
        raise InvalidInputError(f"Negative values in data: {exc}") from None


def empty_mask(nk: np.ndarray) -> np.ndarray:
    """Components whose responsibility mass is numerically zero, shape (K,)."""
    total = float(np.sum(nk))
    floor = 10.0 * float(np.finfo(np.float64).eps) * max(total, 1.0)
    return np.asarray(nk) <= floor


def warn_empty(empty: np.ndarray, has_previous: bool) -> None:
    """Warn that components received no responsibility."""
    idx = np.flatnonzero(empty).tolist()
    warnings.warn(
        f"component(s) {idx} received no responsibility; "
        + ("they keep their previous parameters" if has_previous else "they start from the data average")
        + ". Consider fewer components",
        DegenerateComponentWarning,
        stacklevel=4,
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


def get_array(
    arrays: dict, name: str, shape: tuple[int, ...], *, dtype=np.float64, owner: str = "parameters"
) -> np.ndarray:
    """Fetch ``arrays[name]`` as a finite numeric array of ``shape`` or raise InvalidParameterError."""
    if name not in arrays or arrays[name] is None:
        raise InvalidParameterError(f"{owner}: array {name!r} is missing")
    arr = np.asarray(arrays[name])
    if arr.dtype.kind not in "biuf":
        raise InvalidParameterError(f"{owner}: {name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(dtype)
    if arr.shape != tuple(shape):
        raise InvalidParameterError(f"{owner}: {name} has shape {arr.shape}; expected {tuple(shape)}")
    if not np.isfinite(arr).all():
        raise InvalidParameterError(f"{owner}: {name} contains NaN or inf")
    return arr


def check_probabilities(p: np.ndarray, name: str) -> None:
    """Values lie in [0, 1]."""
    if (p < 0).any() or (p > 1).any():
        idx = tuple(int(i) for i in np.argwhere((p < 0) | (p > 1))[0])
        raise InvalidParameterError(f"{name} must lie in [0, 1]; entry {idx} is {p[idx].item()!r}")


def check_positive(p: np.ndarray, name: str, *, allow_zero: bool = False) -> None:
    """Values are positive (or non-negative)."""
    bad = p < 0 if allow_zero else p <= 0
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        sign = "non-negative" if allow_zero else "positive"
        raise InvalidParameterError(f"{name} must be {sign}; entry {idx} is {p[idx].item()!r}")


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """A pseudo-count: finite and >= 0."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number >= 0, got {alpha!r}") from None
    if not np.isfinite(a) or a < 0 or isinstance(alpha, bool):
        raise InvalidParameterError(f"{name} must be a finite number >= 0, got {alpha!r}")
    return a


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
