"""The estimator core, written once: scikit-learn's conventions over the EM engine.

:class:`MixtureEstimator` fits, predicts, scores, samples and saves any
mixture. It knows nothing of the component family: everything that differs
between estimators is asked of the family (the *estimator interface* of
:mod:`emix.families.base`):

================================  ===============================================
the core needs to ...              it asks the family
================================  ===============================================
check training / new data          ``validate(X)``, ``handles_missing``, ``needs_spread``
declare scikit-learn's input tags  ``support``, ``handles_missing``
learn data-dependent settings      ``configure(X)`` (e.g. categorical levels)
fit rows with missing values       ``for_missing(X)`` (the exact missing-data variant)
know whether EM is exact           ``exact_m_step`` (any drop of the likelihood is then a bug)
expose fitted attributes           ``array_names()``, ``to_arrays(params)``, ``derived_arrays(params)``
start from user-given arrays       ``init_names()``, ``from_arrays(arrays, K, D)``
save and load a model file         ``array_names()``, ``from_arrays`` (checks what a file says)
count free parameters              ``n_parameters(params)``
sample                             ``sample(rng, params, counts)``
find duplicate components          ``sample``, ``log_prob``, ``probe_rows(params)`` (optional)
================================  ===============================================

A concrete estimator (:class:`~emix.GaussianMixture`, :class:`~emix.Mixture`,
:class:`~emix.BernoulliMixture` ...) is a thin class: its ``__init__`` lists
scikit-learn-style explicit arguments, ``_base_family()`` builds the family
they describe, and ``_user_init_arrays()`` names the user-given starting arrays.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .. import exceptions
from .._params import ParamsMixin
from .._validation import (
    all_finite,
    check_array,
    check_finite,
    check_labels,
    check_missing_rows,
    check_random_state,
    check_sample_weight,
)
from ..engine import ChunkPool, EMResult, MixtureParams, resolve_n_jobs, run_em
from ..exceptions import EmixError
from ..families import repairs
from ..families.registry import spec_string
from ..families.weights import with_equal_weights
from ..init import start_plan
from ..sources import ArraySource, auto_chunk_size, is_dask_collection, is_source
from . import checkpoints, checks, degeneracy, diagnostics, fitted, lazy, names, starts
from .online import OnlineMixin  # partial_fit
from .params import check_common_params
from .predicting import PredictMixin  # predict, score, sample, bic, aic
from .progress import chain, logging_callback, not_converged_message, reporter, verbose_logging
from .saving import SavingMixin  # save, and the restore after emix.load


class MixtureEstimator(PredictMixin, OnlineMixin, SavingMixin, ParamsMixin):
    """A mixture fitted by EM; the family-independent part of every emix estimator.

    Subclasses are thin: ``__init__`` stores the constructor arguments (see
    :meth:`_store_init_args`), :meth:`_base_family` builds the family they
    describe and :meth:`_user_init_arrays` names user-given starting arrays.
    """

    #: as in scikit-learn, user-given component arrays replace the initialiser only when the
    #: weights are given too (GaussianMixture); otherwise uniform weights start with them
    _start_needs_weights: ClassVar[bool] = False

    # -- what a thin class provides ------------------------------------------------
    def _base_family(self) -> Any:  # pragma: no cover - abstract
        """The family the constructor arguments describe; raises InvalidParameterError on bad ones."""
        raise NotImplementedError

    def _user_init_arrays(self, n_features: int, dtype: Any) -> dict[str, Any]:
        """User-given initial component arrays by the family's array names (default: none).

        ``dtype`` is the training data's; ``n_features`` its number of columns.
        """
        return {}

    def _store_init_args(self, args: dict[str, Any]) -> None:
        """Store ``__init__``'s arguments under their own names (pass ``locals()``), nothing else."""
        for name in self._param_names():
            setattr(self, name, args[name])

    # -- the family ------------------------------------------------------------------
    def _make_family(self) -> Any:
        """The family configured on the training data (after ``fit``), else the base family."""
        fixed = self.__dict__.get("_family_in_fit")
        if fixed is not None:  # inside fit (see _family_fixed)
            return fixed
        base = self._base_family()
        cached = getattr(self, "_configured_family", None)
        if cached is not None and cached[0] == spec_string(base):
            base = cached[1]
        return with_equal_weights(base, getattr(self, "equal_weights", False))  # mclust's equalPro

    @contextlib.contextmanager
    def _family_fixed(self) -> Iterator[None]:
        """Within: ``_make_family`` returns the family it returns now, built once (``fit`` holds
        it after configuring the family on the data, which its arguments cannot change until
        the fit returns)."""
        self._family_in_fit = self._make_family()
        try:
            yield
        finally:
            del self._family_in_fit

    def _configure(self, base: Any, X: np.ndarray, missing: bool = True, source: Any = None) -> None:
        family = checks.check_training_array(base, X, missing)
        learn = getattr(family, "configure_source", None)  # settings that need every row: a noise
        if learn is not None and source is not None:  # volume, the data's moments of a default prior
            family = learn(source)
        self._configured_family = (spec_string(base), family)

    def _family_for(self, X: np.ndarray) -> Any:
        """The configured family, or its missing-data variant when ``X`` (n, D) has NaN."""
        family = self._make_family()
        variant = getattr(family, "for_missing", None)
        if variant is not None and np.isnan(X).any():
            return variant(X)
        return family

    # -- validation ------------------------------------------------------------------
    def _validate_params(self) -> None:
        check_common_params(self)
        self._base_family()

    def _input_tags(self) -> dict[str, bool]:
        """scikit-learn's input tags, asked of the family (see :func:`checks.input_tags`)."""
        try:
            family = self._base_family()
        except EmixError:  # invalid constructor arguments: fit will say so
            return {}
        return checks.input_tags(family)

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise exceptions.NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _check_X(self, X: Any) -> Any:
        """Data for the fitted model: a checked array, or a source checked chunk by chunk when used.

        The column names of a data frame are compared with ``feature_names_in_`` (see
        :mod:`emix.estimators.names`).
        """
        self._check_fitted()
        if is_dask_collection(X):  # predictions on Dask data stay lazy (emix.estimators.lazy)
            return lazy.as_dask_array(X, self.n_features_in_)
        if not is_source(X):
            names.check_names(self, X)
        means = getattr(self, "means_", None)  # location families compute in the training dtype
        dtype = None if means is None else np.asarray(means).dtype
        return checks.check_predict_data(
            X, self._make_family(), self.n_features_in_, dtype, type(self).__name__
        )

    def _source(self, X: np.ndarray, sample_weight: np.ndarray | None = None) -> ArraySource:
        chunk = self.chunk_size or auto_chunk_size(
            X.shape[1],
            self.n_components,
            X.dtype.itemsize,
            n_samples=X.shape[0],
            n_threads=resolve_n_jobs(getattr(self, "n_jobs", None)),
        )
        return ArraySource(X, sample_weight, chunk)

    # -- fitting ------------------------------------------------------------------------
    def fit(
        self, X: Any, y: Any = None, *, labels: Any = None, sample_weight: Any = None, progress: Any = None
    ):
        """Estimate the parameters with EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), a source, or a Dask array/dataframe
            In-memory data, or a source (:class:`~emix.sources.ParquetSource`,
            :class:`~emix.sources.CSVSource`, :class:`~emix.sources.DaskSource`,
            or any object following the contract in :mod:`emix.sources`) read
            chunk by chunk on every pass, so the data may be larger than
            memory or live on a cluster; a Dask collection is wrapped in a
            ``DaskSource``. The fit equals the in-memory fit of the same rows
            (to rounding). ``chunk_size`` then does not apply: the source
            chooses its chunks.
        y : ignored
            Not used; present for scikit-learn's API (pipelines, ``GridSearchCV``
            and ``cross_val_score`` pass their targets here).
        labels : array-like of int of shape (n_samples,), optional
            Partial labels for semi-supervised EM: the component (``0`` to
            ``n_components - 1``) of rows whose component is known, ``-1`` for
            the others. Labelled rows keep their responsibilities fixed to their
            label, which also pins each component to its label (no label
            switching). ``None`` (or all ``-1``) is ordinary EM.
            In-memory data only: a source raises
            :class:`~emix.exceptions.InvalidParameterError`.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights; a weight of ``m`` counts a row ``m`` times.
            A source carries its own weights (e.g. ``ParquetSource(path,
            weights="w")``); with a Dask array, a Dask array of weights.
        progress : callable, optional
            Called after every EM iteration with a
            ``emix.estimators.progress.FitProgress`` (restart, pass,
            log-likelihood, rows per second, time left at most); for long fits.

        Returns
        -------
        self : object
            The fitted estimator.

        See Also
        --------
        fit_predict : Fit, then label the rows.

        Notes
        -----
        A data frame whose column names are all strings sets ``feature_names_in_``;
        other data removes it. With ``warm_start=True`` a fit starts from the
        previous one's parameters and its stopping rule sees the previous run
        continued, so that repeated fits of ``max_iter=1`` converge.
        """
        self._validate_params()
        feature_names = None if is_source(X) else names.feature_names_of(X)
        prep = self._prepare_fit(X, labels, sample_weight)
        d = prep.source.n_features
        warm = bool(self.warm_start) and hasattr(self, "weights_") and self.n_features_in_ == d
        plan = start_plan(self.init_params)  # each restart runs EM from every start of the plan
        n_init = 1 if warm else int(self.n_init) * len(plan)
        failed: list[diagnostics.FailedStart] = []
        strict = diagnostics.strict_mode(bool(getattr(self, "strict", False)))
        with self._family_fixed(), strict, repairs.recording() as log:
            best, kept = self._best_of_restarts(prep, warm, n_init, progress, failed, plan)
            self._finish_fit(prep, best, warm, n_init, feature_names, plan[kept % len(plan)])
            diagnostics.record(self, best, log, kept, failed, prep.source.total_weight, prep.probe)
        return self

    def _finish_fit(
        self, prep: _Prepared, best: EMResult, warm: bool, n_init: int, feature_names: Any, method: str
    ) -> None:
        """Warn a fit that did not converge, and set the fitted attributes of the kept run
        (``method``: the initialiser it started from)."""
        if not best.converged and self.max_iter > 0 and not best.degenerate:
            mean = best.log_likelihood / prep.source.total_weight
            warnings.warn(
                not_converged_message(n_init, self.max_iter, self.convergence, self.tol, self.rtol, mean),
                exceptions.ConvergenceWarning,
                stacklevel=3,
            )
        self._set_fitted(best, prep.source)
        degeneracy.record_degeneracy(self, best, prep.family, prep.source.total_weight, stacklevel=4)
        names.set_fitted_names(self, feature_names)
        self.init_used_ = "warm_start" if warm else ("user" if prep.full_start else method)

    def _best_of_restarts(
        self,
        prep: _Prepared,
        warm: bool,
        n_init: int,
        report: Any = None,
        failed: list | None = None,
        plan: tuple = ("kmeans",),
    ) -> tuple[EMResult, int]:
        """EM from ``n_init`` starts (the previous fit's when ``warm``, a checkpoint's where one
        matches), restart ``i`` from initialiser ``plan[i % len(plan)]``; the most likely result and
        its restart. ``report`` is ``fit``'s ``progress`` callable. With several starts, one that
        raises :class:`NumericalError` is skipped, warned and appended to ``failed``; the last error
        is raised when every start fails."""
        # a user's full start, without a checkpoint to record the generator in, draws nothing: no
        # generator (seeding one from the OS costs more than EM on a small data set)
        draws = not prep.full_start or getattr(self, "checkpoint", None) is not None
        rng = check_random_state(self.random_state) if draws else None
        previous = fitted.warm_run(self) if warm else None
        source = prep.source
        session = checkpoints.open_session(self, source, prep.labels, rng, n_init)
        best: EMResult | None = session.best  # a resumed fit's best restart so far
        kept = 0
        with verbose_logging(self.verbose), ChunkPool(self.n_jobs) as pool, session:
            for attempt in session.attempts():  # the restarts still to run
                repairs.at_restart(attempt)
                try:
                    result = self._one_restart(
                        prep, session, attempt, warm, rng, pool, previous, report, n_init, plan
                    )
                except exceptions.NumericalError as exc:
                    if n_init == 1 or (attempt == n_init - 1 and best is None):
                        raise
                    if failed is not None:
                        failed.append(diagnostics.failed_start(attempt, exc, n_init))
                    continue
                best = session.keep(attempt, result, best)  # the better one, saved
                kept = attempt if best is result else kept
        return best, kept

    def _one_restart(
        self, prep: _Prepared, session: Any, attempt: int, warm: bool, rng: Any, pool: Any, previous: Any,
        report: Any, n_init: int, plan: tuple,
    ) -> EMResult:  # fmt: skip
        """One restart: its start (the checkpoint's, the previous fit's or a new one from the
        plan's initialiser for this restart), then EM."""
        source = prep.source
        if session.resumes(attempt):  # this restart goes on from the checkpoint
            start = session.start
        elif warm:
            start = self._fitted_params()
        else:
            start = self._start(prep, rng, pool, plan[attempt % len(plan)])
        return run_em(
            prep.source,
            prep.family,
            start,
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            strict=bool(self._make_family().exact_m_step),
            callback=chain(
                self._progress_callback(attempt),
                reporter(report, attempt, n_init, int(self.max_iter), source.n_samples),
            ),  # issue 13
            convergence=self.convergence,
            rtol=float(self.rtol),
            accelerate=bool(self.accelerate),
            pool=pool,
            labels=prep.labels,
            previous=previous,
            checkpoint=session.hook(attempt),
        )

    def _start(
        self, prep: _Prepared, rng: np.random.Generator, pool: ChunkPool, method: str | None = None
    ) -> MixtureParams:
        """One restart's initial parameters: the initialiser's (unless the user gave them all),
        with the user's arrays put in place."""
        params = None
        if not prep.full_start:
            method = start_plan(self.init_params)[0] if method is None else method
            params = starts.initial_params(
                prep.family,
                prep.source,
                method,
                self.n_components,
                rng,
                missing=prep.missing,
                pool=pool,
                labels=prep.labels,
            )
        return starts.apply_user_start(
            self._make_family(),
            params,
            prep.user,
            self.weights_init,
            self.n_components,
            prep.source.n_features,
            prep.user_start,
        )

    def _prepare_fit(self, X: Any, labels: Any, sample_weight: Any) -> _Prepared:
        """Check the training data and the user's starting arrays; configure the family on the data."""
        base = self._base_family()
        if is_source(X) or is_dask_collection(X):
            source, summary = checks.training_source(
                X, labels, sample_weight, base, self.n_components, type(self).__name__
            )
            probe, labels, missing = summary.probe(), None, bool(summary.n_missing)
        else:
            # one read of the data tells clean data apart; only data with NaN or inf are scanned more
            X = check_array(X, min_samples=0, allow_nan=base.handles_missing, ensure_finite=False)
            missing = not all_finite(X)
            if missing:
                check_finite(X, allow_nan=base.handles_missing)
                missing = bool(np.isnan(X).any())  # False when finite values only overflowed the sum
            if missing and base.handles_missing:
                check_missing_rows(X)
            checks.check_n_samples(X.shape[0], self.n_components)
            w = check_sample_weight(sample_weight, X.shape[0], X.dtype)
            checks.check_distinct_rows(base, X, self.n_components, w, missing=missing)
            labels = check_labels(labels, X.shape[0], self.n_components)
            source, probe = self._source(X, w), X
        self._configure(base, probe, missing, source)
        family = self._make_family()
        d = source.n_features
        user = self._user_init_arrays(d, source.dtype)
        full = starts.is_full_start(family, user, self.weights_init is not None, self._start_needs_weights)
        built = starts.check_user_start(family, user, self.weights_init, self.n_components, d, full)
        variant = getattr(family, "for_missing", None)
        fit_family = variant(probe) if missing and variant is not None else family
        return _Prepared(source, fit_family, labels, missing, user, full, probe, built)

    def _progress_callback(self, attempt: int):
        return logging_callback(attempt, self.verbose, self.verbose_interval)

    def _set_fitted(self, result: EMResult, source: Any) -> None:
        family = self._make_family()
        arrays = family.to_arrays(result.params.components)
        fitted.set_fitted(self, result, source, fitted.fitted_dtype(arrays))
        plain = getattr(family, "log_likelihood_from_objective", None)  # a MAP fit: the prior comes off
        if plain is not None:
            self.log_likelihood_ = plain(
                result.log_likelihood, result.params.weights, result.params.components
            )
        self._set_component_attributes(result.params.components)

    # -- fitted attributes --------------------------------------------------------------
    def _set_component_attributes(self, components: Any) -> None:
        family = self._make_family()
        arrays = family.to_arrays(components)
        for name, arr in arrays.items():
            setattr(self, name + "_", arr)
        for name, arr in getattr(family, "derived_arrays", lambda c: {})(components).items():
            setattr(self, name + "_", arr)
        self._components_cache = (_identity(arrays), components)

    def _component_params(self) -> Any:
        """The component parameters behind the fitted attributes (rebuilt if they were replaced)."""
        family = self._make_family()
        arrays = {n: getattr(self, n + "_") for n in family.array_names()}
        cached = getattr(self, "_components_cache", None)
        if cached is not None and cached[0] == _identity(arrays):
            return cached[1]
        return family.from_arrays(arrays, self.n_components, self.n_features_in_)

    def _fitted_params(self) -> MixtureParams:
        self._check_fitted()
        return MixtureParams(weights=fitted.exact_weights(self), components=self._component_params())

    # -- using a fitted model -------------------------------------------------------------
    def fit_predict(
        self, X: Any, y: Any = None, *, labels: Any = None, sample_weight: Any = None
    ) -> np.ndarray:
        """Fit, then return the component of each row of ``X`` under the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            As in :meth:`fit`.
        y : ignored
            Not used; present for scikit-learn's API.
        labels : array-like of int of shape (n_samples,), optional
            Partial labels, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), optional
            Row weights, as in :meth:`fit`.

        Returns
        -------
        labels : ndarray of int of shape (n_samples,)
            :meth:`predict` of ``X`` under the fitted model (the final
            parameters, as in scikit-learn).
        """
        return self.fit(X, labels=labels, sample_weight=sample_weight).predict(X)


class _Prepared(NamedTuple):
    """What ``fit`` has checked before its restarts."""

    source: Any  # the training rows
    family: Any  # the family to fit (the missing-data variant where values are missing)
    labels: np.ndarray | None  # partial labels, or None
    missing: bool  # whether values are missing
    user: dict[str, Any]  # user-given starting arrays by the family's names
    full_start: bool  # whether they fix every starting parameter
    probe: np.ndarray  # the training array, or a source's (max, min[, NaN]) rows (for diagnostics_)
    user_start: Any = None  # the components of a full user start, built once when checked


def _identity(arrays: dict[str, Any]) -> tuple:
    return tuple((name, id(arr)) for name, arr in arrays.items())
