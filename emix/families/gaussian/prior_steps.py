"""The MAP M-steps of mclust's conjugate priors, one rule per covariance model, and their log prior.

Each rule reproduces the M-step of mclust's Fortran for that model with a
prior (``me*p`` / ``ms*p``: ``mevvvp``, ``meeeip`` ...; ``mvn*p`` for one
component). Written with ``W_k`` the weighted scatter of component ``k``
about its weighted mean ``xbar_k``, ``d_k = xbar_k - mu0`` and
``c_k = kappa n_k / (n_k + kappa)``, every rule forms the *augmented*
scatter ``B_k = Lambda + W_k + c_k d_k d_k^T`` (the prior scale ``Lambda`` is
added once per covariance it governs) and divides by ``n_k`` plus a
pseudo-count ``alpha``; the means are ``(n_k xbar_k + kappa mu0) / (n_k +
kappa)``. With ``m = 1`` when ``kappa > 0`` (else 0), ``D`` features and
``G`` components:

=====  ===============================================  =========================
model  covariance                                        pseudo-count ``alpha``
=====  ===============================================  =========================
E      ``(Lambda + sum_k B'_k) / (N + alpha)``          ``nu + 2 + m G``
V      ``B_k / (n_k + alpha)``                           ``nu + 2 + m``
EII    ``sum_k tr B'_k / (N D + alpha)`` (no Lambda)     ``nu + 2 + m G D``
VII    ``tr B_k / (n_k D + alpha)`` (Lambda once)        ``nu + 2 + m D``
EEI    ``diag(Lambda + sum_k B'_k) / (N + alpha)``      ``nu + 1 + m``
VVI    ``diag B_k / (n_k + alpha)``                      ``nu + 2 + m``
EVI    ``lambda A_k``, ``lambda = sum gmean / (N+alpha)``  ``nu + 1 + m``
VEI    volumes and shape, counts ``n_k + alpha / D``     ``nu + 2 + m``
EEE    ``(Lambda + sum_k B'_k) / (N + alpha)``          ``nu + D + 1 + m G``
EEV    eigenvalues of ``B_k`` pooled, ``/(N + alpha)``   ``nu + D + 1 + m``
VEV    the ML VEV step on ``B_k``                        ``0``
VVV    ``B_k / (n_k + alpha)``                           ``nu + D + 1 + m``
=====  ===============================================  =========================

(``B'_k`` is ``B_k`` without ``Lambda``.) One component is fitted by
mclust's ``mvn`` routines, which are the ``V`` rule of the model's shape
(``V``, ``VII``, ``VVI``, ``VVV``). mclust's EII leaves the scale out of its
M-step (``meeiip``), and its VEV uses no pseudo-count (``mevevp``); emix
follows both, so that BIC tables agree. With ``kappa = 0`` emix takes ``m =
0`` everywhere (the exact mode); mclust's ``me`` routines are not all
consistent there. mclust has no prior for VEE, EVE, VVE and EVV.

Each rule is the exact maximiser (or, for VEI and VEV, a monotone
conditional maximisation) of the expected complete-data log-likelihood plus

    log p(theta) = - alpha / 2 * L - 1/2 * T - kappa / 2 * sum_k (mu_k - mu0)^T Sigma_k^-1 (mu_k - mu0)

(up to a constant), where ``L`` is the log-determinant of the covariance
(summed over components for the per-component rules, counted once where the
volume is shared; in units of ``log det / D`` for the spherical and VEI
rules) and ``T`` the trace ``tr(Lambda Sigma_k^-1)`` over the covariances
``Lambda`` is added to. :func:`log_prior` computes it, so EM is monotone in
the MAP objective.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .mclust_steps import gmean, previous_volumes, sorted_eigh, tiny, volumes_shared_shape

#: the models with a prior, and the rule each uses (1-D data use ``E`` or ``V`` by volume)
MAP_RULES = ("E", "V", "EII", "VII", "EEI", "VVI", "EVI", "VEI", "EEE", "EEV", "VEV", "VVV")
#: the rule of one component, by storage
_ONE = {"spherical": "VII", "diag": "VVI", "tied": "VVV", "full": "VVV"}
#: rules whose log-determinant is in units of ``log det / D`` (a per-variance pseudo-count)
_PER_VARIANCE = frozenset(("EII", "VII", "VEI"))
#: rules with one covariance for every component (Lambda and the log-determinant once)
_POOLED = frozenset(("E", "EII", "EEI", "EEE"))
#: rules with one volume but a covariance each (Lambda per component, the log-determinant once)
_ONE_VOLUME = frozenset(("EVI", "EEV"))


@dataclasses.dataclass(frozen=True)
class ResolvedPrior:
    """The numbers of a prior for one fit: ``kappa``, ``mu0`` (D,), ``nu``, ``Lambda``.

    ``scale`` is a float for the spherical, diagonal and 1-D rules, a (D, D)
    matrix for the others.
    """

    shrinkage: float
    mean: np.ndarray
    dof: float
    scale: float | np.ndarray


def rule_name(model_name: str, storage: str, k: int, d: int, one_by_mvn: bool = True) -> str:
    """The rule of a covariance model (mclust name) with ``k`` components in ``d`` dimensions.

    ``one_by_mvn``: one component takes mclust's ``mvn`` rule (``False`` beside a noise
    component, where mclust runs the model's own ``me`` routine for G = 1 too).
    """
    one = k == 1 and one_by_mvn
    if d == 1:
        return "V" if one or model_name[0] == "V" else "E"
    return _ONE[storage] if one else model_name


def alpha(rule: str, prior: ResolvedPrior, k: int, d: int) -> float:
    """The pseudo-count of ``rule`` (module table)."""
    nu, m = prior.dof, 1.0 if prior.shrinkage > 0 else 0.0
    return {
        "E": nu + 2 + m * k,
        "V": nu + 2 + m,
        "EII": nu + 2 + m * k * d,
        "VII": nu + 2 + m * d,
        "EEI": nu + 1 + m,
        "VVI": nu + 2 + m,
        "EVI": nu + 1 + m,
        "VEI": nu + 2 + m,
        "EEE": nu + d + 1 + m * k,
        "EEV": nu + d + 1 + m,
        "VEV": 0.0,
        "VVV": nu + d + 1 + m,
    }[rule]


def map_means(nk: np.ndarray, xbar: np.ndarray, prior: ResolvedPrior) -> tuple[np.ndarray, np.ndarray]:
    """The MAP means ``(n_k xbar_k + kappa mu0) / (n_k + kappa)`` (K, D) and ``c_k`` (K,)."""
    kappa = prior.shrinkage
    means = (nk[:, None] * xbar + kappa * prior.mean) / (nk + kappa)[:, None]
    return means, kappa * nk / (nk + kappa)


def _scalar(scale: float | np.ndarray) -> float:
    return float(np.asarray(scale))


def map_covariance(
    rule: str,
    storage: str,
    W: np.ndarray,
    nk: np.ndarray,
    dev: np.ndarray,
    c: np.ndarray,
    prior: ResolvedPrior,
    previous: np.ndarray | None,
    inner: tuple[float, int],
) -> np.ndarray:
    """The covariances of one MAP M-step, in the model's storage shape.

    Parameters
    ----------
    rule : str
        One of :data:`MAP_RULES`.
    storage : {'spherical', 'diag', 'tied', 'full'}
    W : ndarray
        Scatter about the weighted means: (K, D) diagonals for spherical and
        diagonal storage, (D, D) summed over components for tied, (K, D, D) for full.
    nk : ndarray of shape (K,)
    dev : ndarray of shape (K, D)
        ``xbar_k - mu0``.
    c : ndarray of shape (K,)
        ``kappa n_k / (n_k + kappa)``.
    prior : ResolvedPrior
    previous : ndarray or None
        The previous covariances (warm start of VEI and VEV).
    inner : (tol, max_iter)
        The inner iterations of VEI and VEV.
    """
    k, d = dev.shape
    a = alpha(rule, prior, k, d)
    if storage in ("spherical", "diag"):
        lam = _scalar(prior.scale)
        B = W + c[:, None] * dev**2  # (K, D), without Lambda
        out = _axis_rule(rule, B, nk, lam, a, previous, inner)
        return out.mean(axis=1) if storage == "spherical" else out
    S = np.asarray(prior.scale, dtype=np.float64) * (np.eye(d) if np.ndim(prior.scale) == 0 else 1.0)
    shrink = c[:, None, None] * dev[:, :, None] * dev[:, None, :]
    if storage == "tied" or rule == "E":  # one covariance (EEE, or E in 1-D): Lambda once
        pooled = (S + W.reshape(-1, d, d).sum(axis=0) + shrink.sum(axis=0)) / (nk.sum() + a)
        return pooled if storage == "tied" else np.broadcast_to(pooled, (k, d, d)).copy()
    return _full_rule(rule, S + W + shrink, nk, a, previous, inner)


def _axis_rule(rule, B, nk, lam, a, previous, inner) -> np.ndarray:
    """Spherical and diagonal rules on the augmented diagonals; (K, D) variances."""
    k, d = B.shape
    if rule in ("E", "EEI"):
        pooled = (lam + B.sum(axis=0)) / (nk.sum() + a)
        return np.broadcast_to(pooled, B.shape).copy()
    if rule in ("V", "VVI"):
        return (lam + B) / (nk + a)[:, None]
    if rule == "EII":
        return np.full(B.shape, B.sum() / (nk.sum() * d + a))
    if rule == "VII":
        v = (lam + B.sum(axis=1)) / (nk * d + a)
        return np.repeat(v[:, None], d, axis=1)
    Bl = np.maximum(lam + B, tiny(lam + B))
    if rule == "EVI":
        g = gmean(Bl)
        return (g.sum() / (nk.sum() + a)) * Bl / g[:, None]
    # VEI: volumes and a shared shape, the volumes' counts raised by alpha / D
    counts = nk + a / d
    start = previous_volumes(previous, k, gmean(Bl) / counts)
    vol, shape = volumes_shared_shape(Bl, counts, start, *inner)
    return vol[:, None] * shape[None, :]


def _full_rule(rule, B, nk, a, previous, inner) -> np.ndarray:
    """Full-storage rules on the augmented scatters (K, D, D)."""
    k = B.shape[0]
    if rule in ("VVV", "V"):
        cov = B / (nk + a)[:, None, None]
    elif rule == "EEV":
        vals, vecs = sorted_eigh(B)
        shape = np.maximum(vals.sum(axis=0), tiny(vals)) / (nk.sum() + a)
        cov = np.einsum("kij,j,klj->kil", vecs, shape, vecs)
    else:  # VEV: mclust's ML step on the augmented scatters, no pseudo-count
        vals, vecs = sorted_eigh(B)
        start = previous_volumes(previous, k, gmean(np.maximum(vals, tiny(vals))) / nk)
        vol, shape = volumes_shared_shape(vals, nk, start, *inner)
        cov = np.einsum("kij,kj,klj->kil", vecs, vol[:, None] * shape, vecs)
    return 0.5 * (cov + np.swapaxes(cov, 1, 2))


def _inverse_parts(storage: str, pc: np.ndarray, means: np.ndarray, mu0: np.ndarray, scale):
    """Per component: ``log det Sigma_k``, ``tr(Lambda Sigma_k^-1)``, the Mahalanobis term (each (K,))."""
    k, d = means.shape
    dev = means - mu0
    if storage in ("spherical", "diag"):
        inv = pc.astype(np.float64) ** 2
        inv = np.repeat(inv[:, None], d, axis=1) if storage == "spherical" else inv
        logdet = -np.log(inv).sum(axis=1)
        return logdet, _scalar(scale) * inv.sum(axis=1), (inv * dev**2).sum(axis=1)
    U = np.broadcast_to(pc.astype(np.float64), (k, d, d))
    S = np.asarray(scale, dtype=np.float64) * (np.eye(d) if np.ndim(scale) == 0 else 1.0)
    L = np.linalg.cholesky(S)
    logdet = -2.0 * np.log(np.abs(np.diagonal(U, axis1=1, axis2=2))).sum(axis=1)
    trace = np.einsum("ji,kjl->kil", L, U)  # L^T U_k
    y = np.einsum("ki,kij->kj", dev, U)
    return logdet, (trace**2).sum(axis=(1, 2)), (y**2).sum(axis=1)


def log_prior(rule: str, storage: str, means: np.ndarray, pc: np.ndarray, prior: ResolvedPrior) -> float:
    """``log p(mu, Sigma)`` up to a constant, the term each rule's M-step maximises (module docstring).

    Parameters
    ----------
    rule : str
    storage : {'spherical', 'diag', 'tied', 'full'}
    means : ndarray of shape (K, D)
    pc : ndarray
        Precision Cholesky factors in the storage shape.
    prior : ResolvedPrior
    """
    k, d = means.shape
    logdet, trace, maha = _inverse_parts(storage, pc, means, prior.mean, prior.scale)
    a = alpha(rule, prior, k, d)
    if rule in _PER_VARIANCE:
        a /= d
    if rule == "VII":
        trace = trace / d  # Lambda is added once to the trace of the scatter, not D times
    if rule == "EII":
        trace = np.zeros_like(trace)  # mclust's EII has no scale in its M-step
    if rule in _POOLED or rule in _ONE_VOLUME or storage == "tied":
        L = float(logdet.mean())  # one volume: the same determinant in every component
    else:
        L = float(logdet.sum())
    T = float(trace.mean()) if rule in _POOLED or storage == "tied" else float(trace.sum())
    return float(-0.5 * a * L - 0.5 * T - 0.5 * prior.shrinkage * maha.sum())
