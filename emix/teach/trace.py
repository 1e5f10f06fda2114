"""EM one step at a time, for learning and teaching, for every family.

:func:`~emix.teach.trace_em` runs EM on a small data set with the library's own engine
(``emix.engine.log_joint`` for the E-step, ``emix.engine.e_pass`` and
``emix.engine.m_step`` for the M-step) and records the state after every
E-step and every M-step (:class:`~emix.teach.TraceStep`). The family
is any emix family (Gaussian, Bernoulli, categorical, Poisson, exponential,
Student-t, a product for mixed tables, or one of your own): the trace asks it
only what the engine asks it. Each record holds the responsibilities ``q``,
the parameters ``θ`` and the numbers of :func:`emix.teach.bound`:

``log_likelihood``
    ``ln p(X | θ) = Σ_n ln Σ_k π_k p(x_n | k, θ)``.
``lower_bound``
    ``L(q, θ) = Σ_n Σ_k q_nk [ln π_k + ln p(x_n | k, θ) - ln q_nk]``.
``kl``
    ``KL(q ‖ p(z | X, θ)) = Σ_n Σ_k q_nk [ln q_nk - ln p(k | x_n, θ)]``,
    computed from its own definition, not as a difference.
``expected_complete``
    ``Q(θ, θ_old) = Σ_n Σ_k q_nk ln p(x_n, k | θ)``, with ``q`` the posterior
    under ``θ_old``.

They satisfy ``L + KL = ln p(X | θ)``. The E-step sets ``q`` to the
posterior, so ``KL`` becomes 0 and the bound touches the log-likelihood; the
M-step keeps ``q`` and maximises ``Q`` (hence ``L = Q + H(q)``) over ``θ``,
which raises the bound and, since ``KL >= 0``, the log-likelihood with it.

A family with a second latent variable (the Student-t's scale ``u``) shows
its expectations through the optional family method
``latent_expectations(X, params)``; the bound is that of the component
variable ``z`` alone, which the family's M-step also never lowers.

Nothing here prints; ``emix trace`` renders the records.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from .._validation import check_array, check_random_state
from ..engine import MixtureParams, e_pass, m_step
from ..estimators.gaussian import GaussianMixture
from ..estimators.named import Mixture
from ..exceptions import InvalidInputError, InvalidParameterError
from ..families.registry import FAMILIES, family_from_spec
from ..sources import ArraySource
from .bound import Bound, evaluate
from .records import EMTrace, TraceStep, display_arrays

__all__ = ["TraceStep", "EMTrace", "trace_em", "trace_lecture_example", "em_path"]

#: a trace keeps an (n_samples, K) table per step
MAX_ROWS = 10_000


def _family_options(name: str, covariance_type: Any, reg_covar: Any, alpha: Any) -> dict[str, Any]:
    """Constructor options for the family registered as ``name``, the trace's defaults filled in.

    The trace's default for ``reg_covar`` is 0 (an exact M-step), unlike the estimators';
    ``alpha`` keeps the family's default pseudo-count, without which a binary or count
    feature never seen in a component soon gives ``ln 0`` in floating point.
    """
    cls = FAMILIES.get(name)
    if cls is None:
        raise InvalidParameterError(f"unknown family {name!r}; known: {sorted(FAMILIES)}")
    accepts = set(inspect.signature(cls).parameters)
    given = {"covariance_type": covariance_type, "reg_covar": reg_covar, "alpha": alpha}
    options = {}
    for option, value in given.items():
        if option not in accepts:
            if value is not None:
                raise InvalidParameterError(f"the {name} family has no {option} option")
            continue
        if value is not None:
            options[option] = value
        elif option == "reg_covar":
            options[option] = 0.0  # exact EM: no jitter
    return options


def _estimator(
    n_components: int,
    family: Any,
    options: dict[str, Any],
    start: dict[str, Any],
) -> GaussianMixture | Mixture:
    """A one-iteration estimator whose start and checks the trace borrows.

    ``start`` holds ``weights_init``, ``means_init``, ``precisions_init``,
    ``params_init``, ``init_params`` and ``random_state``.
    """
    common = dict(
        weights_init=start["weights_init"],
        init_params=start["init_params"],
        random_state=start["random_state"],
        max_iter=1,
        tol=0.0,
    )
    gaussian_start = start["means_init"] is not None or start["precisions_init"] is not None
    if family == "gaussian" and start["params_init"] is None:
        return GaussianMixture(
            n_components,
            covariance_type=options.get("covariance_type", "full"),
            reg_covar=options["reg_covar"],
            means_init=start["means_init"],
            precisions_init=start["precisions_init"],
            **common,
        )
    if gaussian_start:
        raise InvalidParameterError(
            "means_init and precisions_init start a Gaussian trace; give params_init "
            "(a dict of the family's arrays) for other families"
        )
    obj = family_from_spec(family) if not options else FAMILIES[family](**options)
    return Mixture(n_components, family=obj, params_init=start["params_init"], **common)


def _record(
    family: Any, iteration: int, step: str, params: MixtureParams, b: Bound, latent: dict
) -> TraceStep:
    return TraceStep(
        iteration=iteration,
        step=step,
        responsibilities=b.q,
        weights=np.array(params.weights, dtype=np.float64),
        arrays=display_arrays(family, params.components),
        log_likelihood=b.log_likelihood,
        lower_bound=b.lower_bound,
        kl=b.kl,
        expected_complete=b.expected_complete,
        entropy=b.entropy,
        latent=latent,
        params=params,
    )


def _latent(family: Any, X: np.ndarray, params: MixtureParams) -> dict[str, np.ndarray]:
    """The family's other latent expectations under ``params`` (optional method), or none."""
    fn = getattr(family, "latent_expectations", None)
    if fn is None:
        return {}
    return {name: np.array(v, dtype=np.float64) for name, v in fn(X, params.components).items()}


def trace_em(
    X: Any,
    n_components: int,
    *,
    family: Any = "gaussian",
    n_iter: int = 3,
    covariance_type: str | None = None,
    reg_covar: float | None = None,
    alpha: float | None = None,
    weights_init: Any = None,
    means_init: Any = None,
    precisions_init: Any = None,
    params_init: dict | None = None,
    init_params: str = "kmeans",
    random_state: Any = 0,
) -> EMTrace:
    """Run ``n_iter`` EM iterations and record the state after every E- and M-step.

    The starting point is the one the estimator would use with the same
    arguments (:class:`~emix.GaussianMixture` for a Gaussian, else
    :class:`~emix.Mixture`: the ``*_init`` arrays, else ``init_params`` with
    ``random_state``), and every number comes from the library's engine, so the
    parameters after the first M-step equal those of a ``max_iter=1, tol=0`` fit.

    Parameters
    ----------
    X : array-like of shape (n_samples, D)
        A small data set (every record keeps an (n_samples, K) table; at most
        10000 rows), in the family's support.
    n_components : int
        K.
    family : str, dict or family object, default='gaussian'
        A family name (``'gaussian'``, ``'bernoulli'``, ``'categorical'``,
        ``'poisson'``, ``'exponential'``, ``'student'``, or one registered in
        :data:`emix.families.FAMILIES`), a spec (``{"family": "product",
        "parts": [...]}``) or a family object, used as given.
    n_iter : int, default=3
        Number of E/M pairs.
    covariance_type : str, optional
        For a family named ``'gaussian'`` or ``'student'`` (default
        ``'full'``); any of the 18 Gaussian models.
    reg_covar : float, optional
        The covariance jitter of a Gaussian or Student-t family given by name;
        the trace's default is 0, unlike the estimators', so that the M-step
        is exact and the bound never falls.
    alpha : float, optional
        The pseudo-count of a Bernoulli, categorical or Poisson family given
        by name (default: the family's, 1e-2). With ``alpha > 0`` the M-step
        maximises ``L(q, θ)`` plus the log-prior the pseudo-counts stand for,
        so ``L`` may (rarely, slightly) fall; ``alpha=0`` is exact maximum
        likelihood, where a feature a component has never seen soon gives
        ``ln 0`` in floating point (the trace then stops).
    weights_init : array-like of shape (K,), optional
    means_init, precisions_init : array-like, optional
        A Gaussian start: shapes (K, D) and that of ``precisions_`` for
        ``covariance_type``.
    params_init : dict of str to array-like, optional
        Any family's start, by the family's array names (``{"probabilities":
        ...}``), as :class:`~emix.Mixture` takes it.
    init_params : str, default='kmeans'
        Used when no start is given.
    random_state : int, Generator or None, default=0

    Returns
    -------
    EMTrace
        ``steps`` has ``2 * n_iter`` records, alternating 'E' and 'M' (fewer
        if a number stops being finite).

    Raises
    ------
    InvalidInputError
        Too few or too many rows, ``n_iter < 1``, or data outside the support.
    InvalidParameterError
        An unknown family, an option it does not take, or a bad start.

    Examples
    --------
    >>> import emix
    >>> from emix.teach import trace_em
    >>> X = emix.datasets.load_faithful()
    >>> trace = trace_em(X, 2, n_iter=3, random_state=0)
    >>> [s.label for s in trace.steps]
    ['E1', 'M1', 'E2', 'M2', 'E3', 'M3']
    >>> [round(s.log_likelihood, 3) for s in trace.steps if s.step == "M"]
    [-1131.529, -1130.304, -1130.266]
    >>> all(s.kl < 1e-9 for s in trace.steps if s.step == "E")  # each E-step closes the gap
    True

    Any family, here a Bernoulli mixture on binary rows:

    >>> rows = [[0, 1], [1, 1], [0, 0], [1, 0], [1, 1], [0, 1]]
    >>> trace_em(rows, 2, family="bernoulli", n_iter=2).steps[-1].arrays["probabilities"].round(2)
    array([[0.01, 0.67],
           [0.99, 0.67]])
    """
    if int(n_iter) < 1:
        raise InvalidInputError(f"n_iter must be at least 1, got {n_iter}")
    start = dict(
        weights_init=weights_init,
        means_init=means_init,
        precisions_init=precisions_init,
        params_init=params_init,
        init_params=init_params,
        random_state=random_state,
    )
    est = _estimator(n_components, family, _options(family, covariance_type, reg_covar, alpha), start)
    X, source, prep = _prepared(est, X)
    shown = est._make_family()  # the configured family, whose arrays the records show
    fam = prep.family  # the one EM runs (the missing-data variant where values are missing)
    params = est._start(prep._replace(source=source), check_random_state(random_state), None)
    initial = _record(shown, 0, "start", params, evaluate(fam, X, params), _latent(fam, X, params))
    steps = _iterate(fam, shown, X, source, params, int(n_iter))
    spec = shown.spec() if hasattr(shown, "spec") else {}
    return EMTrace(
        X=X,
        family=shown,
        covariance_type=spec.get("covariance_type"),
        reg_covar=None if spec.get("reg_covar") is None else float(spec["reg_covar"]),
        exact_m_step=bool(getattr(shown, "exact_m_step", True)),
        initial=initial,
        steps=tuple(steps),
    )


def _options(family: Any, covariance_type: Any, reg_covar: Any, alpha: Any) -> dict[str, Any]:
    """The family options of a trace: for a name, those given and the trace's defaults; none for a spec."""
    if isinstance(family, str) and not family.strip().startswith("{"):
        return _family_options(family, covariance_type, reg_covar, alpha)
    if any(v is not None for v in (covariance_type, reg_covar, alpha)):
        raise InvalidParameterError(
            "covariance_type, reg_covar and alpha go with a family name; "
            "a family spec or object carries its own options"
        )
    return {}


def _prepared(est: GaussianMixture | Mixture, X: Any) -> tuple[np.ndarray, ArraySource, Any]:
    """The checked data, one source over all of it, and what the estimator's ``fit`` checks first."""
    est._validate_params()
    base = est._base_family()
    X = check_array(X, min_samples=2, dtype=np.float64, allow_nan=bool(base.handles_missing))
    if X.shape[0] > MAX_ROWS:
        raise InvalidInputError(
            f"trace keeps an (n_samples, K) table per step; {X.shape[0]} rows is too many "
            f"(at most {MAX_ROWS}). Fit large data with an estimator instead"
        )
    if X.shape[0] < est.n_components:
        raise InvalidInputError(f"{X.shape[0]} rows cannot be split into {est.n_components} components")
    return X, ArraySource(X, None, X.shape[0]), est._prepare_fit(X, None, None)


def _iterate(
    fam: Any, shown: Any, X: np.ndarray, source: ArraySource, params: MixtureParams, n_iter: int
) -> list[TraceStep]:
    """E, M, E, M ...: ``n_iter`` pairs from ``params``, stopping early if a number is not finite."""
    steps: list[TraceStep] = []
    for it in range(1, n_iter + 1):
        # E-step: q <- p(z | X, θ); the bound touches the log-likelihood.
        e = evaluate(fam, X, params)
        latent = _latent(fam, X, params)
        steps.append(_record(shown, it, "E", params, e, latent))
        # M-step: θ <- argmax_θ Q(θ, θ_old), by the engine's own pass and M-step.
        stats = e_pass(source, fam, params).stats
        params = m_step(fam, stats, params)
        m = evaluate(fam, X, params, e.q)
        steps.append(_record(shown, it, "M", params, m, latent))
        if not all(math.isfinite(v) for v in (m.log_likelihood, m.lower_bound, m.kl)):
            break
    return steps


def trace_lecture_example(n_iter: int = 3) -> EMTrace:
    """:func:`trace_em` on :func:`emix.datasets.load_lecture_example` from the lecture's start.

    Six points, K=2, weights 0.6/0.4, means [4.5, 2.5] and [2.5, 5.0],
    identity covariances, ``reg_covar=0``.

    Parameters
    ----------
    n_iter : int, default=3
        Number of E/M pairs.

    Returns
    -------
    EMTrace

    Examples
    --------
    >>> from emix.teach import trace_lecture_example
    >>> trace = trace_lecture_example(n_iter=2)
    >>> [(s.label, round(s.log_likelihood, 3)) for s in trace.states]
    [('start', -51.684), ('E1', -51.684), ('M1', -11.299), ('E2', -11.299), ('M2', -11.299)]
    >>> m1 = trace.steps[1]
    >>> m1.weights.round(3), m1.means.round(3)
    (array([0.5, 0.5]), array([[8.5  , 1.833],
           [1.833, 7.5  ]]))
    """
    from ..datasets import load_lecture_example

    X, init = load_lecture_example(return_init=True)
    return trace_em(X, 2, n_iter=n_iter, reg_covar=0.0, **init)


def em_path(estimator: Any, X: Any) -> list[MixtureParams]:
    """Parameters at the start and after every iteration of the estimator's own fit.

    Refits a copy of ``estimator`` (its parameters, its ``random_state``, all
    ``n_init`` restarts) through its own ``fit``, recording
    each restart's path, and returns the path of the restart ``fit`` keeps.
    Used to animate EM.

    Parameters
    ----------
    estimator : an emix estimator (GaussianMixture, Mixture, BernoulliMixture ...)
        Only its constructor parameters are used.
    X : array-like of shape (n_samples, D)

    Returns
    -------
    path : list of MixtureParams
        The start, then the parameters after each M-step (with acceleration,
        an accepted extrapolation shows as a longer jump between two entries);
        the last entry is the fitted model.

    Examples
    --------
    >>> import emix
    >>> from emix.teach import em_path
    >>> X = emix.datasets.load_faithful()
    >>> path = em_path(emix.GaussianMixture(2, random_state=0), X)
    >>> len(path), type(path[0]).__name__
    (8, 'MixtureParams')
    >>> path[0].weights.round(3), path[-1].weights.round(3)
    (array([0.632, 0.368]), array([0.644, 0.356]))
    >>> path[-1].components.means.round(2)
    array([[ 4.29, 79.97],
           [ 2.04, 54.48]])
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

    family = gm._make_family()
    target = family.to_arrays(fitted.components)

    def distance(path: list[MixtureParams]) -> float:
        last = path[-1]
        arrays = family.to_arrays(last.components)
        return float(
            np.abs(last.weights - fitted.weights).max()
            + sum(np.abs(np.asarray(arrays[n], float) - np.asarray(target[n], float)).max() for n in target)
        )

    best = min(paths, key=distance)
    if distance(best) != 0.0:  # fit ended on a point the callback did not see
        best = [*best, fitted]
    return best
