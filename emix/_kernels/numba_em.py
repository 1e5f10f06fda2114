"""A whole EM run in one compiled loop, for the axis-aligned Gaussian models (importing this imports numba).

For small data the cost of an EM iteration is the Python around its few
arithmetic operations. :func:`axis_em` runs the iterations of
:func:`emix.engine.run_em` for the spherical and diagonal models, plain EM
and any of the stopping rules (:mod:`.numba_em_rules`), on data held in one
float64 array. With an exact M-step (``reg_covar=0``, ``exact``) it takes the
driver's ``stop_degenerate`` bookkeeping step for step:

* the history holds the log-likelihood at the start of every iteration, then
  that of the final parameters;
* an M-step that lowers the likelihood (beyond ``1e-9`` relative) is not
  taken: EM ends at the point before;
* an M-step that empties a component, gives a non-positive variance, or a
  covariance singular by mclust's test (``min sqrt(var) / (1 + max sqrt(var))
  <= sqrt(eps)``) or a weight below ``sqrt(eps) / N`` is refused: EM ends at
  the point before and the components are flagged.

With ``reg_covar > 0`` (``exact=False``: the driver's default steps, as for
``emix.GaussianMixture``'s defaults) ``reg_covar`` is added to the variances
as the NumPy M-step adds it, and a step that the NumPy M-step would repair
(an empty component, a variance that is not positive and finite) or a
log-likelihood that is not finite ends the run with ``HANDBACK``: the driver
then makes the whole run in Python, whose repairs and warnings are the fit's.

The M-steps (``mode``): 0 ``VVI``/``diag``, 1 ``VII``/``spherical``/``V``,
2 ``EII``/``E``, 3 ``EEI``, 4 ``EVI``; their NumPy twins are in
:mod:`emix.families.gaussian`. The results agree with the Python driver to
rounding (the E-step is the Python path's fused kernel,
:func:`emix._kernels.numba_prepared.diag_fused_all`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .numba_em_rules import HANDBACK, RAN, REFUSED, REVERTED, stop
from .numba_prepared import diag_fused_all

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}
_LOG_2PI = 1.8378770664093453
_EPS = float(np.finfo(np.float64).eps)
_RCOND_MIN = math.sqrt(_EPS)
_WEIGHT_FLOOR = 10.0 * _EPS

__all__ = ["axis_em", "axis_map_log_sum", "HANDBACK", "RAN", "REFUSED", "REVERTED"]


@nb.njit(**_JIT)
def _e_step(X, w, weights, means, var, nk, s1, s2, lj, moments=True):
    """E-step and statistics around ``means`` (the fused kernel of the Python path); the log-likelihood."""
    k, d = means.shape
    lw = np.log(weights)
    prec = 1.0 / var
    nk[:] = 0.0
    s1[:] = 0.0
    s2[:] = 0.0
    return diag_fused_all(X, w, lw, means, prec, means, nk, s1, s2, moments)


@nb.njit(**_JIT)
def _m_step(mode, nk, s1, s2, centre, weights, means, var, bad, reg):
    """The M-step of ``mode`` into ``weights, means, var``, ``reg`` (``reg_covar``) added to the
    variances as the NumPy M-step adds it; flags in ``bad`` what it would repair.

    Returns True when nothing needs repair (no empty component, positive
    finite variances).
    """
    k, d = s1.shape
    total = nk.sum()
    floor = 10.0 * _EPS * max(total, 1.0)
    ok = True
    for c in range(k):
        bad[c] = nk[c] <= floor
        if bad[c]:
            ok = False
    if not ok:
        return False
    for c in range(k):
        for j in range(d):
            means[c, j] = centre[c, j] + s1[c, j] / nk[c]
            v = (s2[c, j] - s1[c, j] * s1[c, j] / nk[c]) / nk[c]
            var[c, j] = (v if v > 0.0 else 0.0) + reg
    if mode == 1 or mode == 2:  # spherical: the mean of the variances
        for c in range(k):
            var[c, :] = var[c].mean()
        if mode == 2:  # EII: pooled
            pooled = 0.0
            for c in range(k):
                pooled += nk[c] * var[c, 0]
            var[:, :] = pooled / total
    elif mode == 3:  # EEI: one pooled diagonal
        for j in range(d):
            pooled = 0.0
            for c in range(k):
                pooled += nk[c] * var[c, j]
            var[:, j] = pooled / total
    elif mode == 4:  # EVI: lambda A_k, the scatters' diagonals scaled to det 1
        ws = np.empty((k, d))
        top = 0.0
        for c in range(k):
            for j in range(d):
                ws[c, j] = nk[c] * var[c, j]
                if abs(ws[c, j]) > top:
                    top = abs(ws[c, j])
        tiny = (top if top > 0.0 else 1.0) * _EPS * _EPS
        gsum = 0.0
        g = np.empty(k)
        for c in range(k):
            acc = 0.0
            for j in range(d):
                ws[c, j] = max(ws[c, j], tiny)
                acc += np.log(ws[c, j])
            g[c] = np.exp(acc / d)
            gsum += g[c]
        lam = gsum / total
        for c in range(k):
            for j in range(d):
                var[c, j] = lam * ws[c, j] / g[c]
    for c in range(k):
        for j in range(d):
            if not (var[c, j] > 0.0 and var[c, j] < np.inf):
                bad[c] = True
                ok = False
        weights[c] = nk[c] / total
    if weights.min() < _WEIGHT_FLOOR:
        for c in range(k):
            weights[c] = max(weights[c], _WEIGHT_FLOOR)
        weights /= weights.sum()
    return ok


@nb.njit(**_JIT)
def _degenerate(weights, var, total_weight, bad):
    """mclust's test (and empty weights) on the new parameters, flags in ``bad``; True if any."""
    k, d = var.shape
    found = False
    for c in range(k):
        lo, hi = np.inf, 0.0
        for j in range(d):
            r = np.sqrt(var[c, j])
            lo = min(lo, r)
            hi = max(hi, r)
        rc = lo / (1.0 + hi)
        if not (rc > _RCOND_MIN) or weights[c] * total_weight <= _RCOND_MIN:
            bad[c] = True
            found = True
    return found


@nb.njit(**_JIT)
def axis_em(
    X, w, mode, weights, means, var, max_iter, tol, rule, total_weight, history, bad, reg, rtol, eps, exact
):
    """Run EM from ``weights`` (K,), ``means``, ``var`` (K, D) (updated in place to the final point).

    ``history`` (max_iter + 1,) receives the history; ``bad`` (K,) bool the
    flagged components; ``rule`` a code of :mod:`.numba_em_rules` (``rtol``
    and ``eps``: the ``"aitken"`` rule's); ``reg`` is ``reg_covar``.
    ``exact``: the driver's ``stop_degenerate`` steps (a lowering step is
    reverted, a degenerate one refused); otherwise a step the NumPy M-step
    would repair ends the run with :data:`HANDBACK` (the driver then runs
    EM in Python). Returns ``(n_entries, passes, converged, status)`` with
    ``status`` one of :data:`RAN`, :data:`REFUSED`, :data:`REVERTED`,
    :data:`HANDBACK`.
    """
    k, d = means.shape
    nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d))
    lj = np.empty(k)
    nw, nm, nv = np.empty(k), np.empty((k, d)), np.empty((k, d))
    bad[:] = False
    nh, passes = 0, 0
    last_ll = 0.0
    have_last = False
    lw, lm, lv = weights.copy(), means.copy(), var.copy()
    converged = False
    while True:
        if passes >= max_iter:
            break
        ll = _e_step(X, w, weights, means, var, nk, s1, s2, lj)
        passes += 1
        if not exact:
            if not np.isfinite(ll):
                return nh, passes, False, HANDBACK
        elif have_last and last_ll - ll > 1e-9 * max(abs(last_ll), 1.0):
            weights[:], means[:], var[:] = lw, lm, lv
            return nh, passes, True, REVERTED
        history[nh] = ll
        nh += 1
        lw[:], lm[:], lv[:] = weights, means, var
        last_ll, have_last = ll, True
        fine = _m_step(mode, nk, s1, s2, means, nw, nm, nv, bad, reg)
        if not exact:
            if not fine:
                return nh, passes, False, HANDBACK
        elif not fine or _degenerate(nw, nv, total_weight, bad):
            return nh, passes, False, REFUSED
        weights[:], means[:], var[:] = nw, nm, nv
        if stop(history, nh, rule, tol, rtol, eps, total_weight):
            converged = True
            break
    ll = _e_step(X, w, weights, means, var, nk, s1, s2, lj, False)  # the final pass: its log-likelihood only
    if not exact:
        if not np.isfinite(ll):
            return nh, passes, converged, HANDBACK
    elif have_last and last_ll - ll > 1e-9 * max(abs(last_ll), 1.0):
        weights[:], means[:], var[:] = lw, lm, lv
        return nh, passes, converged, REVERTED
    history[nh] = ll
    return nh + 1, passes, converged, RAN


@nb.njit(**_JIT)
def axis_map_log_sum(X, weights, means, var):
    """``sum_n log max_k p(k | x_n)`` (for ICL) at axis-aligned parameters, ``var`` (K, D)."""
    n, d = X.shape
    k = means.shape[0]
    const = np.empty(k)
    for c in range(k):
        acc = np.log(weights[c]) - 0.5 * d * _LOG_2PI
        for j in range(d):
            acc -= 0.5 * np.log(var[c, j])
        const[c] = acc
    lj = np.empty(k)
    out = 0.0
    for i in range(n):
        top = -np.inf
        for c in range(k):
            q = 0.0
            for j in range(d):
                e = X[i, j] - means[c, j]
                q += e * e / var[c, j]
            lj[c] = const[c] - 0.5 * q
            top = max(top, lj[c])
        tot = 0.0
        for c in range(k):
            tot += np.exp(lj[c] - top)
        out -= np.log(tot)
    return out
