"""emix: mixture models fitted by Expectation-Maximization.

Public names only; see the docs for a tour.
"""

from . import datasets, families
from ._version import __version__
from .estimators import (
    BayesianGaussianMixture,
    BernoulliMixture,
    GaussianMixture,
    Mixture,
    PoissonMixture,
    StudentMixture,
)
from .estimators.diagnostics import Diagnostics
from .exceptions import (
    CheckpointMismatchError,
    DataChangedError,
    DegenerateComponentWarning,
    DiagnosticsError,
    DuplicateComponentWarning,
    EmixError,
    EmixWarning,
    FailedStartWarning,
    InputTypeError,
    InvalidInputError,
    InvalidParameterError,
    ModelFileError,
    NumericalError,
    RegularizationWarning,
)
from .families.gaussian.prior import GaussianPrior
from .io import load, register_estimator
from .selection import SelectionResult, select
from .sources import ArraySource, CSVSource, DaskSource, NpySource, ParquetSource
from .uncertainty import BootstrapResult, bootstrap

register_estimator(GaussianMixture)
for _cls in (Mixture, BernoulliMixture, PoissonMixture, StudentMixture, BayesianGaussianMixture):
    register_estimator(_cls)
del _cls


def __getattr__(name: str):
    # NotFittedError and ConvergenceWarning are made on first use, deriving from
    # scikit-learn's where it is installed, so that importing emix does not import it
    if name in ("NotFittedError", "ConvergenceWarning"):
        from . import exceptions

        return getattr(exceptions, name)
    raise AttributeError(f"module 'emix' has no attribute {name!r}")


__all__ = [
    "GaussianMixture",
    "GaussianPrior",
    "BayesianGaussianMixture",
    "select",
    "SelectionResult",
    "bootstrap",
    "BootstrapResult",
    "Mixture",
    "BernoulliMixture",
    "PoissonMixture",
    "StudentMixture",
    "families",
    "ParquetSource",
    "CSVSource",
    "NpySource",
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
    "DataChangedError",
    "CheckpointMismatchError",
    "DiagnosticsError",
    "EmixWarning",
    "ConvergenceWarning",
    "DegenerateComponentWarning",
    "DuplicateComponentWarning",
    "FailedStartWarning",
    "RegularizationWarning",
    "Diagnostics",
    "__version__",
]
