"""Predictions on Dask data stay lazy: ``predict``, ``predict_proba`` and ``score_samples`` map blocks.

Given a Dask array (or dataframe) a fitted estimator returns a Dask array,
built with ``map_blocks``: nothing is computed until the caller asks, and
each block is evaluated where it lives (on the workers of the user's
``distributed`` client when there is one). Every block is checked as it is
computed, as in-memory data are (features, finite values, the family's
support); an error names the row in terms of the whole array.

==================  =============================  =========
method              result                         dtype
==================  =============================  =========
``predict``         (n_samples,)                   int64
``predict_proba``   (n_samples, n_components)      float
``score_samples``   (n_samples,)                   float
==================  =============================  =========
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import MixtureParams
from ..exceptions import EmixError, InputTypeError, InvalidInputError
from ..sources import relocate_message
from . import checks


def as_dask_array(X: Any, n_features: int) -> Any:
    """A Dask array or dataframe as a Dask array of shape (n_samples, n_features), one block per row range.

    A dataframe's partition lengths are computed (one pass) so that the shape is known.

    Raises
    ------
    InvalidInputError
        Another number of features, or not two dimensions.
    InputTypeError
        Columns that are not numbers.
    """
    if hasattr(X, "to_dask_array") and hasattr(X, "columns"):
        kinds = [(c, t) for c, t in zip(X.columns, X.dtypes) if getattr(t, "kind", "O") not in "biuf"]
        if kinds:
            raise InputTypeError(
                f"column {kinds[0][0]!r} has non-numeric dtype {kinds[0][1]}; encode or drop it"
            )
        X = X.to_dask_array(lengths=True)
    if X.ndim != 2:
        raise InvalidInputError(f"the dask data have {X.ndim} dimensions; expected 2 (n_samples, n_features)")
    if X.dtype.kind not in "biuf":
        raise InputTypeError(f"the dask data have dtype {X.dtype}; emix needs real numbers")
    if X.shape[1] != n_features:
        raise InvalidInputError(
            f"X has {X.shape[1]} features, but the model was fitted with {n_features} features"
        )
    return X.rechunk({1: -1})


class _BlockMap:
    """``fn(family, block, params)`` for one block, the block checked first (picklable, for workers)."""

    def __init__(self, family: Any, params: MixtureParams, fn: Any, n_features: int, dtype: Any) -> None:
        self.family, self.params, self.fn = family, params, fn
        self.n_features, self.dtype = n_features, dtype

    def __call__(self, block: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        try:
            X = checks.check_predict_data(np.asarray(block), self.family, self.n_features, self.dtype)
            family = self.family
            variant = getattr(family, "for_missing", None)
            if variant is not None and np.isnan(X).any():
                family = variant(X)
            return self.fn(family, X, self.params)
        except EmixError as exc:
            raise type(exc)(self._where(str(exc), block_info)) from None

    @staticmethod
    def _where(message: str, block_info: dict | None) -> str:
        info = (block_info or {}).get(0, {})
        start = info.get("array-location", [(math.nan, None)])[0][0]
        if start is None or not math.isfinite(start):
            return f"dask data, block {info.get('chunk-location', ('?',))[0]}: {message}"
        return relocate_message(message, int(start), name="dask data")


def map_blocks(estimator: Any, X: Any, fn: Any, probe: np.ndarray) -> Any:
    """``fn(family, block, params)`` of every block of the Dask array ``X``, as a lazy Dask array.

    Parameters
    ----------
    estimator : fitted MixtureEstimator
    X : dask.array.Array of shape (n_samples, n_features)
        As :func:`as_dask_array` returns it.
    fn : callable
        ``(family, X_block, params) -> (n,)`` or ``(n, K)`` values (see the module table).
    probe : ndarray
        What ``fn`` gives for one row: its dimensions and dtype.

    Returns
    -------
    dask.array.Array
        Of shape (n_samples,) or (n_samples, probe's columns: n_components, one more with a
        noise component), blocks along the rows as ``X``'s.
    """
    k = int(probe.shape[-1]) if probe.ndim == 2 else int(estimator.n_components)  # + 1 with noise
    means = getattr(estimator, "means_", None)
    dtype = None if means is None else np.asarray(means).dtype
    work = _BlockMap(
        estimator._make_family(), estimator._fitted_params(), fn, estimator.n_features_in_, dtype
    )
    if probe.ndim == 1:
        token = "emix-predict" if probe.dtype.kind in "iu" else "emix-score-samples"
        return X.map_blocks(
            work, drop_axis=1, dtype=probe.dtype, meta=np.empty((0,), probe.dtype), token=token
        )
    meta = np.empty((0, k), probe.dtype)
    return X.map_blocks(
        work, chunks=(X.chunks[0], (k,)), dtype=probe.dtype, meta=meta, token="emix-predict-proba"
    )
