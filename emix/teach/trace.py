"""EM one step at a time, for learning and teaching.

:func:`trace_em` runs EM on a small data set with the library's own engine
(``emix.engine.log_joint`` for the E-step, ``emix.engine.e_pass`` and
``emix.engine.m_step`` for the M-step) and records the state after every
E-step and every M-step. Each record holds the responsibilities ``q``, the
parameters ``theta`` and three numbers:

``log_likelihood``
    ``ln p(X | theta) = sum_n ln sum_k pi_k N(x_n | mu_k, Sigma_k)``.
``lower_bound``
    ``L(q, theta) = sum_n sum_k q_nk [ln pi_k + ln N(x_n | k) - ln q_nk]``.
``kl``
    ``KL(q || p(z | X, theta)) = sum_n sum_k q_nk [ln q_nk - ln p(k | x_n, theta)]``,
    computed from its own definition, not as a difference.

They satisfy ``L + KL = ln p(X | theta)``. The E-step sets ``q`` to the
posterior, so ``KL`` becomes 0 and the bound touches the log-likelihood; the
M-step keeps ``q`` and maximises ``L`` over ``theta``, which raises the bound
and, since ``KL >= 0``, the log-likelihood with it.

Nothing here prints; ``emix trace`` renders the records.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._linalg import normalize_log_rows
from .._validation import check_array, check_random_state
from ..engine import MixtureParams, e_pass, log_joint, m_step
from ..estimators.gaussian import GaussianMixture
from ..exceptions import InvalidInputError
from ..families.gaussian import GaussianFamily
from ..sources import ArraySource

__all__ = ["TraceStep", "EMTrace", "trace_em", "trace_lecture_example", "em_path"]


@dataclasses.dataclass(frozen=True)
class TraceStep:
    """The state of EM after one E-step or one M-step.

    Attributes
    ----------
    iteration : int
        1 for the first E-step and M-step, 2 for the next pair, ...
    step : {'E', 'M'}
    responsibilities : ndarray of shape (n_samples, K)
        ``q_nk``: after an E-step the posterior under the current ``theta``;
        after an M-step the same ``q`` the M-step used.
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
        Full matrices whatever the covariance model (a tied covariance is repeated).
    log_likelihood : float
        ``ln p(X | theta)``.
    lower_bound : float
        ``L(q, theta)``.
    kl : float
        ``KL(q || p(z | X, theta))``.

    Examples
    --------
    >>> from emix.teach.trace import trace_lecture_example
    >>> first_m_step = trace_lecture_example(n_iter=1).steps[1]
    >>> first_m_step.iteration, first_m_step.step, first_m_step.means.round(3)
    (1, 'M', array([[8.5  , 1.833],
           [1.833, 7.5  ]]))
    >>> abs(first_m_step.lower_bound + first_m_step.kl - first_m_step.log_likelihood) < 1e-12
    True
    """

    iteration: int
    step: str
    responsibilities: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: float
    lower_bound: float
    kl: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (lists of floats).

        Returns
        -------
        dict
        """
        return {
            "iteration": self.iteration,
            "step": self.step,
            "log_likelihood": self.log_likelihood,
            "lower_bound": self.lower_bound,
            "kl": self.kl,
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "responsibilities": self.responsibilities.tolist(),
        }


@dataclasses.dataclass(frozen=True)
class EMTrace:
    """A run of EM recorded step by step.

    Attributes
    ----------
    X : ndarray of shape (n_samples, D)
    covariance_type : str
    reg_covar : float
    initial : TraceStep
        The starting parameters (``step='start'``, ``iteration=0``); its
        ``responsibilities`` are the posterior under them, ``kl`` is 0.
    steps : tuple of TraceStep
        E, M, E, M, ... in order.

    Examples
    --------
    >>> from emix.teach.trace import trace_lecture_example
    >>> trace = trace_lecture_example(n_iter=2)
    >>> [f"{s.step}{s.iteration}" for s in trace.steps]
    ['E1', 'M1', 'E2', 'M2']
    >>> list(trace.to_dict())
    ['X', 'covariance_type', 'reg_covar', 'initial', 'steps']
    """

    X: np.ndarray
    covariance_type: str
    reg_covar: float
    initial: TraceStep
    steps: tuple[TraceStep, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the whole trace (what ``emix trace --json`` writes).

        Returns
        -------
        dict
        """
        return {
            "X": self.X.tolist(),
            "covariance_type": self.covariance_type,
            "reg_covar": self.reg_covar,
            "initial": self.initial.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
        }


def _xlogy_terms(q: np.ndarray, log_other: np.ndarray) -> np.ndarray:
    """``q * (ln q - log_other)`` with ``0 ln 0 = 0``; shape of ``q``."""
    out = np.zeros_like(q)
    pos = q > 0
    out[pos] = q[pos] * (np.log(q[pos]) - log_other[pos])
    return out


def _state(
    family: GaussianFamily, X: np.ndarray, params: MixtureParams, q: np.ndarray | None
) -> tuple[np.ndarray, float, float, float]:
    """Responsibilities, ``ln p(X|theta)``, ``L(q, theta)`` and ``KL`` for ``q`` (posterior if None)."""
    lj = log_joint(family, X, params)  # ln pi_k + ln N(x_n | k), (n, K)
    log_post, log_norm = normalize_log_rows(lj.copy())  # posterior (exp'd) and ln p(x_n)
    post = log_post
    with np.errstate(divide="ignore"):
        ln_post = np.log(post)
    ll = float(log_norm.sum())
    if q is None:
        q = post
    bound = float(-_xlogy_terms(q, lj).sum())
    kl = float(_xlogy_terms(q, ln_post).sum())
    return q, ll, bound, kl


def _record(
    family: GaussianFamily,
    d: int,
    iteration: int,
    step: str,
    q: np.ndarray,
    params: MixtureParams,
    ll: float,
    bound: float,
    kl: float,
) -> TraceStep:
    comp = params.components
    k = len(params.weights)
    covs = np.stack([family.model.component_covariance(comp.covariances, j, d) for j in range(k)])
    return TraceStep(
        iteration=iteration,
        step=step,
        responsibilities=np.array(q, dtype=np.float64),
        weights=np.array(params.weights, dtype=np.float64),
        means=np.array(comp.means, dtype=np.float64),
        covariances=covs.astype(np.float64),
        log_likelihood=ll,
        lower_bound=bound,
        kl=kl,
    )


def trace_em(
    X: Any,
    n_components: int,
    *,
    n_iter: int = 3,
    covariance_type: str = "full",
    reg_covar: float = 0.0,
    weights_init: Any = None,
    means_init: Any = None,
    precisions_init: Any = None,
    init_params: str = "kmeans",
    random_state: Any = 0,
) -> EMTrace:
    """Run ``n_iter`` EM iterations and record the state after every E- and M-step.

    The starting point is the one :class:`~emix.GaussianMixture` would use with
    the same arguments (its ``*_init`` arrays, else ``init_params`` with
    ``random_state``), and every number comes from the library's engine, so the
    parameters after the first M-step equal those of
    ``GaussianMixture(..., max_iter=1, tol=0)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, D)
        A small data set (every record keeps an (n_samples, K) table).
    n_components : int
        K.
    n_iter : int, default=3
        Number of E/M pairs.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    reg_covar : float, default=0.0
        Jitter on the covariance diagonals; 0 keeps the M-step exact, so the
        bound rises monotonically.
    weights_init, means_init, precisions_init : array-like, optional
        Shapes (K,), (K, D) and that of ``precisions_`` for ``covariance_type``.
    init_params : str, default='kmeans'
        Used when not all three ``*_init`` arrays are given.
    random_state : int, Generator or None, default=0

    Returns
    -------
    EMTrace
        ``steps`` has ``2 * n_iter`` records, alternating 'E' and 'M'.

    Raises
    ------
    InvalidInputError
        ``n_iter < 1``, more than 10000 rows, or fewer rows than components.

    See Also
    --------
    trace_lecture_example : The six-point example from the lecture's start.
    emix.teach.plot.plot_trace : The staircase of the three numbers.

    Examples
    --------
    >>> import emix
    >>> from emix.teach.trace import trace_em
    >>> X = emix.datasets.load_faithful()
    >>> trace = trace_em(X, 2, n_iter=3, covariance_type="diag", reg_covar=1e-6)
    >>> for step in trace.steps:
    ...     print(f"{step.step}{step.iteration}  ln p(X) {step.log_likelihood:10.3f}  L {step.lower_bound:10.3f}"
    ...           f"  KL {step.kl:.3f}")
    E1  ln p(X)  -1160.710  L  -1160.710  KL 0.000
    M1  ln p(X)  -1148.634  L  -1151.346  KL 2.712
    E2  ln p(X)  -1148.634  L  -1148.634  KL 0.000
    M2  ln p(X)  -1147.809  L  -1147.856  KL 0.046
    E3  ln p(X)  -1147.809  L  -1147.809  KL 0.000
    M3  ln p(X)  -1147.806  L  -1147.807  KL 0.000
    """
    X = check_array(X, min_samples=2, dtype=np.float64)
    if int(n_iter) < 1:
        raise InvalidInputError(f"n_iter must be at least 1, got {n_iter}")
    if X.shape[0] > 10_000:
        raise InvalidInputError(
            f"trace keeps an (n_samples, K) table per step; {X.shape[0]} rows is too many "
            "(at most 10000). Fit large data with GaussianMixture instead"
        )
    gm = GaussianMixture(
        n_components,
        covariance_type=covariance_type,
        reg_covar=reg_covar,
        weights_init=weights_init,
        means_init=means_init,
        precisions_init=precisions_init,
        init_params=init_params,
        random_state=random_state,
        max_iter=1,
        tol=0.0,
    )
    gm._validate_params()
    if X.shape[0] < gm.n_components:
        raise InvalidInputError(f"{X.shape[0]} rows cannot be split into {gm.n_components} components")
    prep = gm._prepare_fit(X, None, None)
    source = ArraySource(X, None, X.shape[0])
    family = gm._make_family()
    params = gm._start(prep._replace(source=source), check_random_state(random_state), None)
    d = X.shape[1]

    q, ll, bound, kl = _state(family, X, params, None)
    initial = _record(family, d, 0, "start", q, params, ll, bound, kl)
    steps: list[TraceStep] = []
    for it in range(1, int(n_iter) + 1):
        # E-step: q <- p(z | X, theta); the bound touches the log-likelihood.
        q, ll, bound, kl = _state(family, X, params, None)
        steps.append(_record(family, d, it, "E", q, params, ll, bound, kl))
        # M-step: theta <- argmax L(q, theta), by the engine's own pass and M-step.
        stats = e_pass(source, family, params).stats
        params = m_step(family, stats, params)
        _, ll, bound, kl = _state(family, X, params, q)
        steps.append(_record(family, d, it, "M", q, params, ll, bound, kl))
        if not all(math.isfinite(v) for v in (ll, bound, kl)):
            break
    return EMTrace(
        X=X, covariance_type=covariance_type, reg_covar=float(reg_covar), initial=initial, steps=tuple(steps)
    )


def trace_lecture_example(n_iter: int = 3) -> EMTrace:
    """:func:`~emix.teach.trace.trace_em` on the lecture example, from the lecture's start.

    :func:`emix.datasets.load_lecture_example`: six points, K=2, weights 0.6/0.4, means [4.5, 2.5] and [2.5, 5.0],
    identity covariances, ``reg_covar=0``: what ``emix trace`` shows.

    Parameters
    ----------
    n_iter : int, default=3
        Number of E/M pairs.

    Returns
    -------
    EMTrace

    Examples
    --------
    The E-step closes the gap (``KL = 0``); the M-step raises the bound:

    >>> from emix.teach.trace import trace_lecture_example
    >>> trace = trace_lecture_example(n_iter=2)
    >>> for s in (trace.initial, *trace.steps):
    ...     print(f"{s.step:>5}  ln p(X) {s.log_likelihood:8.4f}  L {s.lower_bound:8.4f}  KL {s.kl:.4f}")
    start  ln p(X) -51.6836  L -51.6836  KL 0.0000
        E  ln p(X) -51.6836  L -51.6836  KL 0.0000
        M  ln p(X) -11.2987  L -11.3150  KL 0.0163
        E  ln p(X) -11.2987  L -11.2987  KL 0.0000
        M  ln p(X) -11.2986  L -11.2986  KL 0.0000
    """
    from ..datasets import load_lecture_example

    X, init = load_lecture_example(return_init=True)
    return trace_em(X, 2, n_iter=n_iter, reg_covar=0.0, **init)


def em_path(estimator: GaussianMixture, X: Any) -> list[MixtureParams]:
    """Parameters at the start and after every iteration of the estimator's own fit.

    Refits a copy of ``estimator`` (its parameters, its ``random_state``, all
    ``n_init`` restarts) through :meth:`emix.GaussianMixture.fit` itself, recording
    each restart's path, and returns the path of the restart ``fit`` keeps.
    Used to animate EM.

    Parameters
    ----------
    estimator : GaussianMixture
        Only its constructor parameters are used.
    X : array-like of shape (n_samples, D)

    Returns
    -------
    path : list of MixtureParams
        The start, then the parameters after each M-step (with acceleration,
        an accepted extrapolation shows as a longer jump between two entries);
        the last entry is the fitted model. Each entry has ``weights`` (K,)
        and ``components`` (the family's parameters: ``means``,
        ``covariances``...).

    See Also
    --------
    emix.teach.plot.animate_em : The path as an animated GIF.

    Examples
    --------
    >>> import emix
    >>> from emix.teach.trace import em_path
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, random_state=0)
    >>> path = em_path(gm, X)
    >>> len(path), path[-1].components.means.round(2)
    (8, array([[ 4.29, 79.97],
           [ 2.04, 54.48]]))
    >>> gm.fit(X).n_iter_                       # the same fit: 7 steps after the start
    7
    """
    paths: list[list[MixtureParams]] = []

    class _Recording(type(estimator)):
        # the same fit, with each restart's start and M-steps recorded
        def _start(self, *args: Any, **kwargs: Any) -> MixtureParams:
            start = super()._start(*args, **kwargs)
            paths.append([start])
            return start

        def _progress_callback(self, attempt: int):
            return lambda it, ll, params: paths[-1].append(params)

    gm = _Recording(**estimator.get_params()).set_params(warm_start=False)
    gm.fit(X)
    fitted = gm._fitted_params()

    def distance(path: list[MixtureParams]) -> float:
        last = path[-1]
        return float(
            np.abs(last.weights - fitted.weights).max()
            + np.abs(last.components.means - fitted.components.means).max()
        )

    best = min(paths, key=distance)
    if distance(best) != 0.0:  # fit ended on a point the callback did not see
        best = [*best, fitted]
    return best
