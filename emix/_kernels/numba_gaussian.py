"""The numba kernels behind :mod:`emix._kernels` (importing this module imports numba).

Conventions of every ``*_fused`` kernel
--------------------------------------
``X`` : (n, D) float64 or float32, C-contiguous; rows are widened to float64 (full, tied;
    the diagonal and spherical kernels, in :mod:`.numba_axis`, compute their densities and
    per-block sums in ``X``'s dtype).
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

from .numba_blas import BLAS_BLOCK, add_scatter, blas_args, gemm, gemm_args, trmm_upper
from .numba_blocks import _FAST, _JIT, add_scatter_lower, quadratic_densities
from .numba_linalg import precision_cholesky_batch  # noqa: F401  (kernels() gives this namespace)

#: rows per block: the block's (BLOCK, K) scratch stays in the L1 cache
BLOCK = 128


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_SHIFT_BITS = int(np.array(_SHIFT).view(np.int64))
_LOG_2PI = 1.8378770664093453
_EXP_MIN = -708.0  # exp below this is < 2**-1021: taken as 0

_EXACT = {"contract"}


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


_MANTISSA = (1 << 52) - 1
_ONE_BITS = 1023 << 52
_SQRT2 = 1.4142135623730951


@nb.njit(fastmath=_EXACT, **_JIT)
def _log_block(x, m, out, mant):
    """``out[:m] = log(x[:m])`` for ``x`` 0 (giving ``-inf``) or a normal positive float64;
    ``mant``: scratch of length >= m. Branch-free so that it vectorises (``libm``'s scalar
    ``log`` cost 8.3 ns a value, as much as five or six of :func:`_exp_block`'s exponentials
    at about 1.5 ns each).

    ``x = 2**e * u`` with ``u`` in ``[sqrt(2)/2, sqrt(2))`` from the bits; ``log(u) = 2
    atanh(t)``, ``t = f / (2 + f)`` with ``f = u - 1``, ``|t| <= 0.1716``, by its series to
    ``t**21`` (the next term is below ``2**-57`` of the sum), written ``f - t f + 2 t z p``
    (``z = t**2``) so that the rounding of ``t`` enters only the small terms; ``e log(2)`` in
    two parts, as in :func:`_exp_block`. Error within 1 ulp of NumPy's (tested).
    """
    xb = x.view(np.int64)
    mb = mant.view(np.int64)
    for i in range(m):
        mb[i] = (xb[i] & _MANTISSA) | _ONE_BITS  # u in [1, 2)
        out[i] = np.float64((xb[i] >> 52) - 1023)
    for i in range(m):
        u = mant[i]
        e = out[i]
        big = u > _SQRT2
        u = 0.5 * u if big else u
        e = e + 1.0 if big else e
        f = u - 1.0
        t = f / (2.0 + f)
        z = t * t
        p = 1.0 / 21.0
        p = p * z + 1.0 / 19.0
        p = p * z + 1.0 / 17.0
        p = p * z + 1.0 / 15.0
        p = p * z + 1.0 / 13.0
        p = p * z + 1.0 / 11.0
        p = p * z + 1.0 / 9.0
        p = p * z + 1.0 / 7.0
        p = p * z + 1.0 / 5.0
        p = p * z + 1.0 / 3.0
        tt = t + t  # log(u) = 2t + 2t z p = f - t f + 2t z p: t's rounding only in the small terms
        v = e * _LN2_HI + (f - (t * f - (tt * z * p + e * _LN2_LO)))
        out[i] = v if x[i] > 0.0 else -np.inf


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
    _log_block(rowsum, nr, kd, scale)  # kd, scale: free once the exponentials are done
    ll = 0.0
    has_w = w.shape[0] > 0
    for r in range(nr):
        s = rowsum[r]
        wr = w[base + r] if has_w else 1.0
        ll += wr * (rowmax[r] + kd[r])
        rowsum[r] = wr / s if s > 0.0 else 0.0
    for c in range(k):
        for r in range(nr):
            lj[c, r] *= rowsum[r]
    return ll


@nb.njit(inline="always")
def subnormal_floor(X):
    """Responsibilities below this are taken as 0 where they enter products in ``X``'s dtype:
    ``2**-100`` for float32 data (their products with the data would be subnormal, which Intel
    CPUs compute some hundred times slower; such terms are ``2**-76`` below float32's rounding
    of any sum that holds a whole row), 0 for float64 (nothing changes)."""
    return 2.0**-100 if X.itemsize == 4 else 0.0


@nb.njit(**_JIT)
def _block_scratch(k, rows):
    """The normalisation's scratch for blocks of ``rows`` rows: the joint log-probabilities
    ``lj`` (k, rows), then ``rowmax``, ``rowsum``, ``kd``, ``scale`` (rows,)."""
    return np.empty((k, rows)), np.empty(rows), np.empty(rows), np.empty(rows), np.empty(rows)


@nb.njit(**_JIT)
def _scratch(k, d):
    """:func:`_block_scratch` for :data:`BLOCK` rows, with the block ``xb`` (d, BLOCK) second."""
    lj, rowmax, rowsum, kd, scale = _block_scratch(k, BLOCK)
    return lj, np.empty((d, BLOCK)), rowmax, rowsum, kd, scale


@nb.njit(fastmath=_FAST, **_JIT)
def _load_block(X, b0, nr, shift, xb):
    """``xb[:, :nr] = (X[b0:b0 + nr] - shift).T`` in float64."""
    d = X.shape[1]
    for r in range(nr):
        for j in range(d):
            xb[j, r] = X[b0 + r, j] - shift[j]


@nb.njit(fastmath=_FAST, inline="always", **_JIT)
def _add_count(resp, nr, nk, c):
    """Add a block's ``sum_r resp[r]`` (``resp`` (nr,) float64) to ``nk[c]``; False, adding
    nothing, when the block gives the component no weight (its moments can be skipped)."""
    tot = 0.0
    for r in range(nr):
        tot += resp[r]
    if tot == 0.0:
        return False
    nk[c] += tot
    return True


@nb.njit(fastmath=_FAST, **_JIT)
def _moments_block(resp, nr, xb, centre, nk, s1, diff):
    """Add ``sum_r resp[r]`` to ``nk`` and ``sum_r resp[r] (x_r - centre)`` to ``s1``;
    leave ``diff[:, :nr] = (x - centre)`` and return True, or False when ``resp`` is all zero."""
    d = xb.shape[0]
    if not _add_count(resp, nr, nk, 0):
        return False
    for j in range(d):
        cj = centre[j]
        acc = 0.0
        for r in range(nr):
            e = xb[j, r] - cj
            diff[j, r] = e
            acc += resp[r] * e
        s1[j] += acc
    return True


@nb.njit(**_JIT)
def _all_upper(U):
    """True when every (D, D) factor of ``U`` (m, D, D) is upper triangular."""
    m, d, _ = U.shape
    for c in range(m):
        for a in range(1, d):
            for b in range(a):
                if U[c, a, b] != 0.0:
                    return False
    return True


@nb.njit(**_JIT)
def _mirror_lower(s2):
    """Copy the lower triangle of each (D, D) matrix of ``s2`` (m, D, D) to its upper one."""
    m, d, _ = s2.shape
    for c in range(m):
        for a in range(1, d):
            for b in range(a):
                s2[c, b, a] = s2[c, a, b]


@nb.njit(fastmath=_FAST, **_JIT)
def tied_fused(X, w, g, U, mu_u, const, centre, nk, s1, a_out, moments=True, scatter=True):
    """Tied covariance. ``g`` (D,): shift; ``U`` (D, D); ``mu_u`` (K, D) = ``(means - g) U``.

    ``s1`` is centred on ``centre``; ``a_out`` (D, D), zero on entry, gets
    ``sum_n w_n (x_n - g)(x_n - g)^T`` (the caller shifts it to the anchors); ``scatter=False``:
    left as it is (the caller knows it, see :func:`tied_fused_all`).
    Where :func:`tied_uses_blas`, the products run in BLAS (:func:`_tied_blas`).
    """
    scatter = scatter and moments
    if tied_uses_blas(X, U):
        return _tied_blas(X, w, g, U, mu_u, const, centre, nk, s1, a_out, moments, scatter)
    return _tied_loops(X, w, g, U, mu_u, const, centre, nk, s1, a_out, moments, scatter)


@nb.njit(fastmath=_FAST, **_JIT)
def _tied_loops(X, w, g, U, mu_u, const, centre, nk, s1, a_out, moments, scatter=True):
    """:func:`tied_fused` in loops over blocks of :data:`BLOCK` rows held feature by feature,
    in float64."""
    n, d = X.shape
    k = mu_u.shape[0]
    upper = _all_upper(U.reshape(1, d, d))
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
            quadratic_densities(xu, 0, nr, mu_u, c, const[c], lj[c])
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            continue
        if scatter:
            for a in range(d):
                if has_w:
                    for r in range(nr):
                        wz[a, r] = w[b0 + r] * xb[a, r]
                else:
                    for r in range(nr):
                        wz[a, r] = xb[a, r]
            add_scatter_lower(wz, xb, nr, a_out)
        for c in range(k):
            for j in range(d):
                cg[j] = centre[c, j] - g[j]
            _moments_block(lj[c], nr, xb, cg, nk[c : c + 1], s1[c], diff)
    if scatter:
        _mirror_lower(a_out.reshape(1, d, d))
    return ll


#: float32 data from this many features on run the tied model's products in float32 BLAS (one
#: thread, 100k rows: at D = 8, K = 16 the float64 loops took 7.4 ms against BLAS's 10.4 ms, at
#: D = 16 they were even, at D = 24, K = 8 BLAS took 9.7 ms against 12.7 ms)
TIED_BLAS_MIN_FEATURES_F32 = 20
#: float64 data from this many features on run them in BLAS
TIED_BLAS_MIN_FEATURES = 48


@nb.njit(**_JIT)
def tied_uses_blas(X, U):
    """Whether :func:`tied_fused` runs in BLAS for data like ``X`` and the factor ``U`` (D, D):
    an upper-triangular factor, and :data:`TIED_BLAS_MIN_FEATURES_F32` features or more for
    float32 data, :data:`TIED_BLAS_MIN_FEATURES` for float64."""
    d = X.shape[1]
    wide = d >= (TIED_BLAS_MIN_FEATURES_F32 if X.itemsize == 4 else TIED_BLAS_MIN_FEATURES)
    return wide and _all_upper(U.reshape(1, d, d))


@nb.njit(fastmath=_FAST, **_JIT)
def _tied_blas(X, w, g, U, mu_u, const, centre, nk, s1, a_out, moments, scatter=True):
    """:func:`tied_fused` through BLAS, for an upper-triangular ``U`` (same contract).

    Per block of :data:`~.numba_blas.BLAS_BLOCK` rows, one ``trmm`` for ``(x - g) U`` and
    (``scatter``) one ``syrk`` for ``sum_n w_n (x_n - g)(x_n - g)^T`` (of the rows scaled by
    ``sqrt(w_n)``), in the data's precision (:mod:`.numba_blas`); the distances to the
    components are in the data's precision, the log-sum-exp and the sums over blocks float64. The first moments are one float64
    ``gemm`` per block, ``sum_r r_rk (x_r - g)`` for all ``k`` at once, less ``n_k (c_k -
    g)``: the loop over the components, one row at a time, loaded and stored the block's sum
    at every row (one thread, 100k rows, 64 x 16: 16 ms against 5).
    """
    n, d = X.shape
    k = mu_u.shape[0]
    blk = BLAS_BLOCK
    lj, rowmax, rowsum, kd, scale = _block_scratch(k, blk)
    xb = np.empty((blk, d), dtype=X.dtype)  # x - g
    xu = np.empty((blk, d), dtype=X.dtype)  # (x - g) U, then sqrt(w) (x - g)
    x64 = np.empty((blk, d))  # x - g in float64, for the first moments
    gb = np.empty((d, d), dtype=X.dtype)  # one block's scatter
    uc = np.empty((d, d), dtype=X.dtype)  # a contiguous copy: BLAS reads memory, not strides
    gx = np.empty(d, dtype=X.dtype)
    mux = np.empty((k, d), dtype=X.dtype)  # the means' images, in X's dtype
    tb = np.empty((k, d))  # one block's sum_r r_rk (x_r - g)
    bn = np.empty(k)  # one block's sum_r r_rk over the responsibilities above the floor
    for a in range(d):
        gx[a] = g[a]
        for j in range(d):
            uc[a, j] = U[a, j]
    for c in range(k):
        for a in range(d):
            mux[c, a] = mu_u[c, a]
    chars, sizes, one, zero = blas_args(d, X.dtype)
    gch, dims, one64, zero64 = gemm_args(np.float64)
    floor = subnormal_floor(X)
    has_w = w.shape[0] > 0
    ll = 0.0
    for b0 in range(0, n, blk):
        nr = min(blk, n - b0)
        sizes[1] = nr
        for r in range(nr):
            for a in range(d):
                e = X[b0 + r, a] - gx[a]
                xb[r, a] = e
                xu[r, a] = e
        trmm_upper(chars, sizes, one, uc, xu)
        for c in range(k):
            q = lj[c]
            for r in range(nr):
                t = zero[0]
                for j in range(d):
                    v = xu[r, j] - mux[c, j]
                    t += v * v
                q[r] = const[c] - 0.5 * np.float64(t)
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            continue
        if scatter and has_w:
            for r in range(nr):
                sw = np.sqrt(w[b0 + r])
                for a in range(d):
                    xu[r, a] = sw * xb[r, a]
            add_scatter(chars, sizes, one, zero, xu, gb, a_out)
        elif scatter:
            add_scatter(chars, sizes, one, zero, xb, gb, a_out)
        for r in range(nr):
            for a in range(d):
                x64[r, a] = xb[r, a]
        for c in range(k):  # counts summed before the floor, as the loops sum them
            resp = lj[c]
            tot = kept = 0.0
            for r in range(nr):
                v = resp[r]
                tot += v
                v = v if v >= floor else 0.0
                kept += v
                resp[r] = v
            bn[c] = kept  # the moments' own count: Sum_r r_rk (x_r - c_k) over the kept r_rk
            nk[c] += tot
        # column-major tb^T (D, K) = x64^T (D, rows) lj^T (rows, K), lj's leading dimension blk
        dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = d, k, nr, d, blk, d
        gemm(gch, False, dims, one64, zero64, x64, lj, tb)
        for c in range(k):
            for a in range(d):
                s1[c, a] += tb[c, a] - bn[c] * (centre[c, a] - g[a])
    if scatter:
        _mirror_lower(a_out.reshape(1, d, d))
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def tied_fused_all(X, w, log_weights, means, U, centre, nk, s1, s2, moments, known, known_w):
    """Tied covariance, preparation included: the kernel behind ``_tied_numba``.

    From the log-weights (K,), the means (K, D) and the factor ``U`` (D, D) it
    computes the components' weighted centre ``g``, ``(means - g) U`` and the
    constants, runs :func:`tied_fused` and shifts the shared scatter from
    ``g`` to the anchors ``centre`` (K, D): ``s2`` (D, D), zero on entry, gets
    ``sum_k sum_n r_nk w_n (x_n - c_k)(x_n - c_k)^T``.

    ``known`` (D + 2, D) and ``known_w``: the rows' scatter ``A`` about a point ``c0``,
    which does not change in a fit, as :func:`~.numba_groups.tied_scatter` leaves it, and
    their weights' sum ``W``; shifted to ``g`` exactly, ``A + s e^T + e s^T + W e e^T``
    with ``e = c0 - g`` and ``s = sum_n w_n (x_n - c0)``, instead of summed again. Shape
    (0, D): none (summed in the pass).
    """
    k, d = means.shape
    lmax = log_weights.max()
    pi = np.exp(log_weights - lmax)
    pi /= pi.sum()
    g = np.zeros(d)
    for c in range(k):
        for j in range(d):
            g[j] += pi[c] * means[c, j]
    mu_u = np.zeros((k, d))
    for c in range(k):
        for j in range(d):
            acc = 0.0
            for a in range(d):
                acc += (means[c, a] - g[a]) * U[a, j]
            mu_u[c, j] = acc
    logdet = 0.0
    for j in range(d):
        logdet += np.log(U[j, j])
    const = log_weights + (logdet - 0.5 * d * _LOG_2PI)
    have = known.shape[0] > 0
    ll = tied_fused(X, w, g, U, mu_u, const, centre, nk, s1, s2, moments, not have)
    if not moments:
        return ll
    if have:  # sum_n w_n (x_n - g)(x_n - g)^T from the one about c0
        s0 = known[d]
        e = known[d + 1] - g
        for a in range(d):
            for b in range(d):
                s2[a, b] = known[a, b] + s0[a] * e[b] + e[a] * s0[b] + known_w * e[a] * e[b]
    # s2 = A - cross - cross^T + sum_k nk delta_k delta_k^T with t = s1 + nk delta, cross = t^T delta
    for c in range(k):
        for a in range(d):
            da = centre[c, a] - g[a]
            ta = s1[c, a] + nk[c] * da
            for b in range(d):
                db = centre[c, b] - g[b]
                tb = s1[c, b] + nk[c] * db
                s2[a, b] += nk[c] * da * db - ta * db - da * tb
    return ll


@nb.njit(fastmath=_EXACT, **_JIT)
def log_nonnegative(x):
    """``log`` of a 1-D float64 array of 0 or normal positive values (a copy), for tests."""
    out = np.empty(x.shape[0])
    mant = np.empty(x.shape[0])
    _log_block(x, x.shape[0], out, mant)
    return out


@nb.njit(fastmath=_EXACT, **_JIT)
def exp_nonpositive(x):
    """``exp`` of a 1-D float64 array of values <= 0 (a copy), for tests."""
    out = x.copy()
    kd = np.empty(x.shape[0])
    scale = np.empty(x.shape[0])
    _exp_block(out, x.shape[0], kd, scale)
    return out
