"""The Gaussian mixture: a drop-in for ``sklearn.mixture.GaussianMixture``.

A thin class over :class:`~emix.estimators.core.MixtureEstimator`: scikit-learn's
constructor arguments, the Gaussian family they describe, scikit-learn's
``weights_init`` / ``means_init`` / ``precisions_init``, and :meth:`impute`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_init_array, check_scalar
from ..exceptions import InvalidParameterError
from ..families.gaussian import COVARIANCE_MODELS
from ..families.gaussian.missing import MissingGaussianFamily
from ..families.registry import GaussianComponents
from .core import MixtureEstimator


class GaussianMixture(MixtureEstimator):
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
        'spherical', 'VII', EII,    (K,)
        'E', 'V' (mclust's 1-D
        names of EII and VII)
        ==========================  =========================
    tol : float, default=1e-3
        scikit-learn's threshold: with ``convergence='sklearn'``, stop when the
        mean log-likelihood per sample changes by less than this. ``tol=0``
        disables early stopping under either rule (exactly ``max_iter``
        iterations, as in scikit-learn).
    reg_covar : float, default=1e-6
        Non-negative jitter added to the covariance diagonals. ``0`` is allowed
        (plain maximum likelihood, as mclust): EM then does not take an M-step
        that would make a component degenerate (a covariance singular by
        mclust's test, or no rows) or lower the likelihood; it ends at the
        point before, and ``degenerate_`` names the components, with a
        :class:`~emix.exceptions.DegenerateComponentWarning`.
    max_iter : int, default=100
        Maximum EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the highest log-likelihood is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hierarchical'}, default='kmeans'
        How the initial responsibilities are chosen. ``'hierarchical'`` is
        mclust's default start (:mod:`emix.init.mclust_start`): quantile
        classes for 1-D data, else model-based agglomeration (VVV criterion) on the
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
    convergence : {'aitken', 'sklearn', 'mclust'}, default='aitken'
        Stopping rule on the total log-likelihood ``L``. ``'aitken'``: stop
        when the last change and Aitken's estimate of the gain still to come
        (from the rate of the last two changes) are both at most
        ``rtol * max(|L|, n_samples)``; it does not stop on a slow ridge.
        ``'sklearn'``: scikit-learn's rule with ``tol``. ``'mclust'``:
        mclust's, ``|L_t - L_{t-1}| <= tol (1 + |L_t|)`` (see
        :class:`emix.engine.ConvergenceMonitor`).
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
    degenerate_ : ndarray of int of shape (n_degenerate,)
        Components found degenerate, as mclust defines it (empty is none):
        with ``reg_covar=0`` EM stops, as mclust does, rather than take an
        M-step that empties a component or makes its covariance singular
        (mclust's test: ``min_j |R_jj| / (1 + max_j |R_jj|) <= sqrt(eps)``
        with ``R^T R = Sigma_k``, see :mod:`emix.families.gaussian.degeneracy`),
        and these are that step's components; otherwise the components of the
        final parameters that fail the test. Fitting warns
        :class:`~emix.exceptions.DegenerateComponentWarning` naming them; a
        model read from a file tests its parameters again.
    """

    #: scikit-learn starts from ``*_init`` alone only when all three are given
    _start_needs_weights = True

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
        self._store_init_args(locals())

    def _base_family(self) -> GaussianComponents:
        if self.covariance_type not in COVARIANCE_MODELS:
            raise InvalidParameterError(
                f"covariance_type must be one of {sorted(COVARIANCE_MODELS)}, got {self.covariance_type!r}"
            )
        check_scalar(self.reg_covar, "reg_covar", (float, int, np.floating, np.integer), min_val=0)
        return GaussianComponents(self.covariance_type, self.reg_covar)

    def _user_init_arrays(self, n_features: int, dtype: Any) -> dict[str, Any]:
        """``means_init`` and ``precisions_init`` as the family's arrays, in the data's dtype."""
        k, d = self.n_components, n_features
        arrays: dict[str, Any] = {}
        if self.means_init is not None:
            arrays["means"] = check_init_array(self.means_init, "means_init", (k, d)).astype(dtype)
        if self.precisions_init is not None:
            p = np.asarray(self.precisions_init)
            if p.dtype.kind not in "biuf":
                raise InvalidParameterError(f"precisions_init must be numeric, got dtype {p.dtype}")
            model = self._base_family().model
            model.check_precisions(p.astype(np.float64), k, d)
            cov, prec_chol = model.from_precisions(p.astype(np.float64))
            arrays["covariances"] = cov.astype(dtype)
            arrays["precisions_cholesky"] = prec_chol.astype(dtype)
        return arrays

    def _restore_fitted(self) -> None:
        super()._restore_fitted()
        # the file does not say how EM ended: the stored parameters are tested again
        singular = self._make_family().singular_components(self._component_params())
        self.degenerate_ = np.asarray(singular, dtype=np.intp)

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
