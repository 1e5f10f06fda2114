"""Checks shared by the families: data in a family's support, parameters from users and files.

Data checks raise :class:`~emix.exceptions.InvalidInputError` naming the first
bad cell (row and column, mapped to the caller's columns for the parts of a
product family); a missing value (NaN) is never a bad value, except for
families that do not handle missing values (:func:`check_no_missing`).
Parameter checks raise :class:`~emix.exceptions.InvalidParameterError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..exceptions import InvalidInputError, InvalidParameterError


def _first_cell(mask: np.ndarray, columns: Sequence[int] | None) -> tuple[int, int, int] | None:
    """Row, local column and caller's column of the first ``True`` cell of ``mask`` (n, d), or None."""
    if not mask.any():
        return None
    i, j = (int(v) for v in np.argwhere(mask)[0])
    return i, j, int(j) if columns is None else int(columns[j])


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
    cell = _first_cell(bad, columns)
    if cell is None:
        return
    i, j, col = cell
    raise InvalidInputError(
        f"X has value {X[i, j].item()!r} at row {i}, column {col}; the {family} family "
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
    cell = _first_cell(nan, columns)
    if cell is None:
        return
    i, _, col = cell
    raise InvalidInputError(
        f"X has a missing value (NaN) at row {i}, column {col} ({int(nan.sum())} in all); "
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


def _refuse_negative(X: np.ndarray, what: str, family: str, columns: Sequence[int] | None) -> None:
    """Negative values first, in scikit-learn's words too (``Negative values in data``)."""
    try:
        raise_first_bad(X < 0, X, what, family, columns)
    except InvalidInputError as exc:
        raise InvalidInputError(f"Negative values in data: {exc}") from None
