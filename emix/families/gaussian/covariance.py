"""The covariance-model base class and the registry of covariance models by name.

A covariance model says how the component covariances are restricted and
stored (their shape, the statistics they need, their M-step, their free
parameters); :class:`~.family.GaussianFamily` holds one. Each model is a
class registered under its name in :data:`COVARIANCE_MODELS`: the four
scikit-learn ones from :mod:`.sklearn_models`, the 14 mclust ones from
:mod:`.mclust`. :func:`get_covariance_model` is the one place that turns a
name into a model. Shapes: :mod:`.params`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import ClassVar

import numpy as np

from ..._linalg import cholesky_lower
from ...exceptions import DegenerateComponentWarning, InvalidParameterError
from . import degeneracy
from .fused_kernels import normalize_columns
from .params import GaussianStats

#: A spherical precision factor at or above this is singular by mclust's test.
_SPHERICAL_LIMIT = 1.0 / degeneracy.RCOND_MIN - 1.0


class CovarianceModel:
    """Base of the covariance models; subclasses fill in the shape-specific parts."""

    name: ClassVar[str]
    #: True when ``covariances_`` has one entry per component along axis 0
    per_component: ClassVar[bool] = True

    def shape(self, k: int, d: int) -> tuple[int, ...]:
        raise NotImplementedError

    def log_prob(self, X: np.ndarray, means: np.ndarray, prec_chol: np.ndarray) -> np.ndarray:
        """Log-densities ``log N(x_n | mu_k, Sigma_k)``, shape (n, K)."""
        raise NotImplementedError

    def scatter(self, X: np.ndarray, resp: np.ndarray, centre: np.ndarray):
        """Return ``(s1, s2)`` of one chunk (see :class:`GaussianStats`)."""
        raise NotImplementedError

    def scatter_shape(self, k: int, d: int) -> tuple[int, ...]:
        """Shape of ``s2`` (the same as the covariances for full, tied and diag)."""
        return self.shape(k, d)

    def reduce_scatter(self, full: np.ndarray) -> np.ndarray:
        """Turn per-component full scatter matrices (K, D, D) into this model's ``s2``."""
        raise NotImplementedError

    def covariance(self, stats: GaussianStats, nk: np.ndarray, reg: float) -> np.ndarray:
        """Covariances from centred statistics, with ``reg`` added to the diagonal."""
        raise NotImplementedError

    def m_step_covariance(
        self, stats: GaussianStats, nk: np.ndarray, reg: float, previous: np.ndarray | None
    ) -> np.ndarray:
        """Covariances of the M-step; ``previous`` (model shape, or ``None``) warm-starts
        models whose M-step is iterative (see :mod:`.mclust`)."""
        return self.covariance(stats, nk, reg)

    def precision_cholesky(self, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(cov, prec_chol)``; ``cov`` may carry jitter if it was singular."""
        raise NotImplementedError

    def from_precisions(self, precisions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(covariances, prec_chol)`` from user precisions (already shape-checked)."""
        raise NotImplementedError

    def precisions(self, prec_chol: np.ndarray) -> np.ndarray:
        """Precision matrices from their Cholesky factors (model shape)."""
        raise NotImplementedError

    def component_covariance(self, cov: np.ndarray, k: int, d: int) -> np.ndarray:
        """Full (D, D) covariance matrix of component ``k``."""
        raise NotImplementedError

    def root_diagonals(self, prec_chol: np.ndarray, k: int) -> np.ndarray:
        """``|R_jj|``, the diagonal of the triangular factor of each ``Sigma_k = R^T R``, shape (K, D).

        Read off the precisions' Cholesky factors, whose diagonal is its
        inverse; :mod:`.degeneracy` tests them as mclust does.
        """
        raise NotImplementedError

    def singular_components(self, prec_chol: np.ndarray, k: int) -> tuple[int, ...]:
        """Components whose covariance is singular by mclust's test (:mod:`.degeneracy`).

        EM asks after every M-step, so the usual answer (none) is found with
        a few reductions of the factors' diagonals ``p = 1 / |R_jj|``:
        ``rcond = min |R| / (1 + max |R|) = p_min / (p_max (1 + p_min))``.
        """
        p = np.abs(self._factor_diagonals(prec_chol))
        if p.ndim == 1:  # one value per component (spherical): rcond = 1 / (1 + p)
            if p.size == 0 or p.max() < _SPHERICAL_LIMIT:
                return ()
        else:
            pmin, pmax = p.min(axis=-1), p.max(axis=-1)
            with np.errstate(invalid="ignore", over="ignore"):
                if (pmin / (pmax * (1.0 + pmin)) > degeneracy.RCOND_MIN).all():
                    return ()
        return degeneracy.singular_components(self.root_diagonals(prec_chol, k))

    def _factor_diagonals(self, prec_chol: np.ndarray) -> np.ndarray:
        """The diagonals of the precision factors: (K, D), (D,) for a shared one, (K,) for spherical."""
        raise NotImplementedError

    def n_parameters(self, k: int, d: int) -> int:
        """Free parameters of the covariances of K components in D dimensions."""
        raise NotImplementedError

    def normal_draws(
        self, rng: np.random.Generator, cov: np.ndarray, counts: np.ndarray, k: int, d: int
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Draws from ``N(0, Sigma_k)``, one component after the other.

        Parameters
        ----------
        rng : numpy.random.Generator
        cov : ndarray
            Covariances in the model's shape.
        counts : ndarray of int, shape (K,)
            Draws per component.
        k, d : int
            Number of components K and of features D.

        Yields
        ------
        j : int
            The component.
        z : ndarray of shape (counts[j], D)
            Drawn lazily, so a caller that draws more for component ``j``
            (e.g. Student-t scales) before the next one keeps its order of draws.
        """
        for j in range(k):
            chol = np.linalg.cholesky(self.component_covariance(cov, j, d))
            yield j, rng.standard_normal((int(counts[j]), d)) @ chol.T

    def check_precisions(self, precisions: np.ndarray, k: int, d: int) -> None:
        """Validate user-supplied precisions: shape, symmetry, positive definiteness."""
        want = self.shape(k, d)
        if precisions.shape != want:
            raise InvalidParameterError(
                f"precisions_init has shape {precisions.shape}; covariance_type="
                f"{self.name!r} with n_components={k} and {d} features needs {want}"
            )
        if not np.isfinite(precisions).all():
            raise InvalidParameterError("precisions_init contains NaN or inf")

    def checked_from_precisions(
        self, precisions: np.ndarray, k: int, d: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`check_precisions`, then :meth:`from_precisions`: ``(covariances, prec_chol)``
        of user precisions (a model whose check factors the matrices reuses the factors)."""
        self.check_precisions(precisions, k, d)
        return self.from_precisions(precisions)

    def fused(
        self,
        X: np.ndarray,
        w: np.ndarray | None,
        log_weights: np.ndarray,
        means: np.ndarray,
        prec_chol: np.ndarray,
        centre: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """E-step and statistics of one chunk in one call.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        w : ndarray of shape (n,) or None
            Sample weights of the rows.
        log_weights : ndarray of shape (K,)
            Log mixing weights.
        means : ndarray of shape (K, D)
        prec_chol : ndarray
            Model shape (module docstring).
        centre : ndarray of shape (K, D)
            Anchor of the statistics.

        Returns
        -------
        nk : ndarray of shape (K,), float64
        s1 : ndarray of shape (K, D), float64
        s2 : ndarray, float64, model shape of :class:`GaussianStats`
        loglik : float
            ``sum_n w_n log p(x_n)`` of the chunk.
        """
        if self._fast_kernel_applies():
            return self._fused_fast(X, w, log_weights, means, prec_chol, centre)
        lj = self.log_prob(X, means, prec_chol)
        lj += log_weights.astype(lj.dtype)
        ljT = np.ascontiguousarray(lj.T)
        loglik = normalize_columns(ljT, w)
        resp = ljT.T
        s1, s2 = self.scatter(X, resp, centre)
        nk = ljT.sum(axis=1, dtype=np.float64)
        return nk, np.asarray(s1, np.float64), np.asarray(s2, np.float64), loglik

    def prepare(self, log_weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray, centre: np.ndarray):
        """Per-pass preparation: a function ``(X, w) -> fused(X, w, ...)`` for one pass's chunks.

        The parameters are those of :meth:`fused`. Models whose kernels need
        constants derived from the parameters (shifts, coefficients) compute
        them here once per pass instead of once per chunk; the default simply
        calls :meth:`fused`.
        """

        def run(X: np.ndarray, w: np.ndarray | None):
            return self.fused(X, w, log_weights, means, prec_chol, centre)

        return run

    def to_free(self, cov: np.ndarray) -> np.ndarray:
        """Covariances as an unconstrained flat vector (for EM acceleration).

        Models that do not implement this (and :meth:`from_free`) are fitted
        without acceleration. Any vector must map back to valid covariances.
        """
        raise NotImplementedError

    def from_free(self, vec: np.ndarray, k: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(covariances, prec_chol)`` from :meth:`to_free`'s vector."""
        raise NotImplementedError

    @property
    def supports_acceleration(self) -> bool:
        """True when ``to_free``/``from_free`` describe exactly this model's covariances.

        A subclass that changes the M-step (``covariance`` or
        ``precision_cholesky``, e.g. to add a constraint) without its own
        ``to_free``/``from_free`` would extrapolate outside its model, so it
        runs plain EM.
        """
        cls = type(self)
        if cls.to_free is CovarianceModel.to_free or cls.from_free is CovarianceModel.from_free:
            return False
        owner = next(c for c in cls.__mro__ if "to_free" in c.__dict__)
        return all(
            getattr(cls, m) is getattr(owner, m) for m in ("from_free", "covariance", "precision_cholesky")
        )

    #: optional BLAS-shaped kernel with the signature of :meth:`fused`
    _fused_fast = None
    _fast_ok_cache: ClassVar[dict] = {}

    def _fast_kernel_applies(self) -> bool:
        """True when this class's ``_fused_fast`` computes its own ``log_prob`` and ``scatter``."""
        cls = type(self)
        ok = CovarianceModel._fast_ok_cache.get(cls)
        if ok is None:
            owner = next(c for c in cls.__mro__ if "_fused_fast" in c.__dict__)
            ok = (
                owner.__dict__["_fused_fast"] is not None
                and cls.log_prob is owner.log_prob
                and cls.scatter is owner.scatter
            )
            CovarianceModel._fast_ok_cache[cls] = ok
        return ok


#: Registry of covariance models by name: the four scikit-learn models register here
#: from :mod:`.sklearn_models`, the 14 mclust models from :mod:`.mclust` (both
#: imported by the package, so that importing :mod:`emix.families.gaussian` fills it).
COVARIANCE_MODELS: dict[str, type[CovarianceModel]] = {}


def register_covariance_models(*models: type[CovarianceModel]) -> None:
    """Add covariance-model classes to :data:`COVARIANCE_MODELS` under their ``name``."""
    COVARIANCE_MODELS.update({m.name: m for m in models})


def checked_covariances(
    model: CovarianceModel, cov: np.ndarray, k: int, d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Check user or file covariances (symmetric positive definite) and factor them.

    Parameters
    ----------
    model : CovarianceModel
    cov : ndarray, shaped as the model's ``covariances_`` for K components in D dimensions
    k, d : int
        Number of components K and of features D.

    Returns
    -------
    covariances, precisions_cholesky : ndarray (model shape)
    """
    for j in range(k if model.per_component else 1):
        c = model.component_covariance(cov, j, d)
        if not np.allclose(c, c.T) or cholesky_lower(c) is None:
            raise InvalidParameterError(f"covariances of component {j} are not symmetric positive definite")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateComponentWarning)
        return model.precision_cholesky(cov)


def get_covariance_model(name: str) -> CovarianceModel:
    """The single lookup from a ``covariance_type`` name to its model."""
    try:
        return COVARIANCE_MODELS[name]()
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"covariance_type must be one of {sorted(COVARIANCE_MODELS)}, got {name!r}"
        ) from None
