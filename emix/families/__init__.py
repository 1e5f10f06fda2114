"""Component families: one module per family, all behind the protocol in :mod:`.base`.

Importing the package also registers the mclust covariance models (EII ... VVV).
"""

from .bernoulli import BernoulliFamily
from .categorical import CategoricalFamily
from .exponential import ExponentialFamily
from .gaussian import mclust  # noqa: F401  (registers EII ... VVV into COVARIANCE_MODELS)
from .poisson import PoissonFamily
from .product import ProductFamily
from .registry import FAMILIES, GaussianComponents, family_from_spec, make_family
from .student import StudentFamily

__all__ = [
    "BernoulliFamily",
    "CategoricalFamily",
    "ExponentialFamily",
    "PoissonFamily",
    "ProductFamily",
    "StudentFamily",
    "GaussianComponents",
    "FAMILIES",
    "family_from_spec",
    "make_family",
]
