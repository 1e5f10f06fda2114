"""A pass over a whole in-memory array in fixed row groups (importing this imports numba).

The fused kernels read their rows in blocks of
:data:`~emix._kernels.numba_gaussian.BLOCK` rows with no temporaries that grow
with the rows, so an in-memory array needs no chunks: one call per pass runs
the kernel over every *group* of rows (the groups' bounds are fixed by the
number of rows alone) and keeps each group's statistics in its own slot of
``(G, ...)`` buffers; :func:`ordered_sum` then adds the slots in group order.
Threads, when there are some, each take a contiguous range of groups
(``g0 <= g < g1``) of the same buffers, so the sums, and the fit, are the same
bits whatever the number of threads.

Conventions: ``bounds`` (G + 1,) int64, row bounds of the groups; ``nk`` (G,
K), ``s1`` (G, K, D), ``s2`` (G, K, D) or (G, K, D, D) or (G, D, D) and
``ll`` (G,): float64 outputs, overwritten for the groups ``g0 <= g < g1``;
``moments=False``: only ``ll`` (the log-likelihood of a final pass).
The other arguments are those of the kernel each function calls.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_axis import diag_fused_shifted, sph_fused_shifted
from .numba_blas import BLAS_BLOCK, add_scatter, blas_args
from .numba_blocks import _FAST
from .numba_gaussian import _JIT, _mirror_lower, tied_fused_all
from .numba_prepared import diag_fused_all, full_fused_all


@nb.njit(**_JIT)
def diag_groups(X, w, log_weights, means, prec, centre, spherical, bounds, g0, g1, nk, s1, s2, ll, moments):
    """:func:`~emix._kernels.numba_prepared.diag_fused_all` (float64 data) over groups ``g0 .. g1 - 1``
    (``spherical``: its spherical kernel)."""
    has_w = w.shape[0] > 0
    for g in range(g0, g1):
        lo, hi = bounds[g], bounds[g + 1]
        nk[g, :] = 0.0
        s1[g, :, :] = 0.0
        s2[g, :, :] = 0.0
        wg = w[lo:hi] if has_w else w[0:0]
        ll[g] = diag_fused_all(
            X[lo:hi], wg, log_weights, means, prec, centre, nk[g], s1[g], s2[g], moments, spherical
        )


@nb.njit(**_JIT)
def diag_shifted_groups(X, w, gc, a, b, const, spherical, bounds, g0, g1, nk, s1, s2, ll, moments):
    """:func:`~emix._kernels.numba_axis.diag_fused_shifted` (any float data) over groups:
    statistics around the shift ``gc``, which the caller moves to the anchors after the sum
    (``spherical``: :func:`~emix._kernels.numba_axis.sph_fused_shifted`)."""
    has_w = w.shape[0] > 0
    for g in range(g0, g1):
        lo, hi = bounds[g], bounds[g + 1]
        nk[g, :] = 0.0
        s1[g, :, :] = 0.0
        s2[g, :, :] = 0.0
        wg = w[lo:hi] if has_w else w[0:0]
        if spherical:
            ll[g] = sph_fused_shifted(X[lo:hi], wg, gc, a, b, const, nk[g], s1[g], s2[g], moments)
        else:
            ll[g] = diag_fused_shifted(X[lo:hi], wg, gc, a, b, const, nk[g], s1[g], s2[g], moments)


@nb.njit(**_JIT)
def full_groups(X, w, log_weights, means, U, centre, bounds, g0, g1, nk, s1, s2, ll, moments):
    """:func:`~emix._kernels.numba_prepared.full_fused_all` over groups ``g0 .. g1 - 1``."""
    has_w = w.shape[0] > 0
    for g in range(g0, g1):
        lo, hi = bounds[g], bounds[g + 1]
        nk[g, :] = 0.0
        s1[g, :, :] = 0.0
        s2[g, :, :, :] = 0.0
        wg = w[lo:hi] if has_w else w[0:0]
        ll[g] = full_fused_all(X[lo:hi], wg, log_weights, means, U, centre, nk[g], s1[g], s2[g], moments)


@nb.njit(**_JIT)
def tied_groups(X, w, log_weights, means, U, centre, known, known_w, bounds, g0, g1, nk, s1, s2, ll, moments):
    """:func:`~emix._kernels.numba_gaussian.tied_fused_all` over groups ``g0 .. g1 - 1``.

    ``known`` (G, D + 2, D) and ``known_w`` (G,): each group's scatter, which does not change
    in a fit, filled by :func:`tied_scatter` at the group's first pass with moments (a
    negative ``known_w[g]``: not yet); ``known`` of shape (0, D + 2, D): none, each pass sums it.
    """
    has_w = w.shape[0] > 0
    d = means.shape[1]
    none = np.empty((0, d))
    for g in range(g0, g1):
        lo, hi = bounds[g], bounds[g + 1]
        nk[g, :] = 0.0
        s1[g, :, :] = 0.0
        s2[g, :, :] = 0.0
        wg = w[lo:hi] if has_w else w[0:0]
        pre, pre_w = none, 0.0
        if known.shape[0] > 0 and moments:
            if known_w[g] < 0.0:
                known_w[g] = tied_scatter(X[lo:hi], wg, known[g])
            pre, pre_w = known[g], known_w[g]
        ll[g] = tied_fused_all(
            X[lo:hi], wg, log_weights, means, U, centre, nk[g], s1[g], s2[g], moments, pre, pre_w
        )


@nb.njit(fastmath=_FAST, **_JIT)
def tied_scatter(X, w, known):
    """The rows' scatter about their weighted mean ``c0``, for
    :func:`~.numba_gaussian.tied_fused_all`; returns ``sum_n w_n``.

    ``known`` (D + 2, D): rows ``0 .. D - 1`` get ``sum_n w_n (x_n - c0)(x_n - c0)^T``, row
    ``D`` gets ``sum_n w_n (x_n - c0)`` (zero but for rounding; kept, so that the shift is
    exact) and row ``D + 1`` gets ``c0``. In float64 (for float32 data too), one ``dsyrk`` per
    block of :data:`~.numba_blas.BLAS_BLOCK` rows scaled by ``sqrt(w_n)``. About the mean, the
    shift to a pass's centre adds the one term that an offset of the rows brings in anyway.
    """
    n, d = X.shape
    blk = BLAS_BLOCK
    has_w = w.shape[0] > 0
    c0 = np.zeros(d)
    wsum = 0.0
    for r in range(n):
        wr = w[r] if has_w else 1.0
        wsum += wr
        for a in range(d):
            c0[a] += wr * X[r, a]
    if wsum > 0.0:
        c0 /= wsum
    xb = np.empty((blk, d))
    gb = np.empty((d, d))
    a_out = np.zeros((d, d))
    s0 = np.zeros(d)
    chars, sizes, one, zero = blas_args(d, np.float64)
    for b0 in range(0, n, blk):
        nr = min(blk, n - b0)
        sizes[1] = nr
        for r in range(nr):
            wr = w[b0 + r] if has_w else 1.0
            sw = np.sqrt(wr)
            for a in range(d):
                e = X[b0 + r, a] - c0[a]
                s0[a] += wr * e
                xb[r, a] = sw * e
        add_scatter(chars, sizes, one, zero, xb, gb, a_out)
    _mirror_lower(a_out.reshape(1, d, d))
    known[:d] = a_out
    known[d] = s0
    known[d + 1] = c0
    return wsum


@nb.njit(**_JIT)
def ordered_sum(buf, out):
    """``out[j] = buf[0, j] + buf[1, j] + ...``, added in row order; ``buf`` (G, M), ``out`` (M,)."""
    g, m = buf.shape
    for j in range(m):
        out[j] = buf[0, j]
    for i in range(1, g):
        for j in range(m):
            out[j] += buf[i, j]
