"""The EM driver: passes over the data, M-steps, convergence and history.

One iteration is one pass over the source accumulating the family's
sufficient statistics and the log-likelihood, followed by the M-step::

    stats, loglik = e_pass(source, family, params)   # E-step + statistics
    params = m_step(family, stats, params)           # small

No (n_samples, n_components) responsibility matrix is kept: memory beyond the
data is one chunk's worth of temporaries.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._linalg import normalize_log_rows
from .exceptions import DegenerateComponentWarning, EmixWarning, NumericalError
from .families.base import Family, Stats

logger = logging.getLogger("emix")


@dataclasses.dataclass(frozen=True)
class MixtureParams:
    """Mixing weights and the family's component parameters.

    Attributes
    ----------
    weights : ndarray of shape (K,)
    components : family-specific parameters (e.g. :class:`GaussianParams`)
    """

    weights: np.ndarray
    components: Any


@dataclasses.dataclass(frozen=True)
class PassResult:
    """What one pass over the data returns."""

    stats: Stats
    log_likelihood: float  # sum_n w_n log p(x_n | theta)


@dataclasses.dataclass(frozen=True)
class EMResult:
    """Outcome of one EM run from one starting point."""

    params: MixtureParams
    history: tuple[float, ...]  # total log-likelihood at the start of each iteration, then the final
    n_iter: int
    converged: bool

    @property
    def log_likelihood(self) -> float:
        """Total log-likelihood of the final parameters."""
        return self.history[-1]


def log_joint(family: Family, X: np.ndarray, params: MixtureParams) -> np.ndarray:
    """``log pi_k + log p(x_n | k)``, shape (n, K)."""
    out = family.log_prob(X, params.components)
    with np.errstate(divide="ignore"):
        out += np.log(params.weights).astype(out.dtype, copy=False)
    return out


def e_pass(source, family: Family, params: MixtureParams) -> PassResult:
    """One pass over ``source``: responsibilities, statistics and log-likelihood."""
    anchor = family.anchor(params.components)
    stats = None
    loglik = 0.0
    for X, w in source.chunks():
        resp, log_norm = normalize_log_rows(log_joint(family, X, params))
        if w is None:
            loglik += float(log_norm.sum(dtype=np.float64))
        else:
            loglik += float(w.astype(np.float64) @ log_norm)
            resp *= w[:, None]
        part = family.accumulate(X, resp, anchor)
        stats = part if stats is None else stats + part
    if not math.isfinite(loglik):
        raise NumericalError(
            "the log-likelihood is not finite: some rows have zero density under every "
            "component. Check the data for extreme values or increase reg_covar"
        )
    return PassResult(stats=stats, log_likelihood=loglik)


def stats_from_responsibilities(
    source, family: Family, resp_fn: Callable[[np.ndarray, int], np.ndarray], anchor: Any
) -> Stats:
    """Statistics of a pass whose responsibilities come from ``resp_fn(X_chunk, row_offset)``."""
    stats = None
    offset = 0
    for X, w in source.chunks():
        resp = resp_fn(X, offset)
        if w is not None:
            resp = resp * w[:, None]
        part = family.accumulate(X, resp, anchor)
        stats = part if stats is None else stats + part
        offset += X.shape[0]
    return stats


def m_step(family: Family, stats: Stats, previous: MixtureParams | None) -> MixtureParams:
    """Mixing weights from ``stats.nk`` and the family's own M-step.

    An emptied component keeps its place: its weight is floored at
    ``10 * eps`` (and the weights renormalised) so that it can still recover.
    """
    nk = np.asarray(stats.nk, dtype=np.float64)
    weights = nk / nk.sum()
    floor = 10.0 * np.finfo(np.float64).eps
    if (weights < floor).any():
        weights = np.maximum(weights, floor)
        weights /= weights.sum()
    components = family.m_step(stats, None if previous is None else previous.components)
    return MixtureParams(weights=weights, components=components)


def _m_step_noting_repairs(
    family: Family, stats: Stats, previous: MixtureParams
) -> tuple[MixtureParams, bool]:
    """Run the M-step; also say whether it repaired a component (emptied or singular).

    A repaired M-step is not an exact maximisation, so the likelihood may drop
    after it without anything being wrong; the monitor is told not to warn.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateComponentWarning)
        params = m_step(family, stats, previous)
    repaired = False
    for w in caught:
        if issubclass(w.category, DegenerateComponentWarning):
            repaired = True
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return params, repaired


class ConvergenceMonitor:
    """Keeps the log-likelihood history and decides when EM has converged.

    The rule is scikit-learn's: stop when the change of the *mean* per-sample
    log-likelihood between two iterations is below ``tol``. A decrease larger
    than rounding (``1e-9`` relative) is reported with a warning when the
    M-step is exact (``strict=True``).

    Parameters
    ----------
    tol : float
    total_weight : float
        Number of samples (or sum of the sample weights).
    strict : bool
        Warn on decreases (only meaningful when the M-step maximises exactly).
    """

    def __init__(self, tol: float, total_weight: float, *, strict: bool = True) -> None:
        self.tol = float(tol)
        self.total_weight = float(total_weight)
        self.strict = strict
        self.history: list[float] = []

    def record(self, loglik: float, *, repaired: bool = False) -> None:
        """Append ``loglik``; ``repaired`` says the M-step before it had to regularise."""
        if self.history and not repaired:
            prev = self.history[-1]
            drop = prev - loglik
            if drop > 1e-9 * max(abs(prev), 1.0):
                msg = (
                    f"log-likelihood decreased from {prev:.10g} to {loglik:.10g} at iteration "
                    f"{len(self.history)}"
                )
                if self.strict:
                    warnings.warn(msg, EmixWarning, stacklevel=3)
                else:
                    logger.debug(msg + " (reg_covar > 0 makes the M-step inexact)")
        self.history.append(float(loglik))

    @property
    def converged(self) -> bool:
        if len(self.history) < 2:
            return False
        change = (self.history[-1] - self.history[-2]) / self.total_weight
        return abs(change) < self.tol


def run_em(
    source,
    family: Family,
    params: MixtureParams,
    *,
    max_iter: int,
    tol: float,
    strict: bool = True,
    callback: Callable[[int, float, MixtureParams], None] | None = None,
) -> EMResult:
    """Iterate EM from ``params`` until convergence or ``max_iter`` iterations.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    family : Family
    params : MixtureParams
        Starting point.
    max_iter : int
        Maximum number of iterations (each one E-pass and one M-step).
    tol : float
        Convergence threshold on the change of the mean log-likelihood.
    callback : callable, optional
        Called as ``callback(iteration, loglik, params)`` after each M-step.

    Returns
    -------
    EMResult
        ``history`` has ``n_iter + 1`` entries: the log-likelihood at the start
        of every iteration and that of the final parameters.
    """
    monitor = ConvergenceMonitor(tol, source.total_weight, strict=strict)
    n_iter = 0
    converged = False
    repaired = False
    for it in range(1, max_iter + 1):
        res = e_pass(source, family, params)
        monitor.record(res.log_likelihood, repaired=repaired)
        params, repaired = _m_step_noting_repairs(family, res.stats, params)
        n_iter = it
        logger.info("iteration %d: log-likelihood %.10g", it, res.log_likelihood)
        if callback is not None:
            callback(it, res.log_likelihood, params)
        if monitor.converged:
            converged = True
            break
    final = e_pass(source, family, params)
    monitor.record(final.log_likelihood, repaired=repaired)
    return EMResult(params=params, history=tuple(monitor.history), n_iter=n_iter, converged=converged)


__all__ = [
    "MixtureParams",
    "PassResult",
    "EMResult",
    "ConvergenceMonitor",
    "e_pass",
    "m_step",
    "run_em",
    "stats_from_responsibilities",
    "log_joint",
]
