"""The variational Bayesian Gaussian mixture: a drop-in for ``sklearn.mixture.BayesianGaussianMixture``.

A thin class over :class:`~emix.estimators.core.MixtureEstimator`:
scikit-learn's constructor arguments and the variational family they describe
(:mod:`emix.families.gaussian.variational`, where the model, the updates and
the evidence lower bound are written out). Fitting is the engine's ordinary
loop (passes of statistics, then the conjugate update), so file sources, Dask
and ``sample_weight`` work as for :class:`~emix.GaussianMixture`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._validation import check_random_state, check_scalar
from ..engine import EMResult
from ..families.gaussian.variational import VariationalGaussianFamily
from .core import MixtureEstimator


class BayesianGaussianMixture(MixtureEstimator):
    """Variational Bayesian Gaussian mixture; a drop-in for ``sklearn.mixture.BayesianGaussianMixture``.

    The weights have a Dirichlet prior (``'dirichlet_distribution'``) or a
    truncated Dirichlet process (``'dirichlet_process'``, stick breaking), the
    components a Gauss-Wishart prior; the posterior is approximated by
    coordinate ascent on the evidence lower bound (ELBO), which never
    decreases (with ``reg_covar=0``). Components the data do not need keep a
    weight near zero, so ``n_components`` is an upper bound.

    Parameters
    ----------
    n_components : int, default=1
        The number of components K (an upper bound on those that keep weight).
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Shapes of ``covariances_``, ``precisions_`` and ``precisions_cholesky_``:
        (K, D, D), (D, D), (K, D), (K,).
    tol : float, default=1e-3
        With ``convergence='sklearn'``: stop when the ELBO per sample changes
        by less than this (scikit-learn applies ``tol`` to the total ELBO).
    reg_covar : float, default=1e-6
        Added to the diagonal of every component's scatter, as in scikit-learn.
    max_iter : int, default=100
    n_init : int, default=1
        Initialisations; the one with the largest ELBO is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hierarchical', 'trimmed-kmeans'} or tuple, default='kmeans'
        The initial responsibilities; the first update is made from them (a
        tuple: each start at every restart, the largest ELBO kept).
    weight_concentration_prior_type : {'dirichlet_process', 'dirichlet_distribution'}, default='dirichlet_process'
    weight_concentration_prior : float or None, default=None
        ``alpha_0`` (``gamma`` in the literature); ``None``: ``1 / n_components``.
        Small values leave more components empty.
    mean_precision_prior : float or None, default=None
        ``beta_0``; ``None``: 1.
    mean_prior : array-like of shape (n_features,) or None, default=None
        ``m_0``; ``None``: the mean of the (weighted) data.
    degrees_of_freedom_prior : float or None, default=None
        ``nu_0 > n_features - 1``; ``None``: ``n_features``.
    covariance_prior : float or array-like or None, default=None
        ``W_0^-1``: (D, D) for 'full' and 'tied', (D,) for 'diag', a float
        for 'spherical'; ``None``: the data's covariance (``ddof=1``), its
        diagonal, or the mean of its diagonal.
    random_state : int, RandomState, Generator or None
    warm_start : bool, default=False
        Start from the previous fit (its prior included).
    verbose : int, default=0
    verbose_interval : int, default=10
    chunk_size : int or None, default=None
        Rows per chunk in every pass; the result does not depend on it.
    convergence : {'aitken', 'sklearn'}, default='aitken'
        Stopping rule on the ELBO, as in :class:`~emix.GaussianMixture`.
    rtol : float, default=1e-8
        Relative tolerance of the ``'aitken'`` rule.
    n_jobs : int or None, default=None
        Threads for the passes over the data.
    online_step : float, default=0.7
        Step exponent of :meth:`partial_fit` (online EM), in (0.5, 1]; see
        ``docs/large-data.md``.
    checkpoint : str, path-like or None, default=None
        A file where ``fit`` saves its state at every iteration and from which
        it resumes (see ``docs/large-data.md``).
    strict : bool, default=False
        Raise :class:`~emix.exceptions.DiagnosticsError` instead of warning
        when the fit repaired an update, kept a degenerate or duplicate used
        component, lost a restart or has ``reg_covar`` swamping a feature
        (see ``diagnostics_``).

    Attributes
    ----------
    weights_ : ndarray of shape (K,)
        Posterior-mean weights.
    weight_concentration_ : ndarray of shape (K,), or tuple of two of them
        ``alpha`` of ``q(pi)``; for the Dirichlet process the Beta parameters ``(a, b)``.
    mean_precision_ : ndarray of shape (K,)
    means_ : ndarray of shape (K, D)
    degrees_of_freedom_ : ndarray of shape (K,) (a float for 'tied')
    covariances_, precisions_, precisions_cholesky_ : ndarray
        ``covariances_`` is the inverse of ``E_q[Lambda_k]``.
    weight_concentration_prior_, mean_precision_prior_, degrees_of_freedom_prior_ : float
    mean_prior_ : ndarray of shape (D,)
    covariance_prior_ : ndarray or float
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        The ELBO of the final parameters less the constants scikit-learn leaves
        out (so comparable with scikit-learn's ``lower_bound_``).
    lower_bounds_ : ndarray of shape (``n_iter_``,)
        The same after every iteration.
    elbo_ : float
        The ELBO itself, every constant included (``history_[-1]``).
    history_ : ndarray of shape (``n_iter_ + 1``,)
        The ELBO at the start of every iteration, then of the final parameters.
    log_likelihood_ : float
        The same as ``elbo_`` (the objective the engine maximised).
    n_features_in_ : int
    diagnostics_ : Diagnostics
        What the fit found (:class:`~emix.Diagnostics`); the components left
        unused at the prior are not counted as duplicates.

    Examples
    --------
    Five components offered, a small concentration: the data keep two.

    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> bgm = emix.BayesianGaussianMixture(
    ...     5, weight_concentration_prior=0.01, max_iter=500, random_state=0
    ... ).fit(X)
    >>> bgm.weights_.round(2)
    array([0.  , 0.36, 0.64, 0.  , 0.  ])
    >>> bgm.means_[bgm.weights_ > 0.01].round(2)
    array([[ 2.05, 54.69],
           [ 4.29, 79.95]])
    >>> bgm.converged_, round(bgm.lower_bound_, 2)
    (True, -679.27)
    >>> bgm.sample_weights(3, random_state=0).shape
    (3, 5)
    """

    #: scikit-learn's BayesianGaussianMixture has no user start and no acceleration
    weights_init: ClassVar[None] = None
    accelerate: ClassVar[bool] = False

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
        weight_concentration_prior_type: str = "dirichlet_process",
        weight_concentration_prior: float | None = None,
        mean_precision_prior: float | None = None,
        mean_prior: Any = None,
        degrees_of_freedom_prior: float | None = None,
        covariance_prior: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        chunk_size: int | None = None,
        convergence: str = "aitken",
        rtol: float = 1e-8,
        n_jobs: int | None = None,
        online_step: float = 0.7,
        checkpoint: Any = None,
        strict: bool = False,
    ) -> None:
        self._store_init_args(locals())

    def _base_family(self) -> VariationalGaussianFamily:
        check_scalar(self.reg_covar, "reg_covar", (float, int, np.floating, np.integer), min_val=0)
        return VariationalGaussianFamily(
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            weight_concentration_prior_type=self.weight_concentration_prior_type,
            weight_concentration_prior=self.weight_concentration_prior,
            mean_precision_prior=self.mean_precision_prior,
            mean_prior=self.mean_prior,
            degrees_of_freedom_prior=self.degrees_of_freedom_prior,
            covariance_prior=self.covariance_prior,
        )

    def sample_weights(self, n_samples: int = 1000, random_state: Any = None) -> np.ndarray:
        """Draws of the mixing weights from their variational posterior ``q(pi)``.

        Parameters
        ----------
        n_samples : int, default=1000
        random_state : int, Generator or None

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Each row sums to one (for the Dirichlet process, the K sticks'
            weights renormalised, as ``weights_`` is).
        """
        self._check_fitted()
        check_scalar(n_samples, "n_samples", (int, np.integer), min_val=1)
        conc = self._component_params().weight_concentration
        rng = check_random_state(random_state)
        return self._make_family().weight_prior.sample(
            np.asarray(conc, dtype=np.float64), rng, int(n_samples)
        )

    def _set_fitted(self, result: EMResult, source: Any) -> None:
        """The core's fitted attributes, and scikit-learn's lower bound (the ELBO less its constants)."""
        super()._set_fitted(result, source)
        offset = self._make_family().sklearn_offset(result.params.components, float(source.total_weight))
        self.elbo_ = float(result.log_likelihood)
        self.lower_bound_ = self.elbo_ - offset
        self.lower_bounds_ = self.history_[1:] - offset

    def _saved_scalars(self) -> tuple[str, ...]:
        return (*super()._saved_scalars(), "elbo_")

    def _saved_arrays(self) -> tuple[str, ...]:
        return (*super()._saved_arrays(), "lower_bounds_")
