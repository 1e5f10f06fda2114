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
        online_step: float = 0.7,
        checkpoint: Any = None,
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
    alpha : float, default=1e-2
        Pseudo-count added to both outcomes of each feature in each component:
        ``p_kd = (sum_n r_nk x_nd + alpha) / (N_k + 2 alpha)``. It keeps
        probabilities away from 0 and 1 so that an unseen value never has
        density zero; ``0`` gives plain maximum likelihood.
    probabilities_init : array-like of shape (K, D), optional
        Initial ``P(x_d = 1 | k)``; EM starts from it instead of ``init_params``.""",
        """
    probabilities_ : ndarray of shape (K, D)""",
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
        online_step: float = 0.7,
        checkpoint: Any = None,
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
    alpha : float, default=1e-2
        Pseudo-count: ``lambda_kd = (sum_n r_nk x_nd + alpha) / (N_k + alpha)``,
        so a component that saw only zeros keeps a small positive rate; ``0``
        gives plain maximum likelihood.
    rates_init : array-like of shape (K, D), optional
        Initial rates; EM starts from them instead of ``init_params``.""",
        """
    rates_ : ndarray of shape (K, D)""",
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
        online_step: float = 0.7,
        checkpoint: Any = None,
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
        Initial scale matrices, shaped as ``covariances_``.""",
        """
    means_ : ndarray of shape (K, D)
    covariances_ : ndarray
        Scale matrices ``Sigma_k`` (the covariance is ``nu/(nu - 2) Sigma_k``).
    precisions_, precisions_cholesky_ : ndarray
    dof_ : ndarray of shape (K,)""",
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
        online_step: float = 0.7,
        checkpoint: Any = None,
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
