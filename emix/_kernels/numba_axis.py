"""The axis-aligned models' fused kernels, diagonal and spherical (importing this imports numba).

Both follow the conventions of :mod:`.numba_gaussian` (blocks of
:data:`~emix._kernels.numba_gaussian.BLOCK` rows, its exponential and
normalisation) and compute their densities and per-block sums in the data's
dtype (float32 data: twice the SIMD lanes of float64).

:func:`diag_fused_shifted` expands each log-density around a shift ``g``:
``const[k] + sum_j a[k, j] z_j + b[k, j] z_j**2`` with ``z = x - g``, two
multiply-adds per element and component, and two more for its statistics.

A spherical component has one precision ``p_k``, so :func:`sph_fused_shifted`
computes ``const[k] + sum_j a[k, j] z_j + b_k |z|**2`` with ``|z|**2`` once per
row: one multiply-add per element and component instead of two. Its M-step
needs, beside ``sum_n r_nk z_n``, only the scalar ``sum_n r_nk |z_n|**2`` per
component (again one multiply-add per element and component, not two).

:func:`sph_fused_shifted` has the contract of :func:`diag_fused_shifted` (the
same arguments, ``b`` (K, D) read in its first column, and the same ``(K, D)``
statistics), so every caller of the diagonal kernel can call it for the
spherical model. Its ``t2`` is a *split* of the per-component scalar over the
features: the call's own contribution to ``t2[k, j]`` is ``t1_kj**2 / n_k +
W_k / D``, where ``W_k = sum_n r_nk |z_n - zbar_k|**2`` is the call's scatter
about its own mean. Then ``t2[k, j] - t1[k, j]**2 / n_k`` is ``W_k / D`` for
every ``j``: the diagonal M-step's per-feature variances are all the spherical
variance, their mean is it, and sums of several calls (chunks, groups) and the
shift to the anchors keep both properties, since the split is additive and
non-negative per feature (``sum_c a_c**2 / b_c >= (sum_c a_c)**2 / sum_c b_c``).

From :data:`~.numba_axis_blas.AXIS_BLAS_MIN_FEATURES` features on, both kernels hand their
sums over the features to BLAS (:mod:`.numba_axis_blas`); :func:`diag_loops` and
:func:`sph_loops` are the loops below that.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_axis_blas import AXIS_BLAS_MIN_FEATURES, axis_blas
from .numba_gaussian import _FAST, _JIT, BLOCK, _block_scratch, _normalise_block, subnormal_floor


@nb.njit(fastmath=_FAST, **_JIT)
def diag_fused_shifted(X, w, g, a, b, const, nk, t1, t2, moments=True):
    """Diagonal (and spherical) covariances around one shift, in the data's precision.

    With ``z = x - g`` (``g`` (D,), the components' weighted centre) the
    log-density of component ``k`` is ``const[k] + sum_j a[k, j] z_j +
    b[k, j] z_j**2``: two multiply-adds per element and component, computed
    in ``X``'s dtype (float32 data: twice the SIMD lanes of float64). The
    log-densities are widened to float64 for the log-sum-exp and the
    responsibilities; the statistics ``t1 = sum_n r_nk w_n z_n`` and ``t2 =
    sum_n r_nk w_n z_n**2`` are summed in the data's dtype over a block of
    :data:`BLOCK` rows and in float64 across blocks (the caller shifts them
    to the anchors in float64).

    ``g``, ``a``, ``b`` (K, D): ``X``'s dtype; ``const`` (K,), ``nk`` (K,),
    ``t1``, ``t2`` (K, D): float64. ``moments=False``: the log-likelihood only.
    From :data:`~.numba_axis_blas.AXIS_BLAS_MIN_FEATURES` features on, the sums run in BLAS
    (:func:`~.numba_axis_blas.axis_blas`).
    """
    if X.shape[1] >= AXIS_BLAS_MIN_FEATURES:
        return axis_blas(X, w, g, a, b, const, nk, t1, t2, moments)
    return diag_loops(X, w, g, a, b, const, nk, t1, t2, moments)


@nb.njit(fastmath=_FAST, **_JIT)
def diag_loops(X, w, g, a, b, const, nk, t1, t2, moments=True):
    """:func:`diag_fused_shifted` in loops over blocks held feature by feature (any ``D``)."""
    n, d = X.shape
    k = a.shape[0]
    lj, rowmax, rowsum, kd, scale = _block_scratch(k, BLOCK)
    z = np.empty((d, BLOCK), X.dtype)
    z2 = np.empty((d, BLOCK), X.dtype)
    q = np.empty(BLOCK, X.dtype)
    q1 = np.empty(BLOCK, X.dtype)
    ra = np.empty(BLOCK, X.dtype)
    rb = np.empty(BLOCK, X.dtype)
    floor = subnormal_floor(X)
    ll = 0.0
    for b0 in range(0, n, BLOCK):
        nr = min(BLOCK, n - b0)
        for j in range(d):
            gj = g[j]
            for r in range(nr):
                e = X[b0 + r, j] - gj
                z[j, r] = e
                z2[j, r] = e * e
        for c in range(0, k, 2):  # two components per sweep: each z, z2 loaded once for both
            c1 = c + 1 if c + 1 < k else c
            _diag_density_two(a[c], b[c], a[c1], b[c1], z, z2, nr, q, q1)
            cc = const[c]
            row = lj[c]
            for r in range(nr):
                row[r] = cc + q[r]
            if c1 != c:
                cc = const[c1]
                row = lj[c1]
                for r in range(nr):
                    row[r] = cc + q1[r]
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            continue
        for c in range(0, k, 2):  # two components at a time: each z, z2 loaded once for both
            two = c + 1 < k
            tot_a = 0.0
            tot_b = 0.0
            for r in range(nr):
                v = lj[c, r]
                ra[r] = v if v >= floor else 0.0
                tot_a += v
            if two:
                for r in range(nr):
                    v = lj[c + 1, r]
                    rb[r] = v if v >= floor else 0.0
                    tot_b += v
            nk[c] += tot_a
            if not two:
                _diag_moments_one(ra, z, z2, nr, t1[c], t2[c])
                continue
            nk[c + 1] += tot_b
            _diag_moments_two(ra, rb, z, z2, nr, t1[c], t2[c], t1[c + 1], t2[c + 1])
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def _diag_density_two(a, b, a1, b1, z, z2, nr, q, q1):
    """``q[:nr] = sum_j a[j] z[j] + b[j] z2[j]`` and ``q1`` the same with ``a1``, ``b1``: two
    components and two features per sweep over the rows (six loads and two stores per eight
    multiply-adds)."""
    d = a.shape[0]
    for r in range(nr):
        q[r] = 0.0
        q1[r] = 0.0
    j = 0
    while j + 1 < d:
        u0, v0, u1, v1 = a[j], b[j], a[j + 1], b[j + 1]
        x0, y0, x1, y1 = a1[j], b1[j], a1[j + 1], b1[j + 1]
        for r in range(nr):
            e0 = z[j, r]
            f0 = z2[j, r]
            e1 = z[j + 1, r]
            f1 = z2[j + 1, r]
            q[r] += (u0 * e0 + v0 * f0) + (u1 * e1 + v1 * f1)
            q1[r] += (x0 * e0 + y0 * f0) + (x1 * e1 + y1 * f1)
        j += 2
    if j < d:
        u0, v0, x0, y0 = a[j], b[j], a1[j], b1[j]
        for r in range(nr):
            q[r] += u0 * z[j, r] + v0 * z2[j, r]
            q1[r] += x0 * z[j, r] + y0 * z2[j, r]


@nb.njit(fastmath=_FAST, **_JIT)
def _diag_moments_one(ra, z, z2, nr, t1, t2):
    """``t1 += sum_r ra[r] z[:, r]``, ``t2 += sum_r ra[r] z2[:, r]`` (block sums in the data's dtype)."""
    d = z.shape[0]
    zero = ra[0] - ra[0]  # 0 in the data's dtype (``ra[0] * 0`` would be float64: int promotes float32)
    for j in range(d):
        s1 = zero
        s2 = zero
        for r in range(nr):
            s1 += ra[r] * z[j, r]
            s2 += ra[r] * z2[j, r]
        t1[j] += s1
        t2[j] += s2


@nb.njit(fastmath=_FAST, **_JIT)
def _diag_moments_two(ra, rb, z, z2, nr, t1a, t2a, t1b, t2b):
    """:func:`_diag_moments_one` for two components at once, two features per sweep over the
    rows (six loads per eight multiply-adds)."""
    d = z.shape[0]
    zero = ra[0] - ra[0]  # 0 in the data's dtype (responsibilities are finite)
    j = 0
    while j + 1 < d:
        s1a = zero
        s2a = zero
        s1b = zero
        s2b = zero
        u1a = zero
        u2a = zero
        u1b = zero
        u2b = zero
        for r in range(nr):
            pa = ra[r]
            pb = rb[r]
            zz = z[j, r]
            zq = z2[j, r]
            yy = z[j + 1, r]
            yq = z2[j + 1, r]
            s1a += pa * zz
            s2a += pa * zq
            s1b += pb * zz
            s2b += pb * zq
            u1a += pa * yy
            u2a += pa * yq
            u1b += pb * yy
            u2b += pb * yq
        t1a[j] += s1a
        t2a[j] += s2a
        t1b[j] += s1b
        t2b[j] += s2b
        t1a[j + 1] += u1a
        t2a[j + 1] += u2a
        t1b[j + 1] += u1b
        t2b[j + 1] += u2b
        j += 2
    if j < d:
        s1a = zero
        s2a = zero
        s1b = zero
        s2b = zero
        for r in range(nr):
            zz = z[j, r]
            zq = z2[j, r]
            s1a += ra[r] * zz
            s2a += ra[r] * zq
            s1b += rb[r] * zz
            s2b += rb[r] * zq
        t1a[j] += s1a
        t2a[j] += s2a
        t1b[j] += s1b
        t2b[j] += s2b


@nb.njit(fastmath=_FAST, **_JIT)
def sph_fused_shifted(X, w, g, a, b, const, nk, t1, t2, moments=True):
    """Spherical covariances around one shift, in the data's precision.

    ``X`` (n, D) float64 or float32; ``g`` (D,), ``a`` (K, D), ``b`` (K, D) (its
    first column, ``-p_k / 2``, is read): ``X``'s dtype; ``const`` (K,), ``nk``
    (K,), ``t1``, ``t2`` (K, D): float64, added to. Returns the log-likelihood.
    ``moments=False``: the log-likelihood only. From
    :data:`~.numba_axis_blas.AXIS_BLAS_MIN_FEATURES` features on, the sums run in BLAS
    (:func:`~.numba_axis_blas.axis_blas`, with the squared norms as one more feature).
    """
    if X.shape[1] < AXIS_BLAS_MIN_FEATURES:
        return sph_loops(X, w, g, a, b, const, nk, t1, t2, moments)
    k, d = a.shape
    own_nk = np.zeros(k)
    own_t1 = np.zeros((k, d))
    own_t2 = np.zeros((k, 1))
    ll = axis_blas(X, w, g, a, b[:, :1], const, own_nk, own_t1, own_t2, moments)
    if moments:
        _split_into(own_nk, own_t1, own_t2[:, 0], nk, t1, t2)
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def sph_loops(X, w, g, a, b, const, nk, t1, t2, moments=True):
    """:func:`sph_fused_shifted` in loops over blocks held feature by feature (any ``D``)."""
    n, d = X.shape
    k = a.shape[0]
    lj, rowmax, rowsum, kd, scale = _block_scratch(k, BLOCK)
    z = np.empty((d, BLOCK), X.dtype)
    zz = np.empty(BLOCK, X.dtype)
    q0 = np.empty(BLOCK, X.dtype)
    q1 = np.empty(BLOCK, X.dtype)
    ra = np.empty(BLOCK, X.dtype)
    rb = np.empty(BLOCK, X.dtype)
    own_nk = np.zeros(k)
    own_t1 = np.zeros((k, d))
    own_t2 = np.zeros(k)
    floor = subnormal_floor(X)
    ll = 0.0
    for b0 in range(0, n, BLOCK):
        nr = min(BLOCK, n - b0)
        _load_centred(X, b0, nr, g, z, zz)
        for c in range(0, k, 2):
            if c + 1 < k:
                _sph_density_two(a[c], a[c + 1], z, nr, q0, q1)
            else:
                _sph_density_two(a[c], a[c], z, nr, q0, q1)
            _finish_row(lj[c], const[c], b[c, 0], zz, q0, nr)
            if c + 1 < k:
                _finish_row(lj[c + 1], const[c + 1], b[c + 1, 0], zz, q1, nr)
        ll += _normalise_block(lj, nr, w, b0, rowmax, rowsum, kd, scale)
        if not moments:
            continue
        for c in range(0, k, 2):  # counts summed in float64, before the floor (as diag's)
            two = c + 1 < k
            tot_a = 0.0
            tot_b = 0.0
            for r in range(nr):
                v = lj[c, r]
                ra[r] = v if v >= floor else 0.0
                tot_a += v
            if two:
                for r in range(nr):
                    v = lj[c + 1, r]
                    rb[r] = v if v >= floor else 0.0
                    tot_b += v
            else:
                for r in range(nr):
                    rb[r] = 0.0
            own_nk[c] += tot_a
            if two:
                own_nk[c + 1] += tot_b
            _sph_moments_two(ra, rb, z, zz, nr, c, two, own_t1, own_t2)
    if moments:
        _split_into(own_nk, own_t1, own_t2, nk, t1, t2)
    return ll


@nb.njit(fastmath=_FAST, **_JIT)
def _load_centred(X, b0, nr, g, z, zz):
    """``z[:, :nr] = (X[b0:b0 + nr] - g).T`` and ``zz[:nr]`` their squared norms, in ``X``'s dtype."""
    d = X.shape[1]
    for r in range(nr):
        zz[r] = 0.0
    for j in range(d):
        gj = g[j]
        for r in range(nr):
            e = X[b0 + r, j] - gj
            z[j, r] = e
            zz[r] += e * e


@nb.njit(fastmath=_FAST, **_JIT)
def _sph_density_two(a0, a1, z, nr, q0, q1):
    """``q0[:nr] = a0 . z``, ``q1[:nr] = a1 . z``: each row of ``z`` loaded once for both, four
    features per sweep over the rows (six loads and two stores per eight multiply-adds)."""
    d = z.shape[0]
    for r in range(nr):
        q0[r] = 0.0
        q1[r] = 0.0
    j = 0
    while j + 3 < d:
        u0, u1, u2, u3 = a0[j], a0[j + 1], a0[j + 2], a0[j + 3]
        v0, v1, v2, v3 = a1[j], a1[j + 1], a1[j + 2], a1[j + 3]
        for r in range(nr):
            e0 = z[j, r]
            e1 = z[j + 1, r]
            e2 = z[j + 2, r]
            e3 = z[j + 3, r]
            q0[r] += (u0 * e0 + u1 * e1) + (u2 * e2 + u3 * e3)
            q1[r] += (v0 * e0 + v1 * e1) + (v2 * e2 + v3 * e3)
        j += 4
    while j < d:
        u0 = a0[j]
        v0 = a1[j]
        for r in range(nr):
            e0 = z[j, r]
            q0[r] += u0 * e0
            q1[r] += v0 * e0
        j += 1


@nb.njit(fastmath=_FAST, **_JIT)
def _finish_row(row, cc, bc, zz, q, nr):
    """``row[:nr] = const + q + b |z|**2``, widened to float64."""
    for r in range(nr):
        row[r] = cc + (q[r] + bc * zz[r])


@nb.njit(fastmath=_FAST, **_JIT)
def _sph_moments_two(ra, rb, z, zz, nr, c, two, t1, t2):
    """Block sums (in the data's dtype) of components ``c`` and ``c + 1`` (when ``two``), added
    in float64 to ``t1`` (K, D) and the scalar second moments ``t2`` (K,)."""
    d = z.shape[0]
    zero = ra[0] - ra[0]  # 0 in the data's dtype (responsibilities are finite)
    qa = zero
    qb = zero
    for r in range(nr):
        qa += ra[r] * zz[r]
        qb += rb[r] * zz[r]
    t2[c] += qa
    if two:
        t2[c + 1] += qb
    j = 0
    while j + 1 < d:  # two features at a time: four loads per four multiply-adds
        sa0 = zero
        sb0 = zero
        sa1 = zero
        sb1 = zero
        for r in range(nr):
            e0 = z[j, r]
            e1 = z[j + 1, r]
            sa0 += ra[r] * e0
            sb0 += rb[r] * e0
            sa1 += ra[r] * e1
            sb1 += rb[r] * e1
        t1[c, j] += sa0
        t1[c, j + 1] += sa1
        if two:
            t1[c + 1, j] += sb0
            t1[c + 1, j + 1] += sb1
        j += 2
    if j < d:
        sa0 = zero
        sb0 = zero
        for r in range(nr):
            e0 = z[j, r]
            sa0 += ra[r] * e0
            sb0 += rb[r] * e0
        t1[c, j] += sa0
        if two:
            t1[c + 1, j] += sb0


@nb.njit(fastmath={"contract"}, **_JIT)
def _split_into(own_nk, own_t1, own_t2, nk, t1, t2):
    """Add this call's statistics to ``nk``, ``t1`` and, split over the features, ``t2``."""
    k, d = own_t1.shape
    for c in range(k):
        n_c = own_nk[c]
        nk[c] += n_c
        if n_c <= 0.0:
            continue
        explained = 0.0
        for j in range(d):
            m = own_t1[c, j]
            t1[c, j] += m
            explained += m * m / n_c
        share = (own_t2[c] - explained) / d
        for j in range(d):
            m = own_t1[c, j]
            t2[c, j] += m * m / n_c + share
