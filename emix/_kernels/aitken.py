"""The ``"aitken"`` stopping rule's decision from the last three changes, in plain Python.

One definition for both loops: :class:`emix.engine.convergence.ConvergenceMonitor`
calls :func:`aitken_converged` as it is, and the compiled EM loops compile the
same function (:mod:`.numba_em_rules`), so the two cannot decide differently.
Importing this module does not import numba.
"""

from __future__ import annotations

#: A rate still rising: the last rate ``rho`` is a transient when ``1 - rho`` shrank by more
#: than this factor's complement (10 %) since the rate before it.
RISING = 0.9

#: float64's machine epsilon: the rounding of a sum of float64 terms, whatever the data's dtype.
EPS64 = 2.220446049250313e-16


def aitken_thresholds(
    last: float, tol: float, rtol: float, eps: float, total_weight: float
) -> tuple[float, float]:
    """The rule's bounds on the total: ``rtol * max(|L|, N)`` for each of the last change and the
    remaining gain, and ``tol * N`` (floored at rounding, ``32 eps max(|L| / N, 1)``) for their sum."""
    floor = 32.0 * eps * max(abs(last) / total_weight, 1.0)
    return rtol * max(abs(last), total_weight), max(tol, floor) * total_weight


def short_run_converged(
    h, first: int, end: int, relative: float, total: float, eps: float, total_weight: float
) -> bool:
    """Whether the rule stops a run of plain entries ``h[first:end]`` too short for its rates.

    The last change must be within the rule's bounds (``relative``, ``total``) and either not
    positive (EM does not descend: a drop is rounding, or ``reg_covar``'s inexact M-step at its
    fixed point; :func:`aitken_converged` reads it so too) or, with every other change of the
    run, at rounding level (``64 eps max(|L|, N)``, below which :func:`aitken_converged` reads
    no rate). EM then sits at a fixed point, as from a start at the optimum, which the rule
    would otherwise confirm with four plain entries. For the gain still to come to exceed
    ``relative`` after such changes, EM's rate would have to be within ``64 eps / rtol`` of
    one (``rtol=1e-8``: ``1 - 1.4e-6``). ``h`` is a list or an array (compiled loops).
    """
    last = h[end - 1]
    d = last - h[end - 2]
    if abs(d) > relative or abs(d) >= total:
        return False
    if d <= 0.0:
        return True
    noise = 64.0 * max(eps, EPS64) * max(abs(last), total_weight)  # as in aitken_converged
    for t in range(first + 1, end):
        if abs(h[t] - h[t - 1]) > noise:
            return False
    return True


def aitken_converged(
    d0: float,
    d1: float,
    d2: float,
    last: float,
    relative: float,
    total: float,
    eps: float,
    total_weight: float,
) -> bool:
    """Whether the rule stops after the changes ``d0, d1, d2`` (oldest first) of plain EM entries.

    ``last`` is the last entry, ``relative`` and ``total`` the rule's bounds on the total
    (``rtol * max(|L|, N)`` and ``tol * N``, see the monitor), ``eps`` the data's machine
    epsilon, ``total_weight`` ``N``.
    """
    if abs(d2) > relative:
        return False
    if d2 <= 0.0:
        remaining = 0.0  # no progress at rounding level
    elif d1 <= 0.0:
        remaining = d2  # previous step at rounding level
    elif d1 <= d2:
        return False  # not contracting: a slow ridge or an escape
    else:
        rho = d2 / d1
        noise = 64.0 * max(eps, EPS64) * max(abs(last), total_weight)
        if d1 > noise and d0 > d1:  # a rate still rising is a transient, not the asymptote
            earlier = d1 / d0
            if 1.0 - rho < RISING * (1.0 - earlier):
                return False
            rho = max(rho, earlier)
        elif d1 > noise and d0 > noise:
            return False  # the step before did not contract: the run is not yet geometric
        remaining = d2 * rho / (1.0 - rho)
    return remaining <= relative and abs(d2) + remaining < total
