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
``OutputFileError``           ``OSError``                    a destination that cannot
                                                             be written
``NumericalError``            ``ArithmeticError``            a failure EM cannot repair
``DataChangedError``          ``RuntimeError``               a data file changed
                                                             between two passes
``CheckpointMismatchError``   ``ValueError``                 a checkpoint of another
                                                             fit (data or settings)
``DiagnosticsError``          ``ArithmeticError``            ``strict=True``: a fit
                                                             that repaired, kept a
                                                             degenerate or duplicate
                                                             component, or lost a start
============================  =============================  ==========================

The warnings: :class:`EmixWarning` (a ``UserWarning``) is the base of
:class:`ConvergenceWarning` (``max_iter`` reached),
:class:`DegenerateComponentWarning` (a repaired M-step, a degenerate
component), :class:`DuplicateComponentWarning` (two components alike),
:class:`FailedStartWarning` (a restart that raised, skipped) and
:class:`RegularizationWarning` (``reg_covar`` larger than the data's
variance). Each fit records what they said in its ``diagnostics_``; with
``strict=True`` the fit raises :class:`DiagnosticsError` instead.

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
    """Base class of every error emix raises.

    Examples
    --------
    >>> import emix
    >>> try:
    ...     emix.GaussianMixture(n_components=0).fit([[1.0], [2.0]])
    ... except emix.EmixError as exc:
    ...     print(type(exc).__name__, "-", exc)
    InvalidParameterError - n_components must be >= 1, got 0
    """


class InvalidInputError(EmixError, ValueError):
    """The data given to a method is not usable (NaN where not allowed, inf, wrong shape...).

    The message names the row and the column (or, for a file, the file, the
    column name and the row).

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> emix.GaussianMixture(2).fit([[1.0, np.inf], [2.0, 3.0], [0.0, 1.0]])
    Traceback (most recent call last):
        ...
    emix.exceptions.InvalidInputError: X contains inf at row 0, column 1 (1 non-finite value(s) in all)...
    >>> issubclass(emix.InvalidInputError, ValueError)
    True
    """


class InvalidParameterError(EmixError, ValueError):
    """A constructor argument or an initial parameter array is invalid.

    Raised by ``fit`` (constructors only store their arguments, as in
    scikit-learn).

    Examples
    --------
    >>> import emix
    >>> gm = emix.GaussianMixture(covariance_type="bogus")      # stored, not checked
    >>> gm.fit([[0.0], [1.0]])
    Traceback (most recent call last):
        ...
    emix.exceptions.InvalidParameterError: covariance_type must be one of [...], got 'bogus'
    """


class InputTypeError(EmixError, TypeError, ValueError):
    """The data is not real-valued numbers (strings, objects, complex), or is sparse.

    Examples
    --------
    >>> import emix
    >>> try:
    ...     emix.GaussianMixture().fit([["a", "b"], ["c", "d"]])
    ... except TypeError as exc:
    ...     print(exc)
    X has a non-numeric value 'a' at row 0, column 0; emix needs real numbers (...): encode that column as numbers or drop it
    """


class ModelFileError(EmixError, ValueError):
    """A model file is missing, truncated, corrupt, tampered or of another version.

    Examples
    --------
    >>> import emix
    >>> emix.load("missing.emix")
    Traceback (most recent call last):
        ...
    emix.exceptions.ModelFileError: missing.emix: no such file
    """


class OutputFileError(EmixError, OSError):
    """A destination cannot be written: not a regular file (a directory, a device, a FIFO),
    a missing or read-only folder, a full disk.

    ``filename`` is the path the user gave (never a temporary file), ``errno``
    the system's error number where there is one, and the message starts with
    the path and says what to do.

    Examples
    --------
    A folder where a file should go:

    >>> import os
    >>> import emix
    >>> os.mkdir("models")
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> try:
    ...     gm.save("models")
    ... except emix.exceptions.OutputFileError as exc:
    ...     print(exc.filename, "-", exc)
    models - models: cannot write: it is a directory; give a file name inside it, ...
    >>> issubclass(emix.exceptions.OutputFileError, OSError)
    True
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()


class NumericalError(EmixError, ArithmeticError):
    """A numerical failure that regularisation could not repair.

    Examples
    --------
    A start under which a row has zero density under every component:

    >>> import emix
    >>> gm = emix.GaussianMixture(
    ...     1, covariance_type="spherical", weights_init=[1.0], means_init=[[0.0]], precisions_init=[1e300]
    ... )
    >>> gm.fit([[0.0], [1e10], [3.0]])
    Traceback (most recent call last):
        ...
    emix.exceptions.NumericalError: the log-likelihood is not finite: some rows have zero density ...
    """


class DataChangedError(EmixError, RuntimeError):
    """A data file was appended to, truncated or rewritten while a source was reading it.

    File sources fingerprint their files when they are opened (size,
    modification time, and the Parquet footer or the first and last bytes)
    and check the fingerprint at the start and at the end of every pass. The
    message names the file and what changed.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> np.savetxt("data.csv", X, delimiter=",", header="eruptions,waiting", comments="")
    >>> source = emix.CSVSource("data.csv")
    >>> with open("data.csv", "a") as f:                 # another program appends a row
    ...     _ = f.write("3.0,70\\n")
    >>> emix.GaussianMixture(2).fit(source)
    Traceback (most recent call last):
        ...
    emix.exceptions.DataChangedError: data.csv: the file changed after the source opened it (its size grew ...
    """


class CheckpointMismatchError(EmixError, ValueError):
    """A checkpoint file was written by a fit of other data or other settings.

    ``fit`` resumes from its ``checkpoint`` file only when the file's
    fingerprints of the data (sizes, dtype, a hash of the rows or the files'
    fingerprints) and of the settings (the constructor arguments that change
    the result) match; otherwise it raises this error naming what differs.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> path = os.path.join(tempfile.mkdtemp(), "fit.ckpt")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", emix.ConvergenceWarning)  # 3 iterations only
    ...     _ = emix.GaussianMixture(2, max_iter=3, tol=0, checkpoint=path).fit(X)
    >>> try:
    ...     emix.GaussianMixture(3, max_iter=3, tol=0, checkpoint=path).fit(X)
    ... except emix.CheckpointMismatchError as exc:
    ...     print("n_components: 2 -> 3" in str(exc))
    True
    """


class DiagnosticsError(EmixError, ArithmeticError):
    """``strict=True``: the fit needed a repair, kept a degenerate or duplicate component, or
    lost a start.

    ``fit`` raises it at the end, in place of the warnings the fit would give;
    the message lists every finding (the component, the iteration, the fix),
    ``diagnostics`` holds them as a :class:`~emix.Diagnostics`, and the
    estimator keeps the fitted attributes (and ``diagnostics_``) so that the
    fit can still be inspected.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> X = np.repeat([[0.0, 0.0], [5.0, 5.0]], 10, axis=0)   # two distinct rows
    >>> try:
    ...     emix.GaussianMixture(3, init_params="random", random_state=0, strict=True).fit(X)
    ... except emix.DiagnosticsError as exc:
    ...     print(exc.diagnostics.duplicates)
    ((0, 1),)
    """

    def __init__(self, message: str, diagnostics: object = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


class EmixWarning(UserWarning):
    """Base class of emix's warnings.

    Examples
    --------
    Every warning emix gives can be filtered at once:

    >>> import warnings
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", emix.EmixWarning)     # silences ConvergenceWarning too
    ...     gm = emix.GaussianMixture(3, max_iter=2, random_state=0).fit(X)
    >>> gm.converged_
    False
    >>> issubclass(emix.ConvergenceWarning, emix.EmixWarning)
    True
    """


class DegenerateComponentWarning(EmixWarning):
    """A component was repaired during EM (emptied, or singular covariance), or a fit ended with a
    component degenerate by mclust's test (the estimator's ``degenerate_`` lists them).

    The fit goes on: a singular covariance gets the least diagonal jitter
    that makes it positive definite, and a component that received no
    responsibility keeps its previous parameters. scikit-learn raises a
    ``ValueError`` in the first case.

    Examples
    --------
    A constant feature and no ``reg_covar``:

    >>> import warnings
    >>> import numpy as np
    >>> import emix
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([rng.normal(size=100), np.ones(100)])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     gm = emix.GaussianMixture(1, reg_covar=0.0).fit(X)
    >>> print(caught[0].category.__name__, "-", caught[0].message)
    DegenerateComponentWarning - component 0: covariance is not positive definite (singular: ...
    """


class DuplicateComponentWarning(EmixWarning):
    """Two or more fitted components have the same parameters (to a tolerance relative to
    their scale): the mixture has fewer distinct components than ``n_components``.

    It happens when ``n_components`` exceeds the number of distinct rows, or
    when a start puts two components in one place. The message names the
    components; use fewer components (or more restarts). The estimator's
    ``diagnostics_.duplicates`` lists the groups.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import emix
    >>> X = np.repeat([[0.0, 0.0], [5.0, 5.0]], 10, axis=0)   # two distinct rows, three components
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     gm = emix.GaussianMixture(3, init_params="random", random_state=0).fit(X)
    >>> [w.category.__name__ for w in caught if "alike" in str(w.message)]
    ['DuplicateComponentWarning']
    >>> gm.diagnostics_.duplicates
    ((0, 1),)
    """


class FailedStartWarning(EmixWarning):
    """A restart (of ``n_init``) raised an error and was skipped; the others were kept.

    The message names the restart and the error; ``diagnostics_.failed_starts``
    lists them. When every restart fails, ``fit`` raises the last error.

    Examples
    --------
    >>> import emix
    >>> issubclass(emix.FailedStartWarning, emix.EmixWarning)
    True
    """


class RegularizationWarning(EmixWarning):
    """``reg_covar`` is larger than any variance a feature can have (its range is below
    ``2 sqrt(reg_covar)``): the fitted covariances are mostly ``reg_covar``, and the clusters
    on that scale are lost.

    ``reg_covar`` is absolute, as in scikit-learn, so data on a tiny scale
    (say values near ``1e-10``) are swamped by the default ``1e-6``. Scale the
    features (divide them by their standard deviation) or lower ``reg_covar``.

    Examples
    --------
    >>> import warnings
    >>> import emix
    >>> X = emix.datasets.load_faithful() * 1e-6
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> sorted(w.category.__name__ for w in caught)    # the two components end alike
    ['DuplicateComponentWarning', 'RegularizationWarning']
    >>> gm.diagnostics_.regularised_features
    (0, 1)
    """


def _sklearn_base(name: str) -> tuple[type, ...]:
    """scikit-learn's class of that name, as a base, where scikit-learn is installed."""
    try:
        from sklearn import exceptions
    except ImportError:  # scikit-learn is optional
        return ()
    return (getattr(exceptions, name),)


def _make_not_fitted_error() -> type:
    bases = (EmixError, *_sklearn_base("NotFittedError"), ValueError, AttributeError)
    doc = """A method that needs a fitted model was called before ``fit``.

    With scikit-learn installed it also derives from
    ``sklearn.exceptions.NotFittedError``.

    Examples
    --------
    >>> import emix
    >>> emix.GaussianMixture().predict([[0.0, 1.0]])
    Traceback (most recent call last):
        ...
    emix.exceptions.NotFittedError: This GaussianMixture instance is not fitted yet. Call 'fit' ...
    >>> import sklearn.exceptions
    >>> issubclass(emix.NotFittedError, sklearn.exceptions.NotFittedError)
    True
    """
    return type("NotFittedError", bases, {"__doc__": doc, "__module__": __name__})


def _make_convergence_warning() -> type:
    bases = (EmixWarning,) + _sklearn_base("ConvergenceWarning")
    doc = """EM stopped at ``max_iter`` before meeting its convergence rule.

    The message starts with scikit-learn's sentence, then names the
    tolerance that would let the rule in use stop sooner. With scikit-learn
    installed the class also derives from
    ``sklearn.exceptions.ConvergenceWarning``.

    Examples
    --------
    >>> import warnings
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     gm = emix.GaussianMixture(3, max_iter=2, random_state=0).fit(X)
    >>> print(caught[0].message)
    Best performing initialization did not converge. ... raise max_iter, or rtol (now 1e-08) to stop sooner...
    >>> import sklearn.exceptions
    >>> issubclass(emix.ConvergenceWarning, sklearn.exceptions.ConvergenceWarning)
    True
    """
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
    "OutputFileError",
    "NumericalError",
    "DataChangedError",
    "CheckpointMismatchError",
    "DiagnosticsError",
    "EmixWarning",
    "ConvergenceWarning",  # noqa: F822
    "DegenerateComponentWarning",
    "DuplicateComponentWarning",
    "FailedStartWarning",
    "RegularizationWarning",
]
