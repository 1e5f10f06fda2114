"""Turning user input into checked float arrays, with errors that say where."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .exceptions import InputTypeError, InvalidInputError, InvalidParameterError


def _is_missing(v: Any) -> bool:
    """Whether ``v`` is a missing value of pandas or pyarrow (``pd.NA``, ``None``), read as NaN."""
    return v is None or type(v).__name__ == "NAType"


def _first_bad_cell(values: np.ndarray) -> tuple[int, int, Any, str] | None:
    """Locate the first cell of an object/str array that is not a real number (missing values are).

    Returns
    -------
    (row, column, value, reason) or None
        ``reason`` is Python's own complaint about the value (e.g. ``float()
        argument must be a string or a real number, not 'dict'``).
    """
    for (i, j), v in np.ndenumerate(values):
        if _is_missing(v):
            continue
        try:
            f = complex(v) if not isinstance(v, (str, bytes)) else float(v)
        except (TypeError, ValueError):
            try:
                float(v)
            except (TypeError, ValueError) as exc:
                return i, j, v, str(exc)
            return i, j, v, "not a real number"  # pragma: no cover - complex() refused, float() took it
        if isinstance(f, complex) and f.imag != 0:
            return i, j, v, "a complex number"
    return None


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a sparse matrix or array (scipy.sparse, or pydata's ``sparse``),
    told by its type, without importing either."""
    module = type(X).__module__ or ""
    return module.startswith(("scipy.sparse", "sparse")) and hasattr(X, "nnz")


def _refuse_sparse(X: Any, name: str) -> None:
    if is_sparse(X):
        raise InputTypeError(
            f"{name} is a sparse {type(X).__name__}: sparse input is not supported (emix's "
            f"estimators need dense rows). Convert it with {name}.toarray() if it fits in memory, "
            "or reduce it first (e.g. TruncatedSVD)"
        )


def _refuse_dims(arr: np.ndarray, name: str) -> None:
    """Raise unless ``arr`` is 2-D, saying how to reshape 1-D data."""
    if arr.ndim == 1:
        raise InvalidInputError(
            f"{name} is 1-D with shape {arr.shape}; expected 2-D (n_samples, n_features). "
            f"Reshape your data: {name}.reshape(-1, 1) for a single feature or "
            f"{name}.reshape(1, -1) for a single sample"
        )
    if arr.ndim != 2:
        raise InvalidInputError(f"{name} has {arr.ndim} dimensions; expected 2 (n_samples, n_features)")


def _frame_values(X: Any, name: str) -> np.ndarray:
    """A DataFrame's values as float (float32 if every column is), ``pd.NA`` as NaN; text columns refused."""
    kinds = [(c, t) for c, t in zip(X.columns, X.dtypes) if getattr(t, "kind", "O") not in "biuf"]
    if kinds:
        col, typ = kinds[0]
        raise InputTypeError(f"{name}: column {col!r} has non-numeric dtype {typ}; encode or drop it")
    single = all(getattr(t, "numpy_dtype", t) == np.float32 for t in X.dtypes)
    # pd.NA (nullable and pyarrow-backed columns) becomes NaN: a missing value
    return X.to_numpy(dtype=np.float32 if single else np.float64, na_value=np.nan)


def check_array(
    X: Any,
    *,
    name: str = "X",
    dtype: Any = None,
    allow_nan: bool = False,
    min_samples: int = 1,
    ensure_finite: bool = True,
) -> np.ndarray:
    """Return ``X`` as a C-contiguous 2-D float array, or raise a clear error.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data. Lists, numpy arrays and pandas DataFrames are accepted;
        ``pd.NA`` and ``None`` are missing values (NaN); sparse matrices are
        refused (with the advice to call ``X.toarray()``).
    name : str
        Name used in error messages.
    dtype : numpy dtype or None
        Output dtype. ``None`` keeps float32 input as float32 and turns
        everything else into float64.
    allow_nan : bool
        If False, NaN is an error (inf always is).
    min_samples : int
        Minimum number of rows.
    ensure_finite : bool, default=True
        Check the values for NaN and inf (:func:`check_finite`). ``False``
        leaves that to the caller, who may make it part of one scan of the
        data with other checks (see :func:`all_finite`).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)

    Raises
    ------
    InputTypeError
        Sparse input; non-numeric or complex values (the first offending cell is named).
    InvalidInputError
        Wrong number of dimensions, too few rows, no columns, NaN or inf.
    """
    if X is None:
        raise InputTypeError(f"{name} is None; expected a 2-D array of numbers")
    if isinstance(X, (str, bytes)):
        raise InputTypeError(f"{name} is a string; expected a 2-D array of numbers")
    _refuse_sparse(X, name)
    if hasattr(X, "to_numpy") and hasattr(X, "columns"):  # pandas DataFrame
        X = _frame_values(X, name)
    try:
        arr = np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InvalidInputError(
            f"{name} could not be read as a 2-D array ({str(exc).splitlines()[0]}); give every row "
            "the same number of values"
        ) from None
    if arr.dtype.kind == "c":
        raise InputTypeError(
            f"{name} is complex ({arr.dtype}); emix fits real-valued data only (Complex data not "
            "supported): give the real and imaginary parts (or the modulus) as columns of their own"
        )
    _refuse_dims(arr, name)
    if arr.dtype.kind not in "biuf":
        bad = _first_bad_cell(arr)
        if bad is not None:
            i, j, v, why = bad
            v = v.item() if isinstance(v, np.generic) else v
            raise InputTypeError(
                f"{name} has a non-numeric value {v!r} at row {i}, column {j}; emix needs real "
                f"numbers ({why}): encode that column as numbers or drop it"
            )
        try:
            if arr.dtype.kind == "O":
                arr = np.where(np.vectorize(_is_missing, otypes=[bool])(arr), np.nan, arr)
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"{name} could not be converted to float: {exc}") from None
    if dtype is None:
        dtype = np.float32 if arr.dtype == np.float32 else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    n, d = arr.shape
    if n < min_samples:
        raise InvalidInputError(
            f"{name} has {n} sample(s) (shape={arr.shape}) while a minimum of {min_samples} is required"
        )
    if d == 0:
        raise InvalidInputError(
            f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required: "
            "at least one column is needed"
        )
    if ensure_finite:
        check_finite(arr, name=name, allow_nan=allow_nan)
    return arr


def all_finite(arr: np.ndarray) -> bool:
    """Whether every value of ``arr`` is finite, in one read of it and no temporary array.

    The sum of the values is finite exactly when no value is NaN or infinite, unless finite
    values overflow it; only then (a sum that is not finite) is every value tested.

    Parameters
    ----------
    arr : ndarray of float, any shape

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from emix._validation import all_finite
    >>> all_finite(np.ones((3, 2))), all_finite(np.array([[1.0, np.nan]]))
    (True, False)
    >>> all_finite(np.full((2, 2), 1e308))  # the sum overflows, the values are finite
    True
    """
    flat = arr.reshape(-1) if arr.flags.c_contiguous else np.ravel(arr, order="K")
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(flat)
    if np.isfinite(total):
        return True
    return bool(np.isfinite(arr).all())


def check_finite(arr: np.ndarray, *, name: str = "X", allow_nan: bool = False) -> None:
    """Raise :class:`InvalidInputError` naming the first NaN/inf cell of ``arr``."""
    if all_finite(arr):
        return
    bad = ~np.isfinite(arr)
    if allow_nan:
        bad &= ~np.isnan(arr)
        if not bad.any():
            return
    flat = np.flatnonzero(bad)[0]
    idx = np.unravel_index(flat, arr.shape)
    v = arr[idx]
    where = f"row {idx[0]}, column {idx[1]}" if arr.ndim == 2 else f"index {tuple(int(i) for i in idx)}"
    what = "NaN" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    count = int(bad.sum())
    hint = (
        " (missing values are not supported; drop or impute those rows)"
        if what == "NaN"
        else "; drop those rows or replace the values (infinite values cannot be fitted)"
    )
    raise InvalidInputError(f"{name} contains {what} at {where} ({count} non-finite value(s) in all){hint}")


def check_n_features(X: np.ndarray, n_features: int, *, name: str = "X", owner: str = "the model") -> None:
    """Raise if ``X`` does not have the number of features the model was fitted on.

    The message reads as scikit-learn's (``X has 1 features, but GaussianMixture
    is expecting 4 features as input``); ``owner`` names the estimator.
    """
    if X.shape[1] != n_features:
        raise InvalidInputError(feature_count_message(X.shape[1], n_features, name=name, owner=owner))


def feature_count_message(got: int, n_features: int, *, name: str = "X", owner: str = "the model") -> str:
    """The wrong-feature-count message, in scikit-learn's words (arrays and sources alike)."""
    return (
        f"{name} has {got} features, but {owner} is expecting {n_features} features "
        f"as input (it was fitted with {n_features} features)"
    )


def check_scalar(
    value: Any,
    name: str,
    kind: type | tuple[type, ...],
    *,
    min_val: float | None = None,
    max_val: float | None = None,
    include_min: bool = True,
) -> Any:
    """Check a scalar constructor argument's type and range."""
    ok_kind = isinstance(value, kind) and not isinstance(value, bool)
    if not ok_kind:
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InvalidParameterError(f"{name} must be {want}, got {value!r} ({type(value).__name__})")
    if isinstance(value, numbers.Real) and not np.isfinite(value):
        raise InvalidParameterError(f"{name} must be finite, got {value!r}")
    if min_val is not None:
        if (value < min_val) if include_min else (value <= min_val):
            op = ">=" if include_min else ">"
            raise InvalidParameterError(f"{name} must be {op} {min_val}, got {value!r}")
    if max_val is not None and value > max_val:
        raise InvalidParameterError(f"{name} must be <= {max_val}, got {value!r}")
    return value


def check_seed(seed: Any) -> None:
    """Raise :class:`InvalidParameterError` unless ``seed`` is ``None``, a non-negative int, a
    ``RandomState`` or a ``Generator`` (what :func:`check_random_state` takes); builds nothing."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise InvalidParameterError(f"random_state must be non-negative, got {seed}")
        return
    raise InvalidParameterError(
        f"random_state must be None, an int, a numpy RandomState or Generator, got {seed!r}"
    )


def check_random_state(seed: Any) -> np.random.Generator:
    """Turn ``None``, an int, a ``RandomState`` or a ``Generator`` into a ``Generator``."""
    check_seed(seed)
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    return np.random.default_rng(int(seed))


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: Any) -> np.ndarray | None:
    """Validate per-row weights: 1-D, finite, non-negative, not all zero."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise InputTypeError(f"sample_weight must be numeric, got dtype {w.dtype}")
    w = np.ascontiguousarray(w, dtype=dtype)
    if w.shape != (n_samples,):
        raise InvalidInputError(f"sample_weight has shape {w.shape}; expected ({n_samples},)")
    if not np.isfinite(w).all():
        i = int(np.flatnonzero(~np.isfinite(w))[0])
        what = "NaN" if np.isnan(w[i]) else ("inf" if w[i] > 0 else "-inf")
        raise InvalidInputError(
            f"sample_weight contains {what} at row {i}; weights must be finite numbers >= 0"
        )
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise InvalidInputError(f"sample_weight is negative at row {i} ({w[i]})")
    if not (w > 0).any():
        raise InvalidInputError("sample_weight is zero for every row")
    return w


def check_labels(y: Any, n_samples: int, n_components: int) -> np.ndarray | None:
    """Partial labels: ``-1`` (unknown) or a component index, one per row.

    Returns
    -------
    labels : ndarray of int64 of shape (n_samples,), or None
        ``None`` when ``y`` is ``None`` or no row is labelled.
    """
    if y is None:
        return None
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise InvalidInputError(f"y has shape {arr.shape}; expected ({n_samples},): one label per row")
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(f"y must hold integers (a component index or -1), got dtype {arr.dtype}")
    bad = ~np.isfinite(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind == "f":
        bad |= np.isfinite(arr) & (arr != np.round(arr))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"y has {arr[i].item()!r} at row {i}; labels are whole numbers (a component index or -1)"
        )
    labels = arr.astype(np.int64)
    out = (labels < -1) | (labels >= n_components)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise InvalidInputError(
            f"y has label {labels[i]} at row {i}; labels must be -1 (unknown) or 0..{n_components - 1} "
            f"(n_components={n_components})"
        )
    return labels if (labels >= 0).any() else None


def check_missing_rows(X: np.ndarray, name: str = "X") -> None:
    """Raise if a row of ``X`` (n, D) has no observed value at all (nothing to condition on)."""
    empty = np.isnan(X).all(axis=1)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InvalidInputError(
            f"{name} row {i} has no observed value (every column is NaN; "
            f"{int(empty.sum())} such row(s) in all); drop it"
        )


def check_init_array(
    value: Any, name: str, shape: tuple[int, ...], sklearn_name: str | None = None
) -> np.ndarray:
    """A user-given initial array (``weights_init``, ``means_init`` ...) as float64 of ``shape``, or raise.

    ``sklearn_name`` is what scikit-learn calls the array in its messages
    (``'means'``...); a wrong shape is then also described in its words.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise InvalidParameterError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.shape != shape:
        said = (
            ""
            if sklearn_name is None
            else f" (The parameter {sklearn_name!r} should have the shape of {shape}, but got {arr.shape})"
        )
        raise InvalidParameterError(f"{name} has shape {arr.shape}; expected {shape}{said}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise InvalidParameterError(f"{name} contains NaN or inf")
    return arr
