"""Checking the data an estimator is given, for fitting and for a fitted model.

Everything here asks the family: whether NaN means "missing" (``handles_missing``),
what values it accepts (``validate``), and what it learns from the training
data (``configure``). Errors name the row and column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_missing_rows, check_n_features, feature_count_message
from ..exceptions import InvalidInputError, InvalidParameterError
from ..sources import DaskSource, checked_map, is_dask_collection, is_source, source_summary


def check_n_samples(n: int, n_components: int) -> None:
    """Enough rows for ``n_components`` components (and at least two)."""
    if n < 2:
        raise InvalidInputError(
            f"X has {n} sample{'' if n == 1 else 's'}; at least 2 are needed to fit a mixture "
            f"(n_samples = {n}, n_components = {n_components}): give more rows"
        )
    if n < n_components:
        raise InvalidInputError(
            f"Expected n_samples >= n_components but got n_components = {n_components}, n_samples = {n}"
        )


#: scikit-learn's sentence for a fit that fails on collapsed components (code matching it still works)
_COLLAPSED = (
    "Fitting the mixture model failed because some components have ill-defined empirical "
    "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
    "number of components, increase reg_covar, or scale the input data."
)


def check_distinct_rows(
    family: Any, X: np.ndarray, n_components: int, weights: Any = None, *, missing: bool = True
) -> None:
    """Refuse data with no more distinct rows than components when the family ``needs_spread``.

    Each component could then sit on identical rows, where a density whose scale is estimated
    without regularisation (a Gaussian with ``reg_covar=0``) has no maximum. Rows of zero
    weight and rows with missing values are not counted. The scan stops once enough distinct
    rows are seen (usually in the first block); rows are filtered block by block, so data
    with many distinct rows are read no further than that. ``missing=False`` says that
    ``X`` has no NaN (the caller checked), so no row is tested for it.
    """
    if not getattr(family, "needs_spread", False):
        return
    w = None if weights is None else np.asarray(weights)
    if _more_distinct_rows(X, n_components, w=w, missing=missing):
        return
    found = _more_distinct_rows(X, n_components, count=True, w=w, missing=missing)
    if found == 0:
        return
    raise InvalidInputError(
        f"{_COLLAPSED} (emix: X has only {found} distinct complete row(s) for "
        f"n_components={n_components}; with reg_covar=0 every component can collapse onto "
        "identical rows, where the likelihood has no maximum. Set reg_covar > 0 or use at most "
        f"{max(found - 1, 1)} component(s))"
    )


def _more_distinct_rows(
    X: np.ndarray, k: int, count: bool = False, *, w: np.ndarray | None = None, missing: bool = True
) -> Any:
    """Whether ``X`` has more than ``k`` distinct counted rows (or, with ``count``, how many it has).

    A row counts unless its weight in ``w`` is zero or (when ``missing``) it has a NaN.
    """
    seen: set[bytes] = set()
    for start in range(0, X.shape[0], 4096):
        block = X[start : start + 4096]
        if w is not None:
            block = block[w[start : start + 4096] > 0]
        if missing:
            block = block[~np.isnan(block).any(axis=1)]
        block = np.ascontiguousarray(block)
        rows = block.view(np.dtype((np.void, block.dtype.itemsize * block.shape[1]))).ravel()
        seen.update(bytes(r) for r in np.unique(rows))
        if not count and len(seen) > k:
            return True
    return len(seen) if count else False


def check_training_array(family: Any, X: np.ndarray, missing: bool = True) -> Any:
    """Check in-memory training data (n, D) against ``family``; return the family configured on it.

    A column with no observed value is refused: its parameters cannot be estimated.
    ``missing=False`` says that ``X`` has no NaN (the caller checked): no column is tested.
    """
    family.validate(X)
    nan = np.isnan(X) if missing else None
    if nan is not None and nan.any():
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
    empty = np.flatnonzero(np.asarray(summary.observed) == 0) if summary.n_samples else []
    if handles_missing and len(empty):  # as check_training_array says of an array, in the source's terms
        raise InvalidInputError(
            where(
                f"X column {int(empty[0])} has no observed value (every row is NaN or empty; {len(empty)} "
                "such column(s) in all); its parameters cannot be estimated: drop it",
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


def check_predict_data(X: Any, family: Any, n_features: int, dtype: Any, owner: str = "the model") -> Any:
    """Data for a fitted model: an array (numeric, right number of features, in the family's
    support) or a source (checked chunk by chunk when used). ``owner`` names the estimator."""
    if is_dask_collection(X):
        X = DaskSource(X)
    if is_source(X):
        if X.n_features != n_features:
            raise InvalidInputError(feature_count_message(X.n_features, n_features, owner=owner))
        return X
    X = check_array(X, dtype=dtype, allow_nan=family.handles_missing)
    check_n_features(X, n_features, owner=owner)
    if family.handles_missing:
        check_missing_rows(X)
    family.validate(X)
    return X


#: scikit-learn's input tags for each value of a family's ``support`` (see emix.families.base)
_SUPPORT_TAGS = {
    "real": {},
    "nonnegative": {"positive_only": True},
    "nonnegative_integers": {"positive_only": True, "categorical": True},
    "binary": {"positive_only": True, "categorical": True},
}


def input_tags(family: Any) -> dict[str, bool]:
    """scikit-learn's input tags (``sklearn.utils.InputTags`` fields) for data of ``family``.

    They come from what the family says of itself: ``support`` (the values a
    column may take: ``positive_only`` for non-negative supports, and
    ``categorical``, under which scikit-learn's checks generate non-negative
    integers, for integer ones) and ``handles_missing`` (``allow_nan``).
    Sparse input is never accepted.
    """
    support = getattr(family, "support", "real")
    tags = dict(_SUPPORT_TAGS.get(support, {"positive_only": True}))
    tags["allow_nan"] = bool(getattr(family, "handles_missing", False))
    tags["sparse"] = False
    return tags


class ValidateChunk:
    """``check(X_chunk)`` as a chunk function (picklable, for distributed sources)."""

    def __init__(self, check: Any) -> None:
        self.check = check

    def __call__(self, X: np.ndarray, w: Any, offset: int) -> None:
        self.check(X)
