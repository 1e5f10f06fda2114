"""The stopping rules and end states of the compiled EM loops (:mod:`.numba_em`, :mod:`.numba_em_full`).

:func:`stop` is :attr:`emix.engine.convergence.ConvergenceMonitor.converged`
for a run of plain EM entries that continues no previous fit (the only runs
the compiled loops make): the run is then the whole history, and the
``"aitken"`` rule needs four entries (three changes: it does not stop while
the rate still rises, see the monitor's docstring). ``rtol`` and ``eps`` are the
monitor's own (``rtol`` already raised to ``16 eps``), handed over by the
driver, so the two cannot drift apart on the thresholds;
``tests/test_compiled_em.py`` compares the two loops' histories under every
rule, so a change of the Python rule that is not made here fails there.
"""

from __future__ import annotations

import numba as nb

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}

#: ``rule`` codes of the compiled loops
MCLUST, SKLEARN, AITKEN = 0, 1, 2

#: ``status`` of the compiled loops: how EM ended. ``HANDBACK``: a step the Python driver
#: would repair (an empty component, a covariance that is not positive definite, a
#: log-likelihood that is not finite) came up, so the run is redone by the Python driver.
RAN, REFUSED, REVERTED, HANDBACK = 0, 1, 2, 3

#: the ``"aitken"`` rule's constants, those of :mod:`emix.engine.convergence` (``_RISING``,
#: ``_EPS64``); kept as literals so that the kernels do not import the engine
_RISING = 0.9
_EPS64 = 2.220446049250313e-16


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
    if rtol == 0.0 or nh < 4:
        return False
    relative = rtol * max(abs(last), total_weight)
    floor = 32.0 * eps * max(abs(last) / total_weight, 1.0)
    total = max(tol, floor) * total_weight
    d0 = history[nh - 3] - history[nh - 4]
    d1 = history[nh - 2] - history[nh - 3]
    if abs(d2) > relative:
        return False
    if d2 <= 0.0:
        remaining = 0.0
    elif d1 <= 0.0:
        remaining = d2
    elif d1 <= d2:
        return False
    else:
        rho = d2 / d1
        noise = 64.0 * max(eps, _EPS64) * max(abs(last), total_weight)
        if d1 > noise and d0 > d1:  # a rate still rising is a transient, not the asymptote
            earlier = d1 / d0
            if 1.0 - rho < _RISING * (1.0 - earlier):
                return False
            rho = max(rho, earlier)
        elif d1 > noise and d0 > noise:
            return False  # the step before did not contract: the run is not yet geometric
        remaining = d2 * rho / (1.0 - rho)
    return remaining <= relative and abs(d2) + remaining < total
