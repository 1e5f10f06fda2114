"""The families' optional hooks into the engine: their own weights step and an objective term.

Two hooks let a family change what EM maximises without a new driver (see
:mod:`emix.families.base` for the protocol):

``weights_step(nk, previous_weights) -> (K,) weights``
    The M-step of the mixing weights from the summed responsibilities. Without
    it the weights are ``nk / N``, floored at ``10 eps`` (maximum likelihood).
    Fixed equal weights, a Dirichlet prior (MAP) or a variational posterior
    write their own.
``log_prior(weights, components) -> float``
    A term of the objective that depends on the parameters alone, added to
    every pass's total, so that the history, the stopping rule and SQUAREM's
    acceptance all see the objective EM (or variational EM) really increases:
    ``log p(theta)`` for a MAP fit, ``-KL(q(theta) || p(theta))`` for a
    variational one. Without it the term is zero.

Families without the hooks get today's numbers, bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..families.base import Family

#: floor of a maximum-likelihood weight, so that an emptied component can still recover
WEIGHT_FLOOR = 10.0 * np.finfo(np.float64).eps


def ml_weights(nk: np.ndarray) -> np.ndarray:
    """Maximum-likelihood weights ``nk / N``, floored at :data:`WEIGHT_FLOOR` and renormalised.

    Parameters
    ----------
    nk : ndarray of shape (K,), float64

    Returns
    -------
    ndarray of shape (K,), float64, summing to one
    """
    weights = nk / nk.sum()
    if (weights < WEIGHT_FLOOR).any():
        weights = np.maximum(weights, WEIGHT_FLOOR)
        weights /= weights.sum()
    return weights


def weights_step(family: Family, nk: np.ndarray, previous_weights: np.ndarray | None) -> np.ndarray:
    """The weights' M-step: the family's ``weights_step`` if it has one, else :func:`ml_weights`.

    Parameters
    ----------
    family : Family
    nk : ndarray of shape (K,), float64
        Summed responsibilities (times the sample weights).
    previous_weights : ndarray of shape (K,) or None
        The weights the responsibilities were computed with (``None`` at the first M-step).

    Returns
    -------
    ndarray of shape (K,), float64
    """
    step = getattr(family, "weights_step", None)
    if step is None:
        return ml_weights(nk)
    return np.asarray(step(nk, previous_weights), dtype=np.float64)


def objective_term(family: Family, weights: np.ndarray, components: Any) -> float:
    """The family's ``log_prior(weights, components)``, or ``0.0`` without the hook.

    Parameters
    ----------
    family : Family
    weights : ndarray of shape (K,)
    components : the family's parameters

    Returns
    -------
    float
    """
    term = getattr(family, "log_prior", None)
    return 0.0 if term is None else float(term(weights, components))


def n_weight_parameters(family: Family, n_components: int) -> int:
    """Free parameters of the weights: the family's ``n_weight_parameters(K)``, else ``K - 1``."""
    count = getattr(family, "n_weight_parameters", None)
    return n_components - 1 if count is None else int(count(n_components))
