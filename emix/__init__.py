"""emix: mixture models fitted by Expectation-Maximization.

Public names only; see the docs for a tour.
"""

from . import datasets, families
from ._version import __version__
from .estimators import BernoulliMixture, GaussianMixture, Mixture, PoissonMixture, StudentMixture
from .exceptions import (
    ConvergenceWarning,
    DegenerateComponentWarning,
    EmixError,
    EmixWarning,
    InputTypeError,
    InvalidInputError,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    NumericalError,
)
from .io import load, register_estimator
from .selection import SelectionResult, select
from .sources import ArraySource, CSVSource, DaskSource, ParquetSource

register_estimator(GaussianMixture)
for _cls in (Mixture, BernoulliMixture, PoissonMixture, StudentMixture):
    register_estimator(_cls)
del _cls

__all__ = [
    "GaussianMixture",
    "select",
    "SelectionResult",
    "Mixture",
    "BernoulliMixture",
    "PoissonMixture",
    "StudentMixture",
    "families",
    "ParquetSource",
    "CSVSource",
    "DaskSource",
    "ArraySource",
    "load",
    "datasets",
    "EmixError",
    "InvalidInputError",
    "InvalidParameterError",
    "InputTypeError",
    "NotFittedError",
    "ModelFileError",
    "NumericalError",
    "EmixWarning",
    "ConvergenceWarning",
    "DegenerateComponentWarning",
    "__version__",
]
