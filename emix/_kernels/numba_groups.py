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

from .numba_axis import diag_fused_shifted, sph_fused_shifted
from .numba_gaussian import _JIT, tied_fused_all
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
def tied_groups(X, w, log_weights, means, U, centre, bounds, g0, g1, nk, s1, s2, ll, moments):
    """:func:`~emix._kernels.numba_gaussian.tied_fused_all` over groups ``g0 .. g1 - 1``."""
    has_w = w.shape[0] > 0
    for g in range(g0, g1):
        lo, hi = bounds[g], bounds[g + 1]
        nk[g, :] = 0.0
        s1[g, :, :] = 0.0
        s2[g, :, :] = 0.0
        wg = w[lo:hi] if has_w else w[0:0]
        ll[g] = tied_fused_all(X[lo:hi], wg, log_weights, means, U, centre, nk[g], s1[g], s2[g], moments)


@nb.njit(**_JIT)
def ordered_sum(buf, out):
    """``out[j] = buf[0, j] + buf[1, j] + ...``, added in row order; ``buf`` (G, M), ``out`` (M,)."""
    g, m = buf.shape
    for j in range(m):
        out[j] = buf[0, j]
    for i in range(1, g):
        for j in range(m):
            out[j] += buf[i, j]
