"""The bootstrap of a fitted mixture: standard errors and percentile intervals of its parameters.

Each replicate refits the model, starting from the reference fit's
parameters (as mclust's ``MclustBootstrap`` starts from the reference
responsibilities), to data drawn in one of three ways:

``"nonparametric"``
    rows resampled with replacement (Efron); done through ``sample_weight``:
    each row counts as often as it was drawn (multinomial counts), which is
    the likelihood of the resampled rows without copying them;
``"weighted"``
    the weighted likelihood bootstrap (Newton and Raftery 1994): row weights
    ``n * Dirichlet(1, ..., 1)``, also through ``sample_weight``;
``"parametric"``
    ``n`` rows drawn from the fitted mixture itself.

Label switching is resolved by matching every replicate's components to the
reference fit's: the Hungarian algorithm
(:func:`scipy.optimize.linear_sum_assignment`) on the squared distances
between the means, each feature scaled by its standard deviation in the data
(families without means are matched on their first component array).
Replicates are independent given their seeds (spawned from ``random_state``),
so they run in parallel over a thread pool and the result does not depend on
``n_jobs``.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .. import exceptions
from .._validation import check_random_state, check_scalar
from ..engine import ChunkPool
from ..exceptions import EmixError, InvalidInputError, InvalidParameterError
from .result import BootstrapResult

#: The kinds of bootstrap :func:`bootstrap` makes (module docstring).
KINDS = ("nonparametric", "parametric", "weighted")


def bootstrap(
    model: Any,
    X: Any,
    *,
    n_boot: int = 999,
    kind: str = "nonparametric",
    random_state: Any = None,
    n_jobs: int | None = 1,
    conf_level: float = 0.95,
    feature_names: Any = None,
) -> BootstrapResult:
    """Bootstrap standard errors and percentile intervals of a fitted mixture's parameters.

    Parameters
    ----------
    model : a fitted emix estimator
        E.g. :class:`~emix.GaussianMixture` (any covariance model, with or
        without ``equal_weights``), :class:`~emix.BayesianGaussianMixture`,
        or a mixture of another family. Its constructor arguments are kept
        for every replicate (``max_iter``, ``tol``...).
    X : array-like of shape (n_samples, n_features)
        The data the model was fitted to (in memory).
    n_boot : int, default=999
        Number of replicates B.
    kind : {'nonparametric', 'parametric', 'weighted'}, default='nonparametric'
        How each replicate's data are drawn (module docstring).
    random_state : int, Generator or None
        Seeds the replicates (each gets its own stream).
    n_jobs : int or None, default=1
        Threads over which the replicates are spread (``None`` or ``-1``: all
        cores); each replicate's fit runs on one thread. Threads pay off when
        each fit's passes are heavy (tens of thousands of rows): NumPy then
        releases the interpreter; small fits are bound by it.
    conf_level : float, default=0.95
        Coverage of the percentile intervals.
    feature_names : sequence of str, optional
        Names of the features for the table (default: the estimator's
        ``feature_names_in_`` if it has them, else ``x0, x1, ...``).

    Returns
    -------
    BootstrapResult
        ``estimate``, ``replicates``, ``se``, ``lower`` and ``upper`` by
        parameter name (``weights`` (K,), ``means`` (K, D), ``covariances``
        (K, D, D) for Gaussian mixtures; see :class:`BootstrapResult`).

    Raises
    ------
    NotFittedError
        When ``model`` is not fitted.
    InvalidParameterError
        For an unknown ``kind``, ``n_boot < 2`` or ``conf_level`` outside (0, 1).
    InvalidInputError
        When ``X`` does not match the model (features, support), or is a source.

    Examples
    --------
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> result = emix.bootstrap(gm, X, n_boot=20, random_state=0)
    >>> result.n_replicates, result.se["means"].shape
    (20, (2, 2))
    >>> result.estimate["weights"].round(3)
    array([0.644, 0.356])
    >>> bool((result.lower["weights"] < result.estimate["weights"]).all())
    True
    """
    X = _check_arguments(model, X, n_boot, kind, conf_level)
    names = _feature_names(model, X.shape[1], feature_names)
    reference = component_parameters(model)
    scale = _feature_scale(X)
    seeds = np.random.SeedSequence(int(check_random_state(random_state).integers(2**63))).spawn(int(n_boot))
    replicate = _Replicate(model, X, kind, reference, scale)
    # a replicate may stop at max_iter or repair a component: its warnings are not the caller's
    # (silenced here, once for every thread: the warnings filters are global)
    with warnings.catch_warnings(), ChunkPool(n_jobs) as pool:
        warnings.simplefilter("ignore")
        fits = [r for r in pool.map(replicate, seeds) if r is not None]
    stacked = {
        name: np.stack([f[name] for f in fits]) if fits else np.empty((0, *est.shape))
        for name, est in reference.items()
    }
    return BootstrapResult.from_replicates(kind, int(n_boot), float(conf_level), reference, stacked, names)


def _check_arguments(model: Any, X: Any, n_boot: Any, kind: Any, conf_level: Any) -> np.ndarray:
    """The checks of :func:`bootstrap` (its Raises section); returns ``X`` checked, (n, D)."""
    if not hasattr(model, "weights_"):
        raise exceptions.NotFittedError(
            f"bootstrap needs a fitted model; call {type(model).__name__}.fit(X) first"
        )
    if kind not in KINDS:
        raise InvalidParameterError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    check_scalar(n_boot, "n_boot", (int, np.integer), min_val=2)
    check_scalar(conf_level, "conf_level", (float, int, np.floating, np.integer), min_val=0)
    if not 0 < conf_level < 1:
        raise InvalidParameterError(f"conf_level must lie strictly between 0 and 1, got {conf_level!r}")
    X = model._check_X(X)
    if not isinstance(X, np.ndarray):
        raise InvalidInputError("bootstrap resamples rows in memory: give X as an array, not a source")
    return X


class _Replicate:
    """One replicate: draw the data, refit from the reference fit, align the components."""

    def __init__(self, model: Any, X: np.ndarray, kind: str, reference: dict, scale: np.ndarray) -> None:
        self.model, self.X, self.kind, self.reference, self.scale = model, X, kind, reference, scale

    def __call__(self, seed: np.random.SeedSequence) -> dict[str, np.ndarray] | None:
        rng = np.random.default_rng(seed)
        X, w = draw(self.model, self.X, self.kind, rng)
        est = copy.deepcopy(self.model)
        est.set_params(warm_start=True, **({"n_jobs": 1} if "n_jobs" in est.get_params() else {}))
        try:
            with np.errstate(all="ignore"):  # (thread-local; the warnings are silenced by the caller)
                est.fit(X, sample_weight=w)
        except (EmixError, ArithmeticError, np.linalg.LinAlgError, ValueError):
            return None
        params = component_parameters(est)
        if not all(np.isfinite(v).all() for v in params.values()):
            return None
        return align(params, self.reference, self.scale)


def draw(
    model: Any, X: np.ndarray, kind: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None]:
    """One replicate's data: ``(rows, sample_weight)``.

    Parameters
    ----------
    model : fitted estimator
    X : ndarray of shape (n, D)
    kind : {'nonparametric', 'parametric', 'weighted'}
    rng : numpy Generator

    Returns
    -------
    rows : ndarray of shape (n, D)
        ``X`` itself, or (parametric) n draws from the model.
    sample_weight : ndarray of shape (n,) or None
        Multinomial counts (nonparametric), ``n`` times Dirichlet weights (weighted), or None.
    """
    n = X.shape[0]
    if kind == "nonparametric":
        return X, rng.multinomial(n, np.full(n, 1.0 / n)).astype(np.float64)
    if kind == "weighted":
        return X, rng.dirichlet(np.ones(n)) * n
    params = model._fitted_params()
    counts = rng.multinomial(n, params.weights / params.weights.sum())
    return model._make_family().sample(rng, params.components, counts).astype(X.dtype, copy=False), None


def component_parameters(model: Any) -> dict[str, np.ndarray]:
    """The parameters the bootstrap summarises, with the components first.

    Gaussian-type estimators (a family with a covariance ``model`` and
    ``means_``): ``weights`` (K,), ``means`` (K, D) and ``covariances``
    (K, D, D), one full matrix per component whatever the covariance type.
    Other families: ``weights`` and each of the family's (K, ...) arrays.
    """
    family = model._make_family()
    k = int(model.n_components)
    out = {"weights": np.asarray(model.weights_, dtype=np.float64)}
    cov_model = getattr(family, "model", None)
    if cov_model is not None and hasattr(model, "means_") and hasattr(model, "covariances_"):
        means = np.asarray(model.means_, dtype=np.float64)
        d = means.shape[1]
        out["means"] = means
        cov = np.asarray(model.covariances_, dtype=np.float64)
        out["covariances"] = np.stack([cov_model.component_covariance(cov, j, d) for j in range(k)])
        return out
    for name, arr in family.to_arrays(model._component_params()).items():
        arr = np.asarray(arr)
        if (
            arr.ndim >= 1
            and arr.shape[0] == k
            and arr.dtype.kind == "f"
            and not name.startswith("precisions")
        ):
            out[name] = arr.astype(np.float64)
    return out


def align(params: dict[str, np.ndarray], reference: dict[str, np.ndarray], scale: np.ndarray) -> dict:
    """``params`` with its components reordered to match ``reference`` (Hungarian matching).

    The cost of pairing replicate component ``i`` with reference component
    ``j`` is the squared distance between their means (``means``, or the first
    component array), each feature divided by ``scale``.
    """
    key = "means" if "means" in reference else next(n for n in reference if n != "weights")
    a = params[key].reshape(len(params["weights"]), -1)
    b = reference[key].reshape(len(reference["weights"]), -1)
    s = scale if key == "means" else 1.0
    cost = (((a[None, :, :] - b[:, None, :]) / s) ** 2).sum(axis=-1)  # (reference, replicate)
    _, order = linear_sum_assignment(cost)
    return {name: value[order] for name, value in params.items()}


def _feature_scale(X: np.ndarray) -> np.ndarray:
    s = np.nanstd(X, axis=0)
    return np.where(s > 0, s, 1.0)


def _feature_names(model: Any, d: int, given: Any) -> tuple[str, ...]:
    names = given if given is not None else getattr(model, "feature_names_in_", None)
    if names is None:
        return tuple(f"x{j}" for j in range(d))
    names = tuple(str(v) for v in names)
    if len(names) != d:
        raise InvalidParameterError(f"feature_names has {len(names)} names for {d} features")
    return names
