"""emix's exceptions and warnings: one small hierarchy.

Every exception also derives from the builtin that scikit-learn would raise in
the same situation, so code written as ``except ValueError:`` keeps working.

============================  =============================  ==========================
class                         builtin bases                  raised for
============================  =============================  ==========================
``EmixError``                 ``Exception``                  base of everything below
``InvalidInputError``         ``ValueError``                 bad data: NaN, inf, shape
``InvalidParameterError``     ``ValueError``                 bad constructor argument
``InputTypeError``            ``TypeError``, ``ValueError``  non-numeric or complex data
``NotFittedError``            ``ValueError``,                model used before ``fit``
                              ``AttributeError``
``ModelFileError``            ``ValueError``                 unreadable model file
``NumericalError``            ``ArithmeticError``            a failure EM cannot repair
``DataChangedError``          ``RuntimeError``               a data file changed
                                                             between two passes
``CheckpointMismatchError``   ``ValueError``                 a checkpoint of another
                                                             fit (data or settings)
============================  =============================  ==========================

:class:`DataChangedError` derives from ``RuntimeError``, as Python's own
"dictionary changed size during iteration" does: the data were valid when
the source was opened, and what went wrong is that they changed under it.

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


class DataChangedError(EmixError, RuntimeError):
    """A data file was appended to, truncated or rewritten while a source was reading it.

    File sources fingerprint their files when they are opened (size,
    modification time, and the Parquet footer or the first and last bytes)
    and check the fingerprint at the start and at the end of every pass. The
    message names the file and what changed.
    """


class CheckpointMismatchError(EmixError, ValueError):
    """A checkpoint file was written by a fit of other data or other settings.

    ``fit`` resumes from its ``checkpoint`` file only when the file's
    fingerprints of the data (sizes, dtype, a hash of the rows or the files'
    fingerprints) and of the settings (the constructor arguments that change
    the result) match; otherwise it raises this error naming what differs.
    """


class EmixWarning(UserWarning):
    """Base class of emix's warnings."""


class DegenerateComponentWarning(EmixWarning):
    """A component was repaired during EM (emptied, or singular covariance)."""


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
    "DataChangedError",
    "CheckpointMismatchError",
    "EmixWarning",
    "ConvergenceWarning",  # noqa: F822
    "DegenerateComponentWarning",
]
