"""Component families: one module per family, all behind the protocol in :mod:`.base`.

The Gaussian family is a package (``emix.families.gaussian``); importing it registers
all its covariance models (the four scikit-learn ones and mclust's EII ... VVV).
"""

from .bernoulli import BernoulliFamily
from .categorical import CategoricalFamily
from .exponential import ExponentialFamily
from .noise import NoiseFamily
from .poisson import PoissonFamily
from .product import ProductFamily
from .registry import FAMILIES, GaussianComponents, family_from_spec, make_family
from .student import StudentFamily

__all__ = [
    "BernoulliFamily",
    "CategoricalFamily",
    "ExponentialFamily",
    "NoiseFamily",
    "PoissonFamily",
    "ProductFamily",
    "StudentFamily",
    "GaussianComponents",
    "FAMILIES",
    "family_from_spec",
    "make_family",
]
