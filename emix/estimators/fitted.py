"""The fitted state of an estimator: set from an EM result, checked and completed when read
from a model file.

The fitted attributes common to every estimator are set here; the family's own
(``means_``, ``rates_`` ...) are set by the estimator core from
``family.to_arrays``. ``weights_`` follows the family's arrays (float32 data
give a Gaussian mixture float32 ``weights_``, as in scikit-learn); the float64
weights EM computed are kept beside them, so that a warm start continues exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import EMResult
from ..exceptions import InvalidParameterError

#: fitted arrays in every model file, before the family's
SAVED_ARRAYS = ("weights_", "history_", "accelerated_", "lower_bounds_")
#: of those, the ones files written by earlier versions may lack (derived on reading)
OPTIONAL_ARRAYS = ("lower_bounds_",)
#: fitted scalars in every model file
SAVED_SCALARS = ("converged_", "n_iter_", "lower_bound_", "log_likelihood_", "n_features_in_", "init_used_")


def fitted_dtype(arrays: dict[str, Any]) -> type:
    """The dtype of ``weights_`` beside the family's fitted ``arrays``: float32 when they all
    are (a family that computes in the data's dtype, fitted on float32 data), else float64."""
    kinds = {np.asarray(a).dtype for a in arrays.values() if np.asarray(a).dtype.kind == "f"}
    return np.float32 if kinds == {np.dtype(np.float32)} else np.float64


def set_fitted(estimator: Any, result: EMResult, source: Any, dtype: Any) -> None:
    """Set the common fitted attributes of ``estimator`` from ``result`` (fitted on ``source``);
    ``weights_`` in ``dtype`` (see :func:`fitted_dtype`).

    ``lower_bounds_`` (n_entries - 1,) is scikit-learn's: the mean
    log-likelihood at the start of every iteration of the kept fit;
    ``lower_bound_`` is emix's, that of the final parameters.
    """
    params = result.params
    set_weights(estimator, params.weights, dtype)
    history = np.asarray(result.history, dtype=np.float64)
    total = float(source.total_weight)
    estimator.converged_ = bool(result.converged)
    estimator.n_iter_ = int(result.n_iter)
    estimator.history_ = history
    acc = result.accelerated or (False,) * len(result.history)
    estimator.accelerated_ = np.asarray(acc, dtype=bool)
    estimator.log_likelihood_ = float(result.log_likelihood)
    estimator.lower_bound_ = float(result.log_likelihood / total)
    estimator.lower_bounds_ = history[:-1] / total
    estimator.n_features_in_ = int(source.n_features)
    estimator._convergence_run = result.run


def warm_run(estimator: Any) -> tuple:
    """What a warm start passes to the stopping rule: the previous fit's last run of plain
    entries (from its history when it was read from a file)."""
    run = getattr(estimator, "_convergence_run", None)
    return run if run is not None and len(run[0]) else (estimator.history_, estimator.accelerated_)


def extra_weight_names(family: Any) -> tuple[str, ...]:
    """Fitted scalars a family shows beside ``weights_`` (``("noise_weight_",)`` with a noise
    component): the names its optional ``split_weights`` gives, with a trailing underscore."""
    split = getattr(family, "split_weights", None)
    return () if split is None else tuple(n + "_" for n in split(np.ones(2))[1])


def set_weights(estimator: Any, weights: np.ndarray, dtype: Any) -> None:
    """``weights_`` in ``dtype``, with the float64 values EM holds kept beside them.

    A family with ``split_weights(weights) -> (weights_, {name: value})`` (a
    noise component) shows the engine's weights as ``weights_`` and named
    scalars (``noise_weight_``); ``join_weights`` puts them back together.
    """
    exact = np.asarray(weights, dtype=np.float64)
    split = getattr(estimator._base_family(), "split_weights", None)
    shown = exact
    if split is not None:
        shown, extra = split(exact)
        for name, value in extra.items():
            setattr(estimator, name + "_", float(value))
    estimator.weights_ = shown.astype(dtype)
    estimator._weights_cache = (estimator.weights_.copy(), exact)


def exact_weights(estimator: Any) -> np.ndarray:
    """The float64 mixing weights behind ``weights_`` (its own values if it was replaced), with the
    named scalars beside them put back (``join_weights``) for a family that shows some."""
    shown = np.asarray(estimator.weights_)
    cached = getattr(estimator, "_weights_cache", None)
    family = estimator._base_family()
    split = getattr(family, "split_weights", None)
    extra = {} if split is None else {n: getattr(estimator, n + "_") for n in split(np.ones(2))[1]}
    if cached is not None and cached[0].dtype == shown.dtype and np.array_equal(cached[0], shown):
        if split is None or split(cached[1])[1] == extra:
            return cached[1]
    exact = shown.astype(np.float64)
    return exact if split is None else family.join_weights(exact, extra)


def restore(estimator: Any) -> None:
    """Check the common fitted values read from a file and derive what older files lack.

    Raises
    ------
    InvalidParameterError
        A value is malformed or inconsistent with the others.
    """
    k = estimator.n_components
    w = np.asarray(estimator.weights_)
    extra = [getattr(estimator, n) for n in extra_weight_names(estimator._base_family())]
    if not all(isinstance(v, (int, float)) and np.isfinite(v) and 0 <= v <= 1 for v in extra):
        raise InvalidParameterError(f"the weights beside weights_ must be numbers in [0, 1], got {extra!r}")
    total = w.sum() + sum(extra)
    if w.shape != (k,) or not np.isfinite(w).all() or (w < 0).any() or abs(total - 1) > 1e-6:
        raise InvalidParameterError(f"weights_ must be {k} non-negative numbers summing to 1, got {w!r}")
    d = estimator.n_features_in_
    if not isinstance(d, int) or d < 1:
        raise InvalidParameterError(f"n_features_in_ is {d!r}")
    h, acc = np.asarray(estimator.history_), np.asarray(estimator.accelerated_)
    if h.ndim != 1 or acc.shape != h.shape or acc.dtype != bool or not np.isfinite(h).all():
        raise InvalidParameterError("history_ and accelerated_ must be finite and of the same length")
    if not isinstance(estimator.init_used_, str):
        raise InvalidParameterError(f"init_used_ is {estimator.init_used_!r}")
    if getattr(estimator, "lower_bounds_", None) is None:  # a file from before lower_bounds_
        total = estimator.log_likelihood_ / estimator.lower_bound_ if estimator.lower_bound_ else np.nan
        estimator.lower_bounds_ = h[:-1] / total
    lb = np.asarray(estimator.lower_bounds_)
    if lb.shape != (max(len(h) - 1, 0),):
        raise InvalidParameterError(f"lower_bounds_ has shape {lb.shape}; history_ has {len(h)} entries")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and (names.shape != (d,) or not all(isinstance(n, str) for n in names)):
        raise InvalidParameterError(f"feature_names_in_ must be {d} strings, got {list(names)!r}")
    exact = w.astype(np.float64)
    family = estimator._base_family()
    if extra:
        exact = family.join_weights(
            exact, {n[:-1]: getattr(estimator, n) for n in extra_weight_names(family)}
        )
    set_weights(estimator, exact, w.dtype)
