"""The numbers of EM for any q: ln p(X | θ), L(q, θ), KL(q ‖ p(z | X, θ)) and Q.

For data ``X``, parameters ``θ`` (mixing weights ``π`` and the components)
and *any* ``q`` (one distribution over the K components per point, rows
summing to one), with ``ln p(x_n, k | θ) = ln π_k + ln p(x_n | k, θ)``:

``log_likelihood``
    ``ln p(X | θ) = Σ_n ln Σ_k p(x_n, k | θ)``; it does not depend on ``q``.
``lower_bound``
    ``L(q, θ) = Σ_n Σ_k q_nk [ln p(x_n, k | θ) - ln q_nk]`` (the ELBO).
``kl``
    ``KL(q ‖ p(z | X, θ)) = Σ_n Σ_k q_nk [ln q_nk - ln p(k | x_n, θ)]`` ≥ 0.
``expected_complete``
    ``Q = Σ_n Σ_k q_nk ln p(x_n, k | θ)``, the expected complete-data
    log-likelihood; with ``q`` the posterior under ``θ_old`` it is the
    ``Q(θ, θ_old)`` that the M-step maximises.
``entropy``
    ``H(q) = -Σ_n Σ_k q_nk ln q_nk``, so that ``L = Q + H``.

Each is computed from its own definition (the KL is not taken as a
difference), so ``L + KL = ln p(X | θ)`` (Jensen's gap is the KL) is a check a
student can run: :func:`bound` takes a fitted or hand-set model and any ``q``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._linalg import normalize_log_rows
from .._validation import check_array
from ..engine import MixtureParams, log_joint
from ..estimators.core import MixtureEstimator
from ..exceptions import InputTypeError, InvalidInputError, InvalidParameterError
from ..families.registry import family_from_spec

__all__ = [
    "Bound",
    "BoundSlice",
    "bound",
    "bound_slice",
    "evaluate",
    "check_responsibilities",
    "resolve_model",
]

#: how far a row of q may sum from one
ROW_SUM_TOLERANCE = 1e-8


@dataclasses.dataclass(frozen=True)
class Bound:
    """The EM quantities of one ``(q, θ)`` (module docstring).

    Attributes
    ----------
    log_likelihood : float
        ``ln p(X | θ)``.
    lower_bound : float
        ``L(q, θ)``.
    kl : float
        ``KL(q ‖ p(z | X, θ))``.
    expected_complete : float
        ``Q = Σ q_nk ln p(x_n, k | θ)``.
    entropy : float
        ``H(q)``.
    q : ndarray of shape (n_samples, K)
        The distribution the bound was taken at.
    posterior : ndarray of shape (n_samples, K)
        ``p(k | x_n, θ)``: the ``q`` that closes the gap.

    Examples
    --------
    A uniform ``q`` leaves a large gap; the posterior closes it:

    >>> import numpy as np, emix
    >>> from emix.teach import bound
    >>> X = emix.datasets.load_lecture_example()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> b = bound(gm, X, np.full((6, 2), 0.5))
    >>> round(b.log_likelihood, 3), round(b.lower_bound, 3), round(b.kl, 3), round(b.gap, 3)
    (-11.299, -874.88, 863.581, 863.581)
    >>> abs(bound(gm, X, b.posterior).kl) < 1e-9
    True
    """

    log_likelihood: float
    lower_bound: float
    kl: float
    expected_complete: float
    entropy: float
    q: np.ndarray = dataclasses.field(repr=False)
    posterior: np.ndarray = dataclasses.field(repr=False)

    @property
    def gap(self) -> float:
        """Jensen's gap ``ln p(X | θ) - L(q, θ)``, which equals ``kl`` up to rounding."""
        return self.log_likelihood - self.lower_bound


def evaluate(family: Any, X: np.ndarray, params: MixtureParams, q: np.ndarray | None = None) -> Bound:
    """The EM quantities of ``q`` (the posterior when None) under ``params``, unchecked.

    Parameters
    ----------
    family : Family
    X : ndarray of shape (n_samples, D)
    params : MixtureParams
    q : ndarray of shape (n_samples, K), optional
        Rows summing to one; ``None`` takes the posterior ``p(k | x_n, θ)``.

    Returns
    -------
    Bound
    """
    lj = np.asarray(log_joint(family, X, params), dtype=np.float64)  # ln p(x_n, k | θ)
    post, log_norm = normalize_log_rows(lj.copy())
    # ln p(k | x_n): the log of the posterior itself where it is a normal number (so that
    # q = posterior gives KL = 0 exactly), the difference of logs where it underflowed
    tiny = np.finfo(np.float64).tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_post = np.where(post > tiny, np.log(np.maximum(post, tiny)), lj - log_norm[:, None])
    q = post if q is None else q
    pos = q > 0  # 0 ln 0 = 0, and 0 times an impossible component counts nothing
    qp = q[pos]
    ln_q = np.log(qp)
    return Bound(
        log_likelihood=float(log_norm.sum()),
        lower_bound=float(np.sum(qp * (lj[pos] - ln_q))),
        kl=float(np.sum(qp * (ln_q - ln_post[pos]))),
        expected_complete=float(np.sum(qp * lj[pos])),
        entropy=float(-np.sum(qp * ln_q)),
        q=np.array(q, dtype=np.float64),
        posterior=post,
    )


def check_responsibilities(q: Any, n_samples: int, n_components: int) -> np.ndarray:
    """``q`` as a float64 array of shape (n_samples, K) whose rows are distributions.

    Parameters
    ----------
    q : array-like of shape (n_samples, K)
    n_samples, n_components : int

    Returns
    -------
    ndarray of shape (n_samples, K)

    Raises
    ------
    InputTypeError
        When ``q`` is not numeric.
    InvalidInputError
        Naming the problem: the shape, a value that is not finite or negative
        (with its row and column), or a row that does not sum to one.
    """
    try:
        arr = np.array(q, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"q must be an array of numbers, got {type(q).__name__}") from None
    if arr.shape != (n_samples, n_components):
        raise InvalidInputError(
            f"q has shape {arr.shape}; it needs one row per point and one column per component: "
            f"({n_samples}, {n_components})"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InvalidInputError(f"q has {arr[i, j]} at row {i}, column {j}; q_nk are probabilities")
    if (arr < 0).any():
        i, j = (int(v) for v in np.argwhere(arr < 0)[0])
        raise InvalidInputError(
            f"q has the negative value {arr[i, j]:g} at row {i}, column {j}; q_nk are probabilities"
        )
    sums = arr.sum(axis=1)
    off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InvalidInputError(
            f"row {i} of q sums to {sums[i]:.10g}, not 1: each q_n is a distribution over the "
            f"{n_components} components (divide each row by its sum)"
        )
    return arr


def _checked_weights(weights: Any) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size < 1 or not np.isfinite(w).all() or (w < 0).any():
        raise InvalidParameterError(f"the mixing weights must be K non-negative numbers, got {weights!r}")
    if abs(w.sum() - 1.0) > 1e-8:
        raise InvalidParameterError(f"the mixing weights sum to {w.sum():.10g}, not 1")
    return w


def _features_of(arrays: dict[str, Any], n_features: int | None) -> int:
    """``n_features``, or D read off the first array with two or more dimensions."""
    if n_features is not None:
        return int(n_features)
    for value in arrays.values():
        shape = np.shape(value)
        if len(shape) >= 2:
            return int(shape[1])
    raise InvalidParameterError("cannot tell the number of features from the arrays; give the data")


def _from_estimator(model: MixtureEstimator, n_features: int | None) -> tuple[Any, MixtureParams]:
    """Family and parameters of a fitted estimator, or of one whose attributes were set by hand."""
    if hasattr(model, "n_features_in_") and hasattr(model, "weights_"):
        return model._make_family(), model._fitted_params()
    if not hasattr(model, "weights_"):
        from .. import exceptions

        raise exceptions.NotFittedError(
            f"this {type(model).__name__} has no parameters: fit it, or set weights_ and "
            "its component arrays (e.g. means_ and covariances_) by hand"
        )
    family = model._base_family()
    weights = _checked_weights(model.weights_)
    arrays = {n: getattr(model, n + "_") for n in family.array_names() if hasattr(model, n + "_")}
    d = _features_of(arrays, n_features)
    return family, MixtureParams(weights, family.from_arrays(arrays, weights.size, d))


def resolve_model(model: Any, n_features: int | None = None) -> tuple[Any, MixtureParams]:
    """The family and the parameters a model stands for.

    Parameters
    ----------
    model : estimator, or (family, params) pair
        A fitted emix estimator; an unfitted one whose ``weights_`` and
        component arrays (``means_``, ``probabilities_``...) were set by hand;
        or ``(family, params)``, the family as a name, spec or object, and
        ``params`` a :class:`~emix.engine.MixtureParams` or a dict with
        ``"weights"`` (K,) and the family's arrays by name.
    n_features : int, optional
        D of the data the model is used on; without it, D is read off the
        arrays of a model given by arrays.

    Returns
    -------
    (family, MixtureParams)
    """
    if isinstance(model, MixtureEstimator):
        return _from_estimator(model, n_features)
    if isinstance(model, tuple) and len(model) == 2:
        family = family_from_spec(model[0])
        params = model[1]
        if isinstance(params, MixtureParams):
            _checked_weights(params.weights)
            return family, params
        if isinstance(params, dict) and "weights" in params:
            weights = _checked_weights(params["weights"])
            arrays = {k: v for k, v in params.items() if k != "weights"}
            d = _features_of(arrays, n_features)
            return family, MixtureParams(weights, family.from_arrays(arrays, weights.size, d))
        raise InvalidParameterError(
            "params must be a MixtureParams or a dict with 'weights' and the family's arrays, "
            f"got {type(params).__name__}"
        )
    raise InputTypeError(
        f"model must be an emix estimator or a (family, params) pair, got {type(model).__name__}"
    )


def bound(model: Any, X: Any, q: Any = None) -> Bound:
    """ln p(X | θ), L(q, θ), KL(q ‖ p(z | X, θ)) and Q for any ``q``: Jensen's gap made visible.

    Parameters
    ----------
    model : estimator, or (family, params) pair
        A fitted emix estimator; an unfitted one whose ``weights_`` and
        component arrays (``means_``, ``probabilities_``...) were set by hand;
        or ``(family, params)``, the family as a name, spec or object, and
        ``params`` a ``MixtureParams`` or a dict with ``"weights"`` (K,) and
        the family's arrays by name.
    X : array-like of shape (n_samples, D)
        Data in the family's support (NaN for a missing value where the
        family allows it).
    q : array-like of shape (n_samples, K), optional
        Any distribution over the components for each point: non-negative,
        rows summing to one (to 1e-8). ``None`` takes the posterior, where
        the KL is 0 and the bound touches the log-likelihood.

    Returns
    -------
    Bound
        ``lower_bound + kl == log_likelihood`` to rounding, for every ``q``.
        A ``q`` that gives weight to a component under which a point has
        probability zero has ``lower_bound = -inf`` and ``kl = inf``.

    Raises
    ------
    InvalidInputError
        When ``X`` is outside the family's support or ``q`` is not a
        distribution per row (the message names the row).
    InvalidParameterError
        When the parameters are not valid for the family.
    NotFittedError
        When an estimator has neither been fitted nor given parameters.

    Examples
    --------
    >>> import numpy as np, emix
    >>> from emix.teach import bound
    >>> X = emix.datasets.load_lecture_example()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> b = bound(gm, X, np.full((6, 2), 0.5))
    >>> abs(b.lower_bound + b.kl - b.log_likelihood) < 1e-9
    True
    """
    X = check_array(X, min_samples=1, allow_nan=True, dtype=np.float64)
    fitted_d = getattr(model, "n_features_in_", None)
    if fitted_d is not None and X.shape[1] != fitted_d:
        raise InvalidInputError(f"X has {X.shape[1]} features, but the model was fitted on {fitted_d}")
    family, params = resolve_model(model, X.shape[1])
    family = checked_family_for(family, X)
    if q is not None:
        q = check_responsibilities(q, X.shape[0], len(params.weights))
    return evaluate(family, X, params, q)


def checked_family_for(family: Any, X: np.ndarray) -> Any:
    """``family`` after checking ``X`` (n, D) against its support; its missing-data variant for NaN.

    Raises
    ------
    InvalidInputError
        Naming the first cell outside the support, or a missing value where
        the family allows none.
    """
    nan = np.isnan(X)
    if nan.any() and not getattr(family, "handles_missing", False):
        i, j = (int(v) for v in np.argwhere(nan)[0])
        raise InvalidInputError(
            f"X has a missing value at row {i}, column {j}; the {family.name} family does not allow them"
        )
    validate = getattr(family, "validate", None)
    if validate is not None:
        validate(X)
    variant = getattr(family, "for_missing", None)
    return variant(X) if nan.any() and variant is not None else family


@dataclasses.dataclass(frozen=True)
class BoundSlice:
    """``ln p`` and ``L(q_old, θ)`` along the line through one M-step.

    Attributes
    ----------
    t : ndarray of shape (m,)
        Position on the line ``θ(t) = (1 - t) θ_old + t θ_new``: 0 is the
        E-step's ``θ_old``, 1 the M-step's ``θ_new``.
    log_likelihood, lower_bound : ndarray of shape (m,)
        ``ln p(X | θ(t))`` and ``L(q, θ(t))`` with ``q`` the posterior under
        ``θ_old``; NaN where ``θ(t)`` leaves the parameter space.
    iteration : int

    Examples
    --------
    >>> from emix.teach import bound_slice, trace_lecture_example
    >>> s = bound_slice(trace_lecture_example(), iteration=1, t=[0.0, 0.5, 1.0])
    >>> s.iteration, s.t
    (1, array([0. , 0.5, 1. ]))
    >>> s.log_likelihood.round(3), s.lower_bound.round(3)
    (array([-51.684, -30.018, -11.299]), array([-51.684, -30.019, -11.315]))
    """

    t: np.ndarray
    log_likelihood: np.ndarray
    lower_bound: np.ndarray
    iteration: int


def _interpolate(family: Any, a: MixtureParams, b: MixtureParams, t: float, d: int) -> MixtureParams | None:
    """``(1 - t) a + t b`` array by array, or None where it is not a valid parameter."""
    from ..exceptions import EmixError

    weights = (1.0 - t) * a.weights + t * b.weights
    if (weights <= 0).any():
        return None
    start, end = family.to_arrays(a.components), family.to_arrays(b.components)
    arrays = {}
    for name, value in start.items():
        if name.endswith("precisions_cholesky"):
            continue  # follows from the covariances
        v, w = np.asarray(value), np.asarray(end[name])
        arrays[name] = v if v.dtype.kind in "iu" else (1.0 - t) * v.astype(np.float64) + t * w
    try:
        components = family.from_arrays(arrays, weights.size, d)
    except (EmixError, ValueError, ArithmeticError):
        return None
    return MixtureParams(weights / weights.sum(), components)


def bound_slice(trace: Any, iteration: int = 1, t: Any = None) -> BoundSlice:
    """The lecture's picture of one M-step: ``L(q, θ)`` touches ``ln p`` at ``θ_old`` and peaks at ``θ_new``.

    Along the straight line from the parameters of an iteration's E-step
    (``θ_old``) to those of its M-step (``θ_new``), with ``q`` fixed to the
    posterior under ``θ_old``: the bound lies below the log-likelihood
    everywhere, touches it at ``t = 0`` and is largest at ``t = 1`` (the
    M-step maximises it over all ``θ``, so over the line too); the gap at
    ``t = 1`` is the KL the next E-step closes.

    Parameters
    ----------
    trace : EMTrace
    iteration : int, default=1
    t : array-like of shape (m,), optional
        Positions on the line (default: 121 points in [-0.5, 1.5]).

    Returns
    -------
    BoundSlice

    Examples
    --------
    >>> import numpy as np
    >>> from emix.teach import bound_slice, trace_lecture_example
    >>> s = bound_slice(trace_lecture_example(), iteration=1)
    >>> s.t.shape, float(s.t[np.nanargmax(s.lower_bound)])  # the bound peaks at the M-step
    ((121,), 1.0)
    >>> gap = s.log_likelihood - s.lower_bound
    >>> abs(float(gap[s.t == 0.0][0])) < 1e-9, bool(np.nanmin(gap) > -1e-9)  # touches ln p, never above it
    (True, True)
    """
    e_steps = {s.iteration: s for s in trace.steps if s.step == "E"}
    m_steps = {s.iteration: s for s in trace.steps if s.step == "M"}
    if iteration not in m_steps:
        raise InvalidParameterError(f"the trace has no iteration {iteration}; it has 1..{len(m_steps)}")
    e, m = e_steps[iteration], m_steps[iteration]
    ts = np.linspace(-0.5, 1.5, 121) if t is None else np.asarray(t, dtype=np.float64).ravel()
    X = trace.X
    family = checked_family_for(trace.family, X)
    ll, lb = np.full(ts.shape, np.nan), np.full(ts.shape, np.nan)
    for i, ti in enumerate(ts):
        params = _interpolate(trace.family, e.params, m.params, float(ti), X.shape[1])
        if params is not None:
            b = evaluate(family, X, params, e.responsibilities)
            ll[i], lb[i] = b.log_likelihood, b.lower_bound
    return BoundSlice(t=ts, log_likelihood=ll, lower_bound=lb, iteration=int(iteration))
