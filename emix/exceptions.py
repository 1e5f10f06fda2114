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

With scikit-learn installed, :class:`NotFittedError` also derives from
``sklearn.exceptions.NotFittedError`` and :class:`ConvergenceWarning` from
``sklearn.exceptions.ConvergenceWarning``, so that code and tests written for
scikit-learn (``pytest.raises(sklearn.exceptions.NotFittedError)``, warning
filters on scikit-learn's class) see emix's. Both classes are made on first
use (``emix.NotFittedError``, or the first time emix raises or warns with
them), so ``import emix`` does not import scikit-learn.
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


class ModelFileError(EmixError, ValueError):
    """A model file is missing, truncated, corrupt, tampered or of another version."""


class NumericalError(EmixError, ArithmeticError):
    """A numerical failure that regularisation could not repair."""


class EmixWarning(UserWarning):
    """Base class of emix's warnings."""


class DegenerateComponentWarning(EmixWarning):
    """A component was repaired during EM (emptied, or singular covariance), or a fit ended with a
    component degenerate by mclust's test (the estimator's ``degenerate_`` lists them)."""


def _sklearn_base(name: str) -> tuple[type, ...]:
    """scikit-learn's class of that name, as a base, where scikit-learn is installed."""
    try:
        from sklearn import exceptions
    except ImportError:  # scikit-learn is optional
        return ()
    return (getattr(exceptions, name),)


def _make_not_fitted_error() -> type:
    bases = (EmixError, *_sklearn_base("NotFittedError"), ValueError, AttributeError)
    doc = "A method that needs a fitted model was called before ``fit``."
    return type("NotFittedError", bases, {"__doc__": doc, "__module__": __name__})


def _make_convergence_warning() -> type:
    bases = (EmixWarning,) + _sklearn_base("ConvergenceWarning")
    doc = "EM stopped at ``max_iter`` before meeting its convergence rule."
    return type("ConvergenceWarning", bases, {"__doc__": doc, "__module__": __name__})


_LAZY = {"NotFittedError": _make_not_fitted_error, "ConvergenceWarning": _make_convergence_warning}


def __getattr__(name: str) -> type:
    """Make :class:`NotFittedError` and :class:`ConvergenceWarning` on first use (PEP 562)."""
    make = _LAZY.get(name)
    if make is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls = globals()[name] = make()
    return cls


__all__ = [
    "EmixError",
    "InvalidInputError",
    "InvalidParameterError",
    "InputTypeError",
    "NotFittedError",  # noqa: F822 (made on first use: see __getattr__)
    "ModelFileError",
    "NumericalError",
    "EmixWarning",
    "ConvergenceWarning",  # noqa: F822
    "DegenerateComponentWarning",
]
