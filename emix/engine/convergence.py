"""When EM stops: :class:`ConvergenceMonitor` keeps the log-likelihood history and applies a rule.

The rules are named in :data:`CONVERGENCE_RULES`: ``"aitken"`` (emix's
default, which does not stop on a slow ridge), ``"sklearn"``
(scikit-learn's threshold on the change of the mean log-likelihood) and
``"mclust"`` (mclust's relative change of the log-likelihood).
"""

from __future__ import annotations

import logging
import warnings

from ..exceptions import EmixWarning

logger = logging.getLogger("emix")

#: Names of the stopping rules of :class:`ConvergenceMonitor`.
CONVERGENCE_RULES = ("aitken", "sklearn", "mclust")


class ConvergenceMonitor:
    """Keeps the log-likelihood history and decides when EM has converged.

    Three rules, all on the *total* log-likelihood ``L_t`` of plain EM steps
    (an entry computed at an extrapolated point starts a new run of steps):

    ``"sklearn"``
        scikit-learn's: stop when ``|L_t - L_{t-1}| / N < tol`` (the change of
        the mean per-sample log-likelihood). Cheap, but it stops on a slow
        ridge, where EM creeps with a rate close to one.
    ``"mclust"``
        mclust's (``emControl(tol = 1e-5)``): stop when
        ``|L_t - L_{t-1}| <= tol (1 + |L_t|)``. :func:`emix.select` uses it
        with mclust's ``tol=1e-5``: from mclust's start EM then takes
        mclust's iterations and stops where mclust stops, and the fit it
        returns is one M-step further (so its likelihood is not below
        mclust's).
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
    rule : {"aitken", "sklearn", "mclust"}
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
        self,
        loglik: float,
        *,
        plain: bool = True,
        accelerated: bool = False,
        repaired: bool = False,
        stacklevel: int = 3,
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
            Of the warning on a decrease, as in :func:`warnings.warn` called
            here: the default points at the caller of ``record``'s caller.
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
        """True when the rule says the last entries have converged (never with ``tol=0``)."""
        h = self.history
        if self.tol == 0 or self._run < 2:
            return False
        if self.rule == "sklearn":
            change = (h[-1] - h[-2]) / self.total_weight
            return abs(change) < self.tol
        if self.rule == "mclust":
            return abs(h[-1] - h[-2]) <= self.tol * (1.0 + abs(h[-1]))
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
