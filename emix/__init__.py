"""emix: mixture models fitted by Expectation-Maximization.

Public names only; see the docs for a tour.
"""

from . import datasets
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
from .mixture import GaussianMixture
from .selection import SelectionResult, select

__version__ = "0.1.0"

register_estimator(GaussianMixture)

__all__ = [
    "GaussianMixture",
    "select",
    "SelectionResult",
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
