"""SQUAREM acceleration (Varadhan and Roland 2008, scheme S3) of a mixture's EM map.

A mixture is flattened to an unconstrained vector (centred log-weights, then
the family's ``to_vector``), extrapolated from three consecutive EM iterates,
and mapped back, so the extrapolated point is always a valid mixture. The
driver (:mod:`emix.engine.driver`) decides when to try a step and keeps it
only if it does not lower the log-likelihood.
"""

from __future__ import annotations

import math

import numpy as np

from ..families.base import Family
from .results import MixtureParams

#: Varadhan and Roland's ``step.max0``: the first cap on the step length; the
#: driver grows it 4x each time a step is capped and shrinks it 4x on a rejection.
STEP_MAX0 = 1.0


def can_accelerate(family: Family) -> bool:
    """Whether ``family`` says it supports acceleration and has ``to_vector`` and ``from_vector``."""
    return bool(getattr(family, "supports_acceleration", False)) and all(
        hasattr(family, m) for m in ("to_vector", "from_vector")
    )


def mixture_vector(family: Family, p: MixtureParams) -> np.ndarray | None:
    """``p`` as SQUAREM's unconstrained vector.

    Parameters
    ----------
    family : Family
    p : MixtureParams

    Returns
    -------
    ndarray of shape (K + P,), float64, or None
        The centred log-weights, then the family's vector of ``P`` values;
        ``None`` when a weight is zero.
    """
    with np.errstate(divide="ignore"):
        lw = np.log(np.asarray(p.weights, dtype=np.float64))
    if not np.isfinite(lw).all():
        return None
    return np.concatenate([lw - lw.mean(), family.to_vector(p.components)])


def extrapolate(family: Family, seq: list[MixtureParams], step_max: float, first: np.ndarray | None = None):
    """SQUAREM (Varadhan and Roland 2008, scheme S3) from ``t, F(t), F(F(t))``.

    The step length ``alpha = -|r| / |v|`` (``r = F(t) - t``, ``v = F(F(t)) -
    2 F(t) + t``) is clamped to ``[-step_max, -1]``; ``-1`` gives ``F(F(t))``
    itself, so no point is returned then (the caller grows ``step_max``).
    Works in an unconstrained parameterisation (log weights, means,
    log-Cholesky or log variances) so that the extrapolated point is always a
    valid mixture.

    Parameters
    ----------
    family : Family
        With ``to_vector`` and ``from_vector`` (see :func:`can_accelerate`).
    seq : list of 3 MixtureParams
        ``t, F(t), F(F(t))``.
    step_max : float
        The cap on ``|alpha|``.
    first : ndarray of shape (K + P,), optional
        ``t``'s vector, when known (``t`` is often the previous extrapolated
        point, whose vector is known).

    Returns
    -------
    (MixtureParams or None, float, ndarray of shape (K + P,) or None)
        ``(params, alpha, vector)``, or ``(None, alpha, None)`` when no step
        can be made (``alpha`` is then ``0.0`` when it could not be computed).
    """
    vecs = []
    for i, p in enumerate(seq):
        vec = first if (i == 0 and first is not None) else mixture_vector(family, p)
        if vec is None:
            return None, 0.0, None
        vecs.append(vec)
    t0, t1, t2 = vecs
    r = t1 - t0
    v = t2 - 2.0 * t1 + t0
    rr, vv = float(r @ r), float(v @ v)
    if not (vv > 0.0 and rr > 0.0 and math.isfinite(rr) and math.isfinite(vv)):
        return None, 0.0, None
    alpha = -math.sqrt(rr / vv)
    alpha = max(min(alpha, -1.0), -step_max)
    if alpha == -1.0:
        return None, alpha, None
    t = t0 - 2.0 * alpha * r + alpha * alpha * v
    k = len(seq[0].weights)
    lw = t[:k]
    with np.errstate(over="ignore", under="ignore"):
        w = np.exp(lw - lw.max())
    w /= w.sum()
    if not np.isfinite(t).all() or not np.isfinite(w).all() or (w <= 0).any():
        return None, alpha, None
    try:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            comps = family.from_vector(t[k:], seq[-1].components)
    except (np.linalg.LinAlgError, ValueError, ArithmeticError):
        return None, alpha, None
    return MixtureParams(weights=w, components=comps), alpha, t
