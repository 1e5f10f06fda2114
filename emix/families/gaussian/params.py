"""The values of the Gaussian family: component parameters and sufficient statistics.

Shapes of the model-dependent arrays (``covariances`` and
``precisions_cholesky``; the 14 mclust models store theirs in one of these
four shapes, see :mod:`.mclust`):

=============  ======================  ==========================
model          ``covariances_``        ``precisions_cholesky_``
=============  ======================  ==========================
``full``       (K, D, D)               (K, D, D)
``tied``       (D, D)                  (D, D)
``diag``       (K, D)                  (K, D)
``spherical``  (K,)                    (K,)
=============  ======================  ==========================

Statistics are centred on an *anchor* (the current means during EM), so that
features with large offsets lose no digits to raw-moment cancellation.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..base import Stats


@dataclasses.dataclass(frozen=True)
class GaussianParams:
    """Parameters of K Gaussian components (shapes: module docstring).

    Attributes
    ----------
    means : ndarray of shape (K, D)
    covariances : ndarray
        In the covariance model's shape.
    precisions_cholesky : ndarray
        Cholesky factors of the precisions, same shape as ``covariances``.
    """

    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


#: The arrays of a location-scale parameter set (Gaussian, and Student-t before its ``dof``),
#: in model-file order.
LOCATION_SCALE_ARRAYS = ("means", "covariances", "precisions_cholesky")


def location_scale_arrays(params) -> dict[str, np.ndarray]:
    """The :data:`LOCATION_SCALE_ARRAYS` of ``params`` (Gaussian or Student-t) by name.

    Parameters
    ----------
    params : GaussianParams or StudentParams
        ``means`` (K, D); ``covariances`` and ``precisions_cholesky`` in the
        covariance model's shape.
    """
    return {name: getattr(params, name) for name in LOCATION_SCALE_ARRAYS}


@dataclasses.dataclass(frozen=True)
class GaussianStats(Stats):
    """Sufficient statistics of a chunk, centred on ``centre``.

    Attributes
    ----------
    nk : ndarray of shape (K,)
        Summed responsibilities.
    s1 : ndarray of shape (K, D)
        ``sum_n r_nk (x_n - c_k)``.
    s2 : ndarray
        ``sum_n r_nk (x_n - c_k)(x_n - c_k)^T`` in the model's shape: (K, D, D)
        full, (D, D) tied (summed over components), (K, D) diag and spherical. The
        spherical model's compiled kernel (:mod:`emix._kernels.numba_axis`) stores the
        per-component scalar ``sum_n r_nk |x_n - c_k|**2`` split over the features so that
        ``s2 - s1**2 / nk`` is the same in every feature; the spherical M-step reads only
        its sum over the features, which is the same in either form.
    centre : ndarray of shape (K, D)
        The anchor ``c``; identical in every chunk of one pass, not summed.
    """

    s1: np.ndarray
    s2: np.ndarray
    centre: np.ndarray

    _fixed: ClassVar[tuple[str, ...]] = ("centre",)
