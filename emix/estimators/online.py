"""``partial_fit``: online EM for every estimator, one batch at a time.

:class:`OnlineMixin` gives :class:`~emix.estimators.core.MixtureEstimator`
its ``partial_fit``; the algorithm is :mod:`emix.engine.online` (stepwise EM:
running statistics per unit of weight blended with each batch's with step
``(t + 2)^(-online_step)``, an M-step after every batch). What a call does:

* the first call starts from its batch: the estimator's ``init_params`` (or
  its ``*_init`` arrays), as ``fit`` starts; a model already fitted (by
  ``fit``, loaded, or fitted again) starts from its fitted parameters instead,
  with new running statistics;
* ``n_components``, the number of features and the family's settings are
  fixed by the first call: a later call that differs raises an error naming
  what changed;
* each call is one batch; a source (or a Dask collection) is one epoch, a
  batch per chunk, in the source's order.

The running state is kept between calls in the private ``_online``
attribute; ``fit`` replaces the fitted arrays, which ends it (the next
``partial_fit`` starts again from the fitted parameters).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from .._validation import check_random_state, check_sample_weight
from ..engine import ChunkPool, EMResult, OnlineState, online_update
from ..exceptions import EmixError, InvalidInputError, InvalidParameterError
from ..families.registry import spec_string
from ..init import start_plan
from ..sources import ArraySource, DaskSource, is_dask_collection, is_source, with_offsets
from . import checks, names, online_checkpoints
from .diagnostics import Diagnostics

#: The default ``online_step``: ``alpha`` of the step size ``(t + 2)^(-alpha)``.
DEFAULT_ONLINE_STEP = 0.7


def check_online_step(alpha: Any) -> float:
    """``online_step`` as a float in ``(0.5, 1]``.

    Raises
    ------
    InvalidParameterError
        Naming the value and the range (outside it stepwise EM need not converge).
    """
    ok = isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool)
    if not ok or not 0.5 < float(alpha) <= 1.0:
        raise InvalidParameterError(
            f"online_step must be a number in (0.5, 1], got {alpha!r}: the step size "
            "(t + 2)^(-online_step) makes online EM converge only for exponents in that range"
        )
    return float(alpha)


@dataclasses.dataclass
class _OnlineRun:
    """The state an online fit keeps between ``partial_fit`` calls (private, mutable)."""

    state: OnlineState | None
    spec: dict  # the family's spec at the first call
    n_components: int
    n_features: int
    init_used: str
    history: np.ndarray  # per-unit log-likelihood of each batch, first n_batches entries used
    weights: Any = None  # the weights_ array this run set last (a refit replaces it)
    feature_names: Any = None  # a data frame's column names at the first batch, or None
    session: Any = None  # its checkpoint (online_checkpoints.OnlineCheckpoint), with checkpoint=PATH


class OnlineMixin:
    """``partial_fit`` for :class:`~emix.estimators.core.MixtureEstimator` (see the module docstring)."""

    def partial_fit(self, X: Any, y: Any = None, *, sample_weight: Any = None):
        """Update the model with one batch of rows by online (stepwise) EM.

        One E-step on the batch at the current parameters, its statistics
        (per unit of weight) blended into the running statistics with step
        ``(t + 2)^(-online_step)`` (``t = 0`` for the second batch), then an
        M-step. See ``docs/large-data.md`` for its convergence and the choice
        of ``online_step`` and of the batch size. With the estimator's
        ``checkpoint`` set, the online state is saved there after a batch, and
        a new estimator resumes from it, replaying the batches it saw
        (``emix.estimators.online_checkpoints``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), a source, or a Dask array/dataframe
            One batch. A source is one epoch: one update per chunk, in order.
            The first call needs at least ``n_components`` rows (it starts
            from its batch, by ``init_params``); later calls take any number.
        y : ignored
            Not used; present for scikit-learn's API.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights. Statistics are divided by the batch's
            total weight, so a batch enters by its step, whatever its size.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            ``online_step`` outside ``(0.5, 1]``; ``n_components`` or the
            family's settings changed since the first call.
        InvalidInputError
            A batch with another number of features, or values outside the
            family's support.
        """
        alpha = check_online_step(getattr(self, "online_step", DEFAULT_ONLINE_STEP))
        if is_dask_collection(X):
            X, sample_weight = DaskSource(X, weights=sample_weight), None
        if not is_source(X):
            self._partial_fit_batch(X, sample_weight, alpha)
            return self
        if sample_weight is not None:
            raise InvalidParameterError("sample_weight cannot be given with a source: it carries its weights")
        for Xc, wc, offset in with_offsets(X.chunks()):
            try:
                self._partial_fit_batch(Xc, wc, alpha)
            except EmixError as exc:
                relocate = getattr(X, "relocate", None)
                raise type(exc)(str(exc) if relocate is None else relocate(str(exc), offset)) from None
        return self

    # -- one batch ----------------------------------------------------------------------------------
    def _partial_fit_batch(self, X: Any, sample_weight: Any, alpha: float) -> None:
        run = getattr(self, "_online", None)
        if run is not None and (not hasattr(self, "weights_") or run.weights is not self.weights_):
            run = None  # refitted, loaded or changed since: start again from the fitted parameters
        session = None if run is None else run.session
        if run is None and getattr(self, "checkpoint", None) is not None:
            session = online_checkpoints.OnlineCheckpoint(self.checkpoint, self, alpha)
            run = self._online_resume(session)  # None when there is no checkpoint yet
        if run is not None and session is not None and session.replaying():
            session.skip(self._online_batch(run, X, sample_weight)[0])  # seen before the interruption
            return
        with ChunkPool(self.n_jobs) as pool:
            if run is None:
                run, batch, family, params = self._online_begin(X, sample_weight, pool)
                run.session = session
            else:
                batch, family = self._online_batch(run, X, sample_weight)
                params = run.state.params
            state, loglik = online_update(run.state, batch, family, params, alpha=alpha, pool=pool)
        self._online_record(run, state, loglik, batch)
        if session is not None:
            session.record(run, batch, loglik)

    def _online_resume(self, session: Any) -> _OnlineRun | None:
        """The run a checkpoint saved, restored with the fitted attributes it had (None: no file)."""
        saved = session.load()
        if saved is None:
            return None
        self._validate_params()
        history = np.concatenate([saved["history"], np.empty(max(64, saved["history"].shape[0]))])
        run = _OnlineRun(
            None, saved["spec"], saved["n_components"], saved["n_features"], saved["init_used"], history
        )
        run.feature_names, run.session = saved["feature_names"], session
        state = saved["state"]
        self._online_record(run, state, saved["loglik"], online_checkpoints.restored_batch(saved))
        return run

    def _online_save(self) -> None:
        """Write the online run's checkpoint now (``emix fit --online`` at its end); nothing without one."""
        run = getattr(self, "_online", None)
        if run is not None and run.session is not None:
            run.session.save(run)

    def _online_begin(self, X: Any, sample_weight: Any, pool: ChunkPool):
        """The first batch: a new run, started by ``init_params`` (or from the fitted parameters)."""
        self._validate_params()
        if hasattr(self, "weights_"):
            run = _OnlineRun(
                None, self._online_spec(), len(self.weights_), self.n_features_in_, "fitted", _buf()
            )
            batch, family = self._online_batch(run, X, sample_weight)
            return run, batch, family, self._fitted_params()
        fitted_names = names.feature_names_of(X)  # a data frame's column names, kept as fit keeps them
        prep = self._prepare_fit(X, None, sample_weight)
        rng = check_random_state(self.random_state)
        start = self._start(prep, rng, pool)
        used = "user" if prep.full_start else start_plan(self.init_params)[0]  # the start it ran
        run = _OnlineRun(
            None, self._online_spec(), int(self.n_components), prep.source.n_features, used, _buf()
        )
        run.feature_names = fitted_names
        return run, prep.source, prep.family, start

    def _online_spec(self) -> dict:
        return json.loads(spec_string(self._base_family()))

    def _online_batch(self, run: _OnlineRun, X: Any, sample_weight: Any):
        """A later batch, checked against the run: the batch as a source and the family of its pass."""
        if self.n_components != run.n_components:
            raise InvalidParameterError(
                f"partial_fit: n_components is {self.n_components}, but this online fit has "
                f"{run.n_components} components (fixed by its first batch); set it back, or call fit"
            )
        spec = self._online_spec()
        if spec != run.spec:
            changed = sorted(k for k in set(spec) | set(run.spec) if spec.get(k) != run.spec.get(k))
            was = ", ".join(f"{k}={run.spec.get(k)!r} -> {spec.get(k)!r}" for k in changed)
            raise InvalidParameterError(
                f"partial_fit: the model's settings changed since the first batch ({was}); "
                "set them back, or call fit to start again"
            )
        if not is_source(X) and not is_dask_collection(X):
            names.check_names(self, X)  # a data frame's columns as at the first batch
        family = self._make_family()
        dtype = np.asarray(self.means_).dtype if hasattr(self, "means_") else None
        X = checks.check_predict_data(X, family, run.n_features, dtype, type(self).__name__)
        w = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        if w is not None and not w.sum(dtype=np.float64) > 0:
            raise InvalidInputError("partial_fit: sample_weight is zero for every row of the batch")
        return ArraySource(X, w, max(X.shape[0], 1)), self._family_for(X)

    def _online_record(self, run: _OnlineRun, state: OnlineState, loglik: float, batch: Any) -> None:
        """Keep the new state and set the fitted attributes from it."""
        first = run.state is None
        run.state = state
        n = state.n_batches
        if n > run.history.shape[0]:
            run.history = np.concatenate([run.history, np.empty_like(run.history)])
        run.history[n - 1] = loglik / batch.total_weight
        result = EMResult(params=state.params, history=(loglik,), n_iter=n, converged=False)
        self._set_fitted(result, batch)
        self.history_ = run.history[:n]  # online: mean log-likelihood of each batch, per unit weight
        self.lower_bounds_ = self.history_[:-1]  # (as in a batch fit: the entries before the last)
        self.accelerated_ = np.zeros(n, dtype=bool)
        self.init_used_ = run.init_used
        self.n_features_in_ = run.n_features
        self.diagnostics_ = Diagnostics(converged=False, notes=(ONLINE_NOTE,))
        if first and run.init_used != "fitted":
            names.set_fitted_names(self, run.feature_names)
        run.weights = self.weights_
        if first:
            self._online = run


#: what ``diagnostics_`` says after ``partial_fit``
ONLINE_NOTE = "online EM (partial_fit): repairs, duplicates and failed starts are recorded by fit only"


def _buf() -> np.ndarray:
    return np.empty(64, dtype=np.float64)
