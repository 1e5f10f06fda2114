"""numba versions of the inner solvers of mclust's iterative M-steps (importing this imports numba).

Each is the loop of its NumPy twin, step for step (same updates, floors and
stopping rule), so the two agree to rounding:

====================================  ==============================================================
kernel                                NumPy twin
====================================  ==============================================================
:func:`volumes_shared_shape`          :func:`emix.families.gaussian.mclust_steps.volumes_shared_shape`
:func:`volumes_shared_matrix`         :func:`emix.families.gaussian.mclust_steps.volumes_shared_matrix`
:func:`orientation`                   :func:`emix.families.gaussian.mclust_orientation.orientation`
====================================  ==============================================================

The M-steps' matrices are tiny (D <= 10 or so, K <= 10 or so): in NumPy each
inner iteration is dozens of calls on them; here it is one loop.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}
_EPS2 = float(np.finfo(np.float64).eps) ** 2


@nb.njit(**_JIT)
def _tiny(a):
    """``eps^2`` times the largest absolute value of ``a`` (1 if there is none)."""
    top = 0.0
    for v in a.ravel():
        if np.isfinite(v) and abs(v) > top:
            top = abs(v)
    return (top if top > 0.0 else 1.0) * _EPS2


@nb.njit(**_JIT)
def _gmean(v):
    return np.exp(np.log(v).mean())


@nb.njit(**_JIT)
def _converged(old, new, tol):
    return old - new <= tol * max(abs(new), 1.0)


@nb.njit(**_JIT)
def volumes_shared_shape(w, nk, lam0, tol, max_iter):
    """VEI, VEV: volumes ``lam`` (K,) and a shared shape ``a`` (D,) (see the NumPy twin)."""
    k, d = w.shape
    floor = _tiny(w)
    w = np.maximum(w, floor)
    lam = np.maximum(lam0, floor)
    a = np.ones(d)
    obj = np.inf
    for _ in range(max_iter):
        b = np.zeros(d)
        live = 0
        for c in range(k):
            if lam[c] > floor:
                live += 1
                for j in range(d):
                    b[j] += w[c, j] / lam[c]
        if live == 0:
            for c in range(k):
                for j in range(d):
                    b[j] += w[c, j]
        g = _gmean(b)
        for j in range(d):
            a[j] = b[j] / g
        new = 0.0
        for c in range(k):
            s = 0.0
            for j in range(d):
                s += w[c, j] / a[j]
            lam[c] = max(s / (d * nk[c]), floor)
            new += nk[c] * np.log(lam[c])
        new *= d
        if _converged(obj, new, tol):
            break
        obj = new
    return lam, a


@nb.njit(**_JIT)
def _unit_det(m):
    sign, logdet = np.linalg.slogdet(m)
    d = m.shape[0]
    if sign <= 0:
        return m / max(np.trace(m) / d, _tiny(m))
    return m / np.exp(logdet / d)


@nb.njit(**_JIT)
def volumes_shared_matrix(W, nk, lam0, tol, max_iter):
    """VEE: volumes ``lam`` (K,) and a shared matrix ``C`` (D, D) of determinant one."""
    k, d, _ = W.shape
    floor = _tiny(W)
    lam = np.maximum(lam0, floor)
    C = np.eye(d)
    obj = np.inf
    for _ in range(max_iter):
        S = np.zeros((d, d))
        live = 0
        for c in range(k):
            if lam[c] > floor:
                live += 1
                S += W[c] / lam[c]
        if live == 0:
            for c in range(k):
                S += W[c]
        C = _unit_det(S)
        Cinv = np.linalg.inv(C)
        new = 0.0
        for c in range(k):
            t = 0.0
            for i in range(d):
                for j in range(d):
                    t += W[c, i, j] * Cinv[j, i]
            lam[c] = max(t / (d * nk[c]), floor)
            new += nk[c] * np.log(lam[c])
        new *= d
        if _converged(obj, new, tol):
            break
        obj = new
    return lam, C


@nb.njit(**_JIT)
def _jacobi_eigh(A, V):
    """Eigenvalues of the symmetric ``A`` (overwritten) by cyclic Jacobi rotations; ``V`` gets the
    eigenvectors (columns). For the tiny matrices here it beats a LAPACK call; False when it did
    not converge in 30 sweeps (the caller then takes LAPACK's)."""
    d = A.shape[0]
    for i in range(d):
        for j in range(d):
            V[i, j] = 1.0 if i == j else 0.0
    for _ in range(30):
        off = 0.0
        scale = 0.0
        for i in range(d):
            scale += A[i, i] * A[i, i]
            for j in range(i + 1, d):
                off += A[i, j] * A[i, j]
        if off <= 1e-32 * scale or off == 0.0:
            return True
        for p in range(d - 1):
            for q in range(p + 1, d):
                apq = A[p, q]
                if apq == 0.0:
                    continue
                theta = (A[q, q] - A[p, p]) / (2.0 * apq)
                t = (1.0 if theta >= 0.0 else -1.0) / (abs(theta) + np.sqrt(theta * theta + 1.0))
                c = 1.0 / np.sqrt(t * t + 1.0)
                sn = t * c
                for r in range(d):
                    arp, arq = A[r, p], A[r, q]
                    A[r, p] = c * arp - sn * arq
                    A[r, q] = sn * arp + c * arq
                for r in range(d):
                    apr, aqr = A[p, r], A[q, r]
                    A[p, r] = c * apr - sn * aqr
                    A[q, r] = sn * apr + c * aqr
                for r in range(d):
                    vrp, vrq = V[r, p], V[r, q]
                    V[r, p] = c * vrp - sn * vrq
                    V[r, q] = sn * vrp + c * vrq
    return False


@nb.njit(**_JIT)
def _polar(F):
    """The orthogonal polar factor ``U V^T`` of ``F = U S V^T``.

    As ``F (F^T F)^(-1/2)`` from the eigendecomposition of ``F^T F`` (Jacobi
    rotations: a fraction of an SVD's cost at these sizes) when ``F`` is well
    conditioned (``F^T F`` within ``1e-8`` of singular: ``F`` within ``1e-4``),
    else from the SVD.
    """
    d = F.shape[0]
    G = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            acc = 0.0
            for p in range(d):
                acc += F[p, i] * F[p, j]
            G[i, j] = acc
    V = np.empty((d, d))
    if not _jacobi_eigh(G, V):
        U, _, Vt = np.linalg.svd(F)
        return U @ Vt
    lam = np.empty(d)
    lo, hi = np.inf, 0.0
    for p in range(d):
        lam[p] = G[p, p]
        lo = min(lo, lam[p])
        hi = max(hi, lam[p])
    if not (lo > 1e-8 * hi and lo > 0.0):
        U, _, Vt = np.linalg.svd(F)
        return U @ Vt
    for p in range(d):
        lam[p] = 1.0 / np.sqrt(lam[p])
    for i in range(d):
        for j in range(d):
            acc = 0.0
            for p in range(d):
                acc += V[i, p] * V[j, p] * lam[p]
            G[i, j] = acc
    out = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            acc = 0.0
            for p in range(d):
                acc += F[i, p] * G[p, j]
            out[i, j] = acc
    return out


@nb.njit(**_JIT)
def _shapes(m, nk, equal_volume, a, v):
    """Shapes ``a`` and variances ``v`` (K, D) from ``m_k = diag(D^T W_k D)`` (floored at
    :func:`_tiny` of ``m``, in place); returns the target ``sum_kj m_kj / a_kj``."""
    k, d = m.shape
    floor = _tiny(m)
    for c in range(k):
        for j in range(d):
            if m[c, j] < floor:
                m[c, j] = floor
    target = 0.0
    if equal_volume:
        for c in range(k):
            acc = 0.0
            for j in range(d):
                acc += np.log(m[c, j])
            g = np.exp(acc / d)
            for j in range(d):
                a[c, j] = m[c, j] / g
                target += m[c, j] / a[c, j]
        lam = target / (nk.sum() * d)
        for c in range(k):
            for j in range(d):
                v[c, j] = lam * a[c, j]
        return target
    for c in range(k):
        acc = 0.0
        for j in range(d):
            v[c, j] = m[c, j] / nk[c]
            acc += np.log(v[c, j])
        g = np.exp(acc / d)
        for j in range(d):
            a[c, j] = v[c, j] / g
            target += m[c, j] / a[c, j]
    return target


@nb.njit(**_JIT)
def orientation(W, nk, D0, v0, equal_volume, tol, max_iter):
    """EVE, VVE: mclust's inner algorithm (two MM steps per iteration) from ``(D0, v0)``.

    Returns the orientation ``D`` (D, D) (columns are the axes) and the
    variances ``v`` (K, D) along them. The small products are loops (no BLAS
    call per product) into buffers made once.
    """
    k, d, _ = W.shape
    omega = np.empty(k)
    for c in range(k):
        omega[c] = np.linalg.eigvalsh(W[c])[d - 1]
    v = v0.copy()
    a = np.empty((k, d))
    for c in range(k):
        g = _gmean(v[c])
        for j in range(d):
            a[c, j] = v[c, j] / g
    Dt = np.ascontiguousarray(D0.T)
    D = np.empty((d, d))
    m = np.empty((k, d))
    F = np.empty((d, d))
    WD = np.empty((d, d))
    target_prev = np.inf
    for _ in range(max_iter):
        # F1 = sum_k A_k^-1 D^T (W_k - omega_k I)
        F[:] = 0.0
        for c in range(k):
            for i in range(d):
                ai = 1.0 / a[c, i]
                for j in range(d):
                    acc = 0.0
                    for p in range(d):
                        acc += Dt[i, p] * W[c, p, j]
                    F[i, j] += ai * (acc - omega[c] * Dt[i, j])
        P = _polar(F)
        for i in range(d):
            for j in range(d):
                D[i, j] = P[j, i]
        # F2 = sum_k W_k D (A_k^-1 - mu_k I)
        F[:] = 0.0
        for c in range(k):
            mu = 0.0
            for j in range(d):
                mu = max(mu, 1.0 / a[c, j])
            for i in range(d):
                for j in range(d):
                    acc = 0.0
                    for p in range(d):
                        acc += W[c, i, p] * D[p, j]
                    WD[i, j] = acc
            for i in range(d):
                for j in range(d):
                    F[i, j] += WD[i, j] / a[c, j] - mu * WD[i, j]
        P = _polar(F)
        for i in range(d):
            for j in range(d):
                Dt[i, j] = P[j, i]
        # m_kj = (D^T W_k D)_jj, with the rows of Dt the axes
        for c in range(k):
            for j in range(d):
                s = 0.0
                for p in range(d):
                    acc = 0.0
                    for q in range(d):
                        acc += W[c, p, q] * Dt[j, q]
                    s += Dt[j, p] * acc
                m[c, j] = s
        target = _shapes(m, nk, equal_volume, a, v)
        if abs(target - target_prev) <= tol * (1.0 + abs(target)):
            break
        target_prev = target
    return np.ascontiguousarray(Dt.T), v
