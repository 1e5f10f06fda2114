"""The Gaussian family: K Gaussian components under one covariance model.

:class:`GaussianFamily` implements the :class:`~emix.families.base.Family`
protocol (densities, statistics, M-step, sampling) on top of a covariance
model from :mod:`.covariance`, and the optional protocols the EM driver uses
(the fused E-step, per-pass preparation, the repair count, EM acceleration)
and the estimator-support methods every family has (``validate``,
``configure``, ``array_names`` / ``to_arrays`` / ``from_arrays``, ``spec``,
``handles_missing``, ``exact_m_step``; see :mod:`emix.families._common`), with
:meth:`GaussianFamily.for_missing` for data with NaN.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence

import numpy as np

from ...exceptions import DegenerateComponentWarning, InvalidParameterError
from .. import repairs
from .._checks import get_array
from . import far
from .covariance import COVARIANCE_MODELS, checked_covariances, get_covariance_model
from .grouped import GroupedPass, group_kind, slots_fit
from .missing import MissingGaussianFamily
from .params import LOCATION_SCALE_ARRAYS, GaussianParams, GaussianStats, location_scale_arrays
from .repair import keep_empty_components, note_repair, thread_repair_count
from .shift import recentre_gaussian_stats
from .sklearn_models import (
    BUILTIN_MODELS,
)
from .whole import whole_em


@functools.lru_cache(maxsize=16)
def _eps(dtype: np.dtype) -> float:
    return float(np.finfo(dtype).eps)


@functools.lru_cache(maxsize=64)
def _counted_repairs(model_type: type) -> bool:
    """Whether the model is one of emix's registered ones, which repair only through the
    built-in ``precision_cholesky`` (which counts the repairs)."""
    if model_type in BUILTIN_MODELS:
        return True
    return COVARIANCE_MODELS.get(getattr(model_type, "name", None)) is model_type and (
        model_type.precision_cholesky in {m.precision_cholesky for m in BUILTIN_MODELS}
    )


class GaussianFamily:
    """Gaussian components under one covariance model.

    ``emix.families.GaussianComponents`` is this class. :class:`emix.GaussianMixture`
    builds it from its ``covariance_type`` and ``reg_covar``; give it to
    :class:`emix.Mixture`, or as a part of a
    :class:`~emix.families.ProductFamily`, to use Gaussian components there.

    Parameters
    ----------
    covariance_type : str, default='full'
        One of the four scikit-learn names or the 14 mclust names (see
        :class:`emix.GaussianMixture`).
    reg_covar : float, default=1e-6
        Non-negative jitter added to the covariance diagonals at every M-step.

    Examples
    --------
    >>> from emix.families import GaussianComponents
    >>> GaussianComponents("tied", reg_covar=0.0).spec()
    {'family': 'gaussian', 'covariance_type': 'tied', 'reg_covar': 0.0}
    """

    name = "gaussian"
    #: every real value is in the support: no pass over a source is needed to check values
    accepts_any_real = True

    def __init__(self, covariance_type: str = "full", reg_covar: float = 1e-6) -> None:
        self.model = get_covariance_model(covariance_type)
        self.reg_covar = float(reg_covar)

    # -- EM ---------------------------------------------------------------
    def log_prob(self, X: np.ndarray, params: GaussianParams) -> np.ndarray:
        """Component log-densities, shape (n, K)."""
        return self.model.log_prob(X, params.means, params.precisions_cholesky)

    def far_log_joint(
        self, X: np.ndarray, params: GaussianParams, log_weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``log pi_k + log p(x_n | k)`` as ``base_n + rel_nk``, for rows whose squared distances
        overflow (see :mod:`.far`): ``base`` (n,) may be ``-inf``, ``rel`` (n, K) is finite
        for the nearest component."""
        means, pc = params.means, params.precisions_cholesky
        factors = far.dense_factors(self.model, pc, *means.shape)
        const = np.diagonal(self.model.log_prob(means, means, pc)).astype(np.float64)  # q = 0: the constants
        return far.relative_log_joint(X, means, factors, const + log_weights)

    def anchor(self, params: GaussianParams) -> np.ndarray:
        return params.means

    def probe_rows(self, params: GaussianParams) -> np.ndarray:
        """One row per component, shape (K, D): the means, where the duplicate-components
        diagnostic compares the densities first (``emix.estimators.diagnostics``)."""
        return params.means

    def anchor_from_centres(self, centres: np.ndarray) -> np.ndarray:
        return centres

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: np.ndarray) -> GaussianStats:
        s1, s2 = self.model.scatter(X, resp, anchor)
        return GaussianStats(nk=resp.sum(axis=0), s1=s1, s2=s2, centre=anchor)

    def recentre_stats(self, stats: GaussianStats, like: GaussianStats) -> GaussianStats:
        """``stats`` re-centred on ``like.centre`` (:func:`.shift.recentre_gaussian_stats`)."""
        return recentre_gaussian_stats(stats, like, self.model.reduce_scatter)

    def e_step_accumulate(
        self,
        X: np.ndarray,
        w: np.ndarray | None,
        log_weights: np.ndarray,
        params: GaussianParams,
        anchor: np.ndarray,
    ) -> tuple[GaussianStats, float]:
        """Optional fused fast path: E-step and statistics of one chunk.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        w : ndarray of shape (n,) or None
        log_weights : ndarray of shape (K,)
        params : GaussianParams
        anchor : ndarray of shape (K, D)

        Returns
        -------
        stats : GaussianStats
            Same values as ``accumulate(X, w * resp, anchor)`` (float64).
        loglik : float
            ``sum_n w_n log p(x_n)``.
        """
        nk, s1, s2, loglik = self.model.fused(
            X, w, log_weights, params.means, params.precisions_cholesky, anchor
        )
        return GaussianStats(nk=nk, s1=s1, s2=s2, centre=anchor), loglik

    def repair_count(self) -> int | None:
        """Repaired M-steps so far on this thread (emptied components, jitter, floored variances).

        The driver compares it before and after an M-step to learn that the
        step was repaired (so a small drop of the likelihood after it is
        expected) without catching warnings. ``None`` for covariance models
        other than the registered ones (the four built-in ones and the mclust
        models, which repair through the built-in ``precision_cholesky``), or
        a subclass that overrides :meth:`m_step`, which may repair in their
        own way: the driver then watches the warnings instead.
        """
        if not _counted_repairs(type(self.model)) or type(self).m_step is not GaussianFamily.m_step:
            return None  # a model or a subclassed M-step that may repair in its own way
        return thread_repair_count()

    def prepare_pass(self, log_weights: np.ndarray, params: GaussianParams, anchor: np.ndarray):
        """Optional: :meth:`e_step_accumulate` for one pass, with per-pass constants computed once.

        Returns a function ``(X, w) -> (stats, loglik)`` with the values of
        ``e_step_accumulate(X, w, log_weights, params, anchor)``.
        """
        run = self.model.prepare(log_weights, params.means, params.precisions_cholesky, anchor)

        def chunk(X: np.ndarray, w: np.ndarray | None) -> tuple[GaussianStats, float]:
            nk, s1, s2, loglik = run(X, w)
            return GaussianStats(nk=nk, s1=s1, s2=s2, centre=anchor), loglik

        return chunk

    def prepare_groups(
        self, log_weights, params: GaussianParams, anchor, X: np.ndarray, w, bounds, *, moments=True,
        memo: dict | None = None,
    ):  # fmt: skip
        """Optional: a pass over the whole array ``X`` in the row groups ``bounds`` (G + 1,), or ``None``.

        A :class:`~emix.families.gaussian.grouped.GroupedPass` when a compiled kernel with no
        temporaries that grow with the rows applies (see :func:`.grouped.group_kind`) and the
        E-step is this class's own (a subclass overriding it gets ``None``); ``moments=False``:
        its log-likelihood only. ``memo``: the source's store of what does not change with the
        parameters (:attr:`emix.sources.ArraySource.memo`).
        """
        own = ("prepare_pass", "e_step_accumulate", "log_prob", "accumulate", "anchor")
        if any(getattr(type(self), m) is not getattr(GaussianFamily, m) for m in own):
            return None  # a subclass with its own E-step: its chunks run it
        kind = group_kind(self.model, X)
        if kind is None or not slots_fit(kind, *params.means.shape, len(bounds) - 1):
            return None
        return GroupedPass(
            kind, self.model, log_weights, params.means, params.precisions_cholesky, anchor, X, w, bounds,
            moments=moments, memo=memo,
        )  # fmt: skip

    # -- a whole EM run in one compiled loop (optional protocol: whole_em) --------------
    def whole_em(
        self,
        X: np.ndarray,
        w: np.ndarray | None,
        weights: np.ndarray,
        params: GaussianParams,
        *,
        max_iter: int,
        tol: float,
        rule: str,
        total_weight: float,
        rtol: float = 0.0,
        eps: float = 0.0,
        exact: bool = True,
    ) -> dict | None:
        """Plain EM in one compiled loop: :func:`.whole.whole_em` (see there)."""
        return whole_em(
            self, X, w, weights, params, max_iter=max_iter, tol=tol, rule=rule, total_weight=total_weight,
            rtol=rtol, eps=eps, exact=exact,
        )  # fmt: skip

    # -- acceleration (optional protocol: to_vector / from_vector) ----------
    @property
    def supports_acceleration(self) -> bool:
        return self.model.supports_acceleration

    def to_vector(self, params: GaussianParams) -> np.ndarray:
        """Parameters as one unconstrained float64 vector (means, then free covariance coordinates)."""
        return np.concatenate(
            [np.asarray(params.means, dtype=np.float64).ravel(), self.model.to_free(params.covariances)]
        )

    def from_vector(self, vec: np.ndarray, like: GaussianParams) -> GaussianParams:
        """Inverse of :meth:`to_vector`; arrays take ``like``'s dtype."""
        k, d = like.means.shape
        dt = like.means.dtype
        means = vec[: k * d].reshape(k, d)
        cov, pc = self.model.from_free(vec[k * d :], k, d)
        return GaussianParams(
            means=means.astype(dt), covariances=cov.astype(dt), precisions_cholesky=pc.astype(dt)
        )

    def m_step(self, stats: GaussianStats, previous: GaussianParams | None) -> GaussianParams:
        """Weighted maximum likelihood from summed statistics.

        A component whose responsibility mass is (numerically) zero keeps its
        previous mean and covariance, with a warning.
        """
        nk = stats.nk
        total = float(nk.sum())
        floor = 10.0 * _eps(stats.s1.dtype) * max(total, 1.0)
        prev_cov = None if previous is None else previous.covariances
        if nk.min() > floor:  # the usual case: no component is empty
            means = stats.centre + stats.s1 / nk[:, None]
            cov = self.model.m_step_covariance(stats, nk, self.reg_covar, prev_cov)
        else:
            means, cov = self._m_step_with_empty(stats, previous, floor)
        cov, prec_chol = self.model.precision_cholesky(cov)
        # statistics may be float64 for float32 data: parameters keep the data's dtype
        dt = stats.centre.dtype if np.issubdtype(stats.centre.dtype, np.floating) else means.dtype
        return GaussianParams(
            means=means.astype(dt, copy=False),
            covariances=cov.astype(dt, copy=False),
            precisions_cholesky=prec_chol.astype(dt, copy=False),
        )

    def _m_step_with_empty(self, stats: GaussianStats, previous: GaussianParams | None, floor: float):
        """Means and covariances when some component received no responsibility (it keeps its
        previous mean and covariance, or is placed at the anchor), with a warning."""
        nk = stats.nk
        empty = nk <= floor
        safe_nk = np.where(empty, 1.0, nk)
        means = stats.centre + stats.s1 / safe_nk[:, None]
        prev_cov = None if previous is None else previous.covariances
        cov = self.model.m_step_covariance(stats, safe_nk, self.reg_covar, prev_cov)
        idx = np.flatnonzero(empty)
        kept = "kept its previous mean and covariance" if previous is not None else "placed at the anchor"
        note_repair(idx.tolist(), f"received no responsibility: {kept}")
        warnings.warn(
            f"component(s) {idx.tolist()} received no responsibility; "
            + (
                "they keep their previous parameters"
                if previous is not None
                else "they are placed at the anchor"
            )
            + ". Consider fewer components",
            DegenerateComponentWarning,
            stacklevel=4,
        )
        keep_empty_components(self.model, empty, means, cov, previous, stats.centre)
        return means, cov

    # -- degeneracy (optional protocol: singular_components / repaired_components) -----
    def singular_components(self, params: GaussianParams) -> tuple[int, ...]:
        """Components whose covariance is singular by mclust's test (see :mod:`.degeneracy`)."""
        return self.model.singular_components(params.precisions_cholesky, params.means.shape[0])

    def repaired_components(self, stats: GaussianStats, previous: GaussianParams | None) -> tuple[int, ...]:
        """Components the M-step of ``stats`` repairs: emptied ones, and those whose covariance
        needs jitter to be positive definite (the M-step is redone, its warnings silenced)."""
        nk = stats.nk
        floor = 10.0 * float(np.finfo(stats.s1.dtype).eps) * max(float(nk.sum()), 1.0)
        empty = set(np.flatnonzero(nk <= floor).tolist())
        safe_nk = np.where(nk <= floor, 1.0, nk)
        prev = None if previous is None else previous.covariances
        cov = self.model.m_step_covariance(stats, safe_nk, self.reg_covar, prev)
        with warnings.catch_warnings(), repairs.paused():
            warnings.simplefilter("ignore", DegenerateComponentWarning)
            fixed, _ = self.model.precision_cholesky(cov.copy())
        k = nk.shape[0]
        if self.model.per_component:
            diff = (np.asarray(fixed) != cov).reshape(k, -1).any(axis=1)
            jittered = set(np.flatnonzero(diff).tolist())
        else:
            jittered = set(range(k)) if (np.asarray(fixed) != cov).any() else set()
        return tuple(sorted(empty | jittered))

    def n_parameters(self, params: GaussianParams) -> int:
        k, d = params.means.shape
        return k * d + self.model.n_parameters(k, d)

    def sample(self, rng: np.random.Generator, params: GaussianParams, counts: np.ndarray) -> np.ndarray:
        """Draws grouped by component, shape (sum(counts), D)."""
        k_, d = params.means.shape
        draws = self.model.normal_draws(rng, params.covariances, counts, k_, d)
        parts = [params.means[k] + z for k, z in draws]
        return np.concatenate(parts, axis=0) if parts else np.empty((0, d))

    # -- estimator support (see emix.families._common) ----------------------------------
    #: NaN means "missing at random": see :meth:`for_missing`
    handles_missing = True

    @property
    def exact_m_step(self) -> bool:
        """True when the M-step adds no jitter (``reg_covar == 0``)."""
        return self.reg_covar == 0

    @property
    def needs_spread(self) -> bool:
        """With ``reg_covar=0`` the likelihood has no maximum where a component sits on
        identical rows (its covariance shrinks to zero), so the training data must have more
        distinct rows than components."""
        return self.reg_covar == 0

    def for_missing(self, X: np.ndarray) -> MissingGaussianFamily:
        """The exact missing-data variant (marginal densities, conditional expectations).

        Parameters
        ----------
        X : ndarray of shape (n, D)
            Data with NaN (not used beyond the choice of variant).
        """
        return MissingGaussianFamily(self)

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        """Any finite real values are allowed; NaN is a missing value."""

    def configure(self, X: np.ndarray) -> GaussianFamily:
        """The family itself: nothing depends on the data."""
        return self

    def array_names(self) -> tuple[str, ...]:
        return LOCATION_SCALE_ARRAYS

    def init_names(self) -> set[str]:
        """``means`` and ``covariances``; ``precisions_cholesky`` follows from them."""
        return {"means", "covariances"}

    def to_arrays(self, params: GaussianParams) -> dict[str, np.ndarray]:
        """``means`` (K, D), ``covariances`` and ``precisions_cholesky`` (model shape)."""
        return location_scale_arrays(params)

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> GaussianParams:
        """Parameters from arrays (user starts, model files), checked.

        Parameters
        ----------
        arrays : dict of str to array-like
            ``means`` (K, D) and ``covariances`` (model shape); optionally
            ``precisions_cholesky`` (model shape), which must agree with
            ``covariances`` and is then kept as given, else it is computed.
            float32 arrays stay float32.
        n_components, n_features : int
            K and D.
        """
        k, d = n_components, n_features
        dtype = np.float32 if np.asarray(arrays.get("means")).dtype == np.float32 else np.float64
        means = get_array(arrays, "means", (k, d), dtype=dtype, owner="gaussian")
        shape = self.model.shape(k, d)
        cov = get_array(arrays, "covariances", shape, dtype=dtype, owner="gaussian")
        if arrays.get("precisions_cholesky") is None:
            cov, pc = checked_covariances(self.model, cov.astype(np.float64), k, d)
            return GaussianParams(
                means=means, covariances=cov.astype(dtype), precisions_cholesky=pc.astype(dtype)
            )
        pc = get_array(arrays, "precisions_cholesky", shape, dtype=dtype, owner="gaussian")
        self._check_agree(cov.astype(np.float64), pc.astype(np.float64), k, d, np.finfo(dtype).eps)
        return GaussianParams(means=means, covariances=cov, precisions_cholesky=pc)

    def _check_agree(self, cov: np.ndarray, pc: np.ndarray, k: int, d: int, eps: float) -> None:
        """Raise unless every component's covariance times its precision is the identity, to
        1e-5 plus the rounding of arrays held to ``eps``: ``4 eps |cov_k| |L_k| |L_k|^T``
        entrywise (``L_k`` the factor; float32 arrays of a covariance with condition number 1e3
        at D = 64 are off by some 1e-4 however exactly they were computed)."""
        prec = self.model.precisions(pc)
        matrices = cov.ndim - int(self.model.per_component) == 2  # full, tied; else diagonals
        one = np.eye(d) if matrices else 1.0
        with np.errstate(invalid="ignore", over="ignore"):  # NaN or overflow: not close, named below
            product = cov @ prec if matrices else cov * prec
            if matrices:  # entrywise: the rounding of cov and of pc, through the products
                apc = np.abs(pc)
                slack = 4.0 * eps * (np.abs(cov) @ (apc @ np.swapaxes(apc, -1, -2)))
            else:
                slack = 4.0 * eps * np.abs(product)
            close = np.abs(product - one) <= 1e-5 + 1e-5 * one + slack  # np.allclose's test, all at once
        if self.model.per_component:
            bad = np.flatnonzero(~close.reshape(k, -1).all(axis=1))
        else:
            bad = np.zeros(0 if close.all() else 1, dtype=np.intp)
        if bad.size:
            raise InvalidParameterError(
                f"component {bad[0]}: covariances and precisions_cholesky do not agree"
            )

    def derived_arrays(self, params: GaussianParams) -> dict[str, np.ndarray]:
        """Fitted attributes computed from the parameters, not stored: ``precisions`` (model shape)."""
        return {"precisions": self.model.precisions(params.precisions_cholesky)}

    def spec(self) -> dict:
        return {"family": "gaussian", "covariance_type": self.model.name, "reg_covar": self.reg_covar}
