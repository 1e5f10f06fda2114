"""The EM driver: passes over the data, M-steps, convergence and history.

One iteration is one pass over the source accumulating the family's
sufficient statistics and the log-likelihood, followed by the M-step::

    stats, loglik = e_pass(source, family, params)   # E-step + statistics
    params = m_step(family, stats, params)           # small

No (n_samples, n_components) responsibility matrix is kept: memory beyond the
data is one chunk's worth of temporaries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._linalg import normalize_log_rows
from ..exceptions import DegenerateComponentWarning, EmixWarning, NumericalError
from ..families.base import Family, Stats
from ..sources import map_chunks
from .pool import ChunkPool

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
    accelerated: tuple[bool, ...] = ()  # per history entry: evaluated at an extrapolated point

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


def _generic_chunk(
    family: Family, X: np.ndarray, w, params: MixtureParams, anchor, y: np.ndarray | None = None
) -> tuple[Stats, float]:
    """log_prob + normalise + accumulate: the path every family supports.

    ``y`` (shape (n,), or ``None``) holds known components, ``-1`` where
    unknown: a labelled row's responsibilities are fixed to its label and it
    contributes ``log pi_y + log p(x | y)`` to the objective.
    """
    lj = log_joint(family, X, params)
    labelled = None if y is None else np.flatnonzero(y >= 0)
    if labelled is not None and labelled.size:
        known = lj[labelled, y[labelled]].copy()
    resp, log_norm = normalize_log_rows(lj)
    if labelled is not None and labelled.size:
        resp[labelled] = 0.0
        resp[labelled, y[labelled]] = 1.0
        log_norm[labelled] = known
    if w is None:
        loglik = float(log_norm.sum(dtype=np.float64))
    else:
        loglik = float(w.astype(np.float64) @ log_norm)
        resp *= w[:, None]
    return family.accumulate(X, resp, anchor), loglik


def e_pass(
    source,
    family: Family,
    params: MixtureParams,
    *,
    pool: ChunkPool | None = None,
    fused: bool = True,
    labels: np.ndarray | None = None,
) -> PassResult:
    """One pass over ``source``: responsibilities, statistics and log-likelihood.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    family : Family
    params : MixtureParams
    pool : ChunkPool, optional
        Threads to spread the chunks over; ``None`` runs on the calling thread.
        Chunk results are summed in chunk order whatever the number of threads.
        The chunks are reached through :func:`emix.sources.map_chunks`, so a
        distributed source runs them on its workers (and ignores ``pool``).
    fused : bool, default=True
        Use the family's optional ``e_step_accumulate(X, w, log_weights, params,
        anchor) -> (stats, loglik)`` when it has one (through its optional
        ``prepare_pass(log_weights, params, anchor) -> chunk_fn(X, w)``, which
        computes per-pass constants once, when it has that too); otherwise (or
        with ``False``) ``log_prob`` + normalisation + ``accumulate``.
    labels : ndarray of int of shape (n_samples,), optional
        Known components of some rows, ``-1`` for the others (semi-supervised
        EM): labelled rows keep their responsibilities fixed to their label.
    """
    anchor = family.anchor(params.components)
    fast = getattr(family, "e_step_accumulate", None) if fused and labels is None else None
    if labels is not None:

        def work(X, w, offset):
            return _generic_chunk(family, X, w, params, anchor, labels[offset : offset + X.shape[0]])

    elif fast is not None:
        with np.errstate(divide="ignore"):
            log_w = np.log(np.asarray(params.weights, dtype=np.float64))
        prepare = getattr(family, "prepare_pass", None)
        if prepare is not None:
            # per-pass constants computed once, not once per chunk
            run = prepare(log_w, params.components, anchor)

            def work(X, w, offset):
                return run(X, w)

        else:

            def work(X, w, offset):
                return fast(X, w, log_w, params.components, anchor)

    else:

        def work(X, w, offset):
            return _generic_chunk(family, X, w, params, anchor)

    # the chunks may be mapped over threads or, for a distributed source, over workers;
    # the values come back in chunk order and are summed here, in that order
    results = map_chunks(source, work, pool)
    stats = None
    loglik = 0.0
    for part, ll in results:
        loglik += ll
        stats = part if stats is None else stats + part
    if not math.isfinite(loglik):
        raise NumericalError(
            "the log-likelihood is not finite: some rows have zero density under every "
            "component. Check the data for extreme values or increase reg_covar"
        )
    return PassResult(stats=stats, log_likelihood=loglik)


def stats_from_responsibilities(
    source,
    family: Family,
    resp_fn: Callable[[np.ndarray, int], np.ndarray],
    anchor: Any,
    *,
    pool: ChunkPool | None = None,
    labels: np.ndarray | None = None,
) -> Stats:
    """Statistics of a pass whose responsibilities come from ``resp_fn(X_chunk, row_offset)``.

    Rows with a known component in ``labels`` (``>= 0``) take it instead.
    """

    def work(X, w, offset):
        resp = resp_fn(X, offset)
        if labels is not None:
            y = labels[offset : offset + X.shape[0]]
            known = np.flatnonzero(y >= 0)
            if known.size:
                resp = np.array(resp, dtype=resp.dtype, copy=True)
                resp[known] = 0.0
                resp[known, y[known]] = 1.0
        if w is not None:
            resp = resp * w[:, None]
        return family.accumulate(X, resp, anchor)

    parts = map_chunks(source, work, pool)
    stats = None
    for part in parts:
        stats = part if stats is None else stats + part
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
    A family with ``repair_count()`` (a per-thread count of its repairs, or
    ``None`` when it cannot tell) is asked directly; otherwise the M-step's
    :class:`DegenerateComponentWarning` are caught and re-issued, which costs
    more than the M-step of a small model.
    """
    counter = getattr(family, "repair_count", None)
    before = None if counter is None else counter()
    if before is not None:
        params = m_step(family, stats, previous)
        return params, counter() != before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateComponentWarning)
        params = m_step(family, stats, previous)
    repaired = False
    for w in caught:
        if issubclass(w.category, DegenerateComponentWarning):
            repaired = True
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return params, repaired


CONVERGENCE_RULES = ("aitken", "sklearn")


class ConvergenceMonitor:
    """Keeps the log-likelihood history and decides when EM has converged.

    Two rules, both on the *total* log-likelihood ``L_t`` of plain EM steps
    (an entry computed at an extrapolated point starts a new run of steps):

    ``"sklearn"``
        scikit-learn's: stop when ``|L_t - L_{t-1}| / N < tol`` (the change of
        the mean per-sample log-likelihood). Cheap, but it stops on a slow
        ridge, where EM creeps with a rate close to one.
    ``"aitken"`` (emix's default)
        EM converges linearly, ``L_inf - L_t ~ c rho^t``. From three
        consecutive values the rate ``rho = d_t / d_{t-1}`` (``d_t = L_t -
        L_{t-1}``) gives Aitken's estimate of the remaining gain
        ``d_t rho / (1 - rho)``. Stop when both the last change and the
        estimated remaining gain are at most ``rtol * max(|L_t|, N)``. On a
        slow ridge ``rho`` is close to one, the estimate is large, and EM goes
        on. A non-contracting step (``d_t >= d_{t-1} > 0``) never stops.

    ``tol=0`` (or ``rtol=0`` under ``"aitken"``) disables early stopping, so
    ``tol=0, max_iter=n`` runs exactly ``n`` iterations as in scikit-learn.
    A decrease larger than rounding (``1e-9`` relative) is reported with a
    warning when the M-step is exact (``strict=True``).

    Parameters
    ----------
    tol : float
        scikit-learn's threshold on the mean per-sample change.
    total_weight : float
        Number of samples (or sum of the sample weights) ``N``.
    strict : bool
        Warn on decreases (only meaningful when the M-step maximises exactly).
    rule : {"aitken", "sklearn"}
    rtol : float
        Relative tolerance of the ``"aitken"`` rule.
    eps : float
        Machine epsilon of the data's dtype; ``rtol`` is raised to ``16 * eps``
        (about ``2e-6`` for float32) so that rounding noise is not chased.
    """

    def __init__(
        self,
        tol: float,
        total_weight: float,
        *,
        strict: bool = True,
        rule: str = "sklearn",
        rtol: float = 1e-8,
        eps: float = 0.0,
    ) -> None:
        if rule not in CONVERGENCE_RULES:
            raise ValueError(f"convergence must be one of {list(CONVERGENCE_RULES)}, got {rule!r}")
        self.tol = float(tol)
        self.total_weight = float(total_weight)
        self.strict = strict
        self.rule = rule
        # the log-likelihood of float32 data is only known to a few eps: never ask for more
        self.rtol = max(float(rtol), 16.0 * float(eps)) if rtol > 0 else 0.0
        self.history: list[float] = []
        self.accelerated: list[bool] = []
        # length of the current run of plain EM steps ending at the last entry
        self._run = 0

    def record(
        self, loglik: float, *, plain: bool = True, accelerated: bool = False, repaired: bool = False
    ) -> None:
        """Append ``loglik``; ``plain`` means the entry is the EM image of the previous one,
        ``repaired`` that the M-step before it had to regularise (so a drop is no bug)."""
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
        self._run = self._run + 1 if (plain and self.history) else 1
        self.history.append(float(loglik))
        self.accelerated.append(bool(accelerated))

    def _run_needed(self) -> int:
        """Plain entries the ``"aitken"`` rule needs: three, or four when the run starts at
        an extrapolated point (the first step from it is not on EM's linear trajectory)."""
        return 3 + (1 if self._run and self.accelerated[-self._run] else 0)

    @property
    def settling(self) -> bool:
        """True when the ``"aitken"`` rule needs more plain steps to decide.

        The last entry is a plain step whose change is already within the
        threshold, but the run of plain steps is too short for the rule's rate
        estimate. An accelerated driver then takes a plain step instead of
        extrapolating; once the rule has seen its run and not stopped (a slow
        ridge), extrapolation resumes.
        """
        h = self.history
        if self.rule != "aitken" or self.tol == 0 or self.rtol == 0:
            return False
        if not 2 <= self._run < self._run_needed():
            return False
        return abs(h[-1] - h[-2]) <= self.rtol * max(abs(h[-1]), self.total_weight)

    @property
    def converged(self) -> bool:
        h = self.history
        if self.tol == 0 or self._run < 2:
            return False
        if self.rule == "sklearn":
            change = (h[-1] - h[-2]) / self.total_weight
            return abs(change) < self.tol
        if self.rtol == 0 or self._run < self._run_needed():
            return False
        thresh = self.rtol * max(abs(h[-1]), self.total_weight)
        d1 = h[-2] - h[-3]
        d2 = h[-1] - h[-2]
        if abs(d2) > thresh:
            return False
        if d2 <= 0.0:
            remaining = 0.0  # no progress at rounding level
        elif d1 > d2:
            remaining = d2 * d2 / (d1 - d2)  # d2 * rho / (1 - rho)
        elif d1 <= 0.0:
            remaining = d2  # previous step at rounding level
        else:
            return False  # not contracting: a slow ridge or an escape
        return remaining <= thresh


_STEP_MAX0 = 1.0  # Varadhan and Roland's step.max0: grows 4x each time a step is capped


def _mixture_vector(family: Family, p: MixtureParams) -> np.ndarray | None:
    """``p`` as SQUAREM's unconstrained vector (centred log-weights, then the family's), or None."""
    with np.errstate(divide="ignore"):
        lw = np.log(np.asarray(p.weights, dtype=np.float64))
    if not np.isfinite(lw).all():
        return None
    return np.concatenate([lw - lw.mean(), family.to_vector(p.components)])


def _extrapolate(family: Family, seq: list[MixtureParams], step_max: float, first: np.ndarray | None = None):
    """SQUAREM (Varadhan and Roland 2008, scheme S3) from ``t, F(t), F(F(t))``.

    The step length ``alpha = -|r| / |v|`` (``r = F(t) - t``, ``v = F(F(t)) -
    2 F(t) + t``) is clamped to ``[-step_max, -1]``; ``-1`` gives ``F(F(t))``
    itself, so no point is returned then (the caller grows ``step_max``).
    Works in an unconstrained parameterisation (log weights, means,
    log-Cholesky or log variances) so that the extrapolated point is always a
    valid mixture. ``first``, when given, is ``t``'s vector (``t`` is often the
    previous extrapolated point, whose vector is known).
    Returns ``(params, alpha, vector)`` or ``(None, alpha, None)`` when no step can be made.
    """
    vecs = []
    for i, p in enumerate(seq):
        vec = first if (i == 0 and first is not None) else _mixture_vector(family, p)
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


def _can_accelerate(family: Family) -> bool:
    return bool(getattr(family, "supports_acceleration", False)) and all(
        hasattr(family, m) for m in ("to_vector", "from_vector")
    )


def run_em(
    source,
    family: Family,
    params: MixtureParams,
    *,
    max_iter: int,
    tol: float,
    strict: bool = True,
    callback: Callable[[int, float, MixtureParams], None] | None = None,
    convergence: str = "sklearn",
    rtol: float = 1e-8,
    accelerate: bool = False,
    n_jobs: int | None = 1,
    pool: ChunkPool | None = None,
    labels: np.ndarray | None = None,
) -> EMResult:
    """Iterate EM from ``params`` until convergence or ``max_iter`` iterations.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    family : Family
    params : MixtureParams
        Starting point.
    max_iter : int
        Maximum number of passes over the data (each an E-step, normally
        followed by an M-step; a rejected extrapolation also costs one).
    tol : float
        scikit-learn's convergence threshold (see :class:`ConvergenceMonitor`).
    callback : callable, optional
        Called as ``callback(iteration, loglik, params)`` after each M-step.
    convergence : {"sklearn", "aitken"}, default="sklearn"
        Stopping rule (see :class:`ConvergenceMonitor`).
    rtol : float, default=1e-8
        Relative tolerance of the ``"aitken"`` rule.
    accelerate : bool, default=False
        SQUAREM acceleration for families with ``to_vector``/``from_vector``
        (others run plain EM). A cycle costs two passes: from ``t`` (its pass
        done) and ``F(t)`` (its pass done), ``F(F(t))`` comes from the M-step
        and the SQUAREM point from ``t, F(t), F(F(t))`` is evaluated by one
        pass; it is kept only if its log-likelihood is at least that of
        ``F(t)``, the last recorded entry, so the history never decreases.
        Otherwise EM continues plainly from ``F(F(t))``. The step-length cap
        starts at 1 and grows 4x whenever a step is capped (Varadhan and
        Roland's ``step.max0 = 1, mstep = 4``) and shrinks 4x on a rejection.
    n_jobs : int or None, default=1
        Threads for the passes (``None``: all cores). Ignored if ``pool`` is given.
    pool : ChunkPool, optional
        An open pool to reuse.
    labels : ndarray of int of shape (n_samples,), optional
        Partial labels (see :func:`e_pass`); the history is then that of the
        semi-supervised objective ``sum_unlabelled log p(x) + sum_labelled
        log pi_y p(x | y)``, which EM never lowers either.

    Returns
    -------
    EMResult
        ``history`` has the log-likelihood at the start of every iteration and
        that of the final parameters; ``accelerated`` flags the entries
        computed at extrapolated points. Without acceleration
        ``len(history) == n_iter + 1``.
    """
    dt = np.dtype(getattr(source, "dtype", np.float64))
    eps = float(np.finfo(dt).eps) if np.issubdtype(dt, np.floating) else 0.0
    monitor = ConvergenceMonitor(
        tol, source.total_weight, strict=strict, rule=convergence, rtol=rtol, eps=eps
    )
    accelerate = accelerate and _can_accelerate(family)
    passes = 0
    converged = False
    step_max = _STEP_MAX0
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(ChunkPool(n_jobs))
        res: PassResult | None = None
        plain = False  # params is the EM image of the last recorded entry
        extrapolated = False
        repaired = False  # the last M-step had to regularise a component
        seq: list[MixtureParams] = []  # consecutive plain EM iterates
        known = None  # (the last accepted extrapolated point, its SQUAREM vector)
        while True:
            if res is None:
                if passes >= max_iter:
                    break
                res = e_pass(source, family, params, pool=pool, labels=labels)
                passes += 1
            monitor.record(res.log_likelihood, plain=plain, accelerated=extrapolated, repaired=repaired)
            seq = [*seq, params] if plain else [params]
            new, repaired = _m_step_noting_repairs(family, res.stats, params)
            logger.info("iteration %d: log-likelihood %.10g", passes, res.log_likelihood)
            if callback is not None:
                callback(passes, res.log_likelihood, new)
            if monitor.converged:
                converged = True
                params = new
                break
            # SQUAREM cycle of two passes: from t (E-step done) and F(t) (E-step just done),
            # F(F(t)) = ``new`` is known without a pass; the extrapolated point costs one pass and
            # is kept if it is not below F(t), the last recorded entry. Near convergence plain
            # steps run, so that the stopping rule sees a run of plain steps.
            if accelerate and len(seq) >= 2 and passes < max_iter and not monitor.settling:
                first = known[1] if known is not None and known[0] is seq[-2] else None
                trial, alpha, tvec = _extrapolate(family, [seq[-2], seq[-1], new], step_max, first)
                if trial is None and alpha != 0.0 and alpha <= -step_max:
                    step_max *= 4.0  # the step was capped at the plain step: allow longer ones
                if trial is not None:
                    try:
                        tres = e_pass(source, family, trial, pool=pool, labels=labels)
                    except (NumericalError, FloatingPointError):
                        tres = None
                    passes += 1
                    if tres is not None and tres.log_likelihood >= res.log_likelihood:
                        if alpha <= -step_max:
                            step_max *= 4.0
                        params, res, plain, extrapolated, seq = trial, tres, False, True, []
                        # its vector is exact only when the parameters are not rounded to float32
                        known = (trial, tvec) if dt == np.float64 else None
                        repaired = False
                        continue
                    step_max = max(_STEP_MAX0, step_max / 4.0)
                    logger.debug("extrapolation (alpha=%.3g) rejected", alpha)
                    seq = []
            params, res, plain, extrapolated = new, None, True, False
        final = e_pass(source, family, params, pool=pool, labels=labels)
    monitor.record(final.log_likelihood, plain=True, repaired=repaired)
    return EMResult(
        params=params,
        history=tuple(monitor.history),
        n_iter=passes,
        converged=converged,
        accelerated=tuple(monitor.accelerated),
    )


__all__ = [
    "MixtureParams",
    "PassResult",
    "EMResult",
    "ConvergenceMonitor",
    "CONVERGENCE_RULES",
    "e_pass",
    "m_step",
    "run_em",
    "stats_from_responsibilities",
    "log_joint",
]
