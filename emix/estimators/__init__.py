"""The estimators: scikit-learn's conventions over the EM engine, one class per kind of mixture."""

from .gaussian import GaussianMixture
from .named import BernoulliMixture, Mixture, PoissonMixture, StudentMixture

__all__ = ["GaussianMixture", "Mixture", "BernoulliMixture", "PoissonMixture", "StudentMixture"]
