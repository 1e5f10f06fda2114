"""MAP estimation with mclust's conjugate priors (``priorControl()`` / ``defaultPrior``).

:class:`GaussianPrior` is mclust's ``priorControl``: a normal prior on each
mean given its covariance, ``mu_k | Sigma_k ~ N(mu0, Sigma_k / kappa)``, and
an inverse-Wishart (inverse-gamma for variances) on the covariances with
``nu`` degrees of freedom and scale ``Lambda``. Values left ``None`` take
mclust's ``defaultPrior``, computed from the training data and the number
of components ``G``:

==============  =====================================================
``shrinkage``   ``kappa = 0.01``
``mean``        ``mu0`` = the column means
``dof``         ``nu = D + 2`` (``3`` for 1-D data)
``scale``       1-D data: ``var(x) / G^2``; spherical and diagonal
                models: ``G^(-2/D) sum_j var(x_j) / D``; the others:
                ``G^(-2/D) cov(X)`` (``diag`` of the variances when
                ``n <= D``); variances with ``n - 1``, as R's ``var``
==============  =====================================================

:class:`MAPGaussianFamily` is the Gaussian family whose M-step is the MAP
step of :mod:`.prior_steps` and whose ``log_prior`` (the engine's objective
hook) is the term that step maximises, so EM never lowers the MAP objective
``log L + log p(theta)`` (``history_``). The mixing weights keep their
maximum-likelihood step (mclust puts no prior on them). The data's mean and
covariance are learnt in one pass before the fit (:meth:`MAPGaussianFamily.configure_source`),
so a streamed source gets the same prior as the same rows in memory.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from ...exceptions import InvalidInputError, InvalidParameterError
from ...sources import checked_map
from .family import GaussianFamily
from .mclust import mclust_name
from .params import GaussianParams, GaussianStats
from .prior_steps import MAP_RULES, ResolvedPrior, log_prior, map_covariance, map_means, rule_name
from .sklearn_models import DiagCovariance, SphericalCovariance, TiedCovariance

__all__ = ["GaussianPrior", "MAPGaussianFamily", "DataMoments", "as_prior", "MAP_MODELS"]

#: covariance types with a prior: mclust's 10 multivariate models with one, E, V and the four sklearn names
MAP_MODELS: tuple[str, ...] = tuple(m for m in MAP_RULES) + ("full", "tied", "diag", "spherical")


@dataclasses.dataclass(frozen=True)
class GaussianPrior:
    """mclust's conjugate prior for MAP estimation (``priorControl()``); ``None`` takes ``defaultPrior``.

    Parameters
    ----------
    shrinkage : float, default=0.01
        ``kappa``, the prior's weight of ``mean`` in units of rows; ``0`` drops the prior on the means.
    mean : array-like of shape (n_features,), optional
        ``mu0``; default: the column means of the training data.
    dof : float, optional
        ``nu`` (> 0); default ``n_features + 2`` (``3`` for one feature).
    scale : float or array-like of shape (n_features, n_features), optional
        ``Lambda``: a positive number for 1-D data and the spherical and
        diagonal models, a symmetric positive definite matrix (or a number,
        times the identity) for the others; default: mclust's (module table).

    Examples
    --------
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, covariance_type="VVV", prior=emix.GaussianPrior(), reg_covar=0,
    ...                           random_state=0).fit(X)
    >>> round(gm.log_likelihood_, 2)
    -1130.51
    """

    shrinkage: float = 0.01
    mean: Any = None
    dof: float | None = None
    scale: Any = None

    def spec(self) -> dict:
        """The prior as plain JSON values (for model files and the command line)."""

        def plain(v: Any) -> Any:
            return None if v is None else np.asarray(v, dtype=np.float64).tolist()

        return {"shrinkage": float(self.shrinkage), "mean": plain(self.mean), "dof": plain(self.dof),
                "scale": plain(self.scale)}  # fmt: skip

    def resolve(self, moments: DataMoments, rule: str, storage: str, k: int) -> ResolvedPrior:
        """The numbers for a fit of ``k`` components under ``rule`` (``emix.families.gaussian.prior_steps``).

        Parameters
        ----------
        moments : DataMoments
        rule : str
        storage : {'spherical', 'diag', 'tied', 'full'}
        k : int
        """
        d = moments.mean.shape[0]
        kappa = float(self.shrinkage)
        mean = moments.mean if self.mean is None else np.asarray(self.mean, dtype=np.float64)
        if mean.shape != (d,):
            raise InvalidParameterError(f"prior mean has shape {mean.shape}; the data have {d} features")
        dof = (3.0 if d == 1 else d + 2.0) if self.dof is None else float(self.dof)
        axis = d == 1 or storage in ("spherical", "diag")
        if self.scale is not None:
            scale = np.asarray(self.scale, dtype=np.float64)
            if axis and scale.size != 1:
                raise InvalidParameterError(
                    f"prior scale must be a number for covariance rule {rule!r} (1-D data, spherical "
                    f"and diagonal models), got shape {scale.shape}"
                )
            if not axis and scale.shape not in ((), (d, d)):
                raise InvalidParameterError(
                    f"prior scale has shape {scale.shape}; give a number or ({d}, {d})"
                )
            return ResolvedPrior(kappa, mean, dof, float(scale) if scale.ndim == 0 else scale)
        var = np.diag(moments.cov)
        if d == 1:
            return ResolvedPrior(kappa, mean, dof, float(var[0]) / k**2)
        fac = (1.0 / k) ** (2.0 / d)
        if axis:
            return ResolvedPrior(kappa, mean, dof, fac * float(var.sum()) / d)
        cov = moments.cov if moments.n > d else np.diag(var)
        return ResolvedPrior(kappa, mean, dof, fac * cov)


def _check_prior(prior: GaussianPrior) -> GaussianPrior:
    """Refuse impossible values, naming them."""
    k = prior.shrinkage
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)) or not k >= 0:
        raise InvalidParameterError(f"prior shrinkage must be a number >= 0, got {k!r}")
    if prior.dof is not None and not float(prior.dof) > 0:
        raise InvalidParameterError(f"prior dof must be > 0, got {prior.dof!r}")
    if prior.mean is not None and not np.isfinite(np.asarray(prior.mean, dtype=np.float64)).all():
        raise InvalidParameterError("prior mean must be finite")
    if prior.scale is not None:
        s = np.asarray(prior.scale, dtype=np.float64)
        if s.ndim == 0 and not s > 0:
            raise InvalidParameterError(f"prior scale must be > 0, got {prior.scale!r}")
        if s.ndim == 2 and (not np.allclose(s, s.T) or np.linalg.eigvalsh(s).min() <= 0):
            raise InvalidParameterError("prior scale must be a symmetric positive definite matrix")
        if s.ndim not in (0, 2):
            raise InvalidParameterError(f"prior scale must be a number or a matrix, got shape {s.shape}")
    return prior


def as_prior(value: Any) -> GaussianPrior | None:
    """``GaussianMixture(prior=...)`` as a :class:`GaussianPrior` (or ``None``: maximum likelihood).

    Accepts ``None``, ``'default'`` (mclust's ``priorControl()``), a
    :class:`GaussianPrior`, a dict of its fields, or that dict as JSON text
    (how a model file stores it).

    Examples
    --------
    >>> from emix.families.gaussian.prior import as_prior
    >>> as_prior("default")
    GaussianPrior(shrinkage=0.01, mean=None, dof=None, scale=None)
    >>> as_prior('{"shrinkage": 0.1}').shrinkage
    0.1
    """
    if value is None or isinstance(value, GaussianPrior):
        return value if value is None else _check_prior(value)
    if isinstance(value, str):
        if value == "default":
            return GaussianPrior()
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidParameterError(
                f"prior must be None, 'default', a GaussianPrior or a dict, got {value!r}"
            ) from None
    if isinstance(value, dict):
        unknown = set(value) - {f.name for f in dataclasses.fields(GaussianPrior)}
        if unknown:
            raise InvalidParameterError(
                f"unknown prior field(s) {sorted(unknown)}; known: shrinkage, mean, dof, scale"
            )
        return _check_prior(
            GaussianPrior(**{k: v for k, v in value.items() if v is not None or k != "shrinkage"})
        )
    raise InvalidParameterError(f"prior must be None, 'default', a GaussianPrior or a dict, got {value!r}")


@dataclasses.dataclass(frozen=True)
class DataMoments:
    """The training data's total weight ``n``, column means (D,) and covariance (D, D) with ``n - 1``."""

    n: float
    mean: np.ndarray
    cov: np.ndarray


def _chunk_moments(X: np.ndarray, w: np.ndarray | None, offset: int) -> tuple[float, np.ndarray, np.ndarray]:
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        i, j = bad[0]
        raise InvalidInputError(
            f"X has a missing or infinite value at row {i}, column {j}; a prior (prior=) "
            "needs complete rows: drop or impute them"
        )
    X = X.astype(np.float64)
    ww = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
    n = float(ww.sum())
    mean = ww @ X / n if n > 0 else np.zeros(X.shape[1])
    dev = X - mean
    return n, mean, (dev * ww[:, None]).T @ dev


def data_moments(source: Any) -> DataMoments:
    """Weighted column means and covariance of a source, in one pass (chunks merged by Chan's update).

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)

    Returns
    -------
    DataMoments

    Raises
    ------
    InvalidInputError
        A missing or infinite value, its row and column named as the source counts them
        (from 0 in an array, from 1 in a file).
    """
    n, mean, m2 = 0.0, None, None
    for nb, mb, sb in checked_map(source, _chunk_moments):
        if nb <= 0:
            continue
        if mean is None:
            n, mean, m2 = nb, mb, sb
            continue
        delta = mb - mean
        total = n + nb
        m2 = m2 + sb + np.outer(delta, delta) * (n * nb / total)
        mean = mean + delta * (nb / total)
        n = total
    if mean is None or n <= 1:
        raise InvalidInputError("a prior (prior=) needs more than one row of positive weight")
    return DataMoments(n=n, mean=mean, cov=m2 / (n - 1.0))


def _storage(model: Any) -> str:
    if isinstance(model, SphericalCovariance):
        return "spherical"
    if isinstance(model, DiagCovariance):
        return "diag"
    return "tied" if isinstance(model, TiedCovariance) else "full"


class MAPGaussianFamily(GaussianFamily):
    """Gaussian components fitted by MAP under mclust's conjugate prior (see the module docstring).

    Parameters
    ----------
    covariance_type : str, default='full'
        Any model of :data:`MAP_MODELS` (mclust has no prior for VEE, EVE, VVE and EVV).
    reg_covar : float, default=0.0
        Jitter added after the MAP step (``0``: the exact MAP step, as mclust).
    prior : GaussianPrior or str or dict, default='default'
    moments : DataMoments, optional
        The training data's moments; :meth:`configure_source` learns them.
    one_by_mvn : bool, default=True
        One component is fitted by mclust's ``mvn`` rule; ``False`` beside a
        noise component (:meth:`beside_noise`), as mclust fits G = 1 there by EM
        with the model's own rule.

    Examples
    --------
    >>> import emix
    >>> from emix.families.gaussian.prior import MAPGaussianFamily
    >>> MAPGaussianFamily("VVV", 0.0).spec()["prior"]
    {'shrinkage': 0.01, 'mean': None, 'dof': None, 'scale': None}
    """

    def __init__(
        self,
        covariance_type: str = "full",
        reg_covar: float = 0.0,
        prior: Any = "default",
        moments: DataMoments | None = None,
        one_by_mvn: bool = True,
    ) -> None:
        super().__init__(covariance_type, reg_covar)
        self.one_by_mvn = bool(one_by_mvn)
        if self.model.name not in MAP_MODELS:
            raise InvalidParameterError(
                f"covariance_type={covariance_type!r} has no prior: mclust defines none for VEE, EVE, VVE "
                f"and EVV. With prior=, use one of {list(MAP_MODELS)}"
            )
        self.prior = as_prior(prior) or GaussianPrior()
        self.moments = moments
        self.storage = _storage(self.model)

    def configure_source(self, source: Any) -> MAPGaussianFamily:
        """This family with the moments of ``source`` (one pass), on which the default prior is built."""
        return MAPGaussianFamily(
            self.model.name, self.reg_covar, self.prior, data_moments(source), self.one_by_mvn
        )

    def beside_noise(self) -> MAPGaussianFamily:
        """This family as a noise component's neighbour: G = 1 by the model's own rule (mclust's ``me``)."""
        return MAPGaussianFamily(self.model.name, self.reg_covar, self.prior, self.moments, one_by_mvn=False)

    def resolved(self, k: int, d: int) -> tuple[str, ResolvedPrior]:
        """The rule and the prior's numbers for ``k`` components in ``d`` dimensions."""
        rule = rule_name(mclust_name(self.model.name), self.storage, k, d, self.one_by_mvn)
        moments = self.moments
        if moments is None:
            if self.prior.mean is None or self.prior.scale is None:
                raise InvalidParameterError(
                    "the default prior is computed from the training data: fit the model (or give the "
                    "prior's mean and scale)"
                )
            moments = DataMoments(n=np.inf, mean=np.asarray(self.prior.mean, float), cov=np.eye(d))
        return rule, self.prior.resolve(moments, rule, self.storage, k)

    def m_step(self, stats: GaussianStats, previous: GaussianParams | None) -> GaussianParams:
        """The MAP step of :mod:`.prior_steps` from summed statistics (an empty component gets the prior's
        mode: its mean ``mu0``)."""
        nk = np.asarray(stats.nk, dtype=np.float64)
        k, d = stats.s1.shape
        rule, prior = self.resolved(k, d)
        safe = np.where(nk > 0, nk, 1.0)
        s1 = np.asarray(stats.s1, dtype=np.float64)
        s2 = np.asarray(stats.s2, dtype=np.float64)
        xbar = np.where((nk > 0)[:, None], stats.centre + s1 / safe[:, None], prior.mean)
        if self.storage == "full":
            W = s2 - np.einsum("ki,kj->kij", s1, s1) / safe[:, None, None]
        elif self.storage == "tied":
            W = s2 - (s1.T / safe) @ s1
        else:
            W = np.maximum(s2 - s1**2 / safe[:, None], 0.0)
        means, c = map_means(nk, xbar, prior)
        prev = None if previous is None else previous.covariances
        # the inner iterations of VEI and VEV (mclust models); the other rules are closed forms
        inner = (getattr(self.model, "inner_tol", 0.0), getattr(self.model, "inner_max_iter", 0))
        cov = map_covariance(rule, self.storage, W, nk, xbar - prior.mean, c, prior, prev, inner)
        if self.reg_covar:
            cov = cov + (
                self.reg_covar if self.storage in ("spherical", "diag") else self.reg_covar * np.eye(d)
            )
        cov, pc = self.model.precision_cholesky(cov)
        dt = stats.centre.dtype if np.issubdtype(stats.centre.dtype, np.floating) else np.float64
        return GaussianParams(
            means=means.astype(dt), covariances=cov.astype(dt), precisions_cholesky=pc.astype(dt)
        )

    def log_prior(self, weights: np.ndarray, components: GaussianParams) -> float:
        """``log p(mu, Sigma)`` up to a constant: the engine's objective hook (see :mod:`.prior_steps`)."""
        k, d = components.means.shape
        rule, prior = self.resolved(k, d)
        return log_prior(rule, self.storage, components.means, components.precisions_cholesky, prior)

    def log_likelihood_from_objective(self, objective: float, weights: np.ndarray, components: Any) -> float:
        """The log-likelihood of a fit whose objective (``history_[-1]``) is ``objective``: less the prior."""
        return float(objective - self.log_prior(weights, components))

    def whole_em(self, *args: Any, **kwargs: Any) -> None:
        """The compiled whole-EM loop runs maximum likelihood only: ``None`` (the driver iterates)."""
        return None

    def for_missing(self, X: np.ndarray) -> GaussianFamily:
        """Missing values with a prior are refused; predictions on rows with NaN use the plain family."""
        from .missing import MissingGaussianFamily

        return MissingGaussianFamily(GaussianFamily(self.model.name, self.reg_covar))

    def spec(self) -> dict:
        return {**super().spec(), "prior": self.prior.spec()}
