"""Block arithmetic shared by the Gaussian kernels' loops (importing this imports numba).

A block holds ``BLOCK`` rows feature by feature, ``(D, BLOCK)``; these are the sums over its
rows that the full and tied loops both take. The compile options of every kernel module are
defined here, at the bottom of their imports.
"""

from __future__ import annotations

import numba as nb

#: fastmath of the model kernels: fused multiply-add and reassociation (so that short
#: reductions vectorise), never ``nnan``/``ninf``
_FAST = {"contract", "reassoc"}

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}


@nb.njit(fastmath=_FAST, inline="always", **_JIT)
def quadratic_densities(y, row0, nr, mu, c, cc, q):
    """``q[:nr] = cc - |y[row0:row0 + D, :nr] - mu[c]|**2 / 2`` over the D features of
    ``mu`` (K, D): component ``c``'s log-densities from its whitened rows."""
    for r in range(nr):
        q[r] = 0.0
    add_squares(y, row0, nr, mu[c], 0, mu.shape[1], q)
    for r in range(nr):
        q[r] = cc - 0.5 * q[r]


@nb.njit(fastmath=_FAST, inline="always", **_JIT)
def add_squares(y, row0, nr, m, j0, nj, q):
    """``q[:nr] += sum_j (y[row0 + j, :nr] - m[j0 + j])**2`` over ``j < nj``."""
    for j in range(nj):
        mj = m[j0 + j]
        yr = y[row0 + j]
        for r in range(nr):
            e = yr[r] - mj
            q[r] += e * e


@nb.njit(fastmath=_FAST, **_JIT)
def add_scatter_lower(rd, diff, nr, out):
    """Add ``sum_r rd[a, r] diff[b, r]`` to ``out[a, b]`` (D, D) for ``b <= a`` (and, beside the
    diagonal, to some ``out[a, a + 1]``, which :func:`~.numba_gaussian._mirror_lower` overwrites).

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


@nb.njit(inline="always")
def scatter_floor(itemsize):
    """Rows whose responsibility for a component is below this are left out of its first and
    second moments (its count still holds them): ``2**-100`` for float32 data (the
    ``subnormal_floor`` of the kernels, below which products would be subnormal), ``2**-130``
    for float64.

    A row left out changes the component's whitened scatter ``S_k`` (about ``n_k I``) by at
    most ``p q``, ``q`` its squared Mahalanobis distance. To reach float64's rounding of
    ``S_k``, ``q`` must exceed ``2**78 n_k``; there, ``q``'s own rounding error is above
    ``2**25`` and the responsibility ``p ~ exp(-q / 2)`` holds no digit. Well separated
    components give most rows responsibilities far below the floor (1e-109 at 16 features in
    the benchmark's data): their scatters then sum some ``1 / K`` of the rows.
    """
    return 2.0**-100 if itemsize == 4 else 2.0**-130
