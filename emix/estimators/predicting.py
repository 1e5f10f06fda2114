"""Using a fitted model: densities, responsibilities, labels, samples, BIC and AIC.

:class:`PredictMixin` is the part of :class:`~emix.estimators.core.MixtureEstimator`
that reads a fitted model; it asks the estimator for its checked data
(``_check_X``), its family (``_make_family``, ``_family_for``) and its fitted
parameters (``_fitted_params``), and the engine for the joint log-densities.
Every method works chunk by chunk, on arrays, sources and Dask collections.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_random_state
from ..engine import MixtureParams, labels, log_density, responsibilities
from ..engine.hooks import n_weight_parameters
from ..exceptions import InvalidParameterError
from ..sources import checked_map, is_dask_collection, is_source, source_summary
from . import checks, lazy


class PredictMixin:
    """Densities, responsibilities, labels, samples and criteria of a fitted mixture."""

    def _map_chunks(self, X: Any, fn, probe: np.ndarray) -> np.ndarray:
        """``fn(family, X_chunk, params)`` of every chunk, joined (``probe``: a one-row result, for Dask)."""
        if is_dask_collection(X):  # issue 13: a lazy Dask array, block by block
            return lazy.map_blocks(self, X, fn, probe)
        if is_source(X):
            return np.concatenate(list(self._map_source(X, fn)), axis=0)
        work = _ChunkJoint(self._family_for(X), self._fitted_params(), fn)
        return np.concatenate(list(checked_map(self._source(X), work)), axis=0)  # errors name whole rows

    def _map_source(self, source: Any, fn):
        """``fn(family, X_chunk, params)`` of every chunk of ``source``, computed where it lives, in order."""
        summary = source_summary(source)
        family = self._make_family()
        checks.check_source_missing(source, summary, family.handles_missing, type(self).__name__, "")
        variant = self._family_for(summary.probe())
        return checked_map(source, _ChunkJoint(variant, self._fitted_params(), fn, family.validate))

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
            ``log p(x_n)`` under the fitted mixture, in nats.
        """
        return self._map_chunks(self._check_X(X), log_density, np.zeros(1))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample of ``X`` (scikit-learn's ``score``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a source / Dask collection
            On a source the sum is taken chunk by chunk (memory: one chunk).
        y : ignored
            Not used; present for scikit-learn's API.

        Returns
        -------
        score : float
            The mean of :meth:`score_samples`.
        """
        return self._score(self._check_X(X))

    def _score(self, X: Any) -> float:
        """``score`` of checked data."""
        if is_source(X):
            total = sum(self._map_source(X, _sum_log_density))
            return float(total[0] / X.n_samples)
        return float(np.mean(self._map_chunks(X, log_density, np.zeros(1))))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Responsibilities ``p(k | x_n)``: the posterior probability of each component.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a source / Dask collection

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            Rows sum to one. With a noise component (``noise=True``), shape
            (n_samples, n_components + 1): the noise column last, as mclust's ``z``.
        """
        width = len(self._fitted_params().weights)  # n_components, or one more with a noise component
        return self._map_chunks(self._check_X(X), responsibilities, np.zeros((1, width)))

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a source / Dask collection

        Returns
        -------
        labels : ndarray of int of shape (n_samples,)
            The component with the largest responsibility (``argmax`` of
            :meth:`predict_proba`); ``-1`` where a noise component's is the
            largest (``noise=True``).
        """
        return self._map_chunks(self._check_X(X), _Labels(int(self.n_components)), np.zeros(1, dtype=np.intp))

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples, at least 1.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.
        y : ndarray of int of shape (n_samples,)
            Component of each sample; ``-1`` for a noise component's rows
            (uniform in its box, drawn last).
        """
        self._check_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise InvalidParameterError(
                f"Invalid value for 'n_samples': {n_samples!r}; n_samples must be >= 1 (an int: "
                "the sampling needs at least one sample)"
            )
        rng = check_random_state(self.random_state)
        params = self._fitted_params()
        counts = rng.multinomial(int(n_samples), params.weights / params.weights.sum())
        X = self._make_family().sample(rng, params.components, counts)
        y = np.repeat(np.arange(len(counts)), counts)
        y[y >= self.n_components] = -1  # a noise component's rows, as predict labels them
        return X, y

    def _n_parameters(self) -> int:
        """Number of free parameters: the components' and ``K - 1`` weights (none if they are fixed)."""
        params, family = self._fitted_params(), self._make_family()
        return int(family.n_parameters(params.components) + n_weight_parameters(family, len(params.weights)))

    def bic(self, X: Any) -> float:
        """Bayesian information criterion, in scikit-learn's sign (smaller is better).

        ``-2 log L + p log n``, with ``p`` the number of free parameters
        (:func:`emix.select` tabulates it in mclust's sign, larger is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a source / Dask collection

        Returns
        -------
        bic : float
        """
        X = self._check_X(X)
        n = _n_rows(X)
        return float(-2 * self._score(X) * n + self._n_parameters() * np.log(n))

    def aic(self, X: Any) -> float:
        """Akaike information criterion, in scikit-learn's sign (smaller is better): ``-2 log L + 2 p``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a source / Dask collection

        Returns
        -------
        aic : float
        """
        X = self._check_X(X)
        return float(-2 * self._score(X) * _n_rows(X) + 2 * self._n_parameters())

    # -- persistence (see emix.io) --------------------------------------------------------


class _Labels:
    """The most probable component of each row of a chunk (picklable); ``-1`` for a column past
    the ``n_components`` (a noise component)."""

    def __init__(self, n_components: int) -> None:
        self.n_components = n_components

    def __call__(self, family: Any, X: np.ndarray, params: MixtureParams) -> np.ndarray:
        found = labels(family, X, params)
        found[found >= self.n_components] = -1
        return found


def _n_rows(X: Any) -> int:
    return int(X.n_samples) if is_source(X) else int(X.shape[0])


def _sum_log_density(family: Any, X: np.ndarray, params: MixtureParams) -> np.ndarray:
    return np.asarray([log_density(family, X, params).sum(dtype=np.float64)])


class _ChunkJoint:
    """``fn(family, X_chunk, params)`` for one chunk (picklable, for distributed sources)."""

    def __init__(self, family: Any, params: MixtureParams, fn: Any, check: Any = None) -> None:
        self.family, self.params, self.fn, self.check = family, params, fn, check

    def __call__(self, X: np.ndarray, w: Any, offset: int) -> np.ndarray:
        if self.check is not None:
            self.check(X)
        return self.fn(self.family, X, self.params)
