"""The estimators: scikit-learn's conventions over the EM engine, one class per kind of mixture."""

from .bayesian import BayesianGaussianMixture
from .gaussian import GaussianMixture
from .named import BernoulliMixture, Mixture, PoissonMixture, StudentMixture

__all__ = [
    "BayesianGaussianMixture",
    "GaussianMixture",
    "Mixture",
    "BernoulliMixture",
    "PoissonMixture",
    "StudentMixture",
]
