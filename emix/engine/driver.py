"""The EM driver: :func:`run_em` iterates passes and M-steps from one starting point.

Each iteration records the pass's log-likelihood (:class:`ConvergenceMonitor`),
makes the M-step and asks the stopping rule; with acceleration, a SQUAREM
cycle (:mod:`emix.engine.squarem`) may then replace the plain step. The state
between passes is kept by :class:`_Run`, whose methods are the named steps.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import numpy as np

from ..exceptions import NumericalError
from ..families import repairs
from ..families.base import Family
from .attempts import compiled_run as _compiled_run
from .attempts import kept_if_converged as _kept_if_converged
from .convergence import ConvergenceMonitor
from .passes import (
    GROUP_ROWS,
    degenerate_components,
    e_pass,
    m_step_noting_repairs,
    single_chunk,
    whole_pass,
)
from .pool import ChunkPool
from .results import EMResult, MixtureParams, PassResult
from .squarem import STEP_MAX0, can_accelerate, extrapolate

logger = logging.getLogger("emix")

# A decrease warning points at run_em's caller, as when run_em recorded the entries itself:
# ConvergenceMonitor.record <- _Run.record_and_m_step <- _Run.iterate <- run_em <- its caller,
# and ConvergenceMonitor.record <- _Run.result <- run_em <- its caller.
_CALLER_FROM_LOOP = 5
_CALLER_FROM_RESULT = 4


@contextlib.contextmanager
def _open_pool(pool: ChunkPool | None, n_jobs: int | None):
    """``pool`` itself, or a new :class:`ChunkPool` of ``n_jobs`` threads, closed on exit."""
    if pool is not None:
        yield pool
    else:
        with ChunkPool(n_jobs) as new:
            yield new


class _Run:
    """The state of one :func:`run_em` call between passes.

    Attributes
    ----------
    params : MixtureParams
        The current point.
    res : PassResult or None
        Its pass, once made.
    plain : bool
        ``params`` is the EM image of the last recorded entry.
    extrapolated : bool
        ``params`` is an accepted SQUAREM point.
    repaired : bool
        The last M-step had to regularise a component.
    seq : list of MixtureParams
        Consecutive plain EM iterates, the last recorded one last.
    known : (MixtureParams, ndarray) or None
        The last accepted extrapolated point and its SQUAREM vector.
    passes : int
        Passes made so far (a rejected extrapolation counts).
    step_max : float
        SQUAREM's current cap on the step length.
    singular : tuple of int
        Components of the M-step that EM refused (see ``stop_degenerate``).
    """

    def __init__(
        self,
        source,
        family: Family,
        params: MixtureParams,
        monitor: ConvergenceMonitor,
        *,
        max_iter: int,
        callback: Callable[[int, float, MixtureParams], None] | None,
        pool: ChunkPool,
        labels: np.ndarray | None,
        exact_vectors: bool,
        stop_degenerate: bool = False,
    ) -> None:
        self.source, self.family, self.monitor = source, family, monitor
        self.max_iter, self.callback, self.pool, self.labels = max_iter, callback, pool, labels
        self.exact_vectors = exact_vectors  # parameters not rounded to float32: a vector stays exact
        self.params = params
        self.res: PassResult | None = None
        self.plain = False
        self.extrapolated = False
        self.repaired = False
        self.seq: list[MixtureParams] = []
        self.known: tuple[MixtureParams, np.ndarray] | None = None
        self.passes = 0
        self.step_max = STEP_MAX0
        self.accelerating = False  # whether SQUAREM runs (kept in a checkpoint: see run_em)
        self.origin = params  # where this run started (kept in a checkpoint: see run_em)
        self.checkpoint = None  # issue 13: a hook with save(run), see emix.engine.checkpoint
        self.stop_degenerate = stop_degenerate
        self.singular: tuple[int, ...] = ()
        self.last: tuple[MixtureParams, PassResult] | None = None  # the last recorded point
        self.reverted = False
        # data in memory in one chunk: each pass is one call of the family's fused kernel
        self.whole = None if labels is not None else single_chunk(source, family)
        if self.whole is not None and self.whole[0].shape[0] > GROUP_ROWS:
            self.whole = None  # e_pass's grouped pass: the same sums whatever the threads and chunks

    def evaluate(self, params: MixtureParams, statistics: bool = True) -> PassResult:
        """One pass over the data at ``params`` (the caller counts it); ``statistics=False``: the
        final pass, whose log-likelihood alone is used (its ``stats`` may be ``None``)."""
        if not statistics and self.labels is None:
            return e_pass(self.source, self.family, params, pool=self.pool, statistics=False)
        if self.whole is not None:
            return whole_pass(self.family, params, *self.whole)
        return e_pass(self.source, self.family, params, pool=self.pool, labels=self.labels)

    def iterate(self, accelerate: bool) -> bool:
        """Iterate until the rule stops EM or ``max_iter`` passes are made.

        Returns
        -------
        bool
            Whether the rule stopped EM; ``self.params`` is the final point
            either way (its pass not made).
        """
        while True:
            if self.res is None:
                if self.passes >= self.max_iter:
                    return False
                if self.checkpoint is not None:  # issue 13: an iteration boundary, nothing of this pass known
                    self.checkpoint.save(self)
                self.res = self.evaluate(self.params)
                self.passes += 1
                if self.stop_degenerate and self.lowered():
                    return True
            new = self.record_and_m_step()
            if self.stop_degenerate and self.refuse(new):
                return False
            if self.monitor.converged:
                self.params = new
                return True
            # near convergence plain steps run, so that the stopping rule sees a run of plain steps
            cycle = accelerate and len(self.seq) >= 2 and self.passes < self.max_iter
            if cycle and not self.monitor.settling and self.squarem_cycle(new):
                continue
            self.plain_step(new)

    def record_and_m_step(self) -> MixtureParams:
        """The bookkeeping of one iteration: record the pass, make the M-step, report it.

        Returns
        -------
        MixtureParams
            The M-step from the current point's pass.
        """
        res = self.res
        self.monitor.record(
            res.log_likelihood,
            plain=self.plain,
            accelerated=self.extrapolated,
            repaired=self.repaired,
            stacklevel=_CALLER_FROM_LOOP,
            likelihood=self.likelihood_alone(res),
        )
        self.seq = [*self.seq[-2:], self.params] if self.plain else [self.params]
        self.last = (self.params, res)
        repairs.at_iteration(self.passes)  # what this M-step repairs is recorded as of this pass
        new, self.repaired = m_step_noting_repairs(self.family, res.stats, self.params)
        logger.info("iteration %d: log-likelihood %.10g", self.passes, res.log_likelihood)
        if self.callback is not None:
            self.callback(self.passes, res.log_likelihood, new)
        return new

    def likelihood_alone(self, res: PassResult) -> float | None:
        """The log-likelihood without a MAP family's log prior (what mclust's rule reads), else ``None``."""
        if res.objective_term and hasattr(self.family, "log_likelihood_from_objective"):
            return res.log_likelihood - res.objective_term
        return None

    def lowered(self) -> bool:
        """Whether the plain M-step just evaluated lowered the likelihood (beyond rounding).

        An inexact M-step (an iterative one, or mclust's VVE orientation
        update) may; the step is then not accepted: EM ends at the previous
        point, where the M-step can no longer improve, so the history never
        decreases.
        """
        if not self.plain or self.last is None:
            return False
        prev = self.last[1].log_likelihood
        if prev - self.res.log_likelihood <= 1e-9 * max(abs(prev), 1.0):
            return False
        self.params, self.res = self.last
        self.reverted = True
        return True

    def refuse(self, new: MixtureParams) -> bool:
        """Whether the M-step's ``new`` is degenerate (a repaired step, an empty or singular component).

        EM then stops at the current point, as mclust stops with a singular
        covariance: the step is not taken, and its components are kept in
        :attr:`singular`.
        """
        bad = degenerate_components(self.family, new, self.source.total_weight)
        if self.repaired:
            which = getattr(self.family, "repaired_components", None)
            found = () if which is None else which(self.res.stats, self.params.components)
            bad = tuple(sorted(set(bad) | set(found))) or tuple(range(len(new.weights)))
        if not bad:
            return False
        self.singular = bad
        repairs.forget_iteration()  # the step is not taken: what it repaired is not in the fit
        return True

    def squarem_cycle(self, new: MixtureParams) -> bool:
        """Try the SQUAREM point from ``t, F(t), F(F(t)) = new``.

        A cycle costs two passes: from ``t`` (its pass done) and ``F(t)`` (its
        pass just done), ``F(F(t))`` is known without a pass; the extrapolated
        point costs one pass and is kept if it is not below ``F(t)``, the last
        recorded entry.

        A rejected point is not the end of the cycle: the step is halved
        (``alpha / 2``, one more pass each) while it is longer than the plain
        step, since on a curved ridge the direction is good and only the
        length overshoots; a halved step that is kept sets the cap to its
        length. Only when no length is kept does EM go on plainly, the cap
        shrunk 4x.

        Returns
        -------
        bool
            True when a point is kept: it is then the current point, its
            pass made. False: EM goes on plainly from ``new``.
        """
        known, seq = self.known, self.seq
        first = known[1] if known is not None and known[0] is seq[-2] else None
        points = [seq[-2], seq[-1], new]
        trial, alpha, tvec = extrapolate(self.family, points, self.step_max, first)
        if trial is None:
            if alpha != 0.0 and alpha <= -self.step_max:
                self.step_max *= 4.0  # the step was capped at the plain step: allow longer ones
            return False
        capped, halved = alpha <= -self.step_max, False
        while True:
            try:
                tres = self.evaluate(trial)
            except (NumericalError, FloatingPointError):
                tres = None
            self.passes += 1
            if tres is not None and tres.log_likelihood >= self.res.log_likelihood:
                if halved:
                    self.step_max = max(STEP_MAX0, -alpha)  # the length that was kept
                elif capped:
                    self.step_max *= 4.0
                self.params, self.res, self.plain, self.extrapolated, self.seq = trial, tres, False, True, []
                self.known = (trial, tvec) if self.exact_vectors else None
                self.repaired = False
                return True
            logger.debug("extrapolation (alpha=%.3g) rejected", alpha)
            if alpha / 2.0 >= -1.0 or self.passes >= self.max_iter:
                break
            alpha, halved = alpha / 2.0, True
            trial, _, tvec = extrapolate(self.family, points, -alpha, first)
            if trial is None:
                break
        self.step_max = max(STEP_MAX0, self.step_max / 4.0)
        self.seq = []
        return False

    def plain_step(self, new: MixtureParams) -> None:
        """Move to the M-step's point ``new``; its pass is still to be made."""
        self.params, self.res, self.plain, self.extrapolated = new, None, True, False

    def result(self, final: PassResult | None, converged: bool, degenerate: tuple[int, ...]) -> EMResult:
        """Record ``final``, the pass at the final parameters (``None``: already the last entry),
        and gather the run's outcome."""
        monitor = self.monitor
        if final is not None:
            monitor.record(
                final.log_likelihood,
                plain=True,
                repaired=self.repaired,
                stacklevel=_CALLER_FROM_RESULT,
                likelihood=self.likelihood_alone(final),
            )
        return EMResult(
            params=self.params,
            history=tuple(monitor.history),
            n_iter=self.passes,
            converged=converged,
            accelerated=tuple(monitor.accelerated),
            run=monitor.run,
            degenerate=degenerate,
        )


#: Data no larger than this (rows x components x features) with ``accelerate=True`` run plain
#: EM first (issue 15), whatever holds them: on small data held in one chunk a compiled plain
#: pass costs microseconds and a SQUAREM pass in Python ~100 us, so plain EM reaches the same
#: optimum sooner; a run that does not converge within ``max_iter`` is redone with SQUAREM from
#: the same start (see docs/speed.md, "What runs compiled").
PLAIN_FIRST_MAX = 20_000


def _plain_first(source, family: Family, params: MixtureParams) -> bool:
    """Whether an accelerated run on ``source`` makes plain EM first (:data:`PLAIN_FIRST_MAX`)."""
    n, d = getattr(source, "n_samples", None), getattr(source, "n_features", None)
    if n is None or d is None or not can_accelerate(family):
        return False
    return int(n) * len(params.weights) * int(d) <= PLAIN_FIRST_MAX


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
    previous: tuple | None = None,
    checkpoint=None,
    stop_degenerate: bool | None = None,
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
        Bound on the per-sample gain the rule still expects, for every rule
        (see :class:`ConvergenceMonitor`); ``0``: run ``max_iter`` passes.
    strict : bool, default=True
        Warn when the log-likelihood decreases (the M-step is exact).
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
        A rejected point is retried at half the step (one more pass each)
        while the step is longer than the plain one; when no length is kept,
        EM continues plainly from ``F(F(t))``. The step-length cap starts at 1
        and grows 4x whenever a capped step is kept (Varadhan and Roland's
        ``step.max0 = 1, mstep = 4``), becomes the length of a kept halved
        step, and shrinks 4x when no length is kept.
        Small data (``rows x K x D <=`` :data:`PLAIN_FIRST_MAX`, no ``previous``)
        run plain EM first, kept if it converges within ``max_iter``.
    n_jobs : int or None, default=1
        Threads for the passes (``None``: all cores). Ignored if ``pool`` is given.
    pool : ChunkPool, optional
        An open pool to reuse.
    labels : ndarray of int of shape (n_samples,), optional
        Partial labels (see :func:`e_pass`); the history is then that of the
        semi-supervised objective ``sum_unlabelled log p(x) + sum_labelled
        log pi_y p(x | y)``, which EM never lowers either.
    previous : (sequence of float, sequence of bool), optional
        A warm start's ``EMResult.run``: the rule sees it continued (see :class:`ConvergenceMonitor`).
    checkpoint : object, optional
        A hook with ``restore(run)``, called once before the first pass (it
        may put a saved state in place of ``params``), and ``save(run)``,
        called at every iteration boundary (see :mod:`emix.engine.checkpoint`).
    stop_degenerate : bool, optional
        Stop, as mclust does, rather than take an M-step that is degenerate
        (it had to repair a component, or a component is empty or singular
        by :func:`degenerate_components`): the result keeps the last good
        parameters and names the components in ``degenerate``. Default: when
        ``strict`` (an exact M-step, ``reg_covar=0``).

    Returns
    -------
    EMResult
        ``history`` has the log-likelihood at the start of every iteration and
        that of the final parameters; ``accelerated`` flags the entries
        computed at extrapolated points. Without acceleration
        ``len(history) == n_iter + 1``.
    """
    stop = strict if stop_degenerate is None else bool(stop_degenerate)
    dt = np.dtype(getattr(source, "dtype", np.float64))
    eps = float(np.finfo(dt).eps) if np.issubdtype(dt, np.floating) else 0.0
    monitor = ConvergenceMonitor(
        tol, source.total_weight, strict=strict, rule=convergence, rtol=rtol, eps=eps, previous=previous
    )
    # a checkpoint saved by the SQUAREM run (its plain attempt was discarded) resumes that run
    squarem_saved = checkpoint is not None and getattr(checkpoint, "resumes_accelerated", bool)()
    if accelerate and previous is None and not squarem_saved and _plain_first(source, family, params):
        # issue 15: small data make plain EM first (compiled where it can be), SQUAREM if it fails
        kw = dict(max_iter=max_iter, tol=tol, strict=strict, callback=callback, convergence=convergence)
        kw.update(rtol=rtol, n_jobs=n_jobs, pool=pool, labels=labels, stop_degenerate=stop_degenerate)
        kw.update(checkpoint=checkpoint)  # a resumed state goes to the plain run (it restores once)
        # a resumed plain attempt restarts from its saved point: SQUAREM goes from where it began
        origin = getattr(checkpoint, "resumed_origin", lambda: None)() if checkpoint is not None else None
        plain = _kept_if_converged(lambda: run_em(source, family, params, accelerate=False, **kw))
        if plain is not None:
            return plain
        params = params if origin is None else origin
    accelerate = accelerate and can_accelerate(family)
    # issue 15: plain EM in one compiled loop (exact: mclust's stops; else: the default steps,
    # handed back to Python where a step needs repair)
    if (
        (stop or not strict)
        and not accelerate
        and callback is None
        and labels is None
        and checkpoint is None
        and previous is None
    ):
        # tol=0 never stops under any rule: the compiled loop's "sklearn" rule is then the same run
        rule = "sklearn" if tol == 0 and convergence in ("aitken", "sklearn") else convergence
        compiled = _compiled_run(
            source, family, params, max_iter, tol, rule, rtol=monitor.rtol, eps=monitor.eps, exact=stop
        )
        if compiled is not None:
            return compiled
    with _open_pool(pool, n_jobs) as pool:
        run = _Run(
            source,
            family,
            params,
            monitor,
            max_iter=max_iter,
            callback=callback,
            pool=pool,
            labels=labels,
            exact_vectors=dt == np.float64,
            stop_degenerate=stop,
        )
        run.accelerating = accelerate
        if checkpoint is not None:  # issue 13: resume from a saved state, save at every boundary
            checkpoint.restore(run)
            run.checkpoint = checkpoint
        converged = run.iterate(accelerate)
        final = None if run.singular or run.reverted else run.evaluate(run.params, statistics=False)
        if final is not None and run.stop_degenerate and run.last is not None:
            prev = run.last[1].log_likelihood
            if prev - final.log_likelihood > 1e-9 * max(abs(prev), 1.0):
                run.params, final = run.last[0], None  # the last M-step lowered it: not taken
    degenerate = run.singular or degenerate_components(family, run.params, source.total_weight)
    return run.result(final, converged, degenerate)
