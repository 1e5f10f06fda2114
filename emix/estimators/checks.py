"""Checking the data an estimator is given, for fitting and for a fitted model.

Everything here asks the family: whether NaN means "missing" (``handles_missing``),
what values it accepts (``validate``), and what it learns from the training
data (``configure``). Errors name the row and column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_missing_rows, check_n_features
from ..exceptions import InvalidInputError, InvalidParameterError
from ..sources import DaskSource, checked_map, is_dask_collection, is_source, source_summary


def check_n_samples(n: int, n_components: int) -> None:
    """Enough rows for ``n_components`` components (and at least two)."""
    if n < n_components:
        raise InvalidInputError(
            f"Expected n_samples >= n_components but got n_components = {n_components}, n_samples = {n}"
        )
    if n < 2:
        raise InvalidInputError(f"X has {n} sample; at least 2 are needed to fit a mixture")


def check_training_array(family: Any, X: np.ndarray) -> Any:
    """Check in-memory training data (n, D) against ``family``; return the family configured on it.

    A column with no observed value is refused: its parameters cannot be estimated.
    """
    family.validate(X)
    nan = np.isnan(X)
    if nan.any():
        empty = nan.all(axis=0)
        if empty.any():
            j = int(np.flatnonzero(empty)[0])
            raise InvalidInputError(
                f"X column {j} has no observed value (every row is NaN; {int(empty.sum())} such "
                "column(s) in all); its parameters cannot be estimated: drop it"
            )
    return family.configure(X)


def check_source_missing(source: Any, summary: Any, handles_missing: bool, owner: str, action: str) -> None:
    """Refuse NaN in a source when the family does not handle it, and rows with nothing observed."""
    where = getattr(source, "relocate", lambda msg, offset: msg)
    if summary.n_missing and not handles_missing:
        i, j = summary.first_missing
        raise InvalidInputError(
            where(
                f"X has a missing value (NaN) at row {i}, column {j}{action}; "
                f"{owner} does not handle missing values" + (": drop or impute those rows" if action else ""),
                0,
            )
        )
    if handles_missing and summary.first_empty_row is not None:
        raise InvalidInputError(
            where(f"X row {summary.first_empty_row} has no observed value (every column is NaN); drop it", 0)
        )


def training_source(X: Any, labels: Any, sample_weight: Any, family: Any, n_components: int, owner: str):
    """Check a source (or Dask collection) for fitting: one scan, then the checks made in memory.

    Returns
    -------
    source : a source
    summary : SourceSummary
        The scan; ``summary.probe()`` is a small array of the data on which the family is configured.
    """
    if is_dask_collection(X):
        X = DaskSource(X, weights=sample_weight)
    elif sample_weight is not None:
        raise InvalidParameterError(
            "sample_weight cannot be given with a source: the source carries its weights "
            "(e.g. ParquetSource(path, weights='w'))"
        )
    if labels is not None:
        raise InvalidParameterError(
            f"partial labels need in-memory data; {type(X).__name__} does not support them"
        )
    summary = source_summary(X)
    check_n_samples(summary.n_samples, n_components)
    n_missing = summary.n_missing
    check_source_missing(X, summary, family.handles_missing, owner, f" ({n_missing} in all)")
    if not summary.total_weight > 0:
        raise InvalidInputError(
            getattr(X, "relocate", lambda m, o: m)("sample_weight is zero for every row", 0)
        )
    if not getattr(family, "accepts_any_real", False):
        for _ in checked_map(X, ValidateChunk(family.validate)):
            pass
    return X, summary


def check_predict_data(X: Any, family: Any, n_features: int, dtype: Any) -> Any:
    """Data for a fitted model: an array (numeric, right number of features, in the family's
    support) or a source (checked chunk by chunk when used)."""
    if is_dask_collection(X):
        X = DaskSource(X)
    if is_source(X):
        if X.n_features != n_features:
            raise InvalidInputError(
                f"X has {X.n_features} features, but the model was fitted with {n_features} features"
            )
        return X
    X = check_array(X, dtype=dtype, allow_nan=family.handles_missing)
    check_n_features(X, n_features)
    if family.handles_missing:
        check_missing_rows(X)
    family.validate(X)
    return X


class ValidateChunk:
    """``check(X_chunk)`` as a chunk function (picklable, for distributed sources)."""

    def __init__(self, check: Any) -> None:
        self.check = check

    def __call__(self, X: np.ndarray, w: Any, offset: int) -> None:
        self.check(X)
