"""Mixture estimators for the non-Gaussian component families.

:class:`Mixture` takes any family (by name, spec or object); the named
estimators :class:`BernoulliMixture`, :class:`PoissonMixture` and
:class:`StudentMixture` are the same thing with the family's options as
constructor arguments and scikit-learn-style ``*_init`` arguments. All share
:class:`~emix.mixture.BaseMixture`'s engine and public methods (``fit``,
``predict``, ``predict_proba``, ``score_samples``, ``score``, ``sample``,
``bic``, ``aic``, ``history_``, ``save`` / :func:`emix.load`), and ``fit``
accepts ``sample_weight``.

Fitted component parameters appear as attributes named after the family's
arrays with a trailing underscore (``probabilities_``, ``rates_``,
``means_``...; for the product family ``part{i}_{name}_``).

Missing values: for every family with ``handles_missing`` (all but Student-t)
NaN in ``X`` means "missing at random"; EM is exact EM on the observed-data
likelihood (see ``docs/families.md``), and ``predict``, ``predict_proba`` and
``score_samples`` accept rows with NaN. A row or a training column with no
observed value is an error.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import init as _init
from .._validation import check_array, check_n_features, check_scalar
from ..engine import MixtureParams, m_step, stats_from_responsibilities
from ..exceptions import InvalidInputError, InvalidParameterError
from ..families.bernoulli import BernoulliFamily
from ..families.gaussian.missing import check_missing_rows
from ..families.poisson import PoissonFamily
from ..families.registry import family_from_spec, spec_string
from ..families.student import STUDENT_COVARIANCE_TYPES, StudentFamily
from ..sources import MeanFilledSource, is_dask_collection, is_source, map_chunks
from .gaussian import BaseMixture, _init_array

_COMMON_DOC = """
    tol : float, default=1e-3
        Stop when the mean log-likelihood per sample changes by less than this.
    max_iter : int, default=100
        Maximum EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the highest log-likelihood is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How the initial responsibilities are chosen (k-means runs on the raw
        columns; the initial parameters are the M-step of those responsibilities).
    weights_init : array-like of shape (K,), optional
        Initial mixing weights (uniform when only component parameters are given).
    random_state : int, RandomState, Generator or None
    warm_start : bool, default=False
        Start from the previous fit's parameters (with ``n_init=1``).
    verbose : int, default=0
    verbose_interval : int, default=10
    chunk_size : int or None, default=None
        Rows per chunk in every pass; the result does not depend on it.
    convergence : {'aitken', 'sklearn'}, default='aitken'
        Stopping rule, as in :class:`~emix.GaussianMixture` (see docs/speed.md).
    rtol : float, default=1e-8
        Relative tolerance of the ``'aitken'`` rule.
    accelerate : bool, default=True
        SQUAREM acceleration where the family supports it (plain EM otherwise).
    n_jobs : int or None, default=None
        Threads for the passes over the data (``None``: all cores).
"""

_ATTR_DOC = """
    weights_ : ndarray of shape (K,)
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample of the final parameters.
    log_likelihood_ : float
        Total log-likelihood of the final parameters.
    history_ : ndarray of shape (n_iter_ + 1,)
        Total log-likelihood at the start of every iteration, then of the
        final parameters; it never decreases when the M-step is exact (zero
        pseudo-count / ``reg_covar``).
    n_features_in_ : int
"""


class _EncodedSource:
    """A source whose chunks are passed through ``encode`` (for initialisation only)."""

    def __init__(self, source, encode) -> None:
        self._source = source
        self._encode = encode
        self.dtype = np.dtype(np.float64)
        self.total_weight = source.total_weight
        self.n_samples = source.n_samples
        self.n_features = encode(source.first_chunk()[:1]).shape[1]

    def first_chunk(self) -> np.ndarray:
        return self._encode(self._source.first_chunk())

    def chunks(self):
        for X, w in self._source.chunks():
            yield self._encode(X), w

    def map_chunks(self, fn, pool=None):
        return map_chunks(self._source, functools.partial(_encoded_call, fn, self._encode), pool)


def _encoded_call(fn, encode, X, w, offset):
    return fn(encode(X), w, offset)


class FamilyMixture(BaseMixture):
    """Family-generic part of the estimators in this module.

    Subclasses provide ``_base_family()`` (the family described by the
    constructor arguments) and ``_user_init_arrays()`` (user-given initial
    component arrays by the family's array names).
    """

    def _base_family(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _user_init_arrays(self) -> dict[str, Any]:
        return {}

    # -- the family, configured on the training data --------------------------------
    def _make_family(self):
        base = self._base_family()
        cached = getattr(self, "_configured_family", None)
        if cached is not None and cached[0] == spec_string(base):
            return cached[1]
        return base

    @property
    def _allows_missing(self) -> bool:
        """Whether NaN in X means "missing at random" (the family's ``handles_missing``)."""
        return bool(getattr(self._base_family(), "handles_missing", False))

    def _family_for(self, X: np.ndarray):
        """The configured family, or its missing-data variant when ``X`` has NaN and it has one."""
        family = self._make_family()
        variant = getattr(family, "for_missing", None)
        if variant is not None and np.isnan(X).any():
            return variant(X)
        return family

    def _check_data(self, X: np.ndarray) -> None:
        base = self._base_family()
        base.validate(X)
        nan = np.isnan(X)
        if nan.any():
            empty = nan.all(axis=0)
            if empty.any():
                j = int(np.flatnonzero(empty)[0])
                raise InvalidInputError(
                    f"X column {j} has no observed value (every row is NaN; {int(empty.sum())} such "
                    "column(s) in all); its parameters cannot be estimated: drop it"
                )
        self._configured_family = (spec_string(base), base.configure(X))

    def _chunk_validator(self):
        return self._make_family().validate

    def _check_X(self, X: Any) -> np.ndarray:
        self._check_fitted()
        if is_source(X) or is_dask_collection(X):
            return super()._check_X(X)
        X = check_array(X, allow_nan=self._allows_missing)
        check_n_features(X, self.n_features_in_)
        if self._allows_missing:
            check_missing_rows(X)
        self._make_family().validate(X)
        return X

    def _strict_monotone(self) -> bool:
        return bool(getattr(self._make_family(), "exact_m_step", True))

    def _validate_params(self) -> None:
        super()._validate_params()
        self._base_family()  # raises InvalidParameterError on bad family options

    # -- user initialisation -------------------------------------------------------------
    def _validate_user_init(self, n_features: int) -> None:
        k = self.n_components
        if self.weights_init is not None:
            w = _init_array(self.weights_init, "weights_init", (k,))
            if (w < 0).any() or (w > 1).any():
                raise InvalidParameterError(
                    f"weights_init must lie in [0, 1]; got min {w.min()!r}, max {w.max()!r}"
                )
            if not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-8):
                raise InvalidParameterError(f"weights_init must sum to 1, but they sum to {w.sum()!r}")
        if self._has_full_user_init():
            self._make_family().from_arrays(self._user_init_arrays(), k, n_features)

    def _has_full_user_init(self) -> bool:
        arrays = self._user_init_arrays()
        if not arrays:
            return False
        names = set(self._make_family().array_names())
        return self._required_init_names() <= set(arrays) <= names

    def _required_init_names(self) -> set[str]:
        return set(self._make_family().array_names())

    def _apply_user_init(self, params: MixtureParams, dtype) -> MixtureParams:
        weights = params.weights
        if self.weights_init is not None:
            weights = np.asarray(self.weights_init, dtype=np.float64).copy()
        user = self._user_init_arrays()
        comps = params.components
        if user:
            fam = self._make_family()
            arrays = {} if comps is None else dict(fam.to_arrays(comps))
            arrays.update(user)
            comps = fam.from_arrays(arrays, self.n_components, self._n_features_fit)
        return MixtureParams(weights=weights, components=comps)

    def _initial_params(
        self, source, family, rng: np.random.Generator, pool=None, labels: np.ndarray | None = None
    ) -> MixtureParams:
        self._n_features_fit = source.n_features
        if self._has_full_user_init():
            return super()._initial_params(source, family, rng, pool)
        # The initialiser (k-means...) runs on an encoding of the data (e.g. one-hot codes for
        # categorical columns), with NaN filled by the column means of that encoding; its
        # centres are decoded to anchor the statistics.
        encode = getattr(family, "init_encode", None)
        init_source = source if encode is None else _EncodedSource(source, encode)
        filled = MeanFilledSource(init_source) if self._allows_missing else None
        if filled is not None and filled.has_missing:
            init_source = filled
        else:
            filled = None

        fill = None if filled is None else filled.filler()

        def to_init_space(X: np.ndarray) -> np.ndarray:
            Z = X if encode is None else encode(X)
            return Z if fill is None else fill(Z)

        initialiser = _init.make_initialiser(self.init_params, init_source, self.n_components, rng, pool=pool)
        if labels is not None:
            # components with labelled rows start at their labelled rows' mean (in the init space)
            initialiser = _init.seed_from_labels(initialiser, init_source, labels)
        # A family may take its first M-step as a simpler variant of itself on partly mean-filled
        # rows (missing-data Gaussian parts start from the ordinary Gaussian); the other
        # families' statistics skip the missing cells themselves.
        init_family = getattr(family, "init_family", family)
        stats_source = source
        if init_family is not family:
            stats_source = MeanFilledSource(source, columns=getattr(family, "init_fill_columns", None))
        centres = initialiser.centres
        decode = getattr(init_family, "init_decode_centres", None)
        anchor = init_family.anchor_from_centres(centres if encode is None else decode(centres))
        stats = stats_from_responsibilities(
            stats_source,
            init_family,
            lambda X, offset: initialiser.resp_fn(to_init_space(X), offset),
            anchor,
            pool=pool,
            labels=labels,
        )
        return self._apply_user_init(m_step(init_family, stats, None), source.dtype)

    # -- fitted attributes -------------------------------------------------------------------
    def _set_component_attributes(self, components: Any) -> None:
        fam = self._make_family()
        for name, arr in fam.to_arrays(components).items():
            setattr(self, name + "_", arr)
        self._components_cache = components
        self._derived_attributes(components)

    def _derived_attributes(self, components: Any) -> None:
        """Attributes computed from the component parameters (default: none)."""

    def _component_params(self) -> Any:
        cached = getattr(self, "_components_cache", None)
        if cached is not None:
            return cached
        fam = self._make_family()
        arrays = {n: getattr(self, n + "_") for n in fam.array_names()}
        return fam.from_arrays(arrays, self.n_components, self.n_features_in_)

    def _saved_arrays(self) -> tuple[str, ...]:
        return super()._saved_arrays() + tuple(n + "_" for n in self._base_family().array_names())

    def _restore_fitted(self) -> None:
        super()._restore_fitted()
        self._components_cache = None
        comps = self._component_params()
        self._set_component_attributes(comps)


class Mixture(FamilyMixture):
    (
        """Mixture of any emix component family, fitted by EM.

    Parameters
    ----------
    n_components : int, default=1
    family : str, dict or family object, default='gaussian'
        A family name (``'gaussian'``, ``'bernoulli'``, ``'categorical'``,
        ``'poisson'``, ``'exponential'``, ``'student'``), a spec such as
        ``{"family": "bernoulli", "alpha": 0}`` or its JSON text, or a family
        object (e.g. ``emix.families.ProductFamily([...])``) for mixed tables.
        See ``docs/families.md``.
    params_init : dict of str to array-like, optional
        Initial component parameters by the family's array names (the fitted
        attribute names without the trailing underscore, e.g.
        ``{"rates": ...}``). When given, EM starts from exactly these (and
        ``weights_init`` or uniform weights) instead of ``init_params``.
"""
        + _COMMON_DOC
        + """
    Attributes
    ----------
    <name>_ : ndarray
        One attribute per array of the family (e.g. ``probabilities_`` (K, D)
        for Bernoulli; ``part0_means_`` for the first part of a product).
"""
        + _ATTR_DOC
    )

    def __init__(
        self,
        n_components: int = 1,
        *,
        family: Any = "gaussian",
        tol: float = 1e-3,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        params_init: dict | None = None,
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
        self.family = family
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.params_init = params_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_size = chunk_size
        self.convergence = convergence
        self.rtol = rtol
        self.accelerate = accelerate
        self.n_jobs = n_jobs

    def _base_family(self):
        return family_from_spec(self.family)

    def _user_init_arrays(self) -> dict[str, Any]:
        if self.params_init is None:
            return {}
        if not isinstance(self.params_init, dict):
            raise InvalidParameterError(
                f"params_init must be a dict of arrays by name, got {type(self.params_init).__name__}"
            )
        return {k: v for k, v in self.params_init.items() if v is not None}

    def _required_init_names(self) -> set[str]:
        # arrays derived from others need not be given
        optional = {"precisions_cholesky", "dof", "n_levels"}
        return {
            n
            for n in self._make_family().array_names()
            if n.split("_", 1)[-1] not in optional and n not in optional
        }


class BernoulliMixture(FamilyMixture):
    (
        """Mixture of independent Bernoulli (binary) features, fitted by EM.

    Parameters
    ----------
    n_components : int, default=1
    alpha : float, default=1e-2
        Pseudo-count added to both outcomes of each feature in each component:
        ``p_kd = (sum_n r_nk x_nd + alpha) / (N_k + 2 alpha)``. It keeps
        probabilities away from 0 and 1 so that an unseen value never has
        density zero; ``0`` gives plain maximum likelihood.
    probabilities_init : array-like of shape (K, D), optional
        Initial ``P(x_d = 1 | k)``; EM starts from it instead of ``init_params``.
"""
        + _COMMON_DOC
        + """
    Attributes
    ----------
    probabilities_ : ndarray of shape (K, D)
"""
        + _ATTR_DOC
    )

    def __init__(
        self,
        n_components: int = 1,
        *,
        alpha: float = 1e-2,
        tol: float = 1e-3,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        probabilities_init: Any = None,
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
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.probabilities_init = probabilities_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_size = chunk_size
        self.convergence = convergence
        self.rtol = rtol
        self.accelerate = accelerate
        self.n_jobs = n_jobs

    def _base_family(self) -> BernoulliFamily:
        return BernoulliFamily(alpha=self.alpha)

    def _user_init_arrays(self) -> dict[str, Any]:
        return {} if self.probabilities_init is None else {"probabilities": self.probabilities_init}


class PoissonMixture(FamilyMixture):
    (
        """Mixture of independent Poisson counts, fitted by EM.

    Parameters
    ----------
    n_components : int, default=1
    alpha : float, default=1e-2
        Pseudo-count: ``lambda_kd = (sum_n r_nk x_nd + alpha) / (N_k + alpha)``,
        so a component that saw only zeros keeps a small positive rate; ``0``
        gives plain maximum likelihood.
    rates_init : array-like of shape (K, D), optional
        Initial rates; EM starts from them instead of ``init_params``.
"""
        + _COMMON_DOC
        + """
    Attributes
    ----------
    rates_ : ndarray of shape (K, D)
"""
        + _ATTR_DOC
    )

    def __init__(
        self,
        n_components: int = 1,
        *,
        alpha: float = 1e-2,
        tol: float = 1e-3,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        rates_init: Any = None,
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
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.rates_init = rates_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_size = chunk_size
        self.convergence = convergence
        self.rtol = rtol
        self.accelerate = accelerate
        self.n_jobs = n_jobs

    def _base_family(self) -> PoissonFamily:
        return PoissonFamily(alpha=self.alpha)

    def _user_init_arrays(self) -> dict[str, Any]:
        return {} if self.rates_init is None else {"rates": self.rates_init}


class StudentMixture(FamilyMixture):
    (
        """Mixture of multivariate Student-t distributions, fitted by EM with latent scales.

    Robust to outliers: each row gets a latent scale ``u`` whose expectation
    ``(nu + D) / (nu + delta)`` down-weights rows far from the component.

    Parameters
    ----------
    n_components : int, default=1
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Model of the scale matrices (same shapes as ``GaussianMixture``).
    dof : float, optional
        Fixed degrees of freedom for every component; ``None`` (default)
        estimates one per component.
    dof_init : float, default=10.0
        Starting degrees of freedom when they are estimated.
    reg_covar : float, default=1e-6
        Jitter added to the scale matrices' diagonals.
    means_init : array-like of shape (K, D), optional
    covariances_init : array-like, optional
        Initial scale matrices, shaped as ``covariances_``.
"""
        + _COMMON_DOC
        + """
    Attributes
    ----------
    means_ : ndarray of shape (K, D)
    covariances_ : ndarray
        Scale matrices ``Sigma_k`` (the covariance is ``nu/(nu - 2) Sigma_k``).
    precisions_, precisions_cholesky_ : ndarray
    dof_ : ndarray of shape (K,)
"""
        + _ATTR_DOC
    )

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        dof: float | None = None,
        dof_init: float = 10.0,
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        covariances_init: Any = None,
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
        self.dof = dof
        self.dof_init = dof_init
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.covariances_init = covariances_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_size = chunk_size
        self.convergence = convergence
        self.rtol = rtol
        self.accelerate = accelerate
        self.n_jobs = n_jobs

    def _validate_params(self) -> None:
        if self.covariance_type not in STUDENT_COVARIANCE_TYPES:
            raise InvalidParameterError(
                f"covariance_type must be one of {list(STUDENT_COVARIANCE_TYPES)}, got {self.covariance_type!r}"
            )
        check_scalar(self.reg_covar, "reg_covar", (float, int, np.floating, np.integer), min_val=0)
        super()._validate_params()

    def _base_family(self) -> StudentFamily:
        return StudentFamily(
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            dof=self.dof,
            dof_init=self.dof_init,
        )

    def _user_init_arrays(self) -> dict[str, Any]:
        out = {}
        if self.means_init is not None:
            out["means"] = self.means_init
        if self.covariances_init is not None:
            out["covariances"] = self.covariances_init
        return out

    def _required_init_names(self) -> set[str]:
        return {"means", "covariances"}

    def _derived_attributes(self, components: Any) -> None:
        self.precisions_ = self._make_family().model.precisions(components.precisions_cholesky)


__all__ = ["Mixture", "BernoulliMixture", "PoissonMixture", "StudentMixture", "FamilyMixture"]
