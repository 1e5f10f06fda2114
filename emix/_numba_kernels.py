"""The numba kernels behind :mod:`emix._kernels` (importing this module imports numba).

Conventions of every ``*_fused`` kernel
--------------------------------------
``X`` : (n, D) float64 or float32, C-contiguous; rows are widened to float64.
``w`` : (n,) float64 sample weights, or length 0 for none.
``const`` : (K,) float64, ``log pi_k + log det U_k - D/2 log(2 pi)`` (model-specific, below).
``nk, s1, s2`` : float64 accumulators, zeroed by the caller, *added to*.
Return value: the chunk's log-likelihood ``sum_n w_n log p(x_n)``.

fastmath: only ``contract`` (fused multiply-add) and ``reassoc`` (so that
short reductions vectorise) in the model kernels; never ``nnan``/``ninf``
(-inf log-weights and log-densities are handled), and the exponential is
compiled without ``reassoc`` (its rounding trick depends on the order).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._kernels import BLOCK

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_SHIFT_BITS = int(np.array(_SHIFT).view(np.int64))
_EXP_MIN = -708.0  # exp below this is < 2**-1021: taken as 0

_EXACT = {"contract"}
_FAST = {"contract", "reassoc"}


_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}


@nb.njit(fastmath=_EXACT, **_JIT)
def _exp_block(x, m, kd, scale):
    """``x[:m] = exp(x[:m])`` for ``x <= 0`` (or ``-inf``); ``kd``, ``scale``: scratch of length >= m.

    Branch-free so that it vectorises: ``2**n`` is built from the bits of
    ``v log2(e) + 1.5 * 2**52`` (whose low bits hold the rounded ``n``).
    """
    for i in range(m):
        v = max(x[i], _EXP_MIN)
        t = v * _LOG2E + _SHIFT
        nf = t - _SHIFT
        r = (v - nf * _LN2_HI) - nf * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        kd[i] = t
        scale[i] = p
    kb = kd.view(np.int64)
    for i in range(m):
        kb[i] = (kb[i] - _SHIFT_BITS + 1023) << 52
    for i in range(m):
        x[i] = scale[i] * kd[i] if x[i] >= _EXP_MIN else 0.0


@nb.njit(fastmath=_EXACT, **_JIT)
def _normalise_block(lj, nr, w, base, rowmax, rowsum, kd, scale):
    """Joint log-probabilities ``lj[:, :nr]`` (K, BLOCK) -> weighted responsibilities, in place.

    Returns the block's ``sum_r w_r log sum_k exp(lj[k, r])``.
    """
    k = lj.shape[0]
    for r in range(nr):
        rowmax[r] = lj[0, r]
    for c in range(1, k):
        for r in range(nr):
            rowmax[r] = max(rowmax[r], lj[c, r])
    for r in range(nr):
        if not np.isfinite(rowmax[r]):  # zero density under every component
            rowmax[r] = 0.0
    for c in range(k):
        for r in range(nr):
            lj[c, r] -= rowmax[r]
        _exp_block(lj[c], nr, kd, scale)
    for r in range(nr):
        rowsum[r] = lj[0, r]
    for c in range(1, k):
        for r in range(nr):
            rowsum[r] += lj[c, r]
    ll = 0.0
    has_w = w.shape[0] > 0
    for r in range(nr):
        s = rowsum[r]
        wr = w[base + r] if has_w else 1.0
        ll += wr * (rowmax[r] + np.log(s))
        rowsum[r] = wr / s if s > 0.0 else 0.0
    for c in range(k):
        for r in range(nr):
            lj[c, r] *= rowsum[r]
    return ll


@nb.njit(**_JIT)
def _scratch(k, d):
    lj = np.empty((k, BLOCK))
    xb = np.empty((d, BLOCK))
    rowmax = np.empty(BLOCK)
    rowsum = np.empty(BLOCK)
    kd = np.empty(BLOCK)
    scale = np.empty(BLOCK)
    return lj, xb, rowmax, rowsum, kd, scale


@nb.njit(fastmath=_FAST, **_JIT)
def _load_block(X, b0, nr, shift, xb):
    """``xb[:, :nr] = (X[b0:b0 + nr] - shift).T`` in float64."""
    d = X.shape[1]
    for r in range(nr):
        for j in range(d):
            xb[j, r] = X[b0 + r, j] - shift[j]


@nb.njit(fastmath=_FAST, **_JIT)
def _moments_block(resp, nr, xb, centre, nk, s1, diff):
    """Add ``sum_r resp[r]`` to ``nk`` and ``sum_r resp[r] (x_r - centre)`` to ``s1``;
    leave ``diff[:, :nr] = (x - centre)`` and return True, or False when ``resp`` is all zero."""
    d = xb.shape[0]
    tot = 0.0
    for r in range(nr):
        tot += resp[r]
    if tot == 0.0:
        return False
    nk[0] += tot
    for j in range(d):
        cj = centre[j]
        acc = 0.0
        for r in range(nr):
            e = xb[j, r] - cj
            diff[j, r] = e
            acc += resp[r] * e
        s1[j] += acc
    return True


@nb.njit(fastmath=_FAST, **_JIT)
def full_fused(X, w, means, U, upper, const, centre, nk, s1, s2):
    """Full covariances. ``U`` (K, D, D): precision Cholesky factors (``upper``: all upper
    triangular). ``s2`` (K, D, D): only the lower triangle is accumulated."""
    n, d = X.shape
    k = means.shape[0]
    lj, xb, rowmax, rowsum, kd, scale = _scratch(k, d)
    diff = np.empty((d, BLOCK))
    rd = np.empty((d, BLOCK))
    y = np.empty(BLOCK)
    zero = np.zeros(d)
    ll = 0.0
    for b0 in range(0, n, BLOCK):
        nr = min(BLOCK, n - b0)
        _load_block(X, b0, nr, zero, xb)
        for c in range(k):
            for a in range(d):
                m = means[c, a]
                for r in range(nr):
                    diff[a, r] = xb[a, r] - m
            q = lj[c]
            for r in range(nr):
                q[r] = 0.0
            for j in range(d):
                for r in range(nr):
                    y[r] = 0.0
                lo = 0
                hi = j + 1 if upper else d
                for a in range(lo, hi):
                    u = U[c, a, j]
                    for r in range(nr):
                        y[r] += diff[a, r] * u
                for r in range(nr):
                    q[r] += y[r] * y[r]
            cc = const[c]
            for r in range(nr):
                q[r] = cc - 0.5 * q[r]
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        for c in range(k):
            resp = lj[c]
            if not _moments_block(resp, nr, xb, centre[c], nk[c : c + 1], s1[c], diff):
                continue
            for a in range(d):
                for r in range(nr):
                    rd[a, r] = resp[r] * diff[a, r]
            for a in range(d):
                for b in range(a + 1):
                    acc = 0.0
                    for r in range(nr):
                        acc += rd[a, r] * diff[b, r]
                    s2[c, a, b] += acc
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def tied_fused(X, w, g, U, upper, mu_u, const, centre, nk, s1, a_out):
    """Tied covariance. ``g`` (D,): shift; ``U`` (D, D); ``mu_u`` (K, D) = ``(means - g) U``.

    ``s1`` is centred on ``centre``; ``a_out`` (D, D) gets the lower triangle of
    ``sum_n w_n (x_n - g)(x_n - g)^T`` (the caller shifts it to the anchors).
    """
    n, d = X.shape
    k = mu_u.shape[0]
    lj, xb, rowmax, rowsum, kd, scale = _scratch(k, d)
    xu = np.empty((d, BLOCK))
    wz = np.empty((d, BLOCK))
    diff = np.empty((d, BLOCK))
    cg = np.empty(d)
    has_w = w.shape[0] > 0
    ll = 0.0
    for b0 in range(0, n, BLOCK):
        nr = min(BLOCK, n - b0)
        _load_block(X, b0, nr, g, xb)
        for j in range(d):
            for r in range(nr):
                xu[j, r] = 0.0
            lo = 0
            hi = j + 1 if upper else d
            for a in range(lo, hi):
                u = U[a, j]
                for r in range(nr):
                    xu[j, r] += xb[a, r] * u
        for c in range(k):
            q = lj[c]
            for r in range(nr):
                q[r] = 0.0
            for j in range(d):
                m = mu_u[c, j]
                for r in range(nr):
                    e = xu[j, r] - m
                    q[r] += e * e
            cc = const[c]
            for r in range(nr):
                q[r] = cc - 0.5 * q[r]
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        for a in range(d):
            if has_w:
                for r in range(nr):
                    wz[a, r] = w[b0 + r] * xb[a, r]
            else:
                for r in range(nr):
                    wz[a, r] = xb[a, r]
        for a in range(d):
            for b in range(a + 1):
                acc = 0.0
                for r in range(nr):
                    acc += wz[a, r] * xb[b, r]
                a_out[a, b] += acc
        for c in range(k):
            for j in range(d):
                cg[j] = centre[c, j] - g[j]
            _moments_block(lj[c], nr, xb, cg, nk[c : c + 1], s1[c], diff)
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def diag_fused(X, w, means, prec, const, centre, nk, s1, s2):
    """Diagonal (and spherical) covariances. ``means``, ``prec`` (K, D): means and
    precisions ``1 / var``; ``s1``, ``s2`` (K, D) centred on ``centre``."""
    n, d = X.shape
    k = means.shape[0]
    lj, xb, rowmax, rowsum, kd, scale = _scratch(k, d)
    diff = np.empty((d, BLOCK))
    zero = np.zeros(d)
    ll = 0.0
    for b0 in range(0, n, BLOCK):
        nr = min(BLOCK, n - b0)
        _load_block(X, b0, nr, zero, xb)
        for c in range(k):
            q = lj[c]
            for r in range(nr):
                q[r] = 0.0
            for j in range(d):
                m = means[c, j]
                p = prec[c, j]
                for r in range(nr):
                    e = xb[j, r] - m
                    q[r] += p * (e * e)
            cc = const[c]
            for r in range(nr):
                q[r] = cc - 0.5 * q[r]
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        for c in range(k):
            resp = lj[c]
            if not _moments_block(resp, nr, xb, centre[c], nk[c : c + 1], s1[c], diff):
                continue
            for j in range(d):
                acc = 0.0
                for r in range(nr):
                    e = diff[j, r]
                    acc += resp[r] * (e * e)
                s2[c, j] += acc
    return ll


@nb.njit(fastmath=_EXACT, **_JIT)
def exp_nonpositive(x):
    """``exp`` of a 1-D float64 array of values <= 0 (a copy), for tests."""
    out = x.copy()
    kd = np.empty(x.shape[0])
    scale = np.empty(x.shape[0])
    _exp_block(out, x.shape[0], kd, scale)
    return out
