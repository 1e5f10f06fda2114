"""Estimators with scikit-learn's names and conventions.

:class:`BaseMixture` holds everything that does not depend on the component
family: validation, restarts, the public methods. :class:`GaussianMixture` is
the drop-in replacement for :class:`sklearn.mixture.GaussianMixture`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from typing import Any

import numpy as np

from .. import init as _init
from .._linalg import logsumexp_rows, normalize_log_rows
from .._params import ParamsMixin
from .._validation import (
    check_array,
    check_labels,
    check_n_features,
    check_random_state,
    check_sample_weight,
    check_scalar,
)
from ..engine import (
    CONVERGENCE_RULES,
    ChunkPool,
    EMResult,
    MixtureParams,
    log_joint,
    m_step,
    resolve_n_jobs,
    run_em,
    stats_from_responsibilities,
)
from ..exceptions import (
    ConvergenceWarning,
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
)
from ..families.gaussian import COVARIANCE_MODELS, GaussianFamily, GaussianParams
from ..families.gaussian.missing import MissingGaussianFamily, check_missing_rows
from ..sources import (
    ArraySource,
    MeanFilledSource,
    auto_chunk_size,
    checked_map,
    is_dask_collection,
    is_source,
    source_summary,
)

logger = logging.getLogger("emix")

INIT_METHODS = ("kmeans", "k-means++", "random", "random_from_data", "hierarchical")


@contextlib.contextmanager
def _verbose_logging(verbose: int):
    """Show the ``emix`` logger's INFO messages on stderr while ``verbose`` is set."""
    if not verbose or logger.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("emix: %(message)s"))
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


class BaseMixture(ParamsMixin):
    """Family-independent part of the mixture estimators.

    Subclasses provide ``_make_family()``, ``_apply_user_init(params, dtype)``,
    ``_set_component_attributes(components)`` and ``_component_params()``.
    """

    # -- hooks for subclasses -------------------------------------------------
    def _make_family(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _validate_user_init(self, n_features: int) -> None:
        """Check user-supplied initial parameters (default: none exist)."""

    def _apply_user_init(self, params: MixtureParams, dtype) -> MixtureParams:
        return params

    def _has_full_user_init(self) -> bool:
        return False

    def _set_component_attributes(self, components: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def _component_params(self) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _strict_monotone(self) -> bool:
        """True when the M-step maximises exactly, so any decrease is a bug."""
        return True

    #: whether NaN in X means "missing at random" (else NaN is an error)
    _allows_missing = False

    def _family_for(self, X: np.ndarray):
        """The family to use on ``X`` (a subclass may pick a missing-data variant)."""
        return self._make_family()

    def _check_data(self, X: np.ndarray) -> None:
        """Family-specific checks of the training data (default: none), before fitting."""

    # -- validation -------------------------------------------------------------
    def _validate_params(self) -> None:
        check_scalar(self.n_components, "n_components", (int, np.integer), min_val=1)
        check_scalar(self.tol, "tol", (float, int, np.floating, np.integer), min_val=0)
        check_scalar(self.max_iter, "max_iter", (int, np.integer), min_val=0)
        check_scalar(self.n_init, "n_init", (int, np.integer), min_val=1)
        check_scalar(self.verbose, "verbose", (int, np.integer), min_val=0)
        check_scalar(self.verbose_interval, "verbose_interval", (int, np.integer), min_val=1)
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise InvalidParameterError(f"warm_start must be a bool, got {self.warm_start!r}")
        if self.init_params not in INIT_METHODS:
            raise InvalidParameterError(
                f"init_params must be one of {sorted(INIT_METHODS)}, got {self.init_params!r}"
            )
        if self.chunk_size is not None:
            check_scalar(self.chunk_size, "chunk_size", (int, np.integer), min_val=1)
        if self.convergence not in CONVERGENCE_RULES:
            raise InvalidParameterError(
                f"convergence must be one of {list(CONVERGENCE_RULES)}, got {self.convergence!r}"
            )
        check_scalar(self.rtol, "rtol", (float, int, np.floating, np.integer), min_val=0)
        if not isinstance(self.accelerate, (bool, np.bool_)):
            raise InvalidParameterError(f"accelerate must be a bool, got {self.accelerate!r}")
        if self.n_jobs is not None:
            check_scalar(self.n_jobs, "n_jobs", (int, np.integer), min_val=-1)
            if self.n_jobs == 0:
                raise InvalidParameterError("n_jobs must be a positive int, -1 or None, got 0")
        check_random_state(self.random_state)

    def _check_X(self, X: Any) -> np.ndarray:
        """Validate data for a fitted model: numeric, finite, right number of features.

        A source (or Dask collection) is returned as a source, checked chunk by chunk when used.
        """
        self._check_fitted()
        if is_dask_collection(X):
            from ..sources import DaskSource

            X = DaskSource(X)
        if is_source(X):
            if X.n_features != self.n_features_in_:
                raise InvalidInputError(
                    f"X has {X.n_features} features, but the model was fitted with "
                    f"{self.n_features_in_} features"
                )
            return X
        X = check_array(X, dtype=np.asarray(self.means_).dtype, allow_nan=self._allows_missing)
        check_n_features(X, self.n_features_in_)
        if self._allows_missing:
            check_missing_rows(X)
        return X

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator"
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

    # -- fitting ------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None):
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
        y : array-like of int of shape (n_samples,), optional
            Partial labels for semi-supervised EM: the component (``0`` to
            ``n_components - 1``) of rows whose component is known, ``-1`` for
            the others. Labelled rows keep their responsibilities fixed to their
            label, which also pins each component to its label (no label
            switching). ``None`` (or all ``-1``) is ordinary EM.
            In-memory data only: a source raises :class:`InvalidParameterError`.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights; a weight of ``m`` counts a row ``m`` times.
            A source carries its own weights (e.g. ``ParquetSource(path,
            weights="w")``); with a Dask array, a Dask array of weights.

        Returns
        -------
        self
        """
        self._validate_params()
        if is_source(X) or is_dask_collection(X):
            source, X = self._training_source(X, y, sample_weight)  # X: a small probe of the data
            labels = None
            d = source.n_features
        else:
            X = check_array(X, min_samples=1, allow_nan=self._allows_missing)
            if self._allows_missing:
                check_missing_rows(X)
            self._check_data(X)
            n, d = X.shape
            self._check_n_samples(n)
            w = check_sample_weight(sample_weight, n, X.dtype)
            labels = check_labels(y, n, self.n_components)
            self._validate_user_init(d)
            source = self._source(X, w)
        family = self._family_for(X)
        rng = check_random_state(self.random_state)
        warm = bool(self.warm_start) and hasattr(self, "weights_") and self.n_features_in_ == d
        n_init = 1 if warm else int(self.n_init)
        best: EMResult | None = None
        with _verbose_logging(self.verbose), ChunkPool(self.n_jobs) as pool:
            for attempt in range(n_init):
                if warm:
                    start = self._fitted_params()
                else:
                    start = self._initial_params(source, family, rng, pool, labels=labels)
                result = run_em(
                    source,
                    family,
                    start,
                    max_iter=int(self.max_iter),
                    tol=float(self.tol),
                    strict=self._strict_monotone(),
                    callback=self._progress_callback(attempt),
                    convergence=self.convergence,
                    rtol=float(self.rtol),
                    accelerate=bool(self.accelerate),
                    pool=pool,
                    labels=labels,
                )
                if best is None or result.log_likelihood > best.log_likelihood:
                    best = result
        if not best.converged and self.max_iter > 0:
            warnings.warn(
                f"Best of {n_init} initialisation(s) did not converge in max_iter="
                f"{self.max_iter} iterations; increase max_iter or tol, or check the data",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._set_fitted(best, source)
        if warm:
            self.init_used_ = "warm_start"
        elif self._has_full_user_init():
            self.init_used_ = "user"
        else:
            self.init_used_ = str(self.init_params)
        return self

    def _check_n_samples(self, n: int) -> None:
        if n < self.n_components:
            raise InvalidInputError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {n}"
            )
        if n < 2:
            raise InvalidInputError(f"X has {n} sample; at least 2 are needed to fit a mixture")

    def _chunk_validator(self):
        """A picklable ``check(X_chunk)`` run on every chunk of a source, or ``None``."""
        return None

    def _training_source(self, X: Any, y: Any, sample_weight: Any):
        """Check a source (or Dask collection) for fitting: one scan, then the same checks as in memory.

        Returns the source and a small probe array (see
        :meth:`emix.sources.SourceSummary.probe`) on which the family is chosen.
        """
        if is_dask_collection(X):
            from ..sources import DaskSource

            X = DaskSource(X, weights=sample_weight)
        elif sample_weight is not None:
            raise InvalidParameterError(
                "sample_weight cannot be given with a source: the source carries its weights "
                "(e.g. ParquetSource(path, weights='w'))"
            )
        if y is not None:
            raise InvalidParameterError(
                f"partial labels (y) need in-memory data; {type(X).__name__} does not support them"
            )
        summary = source_summary(X)
        where = getattr(X, "relocate", lambda msg, offset: msg)
        self._check_n_samples(summary.n_samples)
        if summary.n_missing and not self._allows_missing:
            i, j = summary.first_missing
            raise InvalidInputError(
                where(
                    f"X has a missing value (NaN) at row {i}, column {j} ({summary.n_missing} in all); "
                    f"{type(self).__name__} does not handle missing values: drop or impute those rows",
                    0,
                )
            )
        if self._allows_missing and summary.first_empty_row is not None:
            raise InvalidInputError(
                where(
                    f"X row {summary.first_empty_row} has no observed value (every column is NaN); drop it", 0
                )
            )
        if not summary.total_weight > 0:
            raise InvalidInputError(where("sample_weight is zero for every row", 0))
        check = self._chunk_validator()
        if check is not None:
            for _ in checked_map(X, _ValidateChunk(check)):
                pass
        probe = summary.probe()
        self._check_data(probe)
        self._validate_user_init(X.n_features)
        return X, probe

    def _progress_callback(self, attempt: int):
        if not self.verbose:
            return None
        interval = int(self.verbose_interval)

        def cb(it: int, ll: float, params: MixtureParams) -> None:
            if it % interval == 0:
                logger.info("init %d, iteration %d: log-likelihood %.10g", attempt + 1, it, ll)

        return cb

    def _initial_params(
        self, source, family, rng: np.random.Generator, pool=None, labels: np.ndarray | None = None
    ) -> MixtureParams:
        if self._has_full_user_init():
            dummy = MixtureParams(
                weights=np.full(self.n_components, 1.0 / self.n_components), components=None
            )
            return self._apply_user_init(dummy, source.dtype)
        # a family may start from a simpler variant of itself (missing data: mean-filled rows)
        init_family = getattr(family, "init_family", family)
        if init_family is not family:
            source = MeanFilledSource(source)
        initialiser = _init.make_initialiser(self.init_params, source, self.n_components, rng, pool=pool)
        if labels is not None:
            # components with labelled rows start at their labelled rows' mean
            initialiser = _init.seed_from_labels(initialiser, source, labels)
        anchor = init_family.anchor_from_centres(initialiser.centres)
        stats = stats_from_responsibilities(
            source, init_family, initialiser.resp_fn, anchor, pool=pool, labels=labels
        )
        params = m_step(init_family, stats, None)
        return self._apply_user_init(params, source.dtype)

    def _set_fitted(self, result: EMResult, source: ArraySource) -> None:
        params = result.params
        self.weights_ = params.weights
        self._set_component_attributes(params.components)
        self.converged_ = bool(result.converged)
        self.n_iter_ = int(result.n_iter)
        self.history_ = np.asarray(result.history, dtype=np.float64)
        acc = result.accelerated or (False,) * len(result.history)
        self.accelerated_ = np.asarray(acc, dtype=bool)
        self.log_likelihood_ = float(result.log_likelihood)
        self.lower_bound_ = float(result.log_likelihood / source.total_weight)
        self.n_features_in_ = int(source.n_features)

    def _fitted_params(self) -> MixtureParams:
        self._check_fitted()
        return MixtureParams(
            weights=np.asarray(self.weights_, dtype=np.float64), components=self._component_params()
        )

    # -- using a fitted model --------------------------------------------------
    def _map_chunks(self, X: np.ndarray, fn) -> np.ndarray:
        if is_source(X):
            return np.concatenate(list(self._map_source(X, fn)), axis=0)
        family = self._family_for(X)
        params = self._fitted_params()
        parts = [fn(log_joint(family, Xc, params)) for Xc, _ in self._source(X).chunks()]
        return np.concatenate(parts, axis=0)

    def _map_source(self, source, fn):
        """``fn(log_joint)`` of every chunk of ``source``, computed where the chunk lives, in order."""
        summary = source_summary(source)
        if summary.n_missing and not self._allows_missing:
            i, j = summary.first_missing
            raise InvalidInputError(
                source.relocate(
                    f"X has a missing value (NaN) at row {i}, column {j}; "
                    f"{type(self).__name__} does not handle missing values",
                    0,
                )
            )
        if self._allows_missing and summary.first_empty_row is not None:
            raise InvalidInputError(
                source.relocate(
                    f"X row {summary.first_empty_row} has no observed value (every column is NaN); drop it", 0
                )
            )
        family = self._family_for(summary.probe())
        return checked_map(source, _ChunkJoint(family, self._fitted_params(), fn, self._chunk_validator()))

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-density ``log p(x_n)`` of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a source / Dask collection
            A source is evaluated chunk by chunk where its chunks live; the
            result is brought back as one NumPy array.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        return self._map_chunks(self._check_X(X), logsumexp_rows)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample of ``X`` (scikit-learn's ``score``).

        On a source the sum is taken chunk by chunk (memory: one chunk).
        """
        X = self._check_X(X)
        if is_source(X):
            total = sum(self._map_source(X, _sum_logsumexp))
            return float(total[0] / X.n_samples)
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Responsibilities ``p(k | x_n)``, shape (n_samples, n_components); rows sum to one."""
        return self._map_chunks(self._check_X(X), lambda lj: normalize_log_rows(lj)[0])

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of each sample, shape (n_samples,)."""
        return self._map_chunks(self._check_X(X), lambda lj: lj.argmax(axis=1))

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the labels of ``X`` under the fitted model, shape (n_samples,)."""
        return self.fit(X, y, sample_weight=sample_weight).predict(X)

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw samples from the fitted mixture.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            Component of each sample; samples are grouped by component.
        """
        self._check_fitted()
        check_scalar(n_samples, "n_samples", (int, np.integer), min_val=1)
        rng = check_random_state(self.random_state)
        params = self._fitted_params()
        counts = rng.multinomial(int(n_samples), params.weights / params.weights.sum())
        X = self._make_family().sample(rng, params.components, counts)
        y = np.repeat(np.arange(len(counts)), counts)
        return X, y

    def _n_parameters(self) -> int:
        """Number of free parameters: the components' and ``K - 1`` weights."""
        params = self._fitted_params()
        return int(self._make_family().n_parameters(params.components) + len(params.weights) - 1)

    def bic(self, X: Any) -> float:
        """Bayesian information criterion, scikit-learn's sign (smaller is better):
        ``-2 log L + p log n``."""
        X = self._check_X(X)
        n = _n_rows(X)
        return float(-2 * self.score(X) * n + self._n_parameters() * np.log(n))

    def aic(self, X: Any) -> float:
        """Akaike information criterion (smaller is better): ``-2 log L + 2 p``."""
        X = self._check_X(X)
        return float(-2 * self.score(X) * _n_rows(X) + 2 * self._n_parameters())

    # -- persistence (see emix.io) ----------------------------------------------
    def _saved_arrays(self) -> tuple[str, ...]:
        return ("weights_", "history_", "accelerated_")

    def _saved_scalars(self) -> tuple[str, ...]:
        return ("converged_", "n_iter_", "lower_bound_", "log_likelihood_", "n_features_in_", "init_used_")

    def _restore_fitted(self) -> None:
        """Check fitted values read from a file and derive the rest; raise ValueError if inconsistent."""
        k = self.n_components
        w = np.asarray(self.weights_)
        if w.shape != (k,) or not np.isfinite(w).all() or (w < 0).any() or abs(w.sum() - 1) > 1e-6:
            raise InvalidParameterError(f"weights_ must be {k} non-negative numbers summing to 1, got {w!r}")
        if not isinstance(self.n_features_in_, int) or self.n_features_in_ < 1:
            raise InvalidParameterError(f"n_features_in_ is {self.n_features_in_!r}")
        h, acc = np.asarray(self.history_), np.asarray(self.accelerated_)
        if h.ndim != 1 or acc.shape != h.shape or acc.dtype != bool or not np.isfinite(h).all():
            raise InvalidParameterError("history_ and accelerated_ must be finite and of the same length")
        if not isinstance(self.init_used_, str):
            raise InvalidParameterError(f"init_used_ is {self.init_used_!r}")

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path`` (see :mod:`emix.io`), atomically."""
        from ..io import save_model

        save_model(self, path)


class GaussianMixture(BaseMixture):
    """Gaussian mixture fitted by EM; a drop-in for ``sklearn.mixture.GaussianMixture``.

    Parameters
    ----------
    n_components : int, default=1
        Number of components K.
    covariance_type : str, default='full'
        Covariance model: scikit-learn's four names or the 14 mclust names
        (see :mod:`emix.families.mclust` and ``docs/models.md``); shapes of the
        covariance arrays:

        ==========================  =========================
        type                        ``covariances_`` shape
        ==========================  =========================
        'full', 'VVV', EEV, VEV,    (K, D, D)
        EVV, VEE, EVE, VVE
        'tied', 'EEE'               (D, D)
        'diag', 'VVI', EEI, VEI,    (K, D)
        EVI
        'spherical', 'VII', EII     (K,)
        ==========================  =========================
    tol : float, default=1e-3
        scikit-learn's threshold: with ``convergence='sklearn'``, stop when the
        mean log-likelihood per sample changes by less than this. ``tol=0``
        disables early stopping under either rule (exactly ``max_iter``
        iterations, as in scikit-learn).
    reg_covar : float, default=1e-6
        Non-negative jitter added to the covariance diagonals. ``0`` is allowed;
        a singular covariance then gets the least jitter that works, with a
        :class:`~emix.exceptions.DegenerateComponentWarning`.
    max_iter : int, default=100
        Maximum EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the highest log-likelihood is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hierarchical'}, default='kmeans'
        How the initial responsibilities are chosen. ``'hierarchical'`` is
        mclust's default: model-based agglomeration (VVV criterion) on the
        data, or on a random subset of 2000 rows for larger data.
    weights_init : array-like of shape (K,), optional
    means_init : array-like of shape (K, D), optional
    precisions_init : array-like, optional
        Shape as ``covariances_`` for the chosen ``covariance_type``.
    random_state : int, RandomState, Generator or None
    warm_start : bool, default=False
        Start from the previous fit's parameters (with ``n_init=1``).
    verbose : int, default=0
        Log progress through the ``emix`` logger (shown on stderr if unconfigured).
    verbose_interval : int, default=10
        Iterations between progress messages.
    chunk_size : int or None, default=None
        Rows per chunk in every pass; ``None`` picks a cache-sized chunk. The
        result does not depend on it (beyond rounding).
    convergence : {'aitken', 'sklearn'}, default='aitken'
        Stopping rule on the total log-likelihood ``L``. ``'aitken'``: stop
        when the last change and Aitken's estimate of the gain still to come
        (from the rate of the last two changes) are both at most
        ``rtol * max(|L|, n_samples)``; it does not stop on a slow ridge.
        ``'sklearn'``: scikit-learn's rule with ``tol`` (see
        :class:`emix.em.ConvergenceMonitor`).
    rtol : float, default=1e-8
        Relative tolerance of the ``'aitken'`` rule.
    accelerate : bool, default=True
        SQUAREM extrapolation (Varadhan and Roland 2008) every three EM steps,
        in log-weight / mean / log-Cholesky coordinates so that the point stays
        a valid mixture; an extrapolated point is kept only if its
        log-likelihood is not below the last plain step's, so the history is
        still monotone. Set ``False`` for iteration-by-iteration agreement with
        scikit-learn (same init, ``tol=0``, same ``max_iter``).
    n_jobs : int or None, default=None
        Threads over which the chunks of every pass are spread (``None`` or
        ``-1``: all cores). While fitting with more than one thread, BLAS is
        held to one thread per worker (threadpoolctl).

    Missing values
    --------------
    NaN in ``X`` means "missing at random": EM is then exact EM on the
    observed-data likelihood (marginal densities in the E-step, conditional
    expectations in the statistics). ``predict`` and ``score_samples`` accept
    rows with NaN, and :meth:`impute` fills them. A row with no observed value
    is an error.

    Attributes
    ----------
    weights_ : ndarray of shape (K,)
    means_ : ndarray of shape (K, D)
    covariances_, precisions_, precisions_cholesky_ : ndarray
        Shapes in the table above.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample of the final parameters.
    log_likelihood_ : float
        Total log-likelihood of the final parameters.
    history_ : ndarray of shape (n_entries,)
        Total log-likelihood at the start of every iteration, then of the final
        parameters; it never decreases (up to rounding) when ``reg_covar=0``.
        ``n_entries == n_iter_ + 1`` unless extrapolations were rejected (each
        costs a pass that is not in the history).
    accelerated_ : ndarray of bool of shape (n_entries,)
        True where the history entry was computed at an extrapolated
        (SQUAREM) point.
    n_features_in_ : int
    init_used_ : str
        How the kept fit started: ``init_params``, ``'user'`` (all three
        ``*_init`` given) or ``'warm_start'``.
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        chunk_size: int | None = None,
        convergence: str = "aitken",
        rtol: float = 1e-8,
        accelerate: bool = True,
        n_jobs: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_size = chunk_size
        self.convergence = convergence
        self.rtol = rtol
        self.accelerate = accelerate
        self.n_jobs = n_jobs

    _allows_missing = True

    def _make_family(self) -> GaussianFamily:
        return GaussianFamily(self.covariance_type, self.reg_covar)

    def _family_for(self, X: np.ndarray):
        base = self._make_family()
        return MissingGaussianFamily(base) if np.isnan(X).any() else base

    def impute(self, X: Any) -> np.ndarray:
        """Fill missing values (NaN) with their conditional expectation under the model.

        Each missing block is replaced by ``E[x_M | x_O] = sum_k p(k | x_O)
        (mu_kM + S_kMO S_kOO^-1 (x_O - mu_kO))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
        """
        X = self._check_X(X)
        family = MissingGaussianFamily(self._make_family())
        return family.impute(X, self._component_params(), np.asarray(self.weights_, dtype=np.float64))

    def _strict_monotone(self) -> bool:
        return self.reg_covar == 0

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.covariance_type not in COVARIANCE_MODELS:
            raise InvalidParameterError(
                f"covariance_type must be one of {sorted(COVARIANCE_MODELS)}, got {self.covariance_type!r}"
            )
        check_scalar(self.reg_covar, "reg_covar", (float, int, np.floating, np.integer), min_val=0)

    def _validate_user_init(self, n_features: int) -> None:
        k, d = self.n_components, n_features
        if self.weights_init is not None:
            w = _init_array(self.weights_init, "weights_init", (k,))
            if (w < 0).any() or (w > 1).any():
                raise InvalidParameterError(
                    f"weights_init must lie in [0, 1]; got min {w.min()!r}, max {w.max()!r}"
                )
            if not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-8):
                raise InvalidParameterError(f"weights_init must sum to 1, but they sum to {w.sum()!r}")
        if self.means_init is not None:
            _init_array(self.means_init, "means_init", (k, d))
        if self.precisions_init is not None:
            p = np.asarray(self.precisions_init)
            if p.dtype.kind not in "biuf":
                raise InvalidParameterError(f"precisions_init must be numeric, got dtype {p.dtype}")
            self._make_family().model.check_precisions(p.astype(np.float64), k, d)

    def _has_full_user_init(self) -> bool:
        return all(v is not None for v in (self.weights_init, self.means_init, self.precisions_init))

    def _apply_user_init(self, params: MixtureParams, dtype) -> MixtureParams:
        weights = params.weights
        comp = params.components
        means = None if comp is None else comp.means
        cov = None if comp is None else comp.covariances
        prec_chol = None if comp is None else comp.precisions_cholesky
        if self.weights_init is not None:
            weights = np.asarray(self.weights_init, dtype=np.float64).copy()
        if self.means_init is not None:
            means = np.array(self.means_init, dtype=dtype)
        if self.precisions_init is not None:
            cov, prec_chol = self._make_family().model.from_precisions(
                np.asarray(self.precisions_init, dtype=np.float64)
            )
            cov, prec_chol = cov.astype(dtype), prec_chol.astype(dtype)
        return MixtureParams(weights=weights, components=GaussianParams(means, cov, prec_chol))

    def _saved_arrays(self) -> tuple[str, ...]:
        return super()._saved_arrays() + ("means_", "covariances_", "precisions_cholesky_")

    def _restore_fitted(self) -> None:
        super()._restore_fitted()
        model = self._make_family().model
        k, d = self.n_components, self.n_features_in_
        if np.shape(self.means_) != (k, d) or not np.isfinite(self.means_).all():
            raise InvalidParameterError(f"means_ must be finite with shape {(k, d)}")
        want = model.shape(k, d)
        for name in ("covariances_", "precisions_cholesky_"):
            arr = getattr(self, name)
            if arr.shape != want or not np.isfinite(arr).all():
                raise InvalidParameterError(f"{name} must be finite with shape {want}, got {arr.shape}")
        self.precisions_ = model.precisions(self.precisions_cholesky_)
        eye = np.eye(d)
        for j in range(k):
            c = model.component_covariance(self.covariances_, j, d)
            p = model.component_covariance(self.precisions_, j, d)
            if not np.allclose(c @ p, eye, rtol=1e-5, atol=1e-5):
                raise InvalidParameterError(
                    f"component {j}: covariances_ and precisions_cholesky_ do not agree"
                )

    def _set_component_attributes(self, components: GaussianParams) -> None:
        self.means_ = components.means
        self.covariances_ = components.covariances
        self.precisions_cholesky_ = components.precisions_cholesky
        self.precisions_ = self._make_family().model.precisions(components.precisions_cholesky)

    def _component_params(self) -> GaussianParams:
        return GaussianParams(
            means=np.asarray(self.means_),
            covariances=np.asarray(self.covariances_),
            precisions_cholesky=np.asarray(self.precisions_cholesky_),
        )


def _n_rows(X: Any) -> int:
    return int(X.n_samples) if is_source(X) else int(X.shape[0])


def _sum_logsumexp(lj: np.ndarray) -> np.ndarray:
    return np.asarray([logsumexp_rows(lj).sum(dtype=np.float64)])


class _ChunkJoint:
    """``fn(log_joint(X_chunk))`` for one chunk (picklable, for distributed sources)."""

    def __init__(self, family, params: MixtureParams, fn, check=None) -> None:
        self.family, self.params, self.fn, self.check = family, params, fn, check

    def __call__(self, X: np.ndarray, w, offset: int) -> np.ndarray:
        if self.check is not None:
            self.check(X)
        return self.fn(log_joint(self.family, X, self.params))


class _ValidateChunk:
    """``check(X_chunk)`` as a chunk function (picklable)."""

    def __init__(self, check) -> None:
        self.check = check

    def __call__(self, X: np.ndarray, w, offset: int) -> None:
        self.check(X)


def _init_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise InvalidParameterError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.shape != shape:
        raise InvalidParameterError(f"{name} has shape {arr.shape}; expected {shape}")
    if not np.isfinite(arr).all():
        raise InvalidParameterError(f"{name} contains NaN or inf")
    return arr
