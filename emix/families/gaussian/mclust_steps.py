"""The numerical pieces of the mclust M-steps: iterative solvers and small helpers.

The models of :mod:`.mclust` write their M-steps with these. With ``W_k``
the weighted scatter of component ``k`` (``reg_covar`` included), each solver
minimises ``sum_k n_k log det Sigma_k + tr(W_k Sigma_k^{-1})`` over one
constrained set:

* :func:`volumes_shared_shape` (VEI, VEV) and :func:`volumes_shared_matrix`
  (VEE) alternate the exact updates of the shared shape (or shape and
  orientation) and of the volumes (Celeux and Govaert 1995); each half-step
  is an exact conditional maximisation, so the criterion never increases.
* :func:`common_orientation` (EVE, VVE) updates the common orientation with
  a majorisation-minimisation step (the idea of Browne and McNicholas 2014):
  with ``w_k >= `` the largest eigenvalue of ``W_k``,
  ``f(D) = sum_k tr(V_k^{-1} D^T (W_k - w_k I) D)`` is concave in ``D``, so
  its tangent majorises it and the next ``D`` is the orthogonal polar factor
  of ``sum_k (w_k I - W_k) D V_k^{-1}``.

Inner iterations start from the previous EM iteration's parameters, recovered
from the previous covariances (:func:`previous_volumes`,
:func:`orientation_from`), so an EM iteration never lowers the
log-likelihood (a generalised EM).
"""

from __future__ import annotations

import numpy as np


def tiny(a: np.ndarray) -> float:
    """A positive floor relative to the scale of ``a`` (for degenerate components)."""
    pos = np.abs(a[np.isfinite(a)])
    scale = float(pos.max()) if pos.size and pos.max() > 0 else 1.0
    return scale * float(np.finfo(np.float64).eps)


def gmean(v: np.ndarray, axis: int = -1) -> np.ndarray:
    """Geometric mean along ``axis`` of positive values."""
    return np.exp(np.log(v).mean(axis=axis))


def _unit_det(m: np.ndarray) -> np.ndarray:
    """``m / det(m)^(1/D)`` for a symmetric positive definite (D, D) matrix."""
    sign, logdet = np.linalg.slogdet(m)
    if sign <= 0:
        return m / max(np.trace(m) / m.shape[0], tiny(m))
    return m / np.exp(logdet / m.shape[0])


def root_det(W: np.ndarray) -> np.ndarray:
    """``det(W_k)^(1/D)`` for a stack (K, D, D), floored at a tiny positive value."""
    sign, logdet = np.linalg.slogdet(W)
    out = np.where(sign > 0, np.exp(logdet / W.shape[-1]), 0.0)
    return np.maximum(out, tiny(W))


def sorted_eigh(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (K, D) in decreasing order and eigenvectors (K, D, D) as columns."""
    vals, vecs = np.linalg.eigh(W)
    return vals[:, ::-1], vecs[:, :, ::-1]


def _converged(old: float, new: float, tol: float) -> bool:
    return old - new <= tol * max(abs(new), 1.0)


def volumes_shared_shape(
    w: np.ndarray, nk: np.ndarray, lam: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``sum_k [n_k D log lam_k + sum_j w_kj / (lam_k a_j)]`` over ``lam > 0`` and
    diagonal ``a`` with ``prod(a) = 1``, by alternating exact updates from ``lam``.

    Parameters
    ----------
    w : ndarray of shape (K, D)
        Positive diagonal scatters (VEI) or sorted scatter eigenvalues (VEV).
    nk : ndarray of shape (K,)
    lam : ndarray of shape (K,)
        Starting volumes.

    Returns
    -------
    lam : ndarray of shape (K,)
    a : ndarray of shape (D,)
    """
    d = w.shape[1]
    floor = tiny(w)
    w = np.maximum(w, floor)
    lam = np.maximum(lam, floor)
    obj = np.inf
    for _ in range(max_iter):
        b = (w / lam[:, None]).sum(axis=0)
        a = b / gmean(b)
        lam = np.maximum((w / a).sum(axis=1) / (d * nk), floor)
        # with lam optimal given a, the trace term is the constant D n
        new = float(d * (nk * np.log(lam)).sum())
        if _converged(obj, new, tol):
            break
        obj = new
    return lam, a


def volumes_shared_matrix(
    W: np.ndarray, nk: np.ndarray, lam: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`volumes_shared_shape` with a full shared matrix ``C`` (det 1): VEE.

    Returns ``lam`` (K,) and ``C`` (D, D).
    """
    d = W.shape[-1]
    floor = tiny(W)
    lam = np.maximum(lam, floor)
    obj = np.inf
    for _ in range(max_iter):
        C = _unit_det((W / lam[:, None, None]).sum(axis=0))
        Cinv = np.linalg.inv(C)
        lam = np.maximum(np.einsum("kij,ji->k", W, Cinv) / (d * nk), floor)
        new = float(d * (nk * np.log(lam)).sum())
        if _converged(obj, new, tol):
            break
        obj = new
    return lam, C


def common_orientation(
    W: np.ndarray,
    nk: np.ndarray,
    D0: np.ndarray,
    diag_update,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``sum_k n_k log det V_k + tr(W_k D V_k^{-1} D^T)`` over orthogonal ``D``
    and diagonal ``V_k`` restricted by ``diag_update`` (EVE, VVE).

    ``diag_update(m, nk)`` returns the optimal ``V`` (K, D) given the rotated
    diagonals ``m_k = diag(D^T W_k D)``; ``D`` is updated by one MM step per
    iteration (see the module docstring), which never increases the criterion.

    Returns
    -------
    D : ndarray of shape (D, D)
    V : ndarray of shape (K, D)
    """
    d = W.shape[-1]
    floor = tiny(W)
    omega = np.linalg.eigvalsh(W)[:, -1]
    eye = np.eye(d)
    shifted = omega[:, None, None] * eye - W  # positive semi-definite
    Dm = D0
    obj = np.inf
    V = None
    for _ in range(max_iter):
        m = np.maximum(np.einsum("ji,kjl,li->ki", Dm, W, Dm), floor)
        V_new = np.maximum(diag_update(m, nk), floor)
        new = float((nk * np.log(V_new).sum(axis=1)).sum() + (m / V_new).sum())
        if V is not None and new > obj:  # rounding: keep the previous (better) point
            break
        V, D_kept = V_new, Dm
        if _converged(obj, new, tol):
            break
        obj = new
        H = np.einsum("kij,jl,kl->il", shifted, Dm, 1.0 / V)
        U, _, Vt = np.linalg.svd(H)
        Dm = U @ Vt
    return D_kept, V


def orientation_from(previous: np.ndarray | None, W: np.ndarray) -> np.ndarray:
    """A starting common orientation: the eigenvectors shared by the previous covariances
    (a generic combination of them, which they all diagonalise), else those of sum W_k."""
    if previous is None or previous.ndim != 3:
        base = W.sum(axis=0)
    else:
        k = previous.shape[0]
        t = 1.0 + np.arange(k) * 0.6180339887
        scale = np.trace(previous, axis1=1, axis2=2)[:, None, None]
        base = (t[:, None, None] * previous / scale).sum(axis=0)
    return np.linalg.eigh(base)[1]


def previous_volumes(previous: np.ndarray | None, k: int, fallback: np.ndarray) -> np.ndarray:
    """Volumes ``det(Sigma_k)^(1/D)`` of the previous covariances ((K, D) or (K, D, D))."""
    if previous is None or previous.shape[0] != k:
        return fallback
    if previous.ndim == 2:
        return gmean(np.maximum(previous, tiny(previous)))
    return root_det(previous)
