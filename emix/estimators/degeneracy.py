"""The test every fit ends with: is a component degenerate?

The estimator core calls :func:`record_degeneracy` once after fitting. It
sets ``degenerate_`` (the components found degenerate by the engine: those
of an M-step EM refused, or those of the final parameters, see
:func:`emix.engine.degenerate_components`) and warns
:class:`~emix.exceptions.DegenerateComponentWarning` naming the estimator,
its model, K and the components.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..engine import EMResult, degenerate_components
from ..exceptions import DegenerateComponentWarning


def describe(estimator: Any) -> str:
    """``GaussianMixture(covariance_type='VEE', n_components=9)``: how warnings name a fit."""
    parts = []
    model = getattr(estimator, "covariance_type", None)
    if model is not None:
        parts.append(f"covariance_type={model!r}")
    parts.append(f"n_components={getattr(estimator, 'n_components', '?')}")
    return f"{type(estimator).__name__}({', '.join(parts)})"


def message(estimator: Any, components: tuple[int, ...], refused: bool) -> str:
    """The warning's text for ``components`` of ``estimator``."""
    which = ", ".join(str(k) for k in components)
    how = (
        "EM stopped before an M-step that made it empty or singular (mclust reports such a fit as NA)"
        if refused
        else "its covariance is singular by mclust's test (rcond <= sqrt(eps)) or it is empty"
    )
    reg = getattr(estimator, "reg_covar", None)
    first = "Set reg_covar > 0" if not reg else f"Raise reg_covar (now {reg:g})"
    return (
        f"{describe(estimator)}: component(s) {which} degenerate: {how}. {first}, use "
        "fewer components or another covariance model"
    )


def record_degeneracy(
    estimator: Any, result: EMResult, family: Any, total_weight: float, stacklevel: int = 3
) -> None:
    """Set ``estimator.degenerate_`` from the kept EM run, and warn when it is not empty.

    Parameters
    ----------
    estimator : MixtureEstimator
        Just fitted.
    result : EMResult
        The kept run.
    family : the fitted family
    total_weight : float
        Rows (sum of the sample weights) of the training data.
    stacklevel : int, default=3
        Of the warning (the default: the caller of the function that calls this one).
    """
    final = degenerate_components(family, result.params, total_weight)
    comps = tuple(sorted(set(result.degenerate) | set(final)))
    estimator.degenerate_ = np.asarray(comps, dtype=np.intp)
    if comps:
        refused = bool(set(result.degenerate) - set(final))
        warnings.warn(message(estimator, comps, refused), DegenerateComponentWarning, stacklevel=stacklevel)
