"""The full-covariance fused kernel (importing this module imports numba and SciPy's BLAS).

:func:`full_fused` follows the conventions of :mod:`.numba_gaussian`. Up to
:data:`BLAS_MIN_FEATURES` features its loops run over blocks of
:data:`~.numba_gaussian.BLOCK` rows held feature by feature. From there on, where
the precision factors are triangular (upper as every emix fit holds them, lower as a
``precisions_init`` start does), each block's products go to the BLAS that SciPy ships,
called from compiled code (:mod:`.numba_full_blas`, which also prunes the densities that
lie far below a row's own; from :data:`PRUNE_MIN_FEATURES` on, float64 passes start there
and hand the loops their rows where pruning does not pay):
``dtrmm`` for ``(x - mu_k) U_k`` (half a matrix product, the factor being
triangular) and ``dsyrk`` for the lower triangle of the weighted scatter
``sum_r r_rk (x_r - c_k)(x_r - c_k)^T``, given the rows scaled by
``sqrt(r_rk)``, in the data's precision. The loops compute their densities, from
:data:`GEMM_MIN_FEATURES` features on, as one product per block of the rows about the
means' centre ``g`` with all the factors side by side, ``(x - g) [U_1 ... U_K]``, less
``(mu_k - g) U_k`` (a full product, twice the triangular work, at a matrix multiply's
speed: a 16 x 8 pass 1.3 times faster), so BLAS only wins from D = 64 in float64
(``docs/speed.md``). Float32 data, whose loops compute in float64 while BLAS computes
in float32, go to BLAS from :data:`BLAS_MIN_FEATURES_F32` features on.

The BLAS calls and their layout are in :mod:`.numba_blas`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_blas import gemm, gemm_args
from .numba_blocks import add_scatter_lower, add_squares, scatter_floor
from .numba_full_blas import PRUNE_MIN_COMPONENTS, blas_rows, full_blas
from .numba_gaussian import (
    _FAST,
    _JIT,
    BLOCK,
    _add_count,
    _all_upper,
    _load_block,
    _mirror_lower,
    _normalise_block,
    _scratch,
)

#: from this many features on (and up to :data:`GEMM_MAX_COLUMNS` columns ``K D``) the loops'
#: densities are one matrix product per block, ``(x - g) [U_1 ... U_K]``
GEMM_MIN_FEATURES = 4
#: the most columns ``K D`` of that product: its block (K D, 128) stays within 1 MiB
GEMM_MAX_COLUMNS = 1024


#: from this many features on (upper-triangular factors) the loops' product is two: the first
#: ``h = D // 2`` features of the rows by every output column, the rest by the last ``D - h``
#: columns only, which the first ``h`` features of an upper-triangular factor leave out (3/4 of
#: the work; one thread, a block of 128 rows: 16 x 8 7% less time, 32 x 8 12%, 48 x 8 17%; at
#: 8 x 16 3% more)
SPLIT_MIN_FEATURES = 16

#: from this many features on the loops sum a component's moments over the rows at or above
#: :func:`~.numba_blocks.scatter_floor` only, gathered side by side (one thread, the benchmark's
#: start, fresh caches: 200k x 16, K=8 pass 59 to 47.5 ms; at 1M x 8, K=16 the gather cost
#: more than the scatter it saved, 234 against 224 ms)
GATHER_MIN_FEATURES = 16


#: from this many features on, an upper-triangular factor's products run in BLAS (one thread,
#: 50k rows, loops with their densities in one product: D = 48, K = 8 loops 62 ms against
#: BLAS's 72; D = 64 112 against 110 ms)
BLAS_MIN_FEATURES = 64
#: the same where the loops' densities are not one product (``K D`` above
#: :data:`GEMM_MAX_COLUMNS`; D = 48, K = 32: loops 300 ms against BLAS's 275)
BLAS_MIN_FEATURES_WIDE_K = 48
#: the same for float32 data, whose loops compute in float64 while BLAS computes in float32
#: (D = 24, K = 8: even at 17.8 ms; D = 32 loops 29.7 against BLAS's 22.1 ms)
BLAS_MIN_FEATURES_F32 = 32
#: from this many features on (float64, upper or lower factors, at least
#: :data:`~.numba_full_blas.PRUNE_MIN_COMPONENTS` components) a pass starts in BLAS with its
#: densities pruned and hands the rest of its rows to the loops at the first block where
#: pruning does not pay (one thread, 100k rows, the benchmark's separated blobs: D = 40,
#: K = 8 loops 57 ms against 48; D = 48 91 against 60; D = 56 125 against 69; D = 32 40
#: against 42, but K = 16 85 against 75)
PRUNE_MIN_FEATURES = 40


@nb.njit(**_JIT)
def uses_blas(X, U):
    """Whether :func:`full_fused` runs in BLAS for data like ``X`` and factors ``U`` (K, D, D):
    from :data:`BLAS_MIN_FEATURES` features on (:data:`BLAS_MIN_FEATURES_F32` for float32
    data, :data:`BLAS_MIN_FEATURES_WIDE_K` where the loops would not take their product),
    when every factor is upper triangular or every one lower (a start from ``precisions_init``)."""
    k, d = U.shape[0], U.shape[1]
    if X.itemsize == 4:
        d_min = BLAS_MIN_FEATURES_F32
    else:
        d_min = BLAS_MIN_FEATURES if _loops_by_gemm(k, d) else BLAS_MIN_FEATURES_WIDE_K
    return d >= d_min and _triangular(U)


@nb.njit(**_JIT)
def _loops_by_gemm(k, d):
    """Whether :func:`_full_loops` computes its densities as one product per block."""
    return d >= GEMM_MIN_FEATURES and k * d <= GEMM_MAX_COLUMNS


@nb.njit(fastmath=_FAST, **_JIT)
def full_fused(X, w, means, U, const, centre, nk, s1, s2, moments=True):
    """Full covariances. ``U`` (K, D, D): precision Cholesky factors (upper or lower
    triangular, or full). ``s2`` (K, D, D) must be zero on entry: the lower
    triangles are accumulated and mirrored to the upper ones at the end.
    ``moments=False``: the log-likelihood only (``nk``, ``s1``, ``s2`` untouched).
    From :data:`BLAS_MIN_FEATURES` features on (float32: :data:`BLAS_MIN_FEATURES_F32`), a
    triangular ``U`` goes to BLAS; from :data:`PRUNE_MIN_FEATURES` on, float64 passes start
    there while pruning pays."""
    if uses_blas(X, U):
        return full_blas(X, w, means, U, const, centre, nk, s1, s2, moments)
    if _prunes_first(X, U):
        ll, done = blas_rows(X, w, means, U, const, centre, nk, s1, s2, moments, True)
        if done == X.shape[0]:
            _mirror_lower(s2)
            return ll
        rest = w[done:] if w.shape[0] > 0 else w
        return ll + _full_loops(X[done:], rest, means, U, const, centre, nk, s1, s2, moments)
    return _full_loops(X, w, means, U, const, centre, nk, s1, s2, moments)


@nb.njit(**_JIT)
def _prunes_first(X, U):
    """Whether :func:`full_fused` starts in BLAS with pruned densities below
    :data:`BLAS_MIN_FEATURES` (:data:`PRUNE_MIN_FEATURES`; float64 data, triangular factors)."""
    k, d = U.shape[0], U.shape[1]
    if X.itemsize == 4 or d < PRUNE_MIN_FEATURES or k < PRUNE_MIN_COMPONENTS:
        return False
    return _triangular(U)


@nb.njit(**_JIT)
def _triangular(U):
    """Whether the factors ``U`` (K, D, D) are all upper triangular or all lower (the BLAS
    path's two kinds)."""
    return _all_upper(U) or _all_upper(np.swapaxes(U, 1, 2))


@nb.njit(fastmath=_FAST, **_JIT)
def _full_loops(X, w, means, U, const, centre, nk, s1, s2, moments):
    """:func:`full_fused` in loops over blocks of ``BLOCK`` rows held feature by feature.

    From :data:`GEMM_MIN_FEATURES` features on, the rows are held about the means' centre
    ``g`` and the densities come from one product per block (:func:`~.numba_blocks.quadratic_densities`), as
    scikit-learn computes ``x U - mu U`` (here about ``g``, so that a far data set loses no
    digits to its offset); the statistics are the loops' either way. From
    :data:`GATHER_MIN_FEATURES` features on, a component's moments sum only the rows at or
    above :func:`~.numba_blocks.scatter_floor`, unless they are most of the block.
    """
    n, d = X.shape
    k = means.shape[0]
    upper = _all_upper(U)
    by_gemm = _loops_by_gemm(k, d)
    lj, xb, rowmax, rowsum, kd, scale = _scratch(k, d)
    diff = np.empty((d, BLOCK))
    rd = np.empty((d, BLOCK))
    g = np.zeros(d)
    if by_gemm:
        for c in range(k):
            for a in range(d):
                g[a] += means[c, a] / k
    mg = np.empty((k, d))  # the means and the anchors about g
    cg = np.empty((k, d))
    for c in range(k):
        for a in range(d):
            mg[c, a] = means[c, a] - g[a]
            cg[c, a] = centre[c, a] - g[a]
    h = d // 2 if by_gemm and upper and d >= SPLIT_MIN_FEATURES else d
    h2 = d - h
    wt, wt2, mu_u = _stacked_factors(U, mg, h)  # K D**2 work: made whether used or not
    yk = np.empty((k * d if by_gemm else 0, BLOCK))
    chars, dims, one, zero = gemm_args(xb.dtype)
    y = np.empty(BLOCK)
    kept = np.empty(BLOCK, dtype=np.int64)
    floor = scatter_floor(X.itemsize)
    gather = d >= GATHER_MIN_FEATURES
    ll = 0.0
    for b0 in range(0, n, BLOCK):
        nr = min(BLOCK, n - b0)
        _load_block(X, b0, nr, g, xb)
        if by_gemm:
            dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = nr, k * d, h, BLOCK, h, BLOCK
            gemm(chars, False, dims, one, zero, xb, wt, yk)  # the first h features' part
            if h2 > 0:  # the rest, added to the last D - h columns of each component
                dims[1], dims[2], dims[4] = k * h2, h2, h2
                gemm(chars, False, dims, one, one, xb[h:], wt2, yk[k * h :])
            for c in range(k):
                q = lj[c]
                for r in range(nr):
                    q[r] = 0.0
                add_squares(yk, c * h, nr, mu_u[c], 0, h, q)
                add_squares(yk, k * h + c * h2, nr, mu_u[c], h, h2, q)
                cc = const[c]
                for r in range(nr):
                    q[r] = cc - 0.5 * q[r]
        else:
            _densities_loops(xb, nr, mg, U, upper, const, lj, diff, y)
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            continue
        for c in range(k):
            resp = lj[c]
            if not _add_count(resp, nr, nk, c):
                continue
            m = _count_kept(resp, nr, floor) if gather else nr
            if 2 * m > nr:  # most rows: the block as it lies (gathered rows cost more)
                m = nr
                _dense_moments(resp, nr, xb, cg[c], s1[c], diff, rd)
            elif m == 0:
                continue
            else:
                _kept_rows(resp, nr, floor, kept)
                _gather_moments(resp, kept, m, xb, cg[c], s1[c], diff, rd)
            add_scatter_lower(rd, diff, m, s2[c])
    _mirror_lower(s2)
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def _count_kept(resp, nr, floor):
    """How many rows ``r < nr`` have ``resp[r] >= floor`` (:func:`~.numba_blocks.scatter_floor`)."""
    m = 0
    for r in range(nr):
        m += resp[r] >= floor
    return m


@nb.njit(fastmath=_FAST, **_JIT)
def _kept_rows(resp, nr, floor, kept):
    """Write the rows ``r < nr`` with ``resp[r] >= floor`` to the front of ``kept``, in order
    (without a branch: each row is written, and the next one overwrites it unless kept)."""
    m = 0
    for r in range(nr):
        kept[m] = r
        m += resp[r] >= floor


@nb.njit(fastmath=_FAST, **_JIT)
def _dense_moments(resp, nr, xb, centre, s1, diff, rd):
    """:func:`_gather_moments` where every row ``r < nr`` is kept."""
    d = xb.shape[0]
    for a in range(d):
        ca = centre[a]
        acc = 0.0
        for r in range(nr):
            e = xb[a, r] - ca
            v = resp[r] * e
            diff[a, r] = e
            rd[a, r] = v
            acc += v
        s1[a] += acc


@nb.njit(fastmath=_FAST, **_JIT)
def _gather_moments(resp, kept, m, xb, centre, s1, diff, rd):
    """Add ``sum_i resp[r_i] (x_{r_i} - centre)`` over the rows ``r_i = kept[i]``, ``i < m``, to
    ``s1`` (D,); leave ``diff[:, i] = x_{r_i} - centre`` and ``rd[:, i] = resp[r_i] diff[:, i]``
    for the scatter, the kept rows side by side."""
    d = xb.shape[0]
    for a in range(d):
        ca = centre[a]
        acc = 0.0
        for i in range(m):
            r = kept[i]
            e = xb[a, r] - ca
            v = resp[r] * e
            diff[a, i] = e
            rd[a, i] = v
            acc += v
        s1[a] += acc


@nb.njit(**_JIT)
def _stacked_factors(U, mg, h):
    """The factors side by side for the loops' product, split at feature ``h``, and ``mu_u``
    (K, D), ``mg[c] U_c``.

    ``wt`` (K D, h) holds the first ``h`` rows of every ``U_c`` (column-major, its columns
    ``(c, j)`` for ``j < h`` first, at ``c h + j``, then those for ``j >= h``, at ``K h + c (D -
    h) + j - h``); ``wt2`` (K (D - h), D - h) the rest of the last ``D - h`` columns, at ``c (D
    - h) + j - h``. ``h = D``: one product, ``wt[c D + j, a] = U[c, a, j]``.
    """
    k, d = mg.shape
    h2 = d - h
    wt = np.empty((k * d, h))
    wt2 = np.empty((k * h2, h2))
    mu_u = np.zeros((k, d))
    for c in range(k):
        for j in range(d):
            col = c * h + j if j < h else k * h + c * h2 + j - h
            acc = 0.0
            for a in range(d):
                u = U[c, a, j]
                if a < h:
                    wt[col, a] = u
                elif j >= h:
                    wt2[c * h2 + j - h, a - h] = u
                acc += mg[c, a] * u
            mu_u[c, j] = acc
    return wt, wt2, mu_u


@nb.njit(fastmath=_FAST, **_JIT)
def _densities_loops(xb, nr, mg, U, upper, const, lj, diff, y):
    """``lj[c, :nr] = const[c] - |(x - m_c) U_c|**2 / 2`` column by column of ``U_c``
    (the rows ``xb`` and the means ``mg`` held about the same point)."""
    k, d = mg.shape
    for c in range(k):
        for a in range(d):
            m = mg[c, a]
            for r in range(nr):
                diff[a, r] = xb[a, r] - m
        q = lj[c]
        for r in range(nr):
            q[r] = 0.0
        for j in range(d):
            for r in range(nr):
                y[r] = 0.0
            hi = j + 1 if upper else d
            for a in range(hi):
                u = U[c, a, j]
                for r in range(nr):
                    y[r] += diff[a, r] * u
            for r in range(nr):
                q[r] += y[r] * y[r]
        cc = const[c]
        for r in range(nr):
            q[r] = cc - 0.5 * q[r]
