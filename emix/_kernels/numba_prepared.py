"""Fused kernels with their per-pass preparation inside (importing this imports numba).

The kernels of :mod:`.numba_gaussian` take constants the caller prepares in
NumPy (a dozen small array operations per pass); for small data those
operations cost more than the kernel. The ones here take the parameters
themselves and prepare in the loop.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .numba_axis import diag_fused_shifted, sph_fused_shifted
from .numba_full import full_fused
from .numba_gaussian import _EXACT, _JIT, _LOG_2PI


@nb.njit(fastmath=_EXACT, **_JIT)
def _weighted_centre(log_weights, means):
    """The components' weighted centre ``sum_k pi_k mu_k`` (D,), float64."""
    k, d = means.shape
    top = log_weights.max()
    g = np.zeros(d)
    tot = 0.0
    for c in range(k):
        p = np.exp(log_weights[c] - top)
        tot += p
        for j in range(d):
            g[j] += p * means[c, j]
    for j in range(d):
        g[j] /= tot
    return g


@nb.njit(fastmath=_EXACT, **_JIT)
def diag_fused_all(X, w, log_weights, means, prec, centre, nk, s1, s2, moments=True, spherical=False):
    """:func:`diag_fused_shifted` with its preparation and the shift to the anchors in one call.

    ``X`` float64; ``log_weights`` (K,), ``means``, ``prec`` (the precisions
    ``1 / var``), ``centre`` (K, D): float64. ``nk``, ``s1``, ``s2`` (K, D):
    zeroed by the caller; on return the statistics around ``centre``.
    ``moments=False``: the log-likelihood only (the statistics left as they are).
    ``spherical``: every row of ``prec`` is one value repeated; the pass runs
    :func:`~emix._kernels.numba_axis.sph_fused_shifted` (half the work).
    """
    k, d = means.shape
    g = _weighted_centre(log_weights, means)
    a = np.empty((k, d))
    b = np.empty((k, d))
    const = np.empty(k)
    for c in range(k):
        acc = log_weights[c] - 0.5 * d * _LOG_2PI
        for j in range(d):
            p = prec[c, j]
            m = means[c, j] - g[j]
            a[c, j] = p * m
            b[c, j] = -0.5 * p
            acc += 0.5 * np.log(p) - 0.5 * p * m * m
        const[c] = acc
    if spherical:
        ll = sph_fused_shifted(X, w, g, a, b, const, nk, s1, s2, moments)
    else:
        ll = diag_fused_shifted(X, w, g, a, b, const, nk, s1, s2, moments)
    if not moments:
        return ll
    for c in range(k):
        for j in range(d):
            dl = centre[c, j] - g[j]
            t1 = s1[c, j]
            s2[c, j] = s2[c, j] - 2.0 * dl * t1 + nk[c] * dl * dl
            s1[c, j] = t1 - nk[c] * dl
    return ll


@nb.njit(fastmath=_EXACT, **_JIT)
def full_fused_all(X, w, log_weights, means, U, centre, nk, s1, s2, moments=True):
    """:func:`full_fused` with its constants (``log pi_k + log det U_k - D/2 log(2 pi)``) computed here."""
    k, d = means.shape
    const = np.empty(k)
    for c in range(k):
        acc = log_weights[c] - 0.5 * d * _LOG_2PI
        for j in range(d):
            acc += np.log(U[c, j, j])
        const[c] = acc
    return full_fused(X, w, means, U, const, centre, nk, s1, s2, moments)
