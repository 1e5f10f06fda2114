"""The numerical pieces of the mclust M-steps: iterative solvers and small helpers.

The models of :mod:`.mclust` write their M-steps with these. With ``W_k``
the weighted scatter of component ``k`` (``reg_covar`` included), each solver
minimises ``sum_k n_k log det Sigma_k + tr(W_k Sigma_k^{-1})`` over one
constrained set:

* :func:`volumes_shared_shape` (VEI, VEV) and :func:`volumes_shared_matrix`
  (VEE) alternate the exact updates of the shared shape (or shape and
  orientation) and of the volumes (Celeux and Govaert 1995); each half-step
  is an exact conditional maximisation, so the criterion never increases.
The common orientation of EVE and VVE is in :mod:`.mclust_orientation`.

Inner iterations start from the previous EM iteration's parameters, recovered
from the previous covariances (:func:`previous_volumes`), so an EM iteration
never lowers the log-likelihood (a generalised EM).
"""

from __future__ import annotations

import numpy as np

from ... import _kernels

_EPS2 = float(np.finfo(np.float64).eps) ** 2


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def tiny(a: np.ndarray) -> float:
    """A positive floor relative to the scale of ``a``: ``eps^2`` times its largest value.

    It keeps logarithms finite for a component whose exact M-step is
    singular (one row, or rows in a lower-dimensional space), and lies far
    below mclust's singularity threshold (``sqrt(eps)`` on the square roots
    of the covariance's eigenvalues), so that a floored component is always
    found degenerate (:mod:`.degeneracy`).
    """
    pos = np.abs(a[np.isfinite(a)])
    scale = float(pos.max()) if pos.size and pos.max() > 0 else 1.0
    return scale * _EPS2


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
    kern = _kernels.mclust_kernels()
    if kern is not None:
        return kern.volumes_shared_shape(_f64(w), _f64(nk), _f64(lam), float(tol), int(max_iter))
    d = w.shape[1]
    floor = tiny(w)
    w = np.maximum(w, floor)
    lam = np.maximum(lam, floor)
    obj = np.inf
    for _ in range(max_iter):
        # a component at the floor (no spread: one row) carries no information on the shape
        live = lam > floor
        b = (w[live] / lam[live, None]).sum(axis=0) if live.any() else w.sum(axis=0)
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
    kern = _kernels.mclust_kernels()
    if kern is not None:
        return kern.volumes_shared_matrix(_f64(W), _f64(nk), _f64(lam), float(tol), int(max_iter))
    d = W.shape[-1]
    floor = tiny(W)
    lam = np.maximum(lam, floor)
    obj = np.inf
    for _ in range(max_iter):
        # a component at the floor (no spread: one row) carries no information on the shape
        live = lam > floor
        C = _unit_det((W[live] / lam[live, None, None]).sum(axis=0) if live.any() else W.sum(axis=0))
        Cinv = np.linalg.inv(C)
        lam = np.maximum(np.einsum("kij,ji->k", W, Cinv) / (d * nk), floor)
        new = float(d * (nk * np.log(lam)).sum())
        if _converged(obj, new, tol):
            break
        obj = new
    return lam, C


def previous_volumes(previous: np.ndarray | None, k: int, fallback: np.ndarray) -> np.ndarray:
    """Volumes ``det(Sigma_k)^(1/D)`` of the previous covariances ((K, D) or (K, D, D))."""
    if previous is None or previous.shape[0] != k:
        return fallback
    if previous.ndim == 2:
        return gmean(np.maximum(previous, tiny(previous)))
    return root_det(previous)
