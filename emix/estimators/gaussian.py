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
from ..families.gaussian.prior import MAPGaussianFamily, as_prior
from ..families.noise import with_noise
from ..families.registry import GaussianComponents
from .core import MixtureEstimator


class GaussianMixture(MixtureEstimator):
    """Gaussian mixture fitted by EM; a drop-in for ``sklearn.mixture.GaussianMixture``.

    The same constructor arguments, methods and fitted attributes as
    scikit-learn's class, and a few more. What differs from scikit-learn, and
    how to get its exact iterations (``convergence='sklearn',
    accelerate=False``), is on the page ``docs/sklearn-users.md``.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components K.
    covariance_type : str, default='full'
        Covariance model: scikit-learn's four names or the 14 mclust names
        (``docs/models.md``). The shapes of ``covariances_``,
        ``precisions_`` and ``precisions_cholesky_``:

        =========================================================  ======================
        ``covariance_type``                                        ``covariances_`` shape
        =========================================================  ======================
        'full', 'VVV', 'EEV', 'VEV', 'EVV', 'VEE', 'EVE', 'VVE'    (K, D, D)
        'tied', 'EEE'                                              (D, D)
        'diag', 'VVI', 'EEI', 'VEI', 'EVI'                         (K, D)
        'spherical', 'VII', 'EII', 'E', 'V' (mclust's 1-D names)   (K,)
        =========================================================  ======================
    tol : float, default=1e-3
        Bound on the gain in mean log-likelihood per sample that EM may leave
        on the table, under either stopping rule: ``convergence='sklearn'``
        stops when the last change per sample is below ``tol`` (scikit-learn's
        rule); ``convergence='aitken'`` stops only when the last change plus
        Aitken's estimate of the gain still to come, per sample, is below
        ``tol`` *and* the ``rtol`` test holds (at the default ``tol`` the
        ``rtol`` test is the stricter one; a smaller ``tol`` asks for more).
        ``tol=0`` disables early stopping under either rule (exactly
        ``max_iter`` iterations, as in scikit-learn).
    reg_covar : float, default=1e-6
        Non-negative jitter added to the covariance diagonals. ``0`` is allowed
        (plain maximum likelihood, as mclust): EM then does not take an M-step
        that would make a component degenerate (a covariance singular by
        mclust's test, or no rows) or lower the likelihood; it ends at the
        point before, and ``degenerate_`` names the components, with a
        :class:`~emix.exceptions.DegenerateComponentWarning`. With ``0``, data
        with no more distinct rows than components are refused (every
        component could collapse onto identical rows, where the likelihood has
        no maximum).
    max_iter : int, default=100
        Maximum passes over the data per initialisation (the final pass not
        counted): EM iterations without acceleration, as in scikit-learn; with
        ``accelerate=True`` a SQUAREM cycle costs two passes and a rejected
        extrapolation one more, so ``max_iter`` bounds the work, not the steps.
    n_init : int, default=1
        Number of initialisations; the one with the highest log-likelihood is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hierarchical', 'trimmed-kmeans'} or tuple, default='kmeans'
        How the initial responsibilities are chosen; the initial parameters
        are their M-step. ``'kmeans'``: emix's own k-means (greedy
        k-means++ seeds, then Lloyd's iterations). ``'k-means++'`` and
        ``'random_from_data'``: seeds only, every row assigned to its
        nearest seed. ``'random'``: random responsibilities.
        ``'hierarchical'`` is mclust's default start (``emix.init.mclust_start``):
        quantile classes for 1-D data, else model-based agglomeration (VVV
        criterion) on the data, or on a random subset of 2000 rows for larger data.
        ``'trimmed-kmeans'``: trimmed k-means on a sample of about 4000 rows,
        the 10 % farthest from their centres left out (a clump of outliers gets
        no component). A tuple of names runs EM from each at every restart and
        keeps the most likely fit.
    weights_init : array-like of shape (K,), optional
        Initial mixing weights, non-negative and summing to one.
    equal_weights : bool, default=False
        Keep every mixing weight at ``1 / K`` (mclust's ``equalPro``, e.g.
        ``Mclust(X, G, modelNames = "EEE", control = emControl(equalPro =
        TRUE))``): the weights are not estimated, and ``bic`` / ``aic``
        count ``K - 1`` fewer parameters.
    means_init : array-like of shape (K, D), optional
        Initial means.
    precisions_init : array-like, optional
        Initial precision matrices (inverse covariances), shaped as
        ``covariances_`` for the chosen ``covariance_type``. As in
        scikit-learn, EM starts from the user's arrays alone only when
        all three ``*_init`` are given; otherwise the initialiser runs and
        the given arrays replace its values.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation and :meth:`sample`. An int gives the same
        fit, and the same samples, on every call.
    warm_start : bool, default=False
        Start from the previous fit's parameters (with ``n_init=1``). The
        stopping rule then sees the previous fit's iterations continued, so
        that repeated fits with ``max_iter=1`` converge as in scikit-learn.
    verbose : int, default=0
        Log progress through the ``emix`` logger (shown on stderr when it
        has no handler): the log-likelihood every ``verbose_interval``
        iterations; ``2`` also shows the debug messages.
    verbose_interval : int, default=10
        Iterations between progress messages.
    chunk_size : int or None, default=None
        Rows per chunk in every pass; ``None`` picks a cache-sized chunk. The
        result does not depend on it (beyond rounding).
    convergence : {'aitken', 'sklearn', 'mclust'}, default='aitken'
        Stopping rule on the total log-likelihood ``L``. ``'aitken'``: stop
        when the last change and Aitken's estimate of the gain still to come
        (from the rates of the last three changes; no stop while the rate
        still rises) are both at most ``rtol * max(|L|, n_samples)`` and
        their sum per sample is below ``tol``; it does not stop on a slow
        ridge. ``'sklearn'``:
        scikit-learn's rule, the last change per sample below ``tol`` (see
        :class:`emix.engine.ConvergenceMonitor` and ``docs/speed.md``).
    rtol : float, default=1e-8
        Relative tolerance of the ``'aitken'`` rule (unused by ``'sklearn'``):
        raise it to stop sooner under the default rule, as the
        :class:`~emix.exceptions.ConvergenceWarning` advises when it binds.
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
    online_step : float, default=0.7
        The exponent ``alpha`` of online EM's step size ``(t + 2)^(-alpha)``
        (:meth:`partial_fit`), in ``(0.5, 1]``. At 1 the running statistics
        are the plain average of every batch's; smaller values forget the
        early batches (computed at poorer parameters) sooner and follow data
        that drift. Not used by ``fit``. See ``docs/large-data.md``.
    checkpoint : str, path-like or None, default=None
        A file where ``fit`` saves its state at every iteration boundary and
        after every restart (atomically; a ZIP of JSON and ``.npy``, never a
        pickle), and from which it resumes when the file exists: a fit killed
        at any moment and run again ends with the same parameters, bit for
        bit for the same chunks. A checkpoint of other data or settings
        raises :class:`~emix.exceptions.CheckpointMismatchError`; a finished
        fit's checkpoint gives its result at once. ``partial_fit`` saves its
        online state there after a batch (at most once a second) and a new
        estimator resumes from it, replaying the batches it saw (checked by
        hash). See ``docs/large-data.md``.
    noise : bool or float, default=False
        Add a noise component (mclust's): a uniform density ``1 / V`` over a
        box around the data, with its own estimated weight ``noise_weight_``.
        ``True``: ``V`` is mclust's ``hypvol`` of the training rows (the
        smaller of the bounding box and the box of the principal-component
        scores); a number: that volume. ``weights_`` keeps its K Gaussian
        weights (they sum to ``1 - noise_weight_``), :meth:`predict` labels
        rows the noise explains best ``-1``, :meth:`predict_proba` has K + 1
        columns (the noise last) and :meth:`score_samples` includes the noise
        term. The noise weight and the volume count as two more parameters in
        :meth:`bic`, as mclust counts them. Data with missing values are refused.
        See ``docs/models.md`` ("A noise component").
    noise_init : bool array of shape (n_samples,), float or None, default=None
        The start of a fit with ``noise``: one flag per training row, ``True``
        where the row is guessed to be noise (mclust's
        ``initialization$noise``: the initialiser runs on the other rows, the
        guessed ones start as noise); a number in (0, 1): the noise weight to
        start from, the initialiser running on every row; ``None``: 0.1.
    prior : None, 'default', GaussianPrior or dict, default=None
        MAP estimation with mclust's conjugate prior (``priorControl()``):
        ``'default'`` or :class:`~emix.GaussianPrior` fields left ``None``
        take mclust's ``defaultPrior`` from the training data and K. EM then
        maximises ``log L + log p(theta)``, which ``history_`` and
        ``lower_bound_`` hold; ``log_likelihood_``, ``score``, ``bic`` and
        ``aic`` stay those of the likelihood alone (mclust's BIC with a
        prior). Not for VEE, EVE, VVE, EVV (mclust has no prior for them) nor
        for data with missing values. With :meth:`partial_fit` the default
        prior's data values are those of the first batch. See ``docs/bayesian.md``.
    strict : bool, default=False
        Raise :class:`~emix.exceptions.DiagnosticsError` at the end of ``fit``
        instead of warning when the fit repaired an M-step, kept a degenerate
        or duplicate component, lost a restart or has ``reg_covar`` swamping a
        feature (see ``diagnostics_``). Not converging stays a
        :class:`~emix.exceptions.ConvergenceWarning`.

    Attributes
    ----------
    diagnostics_ : Diagnostics
        What the fit found (:class:`~emix.Diagnostics`): repairs (component,
        iteration, what was done), inexact M-steps, degenerate and duplicate
        components, failed restarts, features swamped by ``reg_covar``;
        ``str()`` summarises it.
    degenerate_ : ndarray of int of shape (n_degenerate,)
        Components found degenerate, as mclust defines it (empty is none):
        with ``reg_covar=0`` EM stops, as mclust does, rather than take an
        M-step that empties a component or makes its covariance singular
        (mclust's test: ``min_j |R_jj| / (1 + max_j |R_jj|) <= sqrt(eps)``
        with ``R^T R = Sigma_k``, see ``emix.families.gaussian.degeneracy``),
        and these are that step's components; otherwise the components of the
        final parameters that fail the test. Fitting warns
        :class:`~emix.exceptions.DegenerateComponentWarning` naming them; a
        model read from a file tests its parameters again.
    weights_ : ndarray of shape (K,)
        Mixing weights. In the training data's dtype (float32 for float32
        data), like every fitted array.
    means_ : ndarray of shape (K, D)
        Component means.
    covariances_ : ndarray
        Component covariances; the shape depends on ``covariance_type``
        (table above).
    precisions_ : ndarray
        Inverses of ``covariances_``, of the same shape.
    precisions_cholesky_ : ndarray
        Cholesky factors of ``precisions_``, of the same shape, as
        scikit-learn's: ``precisions_[k] == P[k] @ P[k].T`` with ``P =
        precisions_cholesky_`` for full covariances (the square root for
        diagonal and spherical ones).
    converged_ : bool
        Whether the stopping rule was met before ``max_iter`` in the kept fit.
    n_iter_ : int
        Passes over the data of the kept fit, as ``max_iter`` counts them
        (SQUAREM's extrapolated points included, rejected ones too; the final
        pass not): EM iterations when ``accelerate=False``.
    lower_bound_ : float
        Mean log-likelihood per sample of the final parameters
        (scikit-learn's is that of the parameters before the last M-step,
        which here is ``lower_bounds_[-1]``).
    lower_bounds_ : ndarray of shape (n_entries - 1,)
        scikit-learn's per-iteration values: the mean log-likelihood at the
        start of every iteration of the kept fit, ``history_[:-1] / n_samples``
        (``n_iter_`` values without acceleration).
    log_likelihood_ : float
        Total log-likelihood of the final parameters (``lower_bound_`` times
        the number of samples, or the sum of the sample weights).
    history_ : ndarray of shape (n_entries,)
        Total log-likelihood at the start of every iteration, then of the final
        parameters; it never decreases (up to rounding) when ``reg_covar=0``.
        ``n_entries == n_iter_ + 1`` unless extrapolations were rejected (each
        costs a pass that is not in the history).
    accelerated_ : ndarray of bool of shape (n_entries,)
        True where the history entry was computed at an extrapolated
        (SQUAREM) point.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of object of shape (n_features,)
        Column names of the data frame given to ``fit``, when they are all
        strings (absent otherwise). Later calls check that a data frame has
        these columns in this order.
    init_used_ : str
        How the kept fit started: ``init_params``, ``'user'`` (all three
        ``*_init`` given) or ``'warm_start'``.
    noise_weight_ : float
        With ``noise``: the noise component's weight (mclust's last ``pro``);
        ``weights_.sum() + noise_weight_ == 1``.
    noise_volume_ : ndarray of shape ()
        With ``noise``: the volume ``V`` of the box (the noise density is ``1 / V``).
    noise_lower_, noise_upper_ : ndarray of shape (D,)
        With ``noise``: the box, ``noise_lower_ <= x @ noise_rotation_ <= noise_upper_``
        (what :meth:`sample` draws noise rows from).
    noise_rotation_ : ndarray of shape (D, D)
        With ``noise``: the identity (the bounding box) or the principal directions.

    See Also
    --------
    emix.select : Choose ``covariance_type`` and ``n_components`` by BIC or ICL.
    emix.StudentMixture : Student-t components, robust to outliers.
    emix.Mixture : The same estimator over any component family.

    Notes
    -----
    **Missing values.** NaN in ``X`` means "missing at random": EM is then
    exact EM on the observed-data likelihood (marginal densities in the
    E-step, conditional expectations in the statistics). ``predict``,
    ``predict_proba`` and ``score_samples`` accept rows with NaN, and
    :meth:`impute` fills them. A row with no observed value is an error.

    **Memory.** Every EM iteration is one pass over the data in chunks of
    ``chunk_size`` rows that sums sufficient statistics; no
    ``(n_samples, n_components)`` array is kept, and ``fit`` also takes a
    source (:mod:`emix.sources`) for data larger than memory.

    Examples
    --------
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(n_components=3, covariance_type="tied", random_state=0).fit(X)
    >>> gm.weights_.round(3)
    array([0.169, 0.356, 0.475])
    >>> gm.means_.round(2)
    array([[ 3.8 , 77.47],
           [ 2.04, 54.49],
           [ 4.47, 80.87]])
    >>> round(gm.log_likelihood_, 4), gm.converged_
    (-1126.3159, True)
    >>> gm.predict([[2.0, 50.0], [4.5, 85.0]])
    array([1, 2])
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
        equal_weights: bool = False,
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
        online_step: float = 0.7,
        checkpoint: Any = None,
        noise: bool | float = False,
        noise_init: Any = None,
        prior: Any = None,
        strict: bool = False,
    ) -> None:
        self._store_init_args(locals())

    def _base_family(self) -> GaussianComponents:
        if self.covariance_type not in COVARIANCE_MODELS:
            raise InvalidParameterError(
                f"covariance_type must be one of {sorted(COVARIANCE_MODELS)}, got {self.covariance_type!r}"
            )
        check_scalar(self.reg_covar, "reg_covar", (float, int, np.floating, np.integer), min_val=0)
        prior = as_prior(getattr(self, "prior", None))
        if prior is not None:  # MAP with mclust's conjugate prior
            family = MAPGaussianFamily(self.covariance_type, self.reg_covar, prior)
        else:
            family = GaussianComponents(self.covariance_type, self.reg_covar)
        return with_noise(family, self.noise, self.noise_init)  # mclust's noise component

    def _user_init_arrays(self, n_features: int, dtype: Any) -> dict[str, Any]:
        """``means_init`` and ``precisions_init`` as the family's arrays, in the data's dtype."""
        k, d = self.n_components, n_features
        arrays: dict[str, Any] = {}
        if self.means_init is not None:
            means = check_init_array(self.means_init, "means_init", (k, d), "means")
            arrays["means"] = means.astype(dtype)
        if self.precisions_init is not None:
            cov, prec_chol = self._user_precisions(k, d)
            arrays["covariances"] = cov.astype(dtype)
            arrays["precisions_cholesky"] = prec_chol.astype(dtype)
        return arrays

    def _user_precisions(self, k: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        """``precisions_init`` checked, as covariances and precision Cholesky factors (float64).

        Messages also carry scikit-learn's wording (``'full precision' should be ...``).
        """
        model = self._base_family().model
        label = f"{self.covariance_type} precision"
        p = np.asarray(self.precisions_init)
        if p.dtype.kind not in "biuf":
            raise InvalidParameterError(f"precisions_init must be numeric, got dtype {p.dtype}")
        want = model.shape(k, d)
        if p.shape != want:
            raise InvalidParameterError(
                f"precisions_init has shape {p.shape}; covariance_type={self.covariance_type!r} with "
                f"n_components={k} and {d} features needs {want} (The parameter {label!r} should "
                f"have the shape of {want}, but got {p.shape})"
            )
        try:
            return model.checked_from_precisions(p.astype(np.float64), k, d)
        except InvalidParameterError as exc:
            matrices = len(want) - int(model.per_component) == 2
            kind = "symmetric, positive-definite" if matrices else "positive"
            raise InvalidParameterError(f"{exc} ({label!r} should be {kind})") from None

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
            Rows with missing values (NaN); a row may not be all NaN.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            ``X`` with every NaN replaced; observed values are unchanged.

        Examples
        --------
        >>> import numpy as np
        >>> import emix
        >>> X = emix.datasets.load_faithful()
        >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
        >>> gm.impute([[np.nan, 80.0], [2.0, np.nan]]).round(2)
        array([[ 4.29, 80.  ],
               [ 2.  , 54.25]])
        """
        X = self._check_X(X)
        family = MissingGaussianFamily(self._make_family())
        return family.impute(X, self._component_params(), self._fitted_params().weights)
