"""The common orientation of EVE and VVE, found as mclust finds it.

Both models write ``Sigma_k = D diag(v_k) D^T`` with one orthogonal ``D``.
Given ``D``, the best ``v_k`` are closed forms of ``m_k = diag(D^T W_k D)``
(``W_k`` the scatter of component ``k``):

* EVE (equal volume): ``a_k = m_k / gmean(m_k)``, ``lambda = sum_kj m_kj /
  a_kj / (n D)``, ``v_k = lambda a_k``;
* VVE: ``s_k = m_k / n_k``, ``lambda_k = gmean(s_k)``, ``v_k = s_k``.

``D`` is updated, as mclust's ``meeve`` / ``mevve`` do, by two
majorisation-minimisation steps per inner iteration (Browne and McNicholas
2014): with ``omega_k`` the largest eigenvalue of ``W_k``, the polar factor of
``F1 = sum_k A_k^-1 D^T (W_k - omega_k I)``, then with ``mu_k`` the largest
``1 / a_kj``, that of ``F2 = sum_k W_k D (A_k^-1 - mu_k I)`` (``A_k`` the shapes,
of determinant one). The inner iterations stop when the target
``sum_kj m_kj / a_kj`` changes by at most ``tol`` relatively (mclust's
``tol[2] = sqrt(eps)``).

For VVE this ``D`` step is mclust's, which weighs every component by its
shape alone: the criterion in ``D`` is ``sum_k tr(W_k D V_k^-1 D^T)`` with
``V_k = lambda_k A_k``, and mclust leaves out the ``1 / lambda_k``. Its M-step
is then not exactly VVE's, and its EM may lower the likelihood near the end;
emix keeps mclust's step (so that from mclust's start it takes mclust's
iterations), and the EM driver does not accept a step that lowers the
likelihood (it ends EM at the point before, see
:func:`emix.engine.run_em`). With the volumes in, the step would be an exact
MM step, and EM would reach other local maxima: better than mclust's in most
cells of the reference data, worse in a few.

The first M-step starts from ``D = I`` and unit shapes (mclust's start), later
ones from the previous parameters.
"""

from __future__ import annotations

import numpy as np

from ... import _kernels
from .mclust_steps import gmean, tiny


def start_from(previous: np.ndarray | None, k: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The previous parameters as ``(D, v)``: the orientation (D, D) and variances (K, D).

    Without previous covariances (the first M-step): ``D = I`` and ``v = 1``.
    Otherwise ``D`` is the eigenvector basis the previous covariances share
    (that of a generic combination of them) and ``v_k = diag(D^T Sigma_k D)``.
    """
    if previous is None or previous.ndim != 3 or previous.shape[0] != k:
        return np.eye(d), np.ones((k, d))
    t = 1.0 + np.arange(k) * 0.6180339887
    scale = np.trace(previous, axis1=1, axis2=2)[:, None, None]
    D = np.linalg.eigh((t[:, None, None] * previous / scale).sum(axis=0))[1]
    v = np.einsum("ji,kjl,li->ki", D, previous, D)
    return D, np.maximum(v, tiny(v))


def criterion(W: np.ndarray, nk: np.ndarray, D: np.ndarray, v: np.ndarray) -> float:
    """The M-step's ``sum_k n_k log det Sigma_k + tr(W_k Sigma_k^-1)`` at ``Sigma_k = D diag(v_k) D^T``."""
    m = np.einsum("ji,kjl,li->ki", D, W, D)
    return float((nk * np.log(v).sum(axis=1)).sum() + (m / v).sum())


def _shapes(m: np.ndarray, nk: np.ndarray, equal_volume: bool) -> tuple[np.ndarray, np.ndarray]:
    """Shapes ``a_k`` (det 1) and variances ``v_k`` from ``m_k = diag(D^T W_k D)``."""
    floor = tiny(m)
    m = np.maximum(m, floor)
    if equal_volume:
        a = m / gmean(m)[:, None]
        lam = (m / a).sum() / (nk.sum() * m.shape[1])
        return a, lam * a
    s = m / nk[:, None]
    a = s / gmean(s)[:, None]
    return a, s


def _polar(F: np.ndarray) -> np.ndarray:
    """``P R^T`` from ``F = P B R^T``: the orthogonal matrix nearest ``F``."""
    P, _, Rt = np.linalg.svd(F)
    return P @ Rt


def orientation(
    W: np.ndarray,
    nk: np.ndarray,
    D: np.ndarray,
    v: np.ndarray,
    equal_volume: bool,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """mclust's inner algorithm for EVE (``equal_volume``) and VVE from ``(D, v)``.

    Parameters
    ----------
    W : ndarray of shape (K, D, D)
        Scatters of the components about their means.
    nk : ndarray of shape (K,)
    D : ndarray of shape (D, D)
        Starting orientation (columns are the axes).
    v : ndarray of shape (K, D)
        Starting variances along them (their shapes ``a_k = v_k / gmean(v_k)``
        start the MM steps).
    equal_volume : bool
        EVE when True, VVE when False.
    tol : float
        Relative change of the target that stops the inner iterations.
    max_iter : int

    Returns
    -------
    D : ndarray of shape (D, D)
    v : ndarray of shape (K, D)
    """
    kern = _kernels.mclust_kernels()
    if kern is not None:
        f64 = np.ascontiguousarray
        return kern.orientation(
            f64(W, dtype=np.float64), f64(nk, dtype=np.float64), f64(D, dtype=np.float64),
            f64(v, dtype=np.float64), bool(equal_volume), float(tol), int(max_iter),
        )  # fmt: skip
    omega = np.linalg.eigvalsh(W)[:, -1]
    Dt = D.T
    target_prev = np.inf
    a = v / gmean(v)[:, None]
    for _ in range(max_iter):
        u = a  # mclust's shapes (determinant one), for VVE too: see the module docstring
        T = Dt[None, :, :] / u[:, :, None]  # A_k^-1 D^T
        F1 = np.einsum("kij,kjl->il", T, W) - np.einsum("k,kij->ij", omega, T)
        D = _polar(F1).T
        WD = W @ D
        mu = (1.0 / u).max(axis=1)
        F2 = (WD / u[:, None, :]).sum(axis=0) - np.einsum("k,kij->ij", mu, WD)
        Dt = _polar(F2).T
        m = np.einsum("ij,kjl,il->ki", Dt, W, Dt)
        a, v = _shapes(m, nk, equal_volume)
        target = float((np.maximum(m, tiny(m)) / a).sum())
        if abs(target - target_prev) <= tol * (1.0 + abs(target)):
            break
        target_prev = target
    return Dt.T, v
