"""The full-covariance kernel's BLAS path, and its pruned densities (importing this module imports numba).

:func:`full_blas` is :func:`~.numba_full.full_fused` for upper-triangular factors from
:data:`~.numba_full.BLAS_MIN_FEATURES` features on: per block of
:data:`~.numba_blas.BLAS_BLOCK` rows and component, ``dtrmm`` for ``(x - mu_k) U_k`` and
``dsyrk`` for the scatter of the kept rows (:mod:`.numba_blas`).

**Pruned densities.** In well separated data most of a row's ``K`` log-densities lie far
below its largest, and their responsibilities, below :func:`~.numba_blocks.scatter_floor`,
enter no moment. The first ``h = D // 2`` columns of ``(x - mu_k) U_k`` read only the first
``h`` features where ``U_k`` is upper triangular (the last ``h``, the last features, where it
is lower), so a quarter of the product bounds the
log-density from above: ``l_k <= const_k - |y_h|**2 / 2 = b_k``. A block's rows first get
these bounds for every component; each row's best-bounded component is then computed in
full, its ``l`` a lower bound ``M`` of the row's largest; a component is computed in full
only where ``b_k >= M - PRUNE_NATS``, and is otherwise given ``-inf`` (responsibility 0). A
pruned responsibility was below ``exp(-PRUNE_NATS)``, ``2**-138``: under the float64 scatter
floor ``2**-130``, so the moments are those of the unpruned pass, and ``2**-85`` below the
rounding of the row's count and log-likelihood. Where a block computes more than half of
its ``K`` densities in full anyway (overlapping components), the next
:data:`PLAIN_BLOCKS` blocks take the plain products; below
:data:`~.numba_full.BLAS_MIN_FEATURES`, where the loops beat those, the loops take the rest
of the rows (:func:`blas_rows`' ``handoff``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_blas import BLAS_BLOCK, add_scatter, blas_args, trmm_part
from .numba_blocks import _FAST, _JIT, scatter_floor
from .numba_gaussian import _add_count, _all_upper, _block_scratch, _mirror_lower, _normalise_block

#: a log-density bounded this far below a row's computed one is pruned (``exp(-96) =
#: 2**-138.5``, under :func:`~.numba_blocks.scatter_floor` in both precisions)
PRUNE_NATS = 96.0
#: pruning needs this many components (with fewer, a row's own density and the bounds are
#: most of the plain product's work)
PRUNE_MIN_COMPONENTS = 4
#: blocks taken with the plain products after one where pruning did not pay
PLAIN_BLOCKS = 32


@nb.njit(fastmath=_FAST, **_JIT)
def full_blas(X, w, means, U, const, centre, nk, s1, s2, moments):
    """:func:`~.numba_full.full_fused` through BLAS, for triangular ``U`` (same contract): upper
    as every fit holds them, or lower as a start from ``precisions_init`` does (scikit-learn's
    ``L L^T = P``).

    The products run in ``X``'s precision (``strmm``/``ssyrk`` for float32 data, as
    the diagonal kernels compute theirs); the squared norms, the log-sum-exp and the
    sums over blocks are float64, so float32 data are summed more exactly than a
    float32 product over all rows would.
    """
    ll, _ = blas_rows(X, w, means, U, const, centre, nk, s1, s2, moments, False)
    if moments:
        _mirror_lower(s2)
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def blas_rows(X, w, means, U, const, centre, nk, s1, s2, moments, handoff):
    """:func:`full_blas` without the mirroring of ``s2``'s lower triangles; returns the
    log-likelihood and the rows done.

    ``handoff``: stop after the first block where pruning did not pay (where the loops of
    :mod:`.numba_full` would beat the plain products), so that the caller can hand them the
    remaining rows; otherwise every row is done.
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
    lower = not _all_upper(U)
    whole = np.array([d, 0, d], dtype=np.int32)  # trmm_part's columns, rows, stride
    part = np.array([d // 2, 0, d], dtype=np.int32)  # the bounds' columns, rows, stride
    bound = np.empty((k, blk))
    best = np.empty(blk, dtype=np.int64)
    rows = np.empty(blk, dtype=np.int64)
    floor = scatter_floor(X.itemsize)
    plain_left = 0 if k >= PRUNE_MIN_COMPONENTS else n
    ll = 0.0
    for b0 in range(0, n, blk):
        nr = min(blk, n - b0)
        for r in range(nr):
            for a in range(d):
                xb[r, a] = X[b0 + r, a]
        if plain_left > 0:
            plain_left -= 1
            for r in range(nr):
                rows[r] = r
            for c in range(k):
                _exact_rows(xb, rows, nr, mc[c], uc[c], const[c], y, chars, whole, one, lower, lj[c])
        else:
            part[1] = nr
            full = _pruned_densities(
                xb, nr, mc, uc, const, lower, part, whole, y, chars, one, bound, best, rows, lj
            )
            if 2 * full > nr * k:
                plain_left = n if handoff else PLAIN_BLOCKS
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            if handoff and plain_left > 0:
                return ll, b0 + nr
            continue
        for c in range(k):
            resp = lj[c]
            if not _add_count(resp, nr, nk, c):
                continue
            m = 0  # the rows kept, compacted to the front of y
            for r in range(nr):
                p = resp[r]
                if p < floor:
                    continue
                sp = np.sqrt(p)
                for a in range(d):
                    e = xb[r, a] - cc[c, a]
                    s1[c, a] += p * e
                    y[m, a] = sp * e
                m += 1
            if m > 0:
                sizes[1] = m
                add_scatter(chars, sizes, one, zero, y, g, s2[c])
        if handoff and plain_left > 0:
            return ll, b0 + nr
    return ll, n


@nb.njit(fastmath=_FAST, **_JIT)
def _exact_rows(xb, rows, m, mu, u, const, y, chars, whole, one, lower, q):
    """``q[r] = const - |(x_r - mu) u|**2 / 2`` for the rows ``r = rows[i]``, ``i < m``, of the
    block ``xb``: the rows gathered to the front of ``y``, one ``trmm`` (``whole``: its sizes)."""
    d = xb.shape[1]
    for i in range(m):
        r = rows[i]
        for a in range(d):
            y[i, a] = xb[r, a] - mu[a]
    whole[1] = m
    trmm_part(chars, whole, one, u, y, lower)
    for i in range(m):
        q[rows[i]] = const - 0.5 * _square_sum(y[i], 0, d)


@nb.njit(fastmath=_FAST, **_JIT)
def _pruned_densities(xb, nr, mc, uc, const, lower, part, whole, y, chars, one, bound, best, rows, lj):
    """The block's log-densities ``lj[:, :nr]``, those pruned (module docstring) ``-inf``.

    The bounds are the first ``h = part[0]`` columns of the products (upper factors), or the
    last ``h`` (lower ones, whose column ``j`` reads the features ``a >= j``). Returns how many
    of the ``K nr`` densities were computed in full.
    """
    k = mc.shape[0]
    for c in range(k):  # the bounds: h = part[0] columns of every product
        if lower:
            _bounds_lower(xb, nr, mc[c], uc[c], const[c], part, y, chars, one, bound[c])
        else:
            _bounds_upper(xb, nr, mc[c], uc[c], const[c], part, y, chars, one, bound[c])
    for r in range(nr):
        top = 0
        for c in range(1, k):
            if bound[c, r] > bound[top, r]:
                top = c
        best[r] = top
    for c in range(k):
        q = lj[c]
        for r in range(nr):
            q[r] = -np.inf
    for c in range(k):  # each row's best-bounded component, in full
        m = 0
        for r in range(nr):
            rows[m] = r
            m += best[r] == c
        if m > 0:
            _exact_rows(xb, rows, m, mc[c], uc[c], const[c], y, chars, whole, one, lower, lj[c])
    full = nr
    for c in range(k):  # the others that may come within PRUNE_NATS of it
        m = 0
        for r in range(nr):
            rows[m] = r
            m += (best[r] != c) & (bound[c, r] >= lj[best[r], r] - PRUNE_NATS)
        if m > 0:
            _exact_rows(xb, rows, m, mc[c], uc[c], const[c], y, chars, whole, one, lower, lj[c])
            full += m
    return full


@nb.njit(fastmath=_FAST, **_JIT)
def _bounds_upper(xb, nr, mu, u, const, part, y, chars, one, b):
    """``b[:nr]``: the bounds from the first ``h = part[0]`` columns of ``(x - mu) u``, ``u``
    upper triangular (kept apart from :func:`_bounds_lower`: loops from an offset known only
    at run time cost a pass at 100k x 64, K=16 a third more)."""
    h = part[0]
    for r in range(nr):
        for a in range(h):
            y[r, a] = xb[r, a] - mu[a]
    trmm_part(chars, part, one, u, y, False)
    for r in range(nr):
        b[r] = const - 0.5 * _square_sum(y[r], 0, h)


@nb.njit(fastmath=_FAST, **_JIT)
def _bounds_lower(xb, nr, mu, u, const, part, y, chars, one, b):
    """:func:`_bounds_upper` for lower-triangular ``u``: from the last ``h`` columns, which
    read the last ``h`` features only."""
    h = part[0]
    d = xb.shape[1]
    s = d - h
    for r in range(nr):
        for a in range(s, d):
            y[r, a] = xb[r, a] - mu[a]
    trmm_part(chars, part, one, u[s:, s:], y[:, s:], True)
    for r in range(nr):
        b[r] = const - 0.5 * _square_sum(y[r], s, d)


@nb.njit(fastmath=_FAST, inline="always")
def _square_sum(row, lo, hi):
    """``sum_{lo <= j < hi} row[j]**2`` in float64 (a row of a block's products)."""
    t = 0.0
    for j in range(lo, hi):
        v = np.float64(row[j])
        t += v * v
    return t
