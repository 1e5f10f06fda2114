"""The 14 covariance models of mclust (Banfield and Raftery 1993; Celeux and Govaert 1995).

Each component covariance is decomposed as

    Sigma_k = lambda_k D_k A_k D_k^T

with ``lambda_k = det(Sigma_k)^(1/D)`` the *volume*, ``A_k`` diagonal with
``det(A_k) = 1`` the *shape* and ``D_k`` orthogonal the *orientation*. A model
name has three letters, for volume, shape and orientation in that order:
``E`` equal across components, ``V`` variable, ``I`` the identity (spherical
shape, or axes aligned with the coordinates).

=====  ===========================  ==============  ================================
name   Sigma_k                      M-step          ``covariances_`` shape (stored)
=====  ===========================  ==============  ================================
EII    lambda I                     closed form     (K,)      one variance, repeated
VII    lambda_k I                   closed form     (K,)
EEI    lambda A                     closed form     (K, D)    one diagonal, repeated
VEI    lambda_k A                   iterative       (K, D)
EVI    lambda A_k                   closed form     (K, D)
VVI    lambda_k A_k                 closed form     (K, D)
EEE    lambda D A D^T               closed form     (D, D)    as ``tied``
VEE    lambda_k D A D^T             iterative       (K, D, D)
EVE    lambda D A_k D^T             iterative (MM)  (K, D, D)
VVE    lambda_k D A_k D^T           iterative (MM)  (K, D, D)
EEV    lambda D_k A D_k^T           closed form     (K, D, D)
VEV    lambda_k D_k A D_k^T         iterative       (K, D, D)
EVV    lambda D_k A_k D_k^T         closed form     (K, D, D)
VVV    lambda_k D_k A_k D_k^T       closed form     (K, D, D) as ``full``
=====  ===========================  ==============  ================================

The models reuse the density and statistics kernels of the four scikit-learn
types (``spherical``, ``diag``, ``tied``, ``full``) by inheritance, and
differ only in the M-step of the covariances. ``VII``, ``VVI``, ``EEE`` and
``VVV`` are the same models as ``spherical``, ``diag``, ``tied`` and
``full`` under their mclust names.

M-steps maximise the expected complete-data log-likelihood over the
constrained set. Writing ``W_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T`` for
the weighted scatter (with ``n_k reg_covar`` added to its diagonal, so that
``reg_covar`` acts as in scikit-learn and keeps the model's structure), the
criterion to minimise is ``sum_k n_k log det Sigma_k + tr(W_k Sigma_k^{-1})``.

* Closed forms follow Celeux and Govaert (1995).
* VEI, VEE, VEV alternate exact updates of the shared shape (or shape and
  orientation) and of the volumes; EVE and VVE update the common orientation
  by majorisation-minimisation. The solvers are in :mod:`.mclust_steps`.

Inner iterations start from the previous EM iteration's parameters (recovered
from the previous covariances), so an EM iteration never lowers the
log-likelihood (a generalised EM).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import mclust_orientation as orientation
from .covariance import CovarianceModel, register_covariance_models
from .mclust_steps import (
    gmean,
    previous_volumes,
    root_det,
    sorted_eigh,
    tiny,
    volumes_shared_matrix,
    volumes_shared_shape,
)
from .params import GaussianStats
from .sklearn_models import DiagCovariance, FullCovariance, SphericalCovariance, TiedCovariance

__all__ = ["MCLUST_MODELS", "MCLUST_MODELS_1D", "MCLUST_ALIASES", "MclustModel", "mclust_name"]

#: The 14 model names, in mclust's order.
MCLUST_MODELS: tuple[str, ...] = (
    "EII", "VII", "EEI", "VEI", "EVI", "VVI",
    "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV",
)  # fmt: skip

#: mclust's names for univariate data: ``E`` (equal variances) and ``V`` (variable variances).
MCLUST_MODELS_1D: tuple[str, ...] = ("E", "V")

#: scikit-learn ``covariance_type`` names and the mclust model they are.
MCLUST_ALIASES: dict[str, str] = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}


def mclust_name(covariance_type: str) -> str:
    """The mclust name of a ``covariance_type`` (aliases resolved, others unchanged)."""
    return MCLUST_ALIASES.get(covariance_type, covariance_type)


# -- the models ----------------------------------------------------------------------


class MclustModel(CovarianceModel):
    """Mixin of the mclust models: the M-step is :meth:`m_step_covariance`.

    Subclasses combine it with one of the storage classes (spherical, diagonal,
    tied, full) whose density and statistics kernels they reuse.
    """

    #: ``Sigma_k`` in terms of volume, shape and orientation (for docs and tables)
    formula: ClassVar[str]
    #: tolerance and cap of the inner iterations of iterative M-steps
    #: (each inner step is monotone, and warm starts carry progress across EM
    #: iterations, so a few steps per M-step suffice for a generalised EM)
    inner_tol: ClassVar[float] = float(np.sqrt(np.finfo(np.float64).eps))  # mclust's tol[2]
    inner_max_iter: ClassVar[int] = 1000
    #: EVE and VVE: mclust's inner tolerance (``emControl()$tol[2] = sqrt(eps)``) and a cap
    orientation_tol: ClassVar[float] = float(np.sqrt(np.finfo(np.float64).eps))
    orientation_max_iter: ClassVar[int] = 10_000

    def covariance(self, stats: GaussianStats, nk: np.ndarray, reg: float) -> np.ndarray:
        """The constrained M-step without a warm start."""
        return self.m_step_covariance(stats, nk, reg, None)


class EII(MclustModel, SphericalCovariance):
    """Equal spherical covariances ``lambda I``."""

    name = "EII"
    formula = "lambda I"

    def m_step_covariance(self, stats, nk, reg, previous):
        v = SphericalCovariance.covariance(self, stats, nk, reg)
        return np.full_like(v, (nk * v).sum() / nk.sum())

    def n_parameters(self, k, d):
        return 1


class VII(MclustModel, SphericalCovariance):
    """Spherical covariances of variable volume ``lambda_k I`` (= ``spherical``)."""

    name = "VII"
    formula = "lambda_k I"

    # the scikit-learn model itself: same M-step, kernels and acceleration
    covariance = SphericalCovariance.covariance
    m_step_covariance = CovarianceModel.m_step_covariance

    def n_parameters(self, k, d):
        return k


class EEI(MclustModel, DiagCovariance):
    """Equal diagonal covariances ``lambda A``."""

    name = "EEI"
    formula = "lambda A"

    def m_step_covariance(self, stats, nk, reg, previous):
        var = DiagCovariance.covariance(self, stats, nk, reg)
        pooled = (nk[:, None] * var).sum(axis=0) / nk.sum()
        return np.broadcast_to(pooled, var.shape).copy()

    def n_parameters(self, k, d):
        return d


class VEI(MclustModel, DiagCovariance):
    """Diagonal covariances of variable volume and equal shape ``lambda_k A``."""

    name = "VEI"
    formula = "lambda_k A"

    def m_step_covariance(self, stats, nk, reg, previous):
        var = DiagCovariance.covariance(self, stats, nk, reg)
        if var.shape[0] == 1:
            return var  # one component: the diagonal model, W / n (mclust's mvn)
        w = nk[:, None] * var
        start = previous_volumes(previous, w.shape[0], gmean(np.maximum(w, tiny(w))) / nk)
        lam, a = volumes_shared_shape(w, nk, start, self.inner_tol, self.inner_max_iter)
        return lam[:, None] * a[None, :]

    def n_parameters(self, k, d):
        return k + d - 1


class EVI(MclustModel, DiagCovariance):
    """Diagonal covariances of equal volume and variable shape ``lambda A_k``."""

    name = "EVI"
    formula = "lambda A_k"

    def m_step_covariance(self, stats, nk, reg, previous):
        w = nk[:, None] * DiagCovariance.covariance(self, stats, nk, reg)
        w = np.maximum(w, tiny(w))
        g = gmean(w)
        lam = g.sum() / nk.sum()
        return lam * w / g[:, None]

    def n_parameters(self, k, d):
        return 1 + k * (d - 1)


class VVI(MclustModel, DiagCovariance):
    """Diagonal covariances ``lambda_k A_k`` (= ``diag``)."""

    name = "VVI"
    formula = "lambda_k A_k"

    # the scikit-learn model itself: same M-step, kernels and acceleration
    covariance = DiagCovariance.covariance
    m_step_covariance = CovarianceModel.m_step_covariance

    def n_parameters(self, k, d):
        return k * d


class EEE(MclustModel, TiedCovariance):
    """One covariance matrix shared by all components ``lambda D A D^T`` (= ``tied``)."""

    name = "EEE"
    formula = "lambda D A D^T"

    # the scikit-learn model itself: same M-step, kernels and acceleration
    covariance = TiedCovariance.covariance
    m_step_covariance = CovarianceModel.m_step_covariance

    def n_parameters(self, k, d):
        return d * (d + 1) // 2


class _FullMclust(MclustModel, FullCovariance):
    """Models stored as (K, D, D) covariances; ``_constrained`` works on scatters ``W_k``."""

    #: whether the constrained M-step is iterative (with one component it is the unconstrained one)
    iterative: ClassVar[bool] = False

    def m_step_covariance(self, stats, nk, reg, previous):
        cov = FullCovariance.covariance(self, stats, nk, reg)
        if self.iterative and cov.shape[0] == 1:
            return cov  # one component: the model is unconstrained, W / n (mclust's mvn)
        cov = self._constrained(nk[:, None, None] * cov, nk, previous)
        return 0.5 * (cov + np.swapaxes(cov, 1, 2))

    def _constrained(self, W: np.ndarray, nk: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError


class VEE(_FullMclust):
    """Variable volume, equal shape and orientation ``lambda_k D A D^T``."""

    name = "VEE"
    formula = "lambda_k D A D^T"
    iterative = True

    def _constrained(self, W, nk, previous):
        start = previous_volumes(previous, W.shape[0], root_det(W) / nk)
        lam, C = volumes_shared_matrix(W, nk, start, self.inner_tol, self.inner_max_iter)
        return lam[:, None, None] * C

    def n_parameters(self, k, d):
        return k + d - 1 + d * (d - 1) // 2


class EVE(_FullMclust):
    """Equal volume and orientation, variable shape ``lambda D A_k D^T``."""

    name = "EVE"
    formula = "lambda D A_k D^T"
    iterative = True
    equal_volume: ClassVar[bool] = True

    def _constrained(self, W, nk, previous):
        D0, v0 = orientation.start_from(previous, W.shape[0], W.shape[-1])
        tol, cap = self.orientation_tol, self.orientation_max_iter
        D, v = orientation.orientation(W, nk, D0, v0, self.equal_volume, tol, cap)
        return np.einsum("ij,kj,lj->kil", D, v, D)

    def n_parameters(self, k, d):
        return 1 + k * (d - 1) + d * (d - 1) // 2


class VVE(EVE):
    """Variable volume and shape, equal orientation ``lambda_k D A_k D^T``."""

    name = "VVE"
    formula = "lambda_k D A_k D^T"
    equal_volume = False

    def n_parameters(self, k, d):
        return k * d + d * (d - 1) // 2


class EEV(_FullMclust):
    """Equal volume and shape, variable orientation ``lambda D_k A D_k^T``."""

    name = "EEV"
    formula = "lambda D_k A D_k^T"

    def _constrained(self, W, nk, previous):
        vals, vecs = sorted_eigh(W)
        a = np.maximum(vals.sum(axis=0), tiny(vals)) / nk.sum()
        return np.einsum("kij,j,klj->kil", vecs, a, vecs)

    def n_parameters(self, k, d):
        return 1 + (d - 1) + k * d * (d - 1) // 2


class VEV(_FullMclust):
    """Variable volume and orientation, equal shape ``lambda_k D_k A D_k^T``."""

    name = "VEV"
    formula = "lambda_k D_k A D_k^T"
    iterative = True

    def _constrained(self, W, nk, previous):
        vals, vecs = sorted_eigh(W)
        start = previous_volumes(previous, W.shape[0], gmean(np.maximum(vals, tiny(vals))) / nk)
        lam, a = volumes_shared_shape(vals, nk, start, self.inner_tol, self.inner_max_iter)
        return np.einsum("kij,kj,klj->kil", vecs, lam[:, None] * a, vecs)

    def n_parameters(self, k, d):
        return k + (d - 1) + k * d * (d - 1) // 2


class EVV(_FullMclust):
    """Equal volume, variable shape and orientation ``lambda D_k A_k D_k^T``."""

    name = "EVV"
    formula = "lambda D_k A_k D_k^T"

    def _constrained(self, W, nk, previous):
        g = root_det(W)
        return (g.sum() / nk.sum()) * W / g[:, None, None]

    def n_parameters(self, k, d):
        return 1 + k * (d * (d + 1) // 2 - 1)


class VVV(_FullMclust):
    """Unconstrained covariances ``lambda_k D_k A_k D_k^T`` (= ``full``)."""

    name = "VVV"
    formula = "lambda_k D_k A_k D_k^T"

    # the scikit-learn model itself: same M-step, kernels and acceleration
    covariance = FullCovariance.covariance
    m_step_covariance = CovarianceModel.m_step_covariance

    def n_parameters(self, k, d):
        return k * d * (d + 1) // 2


class E(EII):
    """mclust's univariate model of equal variances (for D > 1 the same as ``EII``).

    In one dimension the 14 models are two: every model whose volume is
    equal (``E..``) is ``E``, every one whose volume varies (``V..``) is
    ``V``; :func:`emix.select` fits these two on 1-D data, as mclust does.
    """

    name = "E"
    formula = "lambda (1-D)"


class V(VII):
    """mclust's univariate model of variable variances (for D > 1 the same as ``VII``)."""

    name = "V"
    formula = "lambda_k (1-D)"


_CLASSES = (EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, EVV, VVV)
assert tuple(c.name for c in _CLASSES) == MCLUST_MODELS
register_covariance_models(*_CLASSES, E, V)
