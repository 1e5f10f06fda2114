"""Checking the constructor arguments every estimator shares, at ``fit`` (never in ``__init__``).

Each check raises :class:`~emix.exceptions.InvalidParameterError` naming the
argument, what it must be and what it is; the family-specific arguments are
checked when the estimator builds its family (``_base_family``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_scalar, check_seed
from ..engine import CONVERGENCE_RULES
from ..exceptions import InvalidParameterError
from ..init import start_plan

_REAL = (float, int, np.floating, np.integer)
_INT = (int, np.integer)


def check_common_params(est: Any) -> None:
    """Check the arguments of :class:`~emix.estimators.core.MixtureEstimator` that every
    estimator has (``n_components``, ``tol``, ``max_iter`` ... ``n_jobs``)."""
    check_scalar(est.n_components, "n_components", _INT, min_val=1)
    check_scalar(est.tol, "tol", _REAL, min_val=0)
    check_scalar(est.max_iter, "max_iter", _INT, min_val=0)
    check_scalar(est.n_init, "n_init", _INT, min_val=1)
    check_scalar(est.verbose, "verbose", _INT, min_val=0)
    check_scalar(est.verbose_interval, "verbose_interval", _INT, min_val=1)
    _check_bool(est.warm_start, "warm_start")
    start_plan(est.init_params)  # one initialiser's name, or a tuple of them
    if est.chunk_size is not None:
        check_scalar(est.chunk_size, "chunk_size", _INT, min_val=1)
    if est.convergence not in CONVERGENCE_RULES:
        raise InvalidParameterError(
            f"convergence must be one of {list(CONVERGENCE_RULES)}, got {est.convergence!r}"
        )
    check_scalar(est.rtol, "rtol", _REAL, min_val=0)
    _check_bool(est.accelerate, "accelerate")
    if est.n_jobs is not None:
        check_scalar(est.n_jobs, "n_jobs", _INT, min_val=-1)
        if est.n_jobs == 0:
            raise InvalidParameterError("n_jobs must be a positive int, -1 or None, got 0")
    check_seed(est.random_state)  # its type: the fit builds the generator


def _check_bool(value: Any, name: str) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be a bool, got {value!r}")
