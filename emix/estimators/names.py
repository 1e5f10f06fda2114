"""Feature names: learnt from a data frame's columns at ``fit``, checked at every later use.

As in scikit-learn: fitting on a data frame whose column names are all
strings sets ``feature_names_in_`` (an object array of those names); fitting
on anything else removes it. A fitted model then refuses a data frame whose
columns differ from those of ``fit`` (other names, or the same in another
order) with an :class:`~emix.exceptions.InvalidInputError` naming the
difference, and warns when names are given to a model fitted without them, or
the reverse. pandas is never imported here: a data frame is anything with a
``columns`` attribute.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..exceptions import EmixWarning, InputTypeError, InvalidInputError

#: at most this many names are listed in an error
_MAX_LISTED = 5


def feature_names_of(X: Any) -> np.ndarray | None:
    """The column names of a data frame ``X`` when they are all strings, else ``None``.

    Returns
    -------
    names : ndarray of object of shape (n_features,), or None

    Raises
    ------
    InputTypeError
        The names mix strings with other types (e.g. ``[0, "b"]``).
    """
    if isinstance(X, np.ndarray) or not hasattr(X, "columns") or not hasattr(X, "shape"):
        return None
    try:
        names = np.asarray(list(X.columns), dtype=object)
    except TypeError:  # columns that are not a sequence of names
        return None
    if names.ndim != 1 or names.size == 0:
        return None
    types = sorted({type(v).__qualname__ for v in names})
    if len(types) > 1 and "str" in types:
        raise InputTypeError(
            "Feature names are only supported if all input features have string names, but "
            f"your input has {types} as feature name / column name types. Convert them all to "
            "strings (X.columns = X.columns.astype(str)) to have them stored and checked, or "
            "to a non-string type to have them ignored"
        )
    return names if types == ["str"] else None


def set_fitted_names(estimator: Any, names: np.ndarray | None) -> None:
    """After ``fit``: set ``feature_names_in_`` to ``names``, or remove it when there are none."""
    if names is not None:
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def check_names(estimator: Any, X: Any) -> None:
    """Compare the column names of ``X`` with those seen at ``fit``.

    Raises
    ------
    InvalidInputError
        Both have names and they differ (names unseen at fit, names missing,
        or the same names in another order).

    Warns
    -----
    EmixWarning
        Names at fit but not now, or now but not at fit (the columns are then
        taken by position).
    """
    fitted = getattr(estimator, "feature_names_in_", None)
    given = feature_names_of(X)
    owner = type(estimator).__name__
    if fitted is None and given is None:
        return
    if fitted is None:
        warnings.warn(
            f"X has feature names, but {owner} was fitted without feature names; "
            "its columns are taken by position",
            EmixWarning,
            stacklevel=4,
        )
        return
    if given is None:
        warnings.warn(
            f"X does not have valid feature names, but {owner} was fitted with feature names; "
            f"its columns are taken to be {_listed(fitted, len(fitted))}",
            EmixWarning,
            stacklevel=4,
        )
        return
    if len(fitted) == len(given) and (fitted == given).all():
        return
    raise InvalidInputError(_mismatch(fitted, given))


def _listed(names: Any, limit: int = _MAX_LISTED) -> str:
    shown = [str(n) for n in list(names)[:limit]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _mismatch(fitted: np.ndarray, given: np.ndarray) -> str:
    """scikit-learn's message for different names (its wording, so that code matching it
    still does), then what to do."""
    unseen = sorted(set(given) - set(fitted))
    missing = sorted(set(fitted) - set(given))
    message = "The feature names should match those that were passed during fit.\n"
    if unseen:
        message += "Feature names unseen at fit time:\n" + _bullets(unseen)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + _bullets(missing)
    if not unseen and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    return message + (
        f"The model was fitted on the columns {_listed(fitted)}; select them in that order, "
        "e.g. X[model.feature_names_in_]"
    )


def _bullets(names: list) -> str:
    lines = [f"- {n}\n" for n in names[:_MAX_LISTED]]
    if len(names) > _MAX_LISTED:
        lines.append("- ...\n")
    return "".join(lines)
