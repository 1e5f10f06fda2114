"""The Gaussian family and its covariance models.

The package face: it imports the modules below, which registers all 20
covariance models (the four scikit-learn names, the 14 mclust names and mclust's
univariate ``E`` and ``V``) in
:data:`COVARIANCE_MODELS`, and re-exports the names used elsewhere.

=======================  ==========================================================
module                   what it holds
=======================  ==========================================================
:mod:`.params`           :class:`GaussianParams`, :class:`GaussianStats`, the shapes
:mod:`.covariance`       :class:`CovarianceModel`, :data:`COVARIANCE_MODELS`,
                         :func:`get_covariance_model`, :func:`checked_covariances`
:mod:`.sklearn_models`   ``full``, ``tied``, ``diag``, ``spherical``
:mod:`.fused_kernels`    their fused E-step and statistics kernels (NumPy, numba)
:mod:`.mclust`           the 14 mclust models (EII ... VVV)
:mod:`.mclust_steps`     the iterative solvers of the mclust M-steps
:mod:`.repair`           repairs of degenerate M-steps and their per-thread count
:mod:`.family`           :class:`GaussianFamily`
:mod:`.missing`          exact EM with values missing at random
:mod:`.variational`      :class:`VariationalGaussianFamily` (variational Bayes, the ELBO)
:mod:`.variational_*`    its weight priors, conjugate updates and prior options
:mod:`.shift`            centred statistics moved to another centre (online EM)
=======================  ==========================================================
"""

from ..._validation import check_missing_rows
from .covariance import COVARIANCE_MODELS, CovarianceModel, checked_covariances, get_covariance_model
from .family import GaussianFamily
from .mclust import MCLUST_ALIASES, MCLUST_MODELS, MCLUST_MODELS_1D, MclustModel, mclust_name
from .missing import MissingGaussianFamily
from .params import LOCATION_SCALE_ARRAYS, GaussianParams, GaussianStats, location_scale_arrays
from .repair import keep_empty_components
from .shift import shift_centre
from .sklearn_models import DiagCovariance, FullCovariance, SphericalCovariance, TiedCovariance
from .variational import VariationalGaussianFamily, VariationalParams

__all__ = [
    "COVARIANCE_MODELS",
    "CovarianceModel",
    "DiagCovariance",
    "FullCovariance",
    "GaussianFamily",
    "GaussianParams",
    "GaussianStats",
    "LOCATION_SCALE_ARRAYS",
    "MCLUST_ALIASES",
    "MCLUST_MODELS",
    "MCLUST_MODELS_1D",
    "MclustModel",
    "MissingGaussianFamily",
    "SphericalCovariance",
    "TiedCovariance",
    "VariationalGaussianFamily",
    "VariationalParams",
    "check_missing_rows",
    "checked_covariances",
    "get_covariance_model",
    "keep_empty_components",
    "location_scale_arrays",
    "mclust_name",
    "shift_centre",
]
