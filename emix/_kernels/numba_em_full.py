"""A whole EM run in one compiled loop, for the Gaussian models with full or shared covariance matrices.

The twin of :func:`emix._kernels.numba_em.axis_em` (same driver steps, checks
and stopping rules; see that module) for the models whose covariances are
matrices. Covariances are held as (K, D, D) (``EEE``'s shared one repeated);
the E-step is :func:`emix._kernels.numba_full.full_fused`; the M-steps
(``mode``) are those of :mod:`emix.families.gaussian`:

====  =========================  =====================================================
mode  model                      M-step
====  =========================  =====================================================
0     ``VVV`` / ``full``         ``W_k / n_k``
1     ``EEE`` / ``tied``         ``sum_k W_k / n``
2     ``EEV``                    pooled sorted eigenvalues of the ``W_k``
3     ``VEV``                    :func:`.numba_mclust.volumes_shared_shape` on them
4     ``EVV``                    ``W_k`` scaled to one determinant
5     ``VEE``                    :func:`.numba_mclust.volumes_shared_matrix`
6, 7  ``EVE``, ``VVE``           :func:`.numba_mclust.orientation`
====  =========================  =====================================================

A covariance whose Cholesky factor does not exist, or whose factor's
diagonal fails mclust's test, is flagged and the step refused (``exact``);
with ``reg_covar > 0`` (``exact=False``) ``reg_covar`` is added to the
diagonal of ``W_k / n_k`` as the NumPy M-step adds it, and a step the NumPy
M-step would repair (an empty component, a covariance with no Cholesky
factor) ends the run with ``HANDBACK`` (the driver then runs EM in Python).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .numba_em_rules import HANDBACK, RAN, REFUSED, REVERTED, stop
from .numba_full import full_fused
from .numba_mclust import _tiny, orientation, volumes_shared_matrix, volumes_shared_shape

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}
_LOG_2PI = 1.8378770664093453
_EPS = float(np.finfo(np.float64).eps)
_RCOND_MIN = math.sqrt(_EPS)
_WEIGHT_FLOOR = 10.0 * _EPS
_GOLDEN = 0.6180339887


@nb.njit(**_JIT)
def _sorted_eigh(W):
    """Eigenvalues (K, D) in decreasing order and eigenvectors (K, D, D) as columns."""
    k, d, _ = W.shape
    vals = np.empty((k, d))
    vecs = np.empty((k, d, d))
    for c in range(k):
        v, u = np.linalg.eigh(W[c])
        for j in range(d):
            vals[c, j] = v[d - 1 - j]
            for i in range(d):
                vecs[c, i, j] = u[i, d - 1 - j]
    return vals, vecs


@nb.njit(**_JIT)
def _root_det(W):
    """``det(W_k)^(1/D)``, floored at :func:`_tiny` of ``W``."""
    k, d, _ = W.shape
    floor = _tiny(W)
    out = np.empty(k)
    for c in range(k):
        sign, logdet = np.linalg.slogdet(W[c])
        out[c] = max(np.exp(logdet / d) if sign > 0 else 0.0, floor)
    return out


@nb.njit(**_JIT)
def _scatters(nk, s1, s2):
    """``W_k = n_k cov_k`` as the M-step of :class:`FullCovariance` computes ``cov_k`` (symmetrised)."""
    k, d = s1.shape
    W = np.empty((k, d, d))
    for c in range(k):
        for a in range(d):
            for b in range(d):
                W[c, a, b] = (s2[c, a, b] - s1[c, a] * s1[c, b] / nk[c]) / nk[c]
        for a in range(d):
            for b in range(a + 1, d):
                m = 0.5 * (W[c, a, b] + W[c, b, a])
                W[c, a, b] = m
                W[c, b, a] = m
    return W


@nb.njit(**_JIT)
def _from_eigen(vecs, vals, cov):
    """``cov_k = vecs_k diag(vals_k) vecs_k^T`` for every ``k``."""
    k, d = vals.shape
    for c in range(k):
        for a in range(d):
            for b in range(d):
                acc = 0.0
                for j in range(d):
                    acc += vecs[c, a, j] * vals[c, j] * vecs[c, b, j]
                cov[c, a, b] = acc


@nb.njit(**_JIT)
def _start_orientation(prev):
    """:func:`emix.families.gaussian.mclust_orientation.start_from` of previous covariances."""
    k, d, _ = prev.shape
    base = np.zeros((d, d))
    for c in range(k):
        t = 1.0 + c * _GOLDEN
        sc = np.trace(prev[c])
        base += t * prev[c] / sc
    D = np.linalg.eigh(base)[1]
    v = np.empty((k, d))
    for c in range(k):
        M = D.T @ prev[c] @ D
        for j in range(d):
            v[c, j] = M[j, j]
    return D, np.maximum(v, _tiny(v))


@nb.njit(**_JIT)
def _constrained(mode, nk, cov, prev, tol, max_iter):
    """The constrained M-steps 2..7 from ``cov_k = W_k / n_k``, into ``cov`` (symmetrised)."""
    k, d, _ = cov.shape
    if k == 1 and mode != 2 and mode != 4:
        return  # one component: every model is the unconstrained one, cov = W / n (mclust's mvn)
    W = np.empty((k, d, d))
    for c in range(k):
        W[c] = nk[c] * cov[c]
    if mode == 2 or mode == 3:
        vals, vecs = _sorted_eigh(W)
        if mode == 2:
            pooled = np.maximum(vals.sum(axis=0), _tiny(vals)) / nk.sum()
            for c in range(k):
                vals[c] = pooled
        else:
            start = _root_det(prev)
            lam, a = volumes_shared_shape(vals, nk, start, tol, max_iter)
            for c in range(k):
                vals[c] = lam[c] * a
        _from_eigen(vecs, vals, cov)
    elif mode == 4:
        g = _root_det(W)
        lam = g.sum() / nk.sum()
        for c in range(k):
            cov[c] = lam * W[c] / g[c]
    elif mode == 5:
        lam, C = volumes_shared_matrix(W, nk, _root_det(prev), tol, max_iter)
        for c in range(k):
            cov[c] = lam[c] * C
    else:
        D0, v0 = _start_orientation(prev)
        D, v = orientation(W, nk, D0, v0, mode == 6, tol, 10 * max_iter)
        vecs = np.empty((k, d, d))
        for c in range(k):
            vecs[c] = D
        _from_eigen(vecs, v, cov)
    for c in range(k):
        for a in range(d):
            for b in range(a + 1, d):
                m = 0.5 * (cov[c, a, b] + cov[c, b, a])
                cov[c, a, b] = m
                cov[c, b, a] = m


@nb.njit(**_JIT)
def _factor(cov, U, bad, exact):
    """Upper ``U_k = inv(chol(cov_k))^T``; flags (in ``bad``) the covariances with no Cholesky
    factor or (``exact``) one failing mclust's test. Returns True when none is flagged."""
    k, d, _ = cov.shape
    L = np.zeros((d, d))
    ok = True
    for c in range(k):
        fine = True
        for i in range(d):
            for j in range(i + 1):
                s = cov[c, i, j]
                for p in range(j):
                    s -= L[i, p] * L[j, p]
                if i == j:
                    if not (s > 0.0 and s < np.inf):
                        fine = False
                        break
                    L[i, i] = np.sqrt(s)
                else:
                    L[i, j] = s / L[j, j]
            if not fine:
                break
        if fine and exact:
            lo, hi = np.inf, 0.0
            for j in range(d):
                lo = min(lo, L[j, j])
                hi = max(hi, L[j, j])
            fine = lo / (1.0 + hi) > _RCOND_MIN
        if not fine:
            bad[c] = True
            ok = False
            continue
        inv = np.zeros((d, d))
        for j in range(d):
            inv[j, j] = 1.0 / L[j, j]
            for i in range(j + 1, d):
                s = 0.0
                for p in range(j, i):
                    s += L[i, p] * inv[p, j]
                inv[i, j] = -s / L[i, i]
        for a in range(d):
            for b in range(d):
                U[c, a, b] = inv[b, a] if b >= a else 0.0
    return ok


@nb.njit(**_JIT)
def _m_step(
    mode, nk, s1, s2, centre, prev, tol, max_iter, weights, means, cov, U, bad, total_weight, reg, exact
):
    """The M-step of ``mode`` into ``weights, means, cov, U`` (``reg`` added to the diagonals);
    False (components in ``bad``) when it must be refused or handed back (an empty component, no
    factor, and when ``exact`` a singular covariance or a tiny weight)."""
    k, d = s1.shape
    total = nk.sum()
    floor = 10.0 * _EPS * max(total, 1.0)
    ok = True
    for c in range(k):
        bad[c] = nk[c] <= floor
        ok = ok and not bad[c]
    if not ok:
        return False
    for c in range(k):
        for j in range(d):
            means[c, j] = centre[c, j] + s1[c, j] / nk[c]
    cov[:] = _scatters(nk, s1, s2)
    if mode == 1:  # tied: reg_covar added to the pooled matrix, as TiedCovariance.covariance adds it
        shared = np.zeros((d, d))
        for c in range(k):
            shared += nk[c] * cov[c]
        shared /= total
        for j in range(d):
            shared[j, j] += reg
        for c in range(k):
            cov[c] = shared
    elif reg != 0.0:
        for c in range(k):
            for j in range(d):
                cov[c, j, j] += reg
    if mode >= 2:
        _constrained(mode, nk, cov, prev, tol, max_iter)
    for c in range(k):
        weights[c] = nk[c] / total
    if weights.min() < _WEIGHT_FLOOR:
        for c in range(k):
            weights[c] = max(weights[c], _WEIGHT_FLOOR)
        weights /= weights.sum()
    if not _factor(cov, U, bad, exact):
        return False
    if not exact:
        return True
    for c in range(k):
        if weights[c] * total_weight <= _RCOND_MIN:
            bad[c] = True
            ok = False
    return ok


@nb.njit(**_JIT)
def _e_step(X, w, weights, means, U, nk, s1, s2, moments=True):
    k, d = means.shape
    const = np.empty(k)
    for c in range(k):
        acc = np.log(weights[c]) - 0.5 * d * _LOG_2PI
        for j in range(d):
            acc += np.log(U[c, j, j])
        const[c] = acc
    nk[:] = 0.0
    s1[:] = 0.0
    s2[:] = 0.0
    return full_fused(X, w, means, U, const, means, nk, s1, s2, moments)


@nb.njit(**_JIT)
def full_em(
    X, w, mode, weights, means, cov, U, max_iter, tol, rule, total_weight, inner_tol, inner_max, history, bad,
    reg, rtol, eps, exact,
):  # fmt: skip
    """Run EM from ``weights`` (K,), ``means`` (K, D), ``cov`` and ``U`` (K, D, D), in place.

    ``U`` holds the precision factors of ``cov``; ``inner_tol`` and
    ``inner_max`` are the inner solvers' tolerance and cap; ``reg``,
    ``rtol``, ``eps`` and ``exact`` as :func:`.numba_em.axis_em` takes them.
    Returns ``(n_entries, passes, converged, status)`` as :func:`.numba_em.axis_em`.
    """
    k, d = means.shape
    nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
    nw, nm, nc, nu = np.empty(k), np.empty((k, d)), np.empty((k, d, d)), np.empty((k, d, d))
    lw, lm, lc, lu = weights.copy(), means.copy(), cov.copy(), U.copy()
    bad[:] = False
    nh, passes = 0, 0
    last_ll = 0.0
    have_last = False
    converged = False
    while passes < max_iter:
        ll = _e_step(X, w, weights, means, U, nk, s1, s2)
        passes += 1
        if not exact:
            if not np.isfinite(ll):
                return nh, passes, False, HANDBACK
        elif have_last and last_ll - ll > 1e-9 * max(abs(last_ll), 1.0):
            weights[:], means[:], cov[:], U[:] = lw, lm, lc, lu
            return nh, passes, True, REVERTED
        history[nh] = ll
        nh += 1
        lw[:], lm[:], lc[:], lu[:] = weights, means, cov, U
        last_ll, have_last = ll, True
        fine = _m_step(
            mode, nk, s1, s2, means, cov, inner_tol, inner_max, nw, nm, nc, nu, bad, total_weight, reg, exact
        )
        if not fine:
            return nh, passes, False, REFUSED if exact else HANDBACK
        weights[:], means[:], cov[:], U[:] = nw, nm, nc, nu
        if stop(history, nh, rule, tol, rtol, eps, total_weight):
            converged = True
            break
    ll = _e_step(X, w, weights, means, U, nk, s1, s2, False)  # the final pass: its log-likelihood only
    if not exact:
        if not np.isfinite(ll):
            return nh, passes, converged, HANDBACK
    elif have_last and last_ll - ll > 1e-9 * max(abs(last_ll), 1.0):
        weights[:], means[:], cov[:], U[:] = lw, lm, lc, lu
        return nh, passes, converged, REVERTED
    history[nh] = ll
    return nh + 1, passes, converged, RAN


@nb.njit(**_JIT)
def full_map_log_sum(X, weights, means, U):
    """``sum_n log max_k p(k | x_n)`` (for ICL) at parameters with precision factors ``U`` (K, D, D)."""
    n, d = X.shape
    k = means.shape[0]
    const = np.empty(k)
    for c in range(k):
        acc = np.log(weights[c]) - 0.5 * d * _LOG_2PI
        for j in range(d):
            acc += np.log(U[c, j, j])
        const[c] = acc
    lj = np.empty(k)
    y = np.empty(d)
    out = 0.0
    for i in range(n):
        top = -np.inf
        for c in range(k):
            q = 0.0
            for j in range(d):
                acc = 0.0
                for a in range(d):
                    acc += (X[i, a] - means[c, a]) * U[c, a, j]
                y[j] = acc
                q += acc * acc
            lj[c] = const[c] - 0.5 * q
            top = max(top, lj[c])
        tot = 0.0
        for c in range(k):
            tot += np.exp(lj[c] - top)
        out -= np.log(tot)
    return out
