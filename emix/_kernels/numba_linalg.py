"""The compiled Cholesky of the M-step of the full and tied models (importing this imports numba).

Reached as ``kernels().precision_cholesky_batch`` (:mod:`.numba_gaussian` re-exports it).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}


@nb.njit(**_JIT)
def precision_cholesky_batch(cov, out):
    """Upper ``U_k = inv(chol(cov_k))^T`` for a stack of small SPD matrices.

    ``cov`` (m, D, D) float64, ``out`` (m, D, D) float64 (overwritten). The
    Cholesky factor is computed row by row (Cholesky-Banachiewicz) and inverted
    by forward substitution. Returns False, leaving ``out`` undefined, as soon
    as one matrix is not (numerically) positive definite or not finite.
    """
    m, d, _ = cov.shape
    L = np.zeros((d, d))
    inv = np.zeros((d, d))
    for c in range(m):
        for i in range(d):
            for j in range(i + 1):
                s = cov[c, i, j]
                for p in range(j):
                    s -= L[i, p] * L[j, p]
                if i == j:
                    if not (s > 0.0 and np.isfinite(s)):
                        return False
                    L[i, i] = np.sqrt(s)
                else:
                    L[i, j] = s / L[j, j]
        for j in range(d):
            inv[j, j] = 1.0 / L[j, j]
            for i in range(j + 1, d):
                s = 0.0
                for p in range(j, i):
                    s += L[i, p] * inv[p, j]
                inv[i, j] = -s / L[i, i]
        for a in range(d):
            for b in range(d):
                v = inv[b, a] if b >= a else 0.0
                if not np.isfinite(v):
                    return False
                out[c, a, b] = v
    return True
