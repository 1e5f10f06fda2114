"""The stopping rules and end states of the compiled EM loops (:mod:`.numba_em`, :mod:`.numba_em_full`).

:func:`stop` is :attr:`emix.engine.convergence.ConvergenceMonitor.converged`
for a run of plain EM entries that continues no previous fit (the only runs
the compiled loops make): the run is then the whole history, and the
``"aitken"`` rule needs four entries (three changes: it does not stop while
the rate still rises, see the monitor's docstring), decided by the monitor's own function
(:func:`.aitken.aitken_converged`) compiled; a shorter run stops at rounding level only
(:func:`.aitken.short_run_converged`). ``rtol`` and ``eps`` are the
monitor's own (``rtol`` already raised to ``16 eps``), handed over by the
driver, so the two cannot drift apart on the thresholds;
``tests/test_compiled_em.py`` compares the two loops' histories under every
rule, so a change of the Python rule that is not made here fails there.
"""

from __future__ import annotations

import numba as nb

from .aitken import EPS64, RISING, aitken_converged, aitken_thresholds, short_run_converged

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}

#: ``rule`` codes of the compiled loops
MCLUST, SKLEARN, AITKEN = 0, 1, 2

#: ``status`` of the compiled loops: how EM ended. ``HANDBACK``: a step the Python driver
#: would repair (an empty component, a covariance that is not positive definite, a
#: log-likelihood that is not finite) came up, so the run is redone by the Python driver.
RAN, REFUSED, REVERTED, HANDBACK = 0, 1, 2, 3

#: the ``"aitken"`` rule's constants, defined with its decision in :mod:`.aitken`
_RISING, _EPS64 = RISING, EPS64

#: the ``"aitken"`` rule's decision, the monitor's own function compiled
_aitken_converged = nb.njit(**_JIT)(aitken_converged)
_aitken_thresholds = nb.njit(**_JIT)(aitken_thresholds)
_short_run_converged = nb.njit(**_JIT)(short_run_converged)


@nb.njit(**_JIT)
def stop(history, nh, rule, tol, rtol, eps, total_weight):
    """Whether the rule stops EM after the ``nh`` plain entries of ``history``."""
    if tol == 0.0 or nh < 2:
        return False
    last = history[nh - 1]
    d2 = last - history[nh - 2]
    if rule == MCLUST:
        return abs(d2) <= tol * (1.0 + abs(last))
    if rule == SKLEARN:
        return abs(d2 / total_weight) < tol
    if rtol == 0.0:
        return False
    relative, total = _aitken_thresholds(last, tol, rtol, eps, total_weight)
    if nh < 4:  # too short for rates
        return _short_run_converged(history, 0, nh, relative, total, eps, total_weight)
    d0 = history[nh - 3] - history[nh - 4]
    d1 = history[nh - 2] - history[nh - 3]
    return _aitken_converged(d0, d1, d2, last, relative, total, eps, total_weight)
