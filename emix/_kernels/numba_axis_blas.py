"""The diagonal and spherical kernels through BLAS, for wide data (importing this imports numba).

For ``D`` of :data:`AXIS_BLAS_MIN_FEATURES` features or more, the two sums over the features
of :func:`~.numba_axis.diag_fused_shifted` (the log-densities ``sum_j a_kj z_j + b_kj
z_j**2``, the statistics ``sum_n r_nk z_n`` and ``sum_n r_nk z_n**2``) are matrix
products of one block's features ``F = [z, z**2]`` (rows, 2D): ``F C^T`` with the
coefficients ``C = [a, b]`` (K, 2D), then ``R^T F`` with the block's responsibilities
``R`` (rows, K). Both are plain products in BLAS's column-major terms (no operand
transposed): the first is computed as ``C F^T``, with ``C`` held as ``C^T`` (2D, K)
row-major, which takes 40-60% less time than with ``F`` transposed (``op(A) = A^T``) at
these shapes (measured at 100k rows, 16 x 8 and 64 x 16). BLAS blocks those products in
registers and the L1 cache, which the loops (two components per sweep over a block held in
L2 at D = 64) cannot. The spherical model's features are ``[z, |z|**2]`` (rows, D + 1),
with ``b``'s first column.

Both products run in the data's dtype (``sgemm`` for float32), over blocks of
:data:`~.numba_blas.BLAS_BLOCK` rows, with the loops' conventions: log-densities widened
to float64 for the normalisation, counts summed in float64 before the subnormal floor,
block sums added in float64.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_blas import BLAS_BLOCK, gemm, gemm_args
from .numba_gaussian import _FAST, _JIT, _block_scratch, _normalise_block, subnormal_floor

#: from this many features on, the diagonal and spherical kernels run their sums in BLAS
AXIS_BLAS_MIN_FEATURES = 16


@nb.njit(fastmath=_FAST, **_JIT)
def axis_blas(X, w, g, a, b, const, nk, t1, t2, moments):
    """The diagonal (``b`` (K, D)) or spherical (``b`` (K, 1)) model around the shift ``g``.

    ``X`` (n, D) float64 or float32; ``g`` (D,), ``a`` (K, D), ``b``: ``X``'s dtype;
    ``const``, ``nk`` (K,), ``t1`` (K, D), ``t2`` (K, ``b.shape[1]``): float64, added to:
    ``t2[k, j] += sum_n r_nk w_n z_nj**2`` (diagonal) or ``t2[k, 0] += sum_n r_nk w_n
    |z_n|**2`` (spherical). Returns the log-likelihood; ``moments=False``: that only.
    """
    n, d = X.shape
    k = a.shape[0]
    sq = b.shape[1]
    m = d + sq
    blk = BLAS_BLOCK
    lj, rowmax, rowsum, kd, scale = _block_scratch(k, blk)
    feats = np.empty((blk, m), X.dtype)  # row-major: z, then its squares (no transpose)
    coef = np.empty((m, k), X.dtype)  # column-major (K, m): C
    dens = np.empty((blk, k), X.dtype)  # column-major (K, rows): C F^T
    resp = np.empty((k, blk), X.dtype)  # column-major (rows, K): floored responsibilities
    tb = np.empty((k, m), X.dtype)  # column-major (m, K): F^T R
    for c in range(k):
        for j in range(d):
            coef[j, c] = a[c, j]
        for j in range(sq):
            coef[d + j, c] = b[c, j]
    chars, dims, one, zero = gemm_args(X.dtype)
    floor = subnormal_floor(X)
    ll = 0.0
    for b0 in range(0, n, blk):
        nr = min(blk, n - b0)
        _load_features(X, b0, nr, g, feats, sq == 1)
        dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = k, nr, m, k, m, k
        gemm(chars, False, dims, one, zero, coef, feats, dens)
        for r in range(nr):
            for c in range(k):
                lj[c, r] = const[c] + dens[r, c]
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            continue
        for c in range(k):  # counts summed in float64, before the floor
            tot = 0.0
            for r in range(nr):
                v = lj[c, r]
                resp[c, r] = v if v >= floor else 0.0
                tot += v
            nk[c] += tot
        dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = m, k, nr, m, blk, m
        gemm(chars, False, dims, one, zero, feats, resp, tb)
        for c in range(k):
            for j in range(d):
                t1[c, j] += tb[c, j]
            for j in range(sq):
                t2[c, j] += tb[c, d + j]
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def _load_features(X, b0, nr, g, feats, norm):
    """``feats[:nr, :D] = X[b0:b0 + nr] - g`` and beside them their squares (``norm``: one
    column of squared norms), in ``X``'s dtype, row by row (no transpose).

    The differences and their squares are written in two loops over the row: written in one,
    the two stores into the same row were not vectorised (one thread, loading every block of
    100k x 64: 8.8 against 3.5 ms; a diagonal pass 26 to 23 ms, at 200k x 16, K=8 13.5 to
    11.7 ms). The squared norm, one store a row, gained nothing from it.
    """
    d = X.shape[1]
    x_type = X.dtype.type
    for r in range(nr):
        x = X[b0 + r]
        f = feats[r]
        if norm:
            s = x_type(0.0)
            for j in range(d):
                e = x[j] - g[j]
                f[j] = e
                s += e * e
            f[d] = s
        else:
            for j in range(d):
                f[j] = x[j] - g[j]
            for j in range(d):
                f[d + j] = f[j] * f[j]
