"""The full-covariance fused kernel (importing this module imports numba and SciPy's BLAS).

:func:`full_fused` follows the conventions of :mod:`.numba_gaussian`. Up to
:data:`BLAS_MIN_FEATURES` features its loops run over blocks of
:data:`~.numba_gaussian.BLOCK` rows held feature by feature. From there on, where
the precision factors are upper triangular (as every emix fit holds them), each
block's products go to the BLAS that SciPy ships, called from compiled code:
``dtrmm`` for ``(x - mu_k) U_k`` (half a matrix product, the factor being
triangular) and ``dsyrk`` for the lower triangle of the weighted scatter
``sum_r r_rk (x_r - c_k)(x_r - c_k)^T``, given the rows scaled by
``sqrt(r_rk)``, in the data's precision. At D = 64 that is 1.5 times the loops'
speed in float64 and 2.4 times in float32, in one thread (``docs/speed.md``); at
D = 32 the two are even in float64, below it the loops win. Float32 data, whose loops
compute in float64 while BLAS computes in float32, go to BLAS from
:data:`BLAS_MIN_FEATURES_F32` features on.

The BLAS calls and their layout are in :mod:`.numba_blas`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_blas import BLAS_BLOCK, add_scatter, blas_args, trmm_upper
from .numba_gaussian import (
    _FAST,
    _JIT,
    BLOCK,
    _add_count,
    _all_upper,
    _block_scratch,
    _load_block,
    _mirror_lower,
    _moments_block,
    _normalise_block,
    _scratch,
    subnormal_floor,
)

#: from this many features on, an upper-triangular factor's products run in BLAS
BLAS_MIN_FEATURES = 48
#: the same for float32 data (one thread, 50k rows, K = 8: at D = 16 the float64 loops took
#: 11.5 ms against BLAS's 10.8, within the spread; at D = 24 22.8 against 17.2 ms, at D = 32
#: 39.3 against 22.7 ms)
BLAS_MIN_FEATURES_F32 = 24


@nb.njit(fastmath=_FAST, **_JIT)
def _full_blas(X, w, means, U, const, centre, nk, s1, s2, moments):
    """:func:`full_fused` through BLAS, for upper-triangular ``U`` (same contract).

    The products run in ``X``'s precision (``strmm``/``ssyrk`` for float32 data, as
    the diagonal kernels compute theirs); the squared norms, the log-sum-exp and the
    sums over blocks are float64, so float32 data are summed more exactly than a
    float32 product over all rows would.

    """
    n, d = X.shape
    k = means.shape[0]
    blk = BLAS_BLOCK
    lj, rowmax, rowsum, kd, scale = _block_scratch(k, blk)
    xb = np.empty((blk, d), dtype=X.dtype)
    y = np.empty((blk, d), dtype=X.dtype)
    g = np.empty((d, d), dtype=X.dtype)  # one block's scatter
    uc = np.empty((k, d, d), dtype=X.dtype)  # contiguous copies: BLAS reads memory, not strides
    mc = np.empty((k, d), dtype=X.dtype)
    cc = np.empty((k, d), dtype=X.dtype)
    for c in range(k):
        for a in range(d):
            mc[c, a] = means[c, a]
            cc[c, a] = centre[c, a]
            for j in range(d):
                uc[c, a, j] = U[c, a, j]
    chars, sizes, one, zero = blas_args(d, X.dtype)
    floor = subnormal_floor(X)
    ll = 0.0
    for b0 in range(0, n, blk):
        nr = min(blk, n - b0)
        sizes[1] = nr
        for r in range(nr):
            for a in range(d):
                xb[r, a] = X[b0 + r, a]
        for c in range(k):
            for r in range(nr):
                for a in range(d):
                    y[r, a] = xb[r, a] - mc[c, a]
            trmm_upper(chars, sizes, one, uc[c], y)
            q = lj[c]
            for r in range(nr):
                t = 0.0
                for j in range(d):
                    v = np.float64(y[r, j])
                    t += v * v
                q[r] = const[c] - 0.5 * t
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            continue
        for c in range(k):
            resp = lj[c]
            if not _add_count(resp, nr, nk, c):
                continue
            for r in range(nr):
                p = resp[r]
                sp = np.sqrt(p) if p >= floor else 0.0
                for a in range(d):
                    e = xb[r, a] - cc[c, a]
                    s1[c, a] += p * e
                    y[r, a] = sp * e
            add_scatter(chars, sizes, one, zero, y, g, s2[c])
    if moments:
        _mirror_lower(s2)
    return ll


@nb.njit(**_JIT)
def uses_blas(X, U):
    """Whether :func:`full_fused` runs in BLAS for data like ``X`` and factors ``U`` (K, D, D):
    from :data:`BLAS_MIN_FEATURES` features on (:data:`BLAS_MIN_FEATURES_F32` for float32
    data), when every factor is upper triangular."""
    d_min = BLAS_MIN_FEATURES_F32 if X.itemsize == 4 else BLAS_MIN_FEATURES
    return U.shape[1] >= d_min and _all_upper(U)


@nb.njit(fastmath=_FAST, **_JIT)
def full_fused(X, w, means, U, const, centre, nk, s1, s2, moments=True):
    """Full covariances. ``U`` (K, D, D): precision Cholesky factors (upper or lower
    triangular, or full). ``s2`` (K, D, D) must be zero on entry: the lower
    triangles are accumulated and mirrored to the upper ones at the end.
    ``moments=False``: the log-likelihood only (``nk``, ``s1``, ``s2`` untouched).
    From :data:`BLAS_MIN_FEATURES` features on (float32: :data:`BLAS_MIN_FEATURES_F32`), an
    upper-triangular ``U`` goes to BLAS."""
    if uses_blas(X, U):
        return _full_blas(X, w, means, U, const, centre, nk, s1, s2, moments)
    return _full_loops(X, w, means, U, const, centre, nk, s1, s2, moments)


@nb.njit(fastmath=_FAST, **_JIT)
def _full_loops(X, w, means, U, const, centre, nk, s1, s2, moments):
    """:func:`full_fused` in loops over blocks of ``BLOCK`` rows held feature by feature."""
    n, d = X.shape
    k = means.shape[0]
    upper = _all_upper(U)
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
        if not moments:
            continue
        for c in range(k):
            resp = lj[c]
            if not _moments_block(resp, nr, xb, centre[c], nk[c : c + 1], s1[c], diff):
                continue
            for a in range(d):
                for r in range(nr):
                    rd[a, r] = resp[r] * diff[a, r]
            _add_scatter_lower(rd, diff, nr, s2[c])
    _mirror_lower(s2)
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def _add_scatter_lower(rd, diff, nr, out):
    """Add ``sum_r rd[a, r] diff[b, r]`` to ``out[a, b]`` (D, D) for ``b <= a`` (and, beside the
    diagonal, to some ``out[a, a + 1]``, which :func:`_mirror_lower` overwrites).

    Two rows ``a`` by four ``b`` at a time: 6 loads for 8 multiply-adds, where one dot product
    at a time made 2 loads each (one thread, 100k rows, K = 16: D = 32 pass 161 to 139 ms, D = 16
    47 to 43 ms).
    """
    d = out.shape[0]
    a0 = 0
    while a0 + 1 < d:
        b0 = 0
        while b0 + 4 <= a0 + 2:
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
            for r in range(nr):
                x0, x1 = rd[a0, r], rd[a0 + 1, r]
                e0, e1, e2, e3 = diff[b0, r], diff[b0 + 1, r], diff[b0 + 2, r], diff[b0 + 3, r]
                s00 += x0 * e0
                s01 += x0 * e1
                s02 += x0 * e2
                s03 += x0 * e3
                s10 += x1 * e0
                s11 += x1 * e1
                s12 += x1 * e2
                s13 += x1 * e3
            out[a0, b0] += s00
            out[a0, b0 + 1] += s01
            out[a0, b0 + 2] += s02
            out[a0, b0 + 3] += s03
            out[a0 + 1, b0] += s10
            out[a0 + 1, b0 + 1] += s11
            out[a0 + 1, b0 + 2] += s12
            out[a0 + 1, b0 + 3] += s13
            b0 += 4
        for b in range(b0, a0 + 2):
            s0 = s1 = 0.0
            for r in range(nr):
                e = diff[b, r]
                s0 += rd[a0, r] * e
                s1 += rd[a0 + 1, r] * e
            out[a0, b] += s0
            out[a0 + 1, b] += s1
        a0 += 2
    if a0 < d:  # the last row of an odd D
        for b in range(a0 + 1):
            acc = 0.0
            for r in range(nr):
                acc += rd[a0, r] * diff[b, r]
            out[a0, b] += acc
