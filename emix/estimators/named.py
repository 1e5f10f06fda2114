"""The mixtures of the other component families, as thin classes over the estimator core.

:class:`Mixture` takes any family (by name, spec or object); the named
estimators :class:`BernoulliMixture`, :class:`PoissonMixture` and
:class:`StudentMixture` are the same thing with the family's options as
constructor arguments and scikit-learn-style ``*_init`` arguments. All share
:class:`~emix.estimators.core.MixtureEstimator`'s engine and public methods
(``fit``, ``predict``, ``predict_proba``, ``score_samples``, ``score``,
``sample``, ``bic``, ``aic``, ``history_``, ``save`` / :func:`emix.load`), and
``fit`` accepts ``sample_weight``.

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

from typing import Any

import numpy as np

from .._validation import check_scalar
from ..exceptions import InvalidParameterError
from ..families.bernoulli import BernoulliFamily
from ..families.poisson import PoissonFamily
from ..families.registry import family_from_spec
from ..families.student import STUDENT_COVARIANCE_TYPES, StudentFamily
from ._docs import assemble
from .core import MixtureEstimator


class Mixture(MixtureEstimator):
    __doc__ = assemble(
        """Mixture of any emix component family, fitted by EM.""",
        """
    n_components : int, default=1
        Number of mixture components K.
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
        ``weights_init`` or uniform weights) instead of ``init_params``.""",
        """
    <name>_ : ndarray
        One attribute per array of the family (e.g. ``probabilities_`` (K, D)
        for Bernoulli; ``part0_means_`` for the first part of a product).""",
        """
    >>> import numpy as np
    >>> import emix
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.poisson(2.0, (300, 2)), rng.poisson(9.0, (200, 2))]).astype(float)
    >>> mm = emix.Mixture(2, family="poisson", random_state=0).fit(X)
    >>> mm.weights_.round(2)
    array([0.6, 0.4])
    >>> mm.rates_.round(1)
    array([[2. , 2. ],
           [9.1, 8.8]])

    A family object: here two Gaussian columns beside a coded one (a mixed table):

    >>> from emix.families import CategoricalFamily, GaussianComponents, ProductFamily
    >>> X = np.vstack([
    ...     np.column_stack([rng.normal(0, 1, (300, 2)), rng.choice(3, 300, p=[0.8, 0.1, 0.1])]),
    ...     np.column_stack([rng.normal(5, 1, (200, 2)), rng.choice(3, 200, p=[0.1, 0.1, 0.8])]),
    ... ])
    >>> family = ProductFamily([(GaussianComponents("diag"), [0, 1]), (CategoricalFamily(), [2])])
    >>> mixed = emix.Mixture(2, family=family, random_state=0).fit(X)
    >>> mixed.part0_means_.round(1)
    array([[0.1, 0.1],
           [5.1, 5. ]])
    >>> mixed.part1_probabilities_.round(1)[:, 0]   # (K, D, levels): column 2's levels
    array([[0.8, 0.1, 0.1],
           [0.1, 0.1, 0.8]])""",
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
        equal_weights: bool = False,
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
        online_step: float = 0.7,
        checkpoint: Any = None,
        strict: bool = False,
    ) -> None:
        self._store_init_args(locals())

    def _base_family(self) -> Any:
        return family_from_spec(self.family)

    def _user_init_arrays(self, n_features: int, dtype: Any) -> dict[str, Any]:
        if self.params_init is None:
            return {}
        if not isinstance(self.params_init, dict):
            raise InvalidParameterError(
                f"params_init must be a dict of arrays by name, got {type(self.params_init).__name__}"
            )
        return {k: v for k, v in self.params_init.items() if v is not None}


class BernoulliMixture(MixtureEstimator):
    __doc__ = assemble(
        """Mixture of independent Bernoulli (binary) features, fitted by EM.""",
        """
    n_components : int, default=1
        Number of mixture components K.
    alpha : float, default=1e-2
        Pseudo-count added to both outcomes of each feature in each component:
        ``p_kd = (sum_n r_nk x_nd + alpha) / (N_k + 2 alpha)``. It keeps
        probabilities away from 0 and 1 so that an unseen value never has
        density zero; ``0`` gives plain maximum likelihood.
    probabilities_init : array-like of shape (K, D), optional
        Initial ``P(x_d = 1 | k)``; EM starts from it instead of ``init_params``.""",
        """
    probabilities_ : ndarray of shape (K, D)
        ``P(x_d = 1 | k)`` for every component and feature.""",
        """
    >>> import numpy as np
    >>> import emix
    >>> rng = np.random.default_rng(0)
    >>> p = np.where(np.arange(400)[:, None] < 250, 0.9, 0.2)   # two groups of rows
    >>> B = (rng.random((400, 8)) < p).astype(float)
    >>> bm = emix.BernoulliMixture(2, random_state=0).fit(B)
    >>> bm.weights_.round(2)
    array([0.62, 0.38])
    >>> bm.probabilities_.round(1)
    array([[0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
           [0.2, 0.2, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2]])""",
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
        equal_weights: bool = False,
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
        online_step: float = 0.7,
        checkpoint: Any = None,
        strict: bool = False,
    ) -> None:
        self._store_init_args(locals())

    def _base_family(self) -> BernoulliFamily:
        return BernoulliFamily(alpha=self.alpha)

    def _user_init_arrays(self, n_features: int, dtype: Any) -> dict[str, Any]:
        return {} if self.probabilities_init is None else {"probabilities": self.probabilities_init}


class PoissonMixture(MixtureEstimator):
    __doc__ = assemble(
        """Mixture of independent Poisson counts, fitted by EM.""",
        """
    n_components : int, default=1
        Number of mixture components K.
    alpha : float, default=1e-2
        Pseudo-count: ``lambda_kd = (sum_n r_nk x_nd + alpha) / (N_k + alpha)``,
        so a component that saw only zeros keeps a small positive rate; ``0``
        gives plain maximum likelihood.
    rates_init : array-like of shape (K, D), optional
        Initial rates; EM starts from them instead of ``init_params``.""",
        """
    rates_ : ndarray of shape (K, D)
        The Poisson rate (mean count) of every component and feature.""",
        """
    >>> import numpy as np
    >>> import emix
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.poisson(2.0, (300, 2)), rng.poisson(9.0, (200, 2))]).astype(float)
    >>> pm = emix.PoissonMixture(2, random_state=0).fit(X)
    >>> pm.rates_.round(1)
    array([[2. , 2. ],
           [9.1, 8.8]])
    >>> pm.predict([[1.0, 3.0], [10.0, 7.0]])
    array([0, 1])""",
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
        equal_weights: bool = False,
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
        online_step: float = 0.7,
        checkpoint: Any = None,
        strict: bool = False,
    ) -> None:
        self._store_init_args(locals())

    def _base_family(self) -> PoissonFamily:
        return PoissonFamily(alpha=self.alpha)

    def _user_init_arrays(self, n_features: int, dtype: Any) -> dict[str, Any]:
        return {} if self.rates_init is None else {"rates": self.rates_init}


class StudentMixture(MixtureEstimator):
    __doc__ = assemble(
        """Mixture of multivariate Student-t distributions, fitted by EM with latent scales.

    Robust to outliers: each row gets a latent scale ``u`` whose expectation
    ``(nu + D) / (nu + delta)`` down-weights rows far from the component.""",
        """
    n_components : int, default=1
        Number of mixture components K.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Model of the scale matrices (same shapes as ``GaussianMixture``).
    dof : float, optional
        Fixed degrees of freedom for every component; ``None`` (default)
        estimates one per component.
    dof_init : float, default=10.0
        Starting degrees of freedom when they are estimated.
    init_params : str or tuple of str, default=('kmeans', 'trimmed-kmeans')
        The starts (names as ``GaussianMixture``'s). By default every restart
        runs EM from k-means and from trimmed k-means, which leaves out the
        10 % of rows farthest from their centres, and keeps the more likely fit:
        k-means gives a clump of gross outliers a component of its own, which
        a robust family should not have to accept.
    reg_covar : float, default=1e-6
        Jitter added to the scale matrices' diagonals.
    means_init : array-like of shape (K, D), optional
        Initial means.
    covariances_init : array-like, optional
        Initial scale matrices, shaped as ``covariances_``.""",
        """
    means_ : ndarray of shape (K, D)
        Component locations (means, where ``nu > 1``).
    covariances_ : ndarray
        Scale matrices ``Sigma_k`` (the covariance is ``nu/(nu - 2) Sigma_k``),
        shaped as ``GaussianMixture``'s for ``covariance_type``.
    precisions_ : ndarray
        Inverses of ``covariances_``, of the same shape.
    precisions_cholesky_ : ndarray
        Cholesky factors of ``precisions_``, as ``GaussianMixture``'s.
    dof_ : ndarray of shape (K,)
        Degrees of freedom ``nu_k`` of each component (all equal to ``dof``
        when it is fixed).""",
        """
    Two outliers barely move the fit:

    >>> import numpy as np
    >>> import emix
    >>> X = np.vstack([emix.datasets.load_faithful(), [[1.0, 110.0], [6.0, 30.0]]])
    >>> sm = emix.StudentMixture(2, dof=4.0, random_state=0).fit(X)
    >>> sm.means_.round(2)
    array([[ 1.99, 53.99],
           [ 4.32, 80.01]])
    >>> sm.dof_
    array([4., 4.])""",
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
        init_params: str | tuple[str, ...] = ("kmeans", "trimmed-kmeans"),
        weights_init: Any = None,
        equal_weights: bool = False,
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
        online_step: float = 0.7,
        checkpoint: Any = None,
        strict: bool = False,
    ) -> None:
        self._store_init_args(locals())

    def _base_family(self) -> StudentFamily:
        if self.covariance_type not in STUDENT_COVARIANCE_TYPES:
            raise InvalidParameterError(
                f"covariance_type must be one of {list(STUDENT_COVARIANCE_TYPES)}, got {self.covariance_type!r}"
            )
        check_scalar(self.reg_covar, "reg_covar", (float, int, np.floating, np.integer), min_val=0)
        return StudentFamily(
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            dof=self.dof,
            dof_init=self.dof_init,
        )

    def _user_init_arrays(self, n_features: int, dtype: Any) -> dict[str, Any]:
        named = {"means": self.means_init, "covariances": self.covariances_init}
        return {name: value for name, value in named.items() if value is not None}


__all__ = ["Mixture", "BernoulliMixture", "PoissonMixture", "StudentMixture"]
