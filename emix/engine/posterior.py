"""Log-densities, responsibilities and labels of new rows, defined wherever the arithmetic allows.

The fast path is :func:`~.passes.log_joint` and a log-sum-exp. A row whose
log-joint has no finite entry (every component's density overflowed to
``-inf``, or a NaN from ``inf - inf``) is found by one cheap test on the row
maxima and only that row is recomputed, by the family's optional hook

    family.far_log_joint(X_rows, components, log_weights) -> (base (m,), rel (m, K))

which returns the log-joint as ``base + rel`` with ``rel`` finite for the
nearest component (the Gaussian family scales before squaring; see
:mod:`emix.families.gaussian.far`). Then the responsibilities are those of
``rel`` (a one-hot row for a point far from everything, never ``0 / 0``), and
the log-density is ``base + logsumexp(rel)``: finite unless it is below the
float range (``-inf`` is then the nearest float).

A row that the family cannot place (no hook, or every component gives it
probability zero: a Bernoulli row impossible under every component when
``alpha=0``) has log-density ``-inf`` (its true value) and no responsibilities:
asking for them raises an error naming the row (counted from 0 within the
array; sources relocate it).
"""

from __future__ import annotations

import numpy as np

from .._linalg import logsumexp_rows
from ..exceptions import InvalidInputError, NumericalError
from ..families.base import Family
from .passes import log_joint
from .results import MixtureParams

#: A row whose largest log-joint is below this has lost every digit that tells its components apart
#: (the spacing of floats there exceeds 1 nat): the family's hook recomputes it, where it has one.
_IMPRECISE = -(2.0**52)


def _careful(family: Family, X: np.ndarray, params: MixtureParams, top: np.ndarray):
    """The rows to recompute and their log-joint as ``(rows, base, rel)``, where the family can.

    ``top`` (n,) is each row's largest log-joint (or anything that is ``-inf`` or
    NaN exactly where it is, and below :data:`_IMPRECISE` where it is). The rows
    are those with no finite entry (all ``-inf``, or a NaN) and, when the family
    has the hook, those below :data:`_IMPRECISE`. ``rel`` has a finite entry in
    every row it returns; rows the hook cannot place keep their ordinary log-joint.
    """
    hook = getattr(family, "far_log_joint", None)
    rows = np.flatnonzero(~(top > (-np.inf if hook is None else _IMPRECISE)))
    if hook is None or not rows.size:
        return rows[:0], None, None
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(params.weights, dtype=np.float64))
    base, rel = hook(X[rows], params.components, log_w)
    placed = rel.max(axis=1) > -np.inf
    return rows[placed], base[placed], rel[placed]


def _refuse(lj: np.ndarray, candidates: np.ndarray) -> None:
    """The error for the first of the rows ``candidates`` of ``lj`` with no finite entry, if any."""
    bad = candidates[~(lj[candidates].max(axis=1) > -np.inf)] if candidates.size else candidates
    if not bad.size:
        return
    row = int(bad[0])
    if np.isnan(lj[row]).any():
        raise NumericalError(
            f"X row {row}: its log-density is NaN under the model (an overflow in the family's "
            "arithmetic), so its responsibilities cannot be computed: standardise the features and refit"
        )
    raise InvalidInputError(
        f"X row {row} has probability zero under every component of the model (log-density -inf, "
        f"{bad.size} such row(s) in this chunk), so its responsibilities are 0/0: drop the row, or refit "
        "with a pseudo-count (alpha > 0 for the Bernoulli and categorical families) so that no value "
        "is impossible"
    )


def _patch(lj: np.ndarray, rows: np.ndarray, rel: np.ndarray) -> None:
    """Write the recomputed rows into ``lj``, in place (a float32 model: a gap beyond its range is -inf)."""
    with np.errstate(over="ignore"):
        lj[rows] = rel


def log_density(family: Family, X: np.ndarray, params: MixtureParams) -> np.ndarray:
    """``log p(x_n)`` of every row, shape (n,): ``-inf`` only below the float range or for an impossible row.

    Parameters
    ----------
    family : Family
    X : ndarray of shape (n, D)
    params : MixtureParams

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    NumericalError
        A row whose log-density is NaN (it names the row).
    """
    lj = log_joint(family, X, params)
    out = logsumexp_rows(lj)  # -inf or NaN exactly where the row maximum is, below _IMPRECISE with it
    rows, base, rel = _careful(family, X, params, out)
    if rows.size:
        out[rows] = base + logsumexp_rows(rel)
    nan = np.flatnonzero(np.isnan(out))
    if nan.size:
        _refuse(lj, nan)
    return out


def responsibilities(family: Family, X: np.ndarray, params: MixtureParams) -> np.ndarray:
    """``p(k | x_n)``, shape (n, K); every row sums to one.

    Parameters
    ----------
    family : Family
    X : ndarray of shape (n, D)
    params : MixtureParams

    Returns
    -------
    ndarray of shape (n, K)

    Raises
    ------
    InvalidInputError
        A row impossible under every component (it names the row).
    NumericalError
        A row whose log-density is NaN.
    """
    lj = log_joint(family, X, params)
    top = lj.max(axis=1)
    rows, _, rel = _careful(family, X, params, top)
    if rows.size:
        _patch(lj, rows, rel)
        top[rows] = rel.max(axis=1)
    bad = np.flatnonzero(~(top > -np.inf))
    if bad.size:
        _refuse(lj, bad)
    # exp(lj - max) / sum rather than exp(lj - log p(x)): where the row maximum is huge and negative
    # (a row 1e150 away) log p(x) = max + log(sum) rounds to max, and the rows would not sum to one
    lj -= top[:, None]
    with np.errstate(under="ignore"):
        np.exp(lj, out=lj)
    lj /= lj.sum(axis=1, keepdims=True)
    return lj


def labels(family: Family, X: np.ndarray, params: MixtureParams) -> np.ndarray:
    """The most probable component of every row, shape (n,).

    Parameters
    ----------
    family : Family
    X : ndarray of shape (n, D)
    params : MixtureParams

    Returns
    -------
    ndarray of int of shape (n,)

    Raises
    ------
    InvalidInputError, NumericalError
        As :func:`responsibilities`.
    """
    lj = log_joint(family, X, params)
    best = lj.argmax(axis=1)  # a NaN, where there is one, is the argmax
    top = lj[np.arange(lj.shape[0]), best]
    rows, _, rel = _careful(family, X, params, top)
    if rows.size:
        _patch(lj, rows, rel)
        best[rows] = lj[rows].argmax(axis=1)
        top[rows] = lj[rows, best[rows]]
    bad = np.flatnonzero(~(top > -np.inf))
    if bad.size:
        _refuse(lj, bad)
    return best
