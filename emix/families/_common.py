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
    X : ndarray of shape (n, d)
    what : str
        What the values should be, e.g. ``"0 or 1"``.
    family : str
        The family's name, for the message.
    columns : sequence of int, optional
        Original column index of each local column.
    """
    if not bad.any():
        return
    i, j = (int(v) for v in np.argwhere(bad)[0])
    raise InvalidInputError(
        f"X has value {X[i, j].item()!r} at row {i}, column {_col(j, columns)}; the {family} family "
        f"needs {what} ({int(bad.sum())} bad value(s) in all)"
    )


def check_binary(X: np.ndarray, family: str, columns: Sequence[int] | None = None) -> None:
    """Every value is 0 or 1."""
    raise_first_bad((X != 0) & (X != 1), X, "values 0 or 1", family, columns)


def check_nonneg_integer(X: np.ndarray, family: str, columns: Sequence[int] | None = None) -> None:
    """Every value is a non-negative integer (stored as a float or int)."""
    raise_first_bad((X < 0) | (X != np.floor(X)), X, "non-negative integers", family, columns)


def check_nonneg(X: np.ndarray, family: str, columns: Sequence[int] | None = None) -> None:
    """Every value is >= 0."""
    raise_first_bad(X < 0, X, "non-negative values", family, columns)


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


@dataclasses.dataclass(frozen=True)
class SumStats(Stats):
    """Statistics of families whose M-step needs only weighted feature sums.

    Attributes
    ----------
    nk : ndarray of shape (K,)
        ``sum_n r_nk``.
    sx : ndarray of shape (K, D)
        ``sum_n r_nk x_n``.
    """

    sx: np.ndarray


def sum_stats(X: np.ndarray, resp: np.ndarray) -> SumStats:
    """:class:`SumStats` of one chunk: ``resp.sum(0)`` and ``resp.T @ X`` (in float64)."""
    r = resp.astype(np.float64, copy=False)
    return SumStats(nk=r.sum(axis=0), sx=r.T @ X.astype(np.float64, copy=False))
