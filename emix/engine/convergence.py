"""When EM stops: :class:`ConvergenceMonitor` keeps the log-likelihood history and applies a rule.

The rules are named in :data:`CONVERGENCE_RULES`: ``"aitken"`` (emix's
default, which does not stop on a slow ridge), ``"sklearn"``
(scikit-learn's threshold on the change of the mean log-likelihood) and
``"mclust"`` (mclust's relative change of the log-likelihood). ``tol``
bounds the per-sample gain still expected under the first two.

What ``max_iter`` counts (decided in issue 15): passes over the data, not EM
steps. A plain iteration is one pass; a SQUAREM cycle (:mod:`.squarem`) is
two, and its extrapolated point one more whether it is kept or rejected; the
final pass at the returned parameters is not counted. A pass is what costs
(every pass is the same E-step over all rows, the M-step is small), so a
budget of passes bounds the run time whatever the acceleration does, and
``n_iter_`` reports the same count; without acceleration both are EM
iterations, as in scikit-learn. Counting only accepted steps would let a run
of rejected extrapolations exceed the budget unseen.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

from .._kernels.aitken import EPS64, RISING, aitken_converged, aitken_thresholds, short_run_converged
from ..exceptions import EmixWarning

logger = logging.getLogger("emix")

#: Names of the stopping rules of :class:`ConvergenceMonitor`.
CONVERGENCE_RULES = ("aitken", "sklearn", "mclust")

#: The ``"aitken"`` rule's constants (defined with its decision in :mod:`emix._kernels.aitken`).
_RISING, _EPS64 = RISING, EPS64

#: The most entries of a run the rules read (the ``"aitken"`` rule's five after an extrapolation).
_MAX_RUN = 5


class ConvergenceMonitor:
    """Keeps the log-likelihood history and decides when EM has converged.

    ``tol`` means the same under both rules: EM stops only once the gain in
    mean log-likelihood per sample that the rule still sees is below ``tol``.
    Both rules look at the *total* log-likelihood ``L_t`` of plain EM steps
    (an entry computed at an extrapolated point starts a new run of steps),
    with ``d_t = L_t - L_{t-1}`` and ``N`` the number of samples (or the sum
    of the sample weights):

    ``"sklearn"``
        scikit-learn's: stop when ``|d_t| / N < tol``, the change of the mean
        per-sample log-likelihood. Cheap, but it stops on a slow ridge, where
        EM creeps with a rate close to one.
    ``"mclust"``
        mclust's (``emControl(tol = 1e-5)``): stop when
        ``|L_t - L_{t-1}| <= tol (1 + |L_t|)``. :func:`emix.select` uses it
        with mclust's ``tol=1e-5``: from mclust's start EM then takes
        mclust's iterations and stops where mclust stops, and the fit it
        returns is one M-step further (so its likelihood is not below
        mclust's). For a MAP fit (``record(..., likelihood=)``) ``L`` is the
        likelihood without the log prior, as mclust stops with a prior.
    ``"aitken"`` (emix's default)
        EM converges linearly, ``L_inf - L_t ~ c rho^t``. From three
        consecutive values the rate ``rho = d_t / d_{t-1}`` gives Aitken's
        estimate of the gain still to come, ``r_t = d_t rho / (1 - rho)``.
        Stop when ``(|d_t| + r_t) / N < tol`` (the per-sample gain the rule
        still expects) *and* both ``|d_t|`` and ``r_t`` are at most
        ``rtol * max(|L_t|, N)`` (the rule's relative tolerance). With the
        default ``tol=1e-3`` the relative test is the one that binds; a
        smaller ``tol`` asks for more. On a slow ridge ``rho`` is close to
        one, the estimate is large, and EM goes on. A non-contracting step
        (``d_t >= d_{t-1} > 0``) never stops.

        Aitken's estimate holds when one geometric mode is left. After an
        extrapolated point a fast mode decays first, the rates of successive
        changes rise towards EM's rate, and the last one underestimates the
        gain to come (on the issue-15 stand-ins by several nats). So the rule
        reads three changes: it does not stop while the rate still rises
        (``1 - rho_t < 0.9 (1 - rho_{t-1})``), and takes the larger of the
        two rates otherwise; four plain entries are needed, five when the run
        starts at an extrapolated point. Changes at rounding level (below
        ``64 eps max(|L|, N)``) are not read as rates; a shorter run stops when
        its last change is not positive or every change in it is at rounding
        level (EM then sits at a fixed point, as from a start at the optimum,
        where scikit-learn's rule stops after two iterations and this rule
        made four). This reading changes
        default fits from those of the earlier two-change rule: one or two
        more plain passes where the rule decides, and a true
        ``ConvergenceWarning`` on slow ridges where that rule stopped short
        (docs/benchmarks.md, "Round 8: default convergence"). The compiled
        plain loop applies the same rule (``emix._kernels.numba_em_rules``).

    ``tol=0`` (or ``rtol=0`` under ``"aitken"``) disables early stopping, so
    ``tol=0, max_iter=n`` runs exactly ``n`` iterations as in scikit-learn.
    A decrease larger than rounding (``1e-9`` relative) is reported with a
    warning when the M-step is exact (``strict=True``).

    A warm start continues a previous fit (``previous``): when the first
    entry equals the last one of the previous fit (the same parameters, the
    same data), the rule sees the previous run continued, so that fits of one
    iteration each (``warm_start=True, max_iter=1``) still converge.

    Parameters
    ----------
    tol : float
        Threshold on the per-sample gain, for both rules.
    total_weight : float
        Number of samples (or sum of the sample weights) ``N``.
    strict : bool
        Warn on decreases (only meaningful when the M-step maximises exactly).
    rule : {"aitken", "sklearn", "mclust"}
    rtol : float
        Relative tolerance of the ``"aitken"`` rule.
    eps : float
        Machine epsilon of the data's dtype; under ``"aitken"``, ``rtol`` is
        raised to ``16 * eps`` (about ``2e-6`` for float32) and ``tol`` to
        ``32 * eps * max(|L| / N, 1)``, so that rounding noise is not chased.
    previous : (sequence of float, sequence of bool), optional
        The history and the ``accelerated`` flags of the fit this one
        continues (its last entry is this fit's starting point).

    Attributes
    ----------
    history : list of float
        The entries recorded so far.
    accelerated : list of bool
        Whether each entry was computed at an extrapolated point.

    Examples
    --------
    On a slow ridge, where EM gains 0.05 nats per iteration on 100 samples,
    scikit-learn's rule stops and the Aitken rule goes on:

    >>> from emix.engine import ConvergenceMonitor
    >>> history = [-420.0, -410.0, -409.95, -409.90]
    >>> for rule in ("sklearn", "aitken"):
    ...     monitor = ConvergenceMonitor(tol=1e-3, total_weight=100, rule=rule)
    ...     for loglik in history:
    ...         monitor.record(loglik)
    ...     print(rule, monitor.converged)
    sklearn True
    aitken False
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
        previous: tuple[Sequence[float], Sequence[bool]] | None = None,
    ) -> None:
        if rule not in CONVERGENCE_RULES:
            raise ValueError(f"convergence must be one of {list(CONVERGENCE_RULES)}, got {rule!r}")
        self.tol = float(tol)
        self.total_weight = float(total_weight)
        self.strict = strict
        self.rule = rule
        self.eps = float(eps)
        # the log-likelihood of float32 data is only known to a few eps: never ask for more
        self.rtol = max(float(rtol), 16.0 * self.eps) if rtol > 0 else 0.0
        self.history: list[float] = []
        self.accelerated: list[bool] = []
        # what the rules read: the continued run of a previous fit (if any), then this fit's entries
        self._entries: list[float] = []
        self._entries_acc: list[bool] = []
        self._previous = _trailing_run(previous)
        # the likelihood alone at every entry of this fit (the "mclust" rule's values)
        self._likelihoods: list[float] = []
        self._map = False  # whether some entry was a MAP objective with its likelihood given
        # length of the current run of plain EM steps ending at the last entry
        self._run = 0

    def record(
        self,
        loglik: float,
        *,
        plain: bool = True,
        accelerated: bool = False,
        repaired: bool = False,
        stacklevel: int = 3,
        likelihood: float | None = None,
    ) -> None:
        """Append one entry to the history.

        Parameters
        ----------
        loglik : float
            Total log-likelihood.
        plain : bool, default=True
            The entry is the EM image of the previous one.
        accelerated : bool, default=False
            The entry was computed at an extrapolated point.
        repaired : bool, default=False
            The M-step before it had to regularise, so a drop is no bug.
        stacklevel : int, default=3
            Of the warning on a decrease, as in ``warnings.warn`` called
            here: the default points at the caller of ``record``'s caller.
        likelihood : float, optional
            The log-likelihood alone when ``loglik`` is a MAP objective
            (``loglik`` less the log prior): the ``"mclust"`` rule reads it,
            as mclust stops on the likelihood's change with a prior too.
        """
        if self.history and not repaired:
            prev = self.history[-1]
            drop = prev - loglik
            if drop > 1e-9 * max(abs(prev), 1.0):
                msg = (
                    f"log-likelihood decreased from {prev:.10g} to {loglik:.10g} at iteration "
                    f"{len(self.history)}"
                )
                if self.strict:
                    warnings.warn(msg, EmixWarning, stacklevel=stacklevel)
                else:
                    logger.debug(msg + " (reg_covar > 0 makes the M-step inexact)")
        if not self.history and self._continues(loglik):
            values, flags = self._previous
            self._entries, self._entries_acc = list(values[:-1]), list(flags[:-1])
            self._run, plain = len(values) - 1, True
        self._run = self._run + 1 if (plain and self._entries) else 1
        self.history.append(float(loglik))
        self.accelerated.append(bool(accelerated))
        self._likelihoods.append(float(loglik if likelihood is None else likelihood))
        self._map = self._map or likelihood is not None
        self._entries.append(float(loglik))
        self._entries_acc.append(bool(accelerated))

    @property
    def run(self) -> tuple[tuple[float, ...], tuple[bool, ...]]:
        """The current run of plain entries (at most the last five) and their ``accelerated``
        flags: what a fit continuing from the last entry passes as ``previous``."""
        m = min(self._run, _MAX_RUN)
        return tuple(self._entries[len(self._entries) - m :]), tuple(
            self._entries_acc[len(self._entries) - m :]
        )

    def _continues(self, loglik: float) -> bool:
        """Whether the first entry ``loglik`` is the previous fit's last one (to rounding)."""
        if self._previous is None:
            return False
        last = self._previous[0][-1]
        return abs(loglik - last) <= 64.0 * max(self.eps, 1e-16) * max(abs(last), self.total_weight)

    def _run_needed(self) -> int:
        """Plain entries the ``"aitken"`` rule needs: four (three changes, two rates), or five
        when the run starts at an extrapolated point (the first step from it is not on EM's
        linear trajectory)."""
        return 4 + (1 if self._run and self._entries_acc[-self._run] else 0)

    def _thresholds(self) -> tuple[float, float]:
        """The ``"aitken"`` rule's bounds on the total: ``rtol * max(|L|, N)`` for each of the
        last change and the remaining gain, and ``tol * N`` (floored at rounding) for their sum."""
        return aitken_thresholds(self._entries[-1], self.tol, self.rtol, self.eps, self.total_weight)

    @property
    def settling(self) -> bool:
        """True when the ``"aitken"`` rule needs more plain steps to decide.

        The last entry is a plain step whose change is already within the
        thresholds, but the run of plain steps is too short for the rule's
        rate estimate. An accelerated driver then takes a plain step instead
        of extrapolating; once the rule has seen its run and not stopped (a
        slow ridge), extrapolation resumes.
        """
        if self.rule != "aitken" or self.tol == 0 or self.rtol == 0:
            return False
        if not 2 <= self._run < self._run_needed():
            return False
        change = abs(self._entries[-1] - self._entries[-2])
        relative, total = self._thresholds()
        return change <= relative and change < total

    @property
    def converged(self) -> bool:
        """True when the rule says the last entries have converged (never with ``tol=0``)."""
        h = self._entries
        if self.tol == 0 or self._run < 2:
            return False
        if self.rule == "sklearn":
            change = (h[-1] - h[-2]) / self.total_weight
            return abs(change) < self.tol
        if self.rule == "mclust":
            if self._map and len(self._likelihoods) >= 2:
                h = self._likelihoods  # a MAP fit: mclust stops on the likelihood alone
            return abs(h[-1] - h[-2]) <= self.tol * (1.0 + abs(h[-1]))
        if self.rtol == 0:
            return False
        relative, total = self._thresholds()
        if self._run < self._run_needed():  # too short for rates
            end = len(h)
            return short_run_converged(h, end - self._run, end, relative, total, self.eps, self.total_weight)
        d0, d1, d2 = h[-3] - h[-4], h[-2] - h[-3], h[-1] - h[-2]
        return aitken_converged(d0, d1, d2, h[-1], relative, total, self.eps, self.total_weight)


def _trailing_run(
    previous: tuple[Sequence[float], Sequence[bool]] | None,
) -> tuple[list[float], list[bool]] | None:
    """The last run of a previous fit's history: from its last extrapolated entry (or its
    first entry) on, at most the five entries the rules can use."""
    if previous is None or len(previous[0]) == 0:
        return None
    values, flags = [float(v) for v in previous[0]], [bool(f) for f in previous[1]]
    if len(flags) != len(values):
        flags = [False] * len(values)
    starts = [i for i, f in enumerate(flags) if f]
    first = max(starts[-1] if starts else 0, len(values) - _MAX_RUN)
    return values[first:], flags[first:]
