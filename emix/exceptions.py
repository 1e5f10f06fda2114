"""emix's exceptions and warnings: one small hierarchy.

Every exception also derives from the builtin that scikit-learn would raise in
the same situation, so code written as ``except ValueError:`` keeps working.

========================  =============================  ==========================
class                     builtin bases                  raised for
========================  =============================  ==========================
``EmixError``             ``Exception``                  base of everything below
``InvalidInputError``     ``ValueError``                 bad data: NaN, inf, shape
``InvalidParameterError`` ``ValueError``                 bad constructor argument
``InputTypeError``        ``TypeError``, ``ValueError``  non-numeric or complex data
``NotFittedError``        ``ValueError``,                model used before ``fit``
                          ``AttributeError``
``ModelFileError``        ``ValueError``                 unreadable model file
``NumericalError``        ``ArithmeticError``            a failure EM cannot repair
========================  =============================  ==========================
"""

from __future__ import annotations


class EmixError(Exception):
    """Base class of every error emix raises."""


class InvalidInputError(EmixError, ValueError):
    """The data given to a method is not usable (NaN, inf, wrong shape...)."""


class InvalidParameterError(EmixError, ValueError):
    """A constructor argument or an initial parameter array is invalid."""


class InputTypeError(EmixError, TypeError, ValueError):
    """The data is not real-valued numbers (strings, objects, complex)."""


class NotFittedError(EmixError, ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(EmixError, ValueError):
    """A model file is missing, truncated, corrupt, tampered or of another version."""


class NumericalError(EmixError, ArithmeticError):
    """A numerical failure that regularisation could not repair."""


class EmixWarning(UserWarning):
    """Base class of emix's warnings."""


class ConvergenceWarning(EmixWarning):
    """EM stopped at ``max_iter`` before meeting its convergence rule."""


class DegenerateComponentWarning(EmixWarning):
    """A component was repaired during EM (emptied, or singular covariance)."""


__all__ = [
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
]
