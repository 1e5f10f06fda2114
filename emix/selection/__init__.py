"""Model selection over covariance models and numbers of components, as mclust's ``mclustBIC`` does.

``select`` fits every (model, K) of a grid from mclust's start, with
mclust's stopping rule, and tabulates BIC, AIC and ICL in mclust's sign
(larger is better; see ``emix.selection.result`` for the columns). A fit that is
degenerate by mclust's test (a component empty, or a covariance singular:
``min_j |R_jj| / (1 + max_j |R_jj|) <= sqrt(eps)`` with ``R^T R = Sigma_k``),
or that failed, gets ``nan`` criteria, as mclust reports ``NA``, with the
reason, and is never chosen.

==============  ===========================================================
module          what it holds
==============  ===========================================================
``result``      ``SelectionRecord``, ``SelectionResult``,
                ``information_criteria``
``cells``       fitting one cell (warnings kept as text), the grid in this
                process or in worker processes
``text``        the grid as text in blocks that fit 80 columns, the
                summary, the notebook (HTML) view
==============  ===========================================================
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .._validation import check_array, check_missing_rows
from ..estimators.gaussian import GaussianMixture
from ..exceptions import EmixWarning, InvalidParameterError
from ..families.gaussian import COVARIANCE_MODELS, MCLUST_MODELS, MCLUST_MODELS_1D
from ..families.gaussian.prior import MAP_MODELS
from ..families.noise_volume import box_of_array
from ..init import mclust_partition
from .cells import run_grid, workers_for
from .result import CRITERIA, SelectionRecord, SelectionResult, check_criterion, information_criteria

__all__ = [
    "select",
    "SelectionRecord",
    "SelectionResult",
    "SelectionWarning",
    "information_criteria",
    "CRITERIA",
]

#: mclust's ``emControl()``: ``tol[1] = 1e-5`` on the relative change of the log-likelihood.
MCLUST_TOL = 1e-5
#: mclust's ``itmax = .Machine$integer.max``.
NO_LIMIT = 2**31 - 1


class SelectionWarning(EmixWarning):
    """The summary of what the fits of a selection grid warned (each fit's lines are in its record).

    Examples
    --------
    >>> import warnings
    >>> import emix
    >>> from emix.selection import SelectionWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SelectionWarning)  # the grid's summary, once
    ...     result = emix.select(emix.datasets.load_faithful(), [1, 2], models=["VVV"], n_jobs=1)
    >>> result.best_n_components
    2
    """


def default_models(n_samples: int, n_features: int) -> tuple[str, ...]:
    """mclust's models for data of this shape: ``E`` and ``V`` in 1-D, the six spherical and
    diagonal ones when ``n <= D``, else all 14."""
    if n_features == 1:
        return MCLUST_MODELS_1D
    if n_samples <= n_features:
        return MCLUST_MODELS[:6]
    return MCLUST_MODELS


def _summarise(records: Sequence[SelectionRecord]) -> None:
    """One warning for the whole grid, if any fit warned or is NA."""
    na = [r for r in records if not np.isfinite(r.bic)]
    warned = [r for r in records if r.warnings and np.isfinite(r.bic)]
    if not na and not warned:
        return
    parts = []
    if na:
        names = " ".join(f"{r.model},{r.n_components}" for r in na[:10]) + (" ..." if len(na) > 10 else "")
        parts.append(f"{len(na)} of {len(records)} fits are NA (degenerate or failed; never chosen): {names}")
    if warned:
        other = " other" if na else ""
        parts.append(f"{len(warned)}{other} fit{'s' if len(warned) != 1 else ''} warned")
    warnings.warn(
        "select: " + "; ".join(parts) + ". Each fit's reason and warnings are in its record "
        "(result.na, the 'message' and 'warnings' columns of result.to_frame())",
        SelectionWarning,
        stacklevel=3,
    )


def _warm_start_cache(X: np.ndarray, init_params: str, ks: Sequence[int]) -> None:
    """Build mclust's tree once, here, before any worker forks (it then inherits it)."""
    if init_params == "hierarchical" and not np.isnan(X).any() and X.shape[0] <= 2000:
        mclust_partition(X, max(ks))


def _grid_ks(n_components: Iterable[int], n_samples: int, noise: bool = False) -> tuple[int, ...]:
    """The grid's K values, sorted and distinct; those above ``n_samples`` left out with a warning.
    With a noise component, K = 0 (noise alone) is a cell too, as in mclust.

    Raises
    ------
    InvalidParameterError
        A K that is not a positive int (0 without noise, -1, 1.5, 2.0, True), naming it and its place.
    """
    given = list(n_components)
    least = 0 if noise else 1
    for i, k in enumerate(given):
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < least:
            raise InvalidParameterError(
                f"n_components must hold positive ints (numbers of components), but item {i} of the grid "
                f"is {k!r}; give K values of 1 or more, such as range(1, 10)"
                + ("" if noise else " (K = 0, noise alone, needs noise=True)")
            )
    above = sorted({int(k) for k in given if k > n_samples})
    if above and len(above) < len(set(given)):
        shown = ", ".join(f"K={k}" for k in above)
        warnings.warn(
            f"select: {shown} left out of the grid: above n_samples={n_samples} (a component needs "
            f"at least one row); give K values up to {n_samples}",
            SelectionWarning,
            stacklevel=3,
        )
    return tuple(sorted({int(k) for k in given if k <= n_samples}))


def noise_alone(X: np.ndarray, models: Sequence[str], noise: Any) -> list[SelectionRecord]:
    """The cells K = 0 of a grid with noise: the uniform density ``1 / V`` alone, one per model.

    ``log L = -n log V`` with ``V`` mclust's ``hypvol`` of ``X`` (or the volume ``noise``
    gives), one parameter (the volume), ICL = BIC (every row is noise), as mclust's
    ``mclustBIC`` row G = 0.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    models : sequence of str
    noise : bool or float

    Returns
    -------
    list of SelectionRecord
    """
    if np.isnan(X).any():
        raise InvalidParameterError("K = 0 (noise alone) needs data without missing values")
    n = X.shape[0]
    log_v = box_of_array(X).log_volume if isinstance(noise, (bool, np.bool_)) else math.log(float(noise))
    loglik = -n * float(log_v)
    crit = information_criteria(loglik, 1, n, map_log_sum=0.0)
    return [
        SelectionRecord(m, 0, loglik, 1, crit["bic"], crit["aic"], crit["icl"], True, 0, False, "noise alone")
        for m in models
    ]


def _with_noise_alone(records: list[SelectionRecord], alone: list[SelectionRecord]) -> list[SelectionRecord]:
    """The grid's records with the K = 0 cells, model by model, K = 0 first."""
    order = {r.model: i for i, r in enumerate(alone)}
    return sorted([*alone, *records], key=lambda r: (order[r.model], r.n_components))


def select(
    X: Any,
    n_components: Iterable[int] = range(1, 10),
    models: Sequence[str] | None = None,
    *,
    criterion: str = "bic",
    init_params: str = "hierarchical",
    reg_covar: float = 0.0,
    tol: float = MCLUST_TOL,
    convergence: str = "mclust",
    max_iter: int | None = None,
    accelerate: bool = False,
    n_jobs: int | None = None,
    random_state: Any = 0,
    progress: Callable[[int, int, SelectionRecord], Any] | None = None,
    noise: bool | float = False,
    noise_init: Any = None,
    **estimator_params: Any,
) -> SelectionResult:
    """Fit a grid of Gaussian mixtures and choose the covariance model and K by BIC (or ICL).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        NaN marks a missing value (each fit is then exact EM on the observed
        values, see :class:`~emix.GaussianMixture`); a row must have at least
        one observed value.
    n_components : iterable of int, default=range(1, 10)
        Numbers of components to try, each a positive int; K larger than
        ``n_samples`` is left out of the grid with a
        :class:`~emix.selection.SelectionWarning`.
    models : sequence of str, optional
        Covariance models (any ``covariance_type``). Default: mclust's, in
        its order: the 14 models, ``E`` and ``V`` for 1-D data, the six
        spherical and diagonal ones when ``n_samples <= n_features``.
    criterion : {'bic', 'icl', 'aic'}, default='bic'
        What chooses the best fit; all are in mclust's sign (larger is better).
    init_params : str, default='hierarchical'
        Initialisation of every fit; the default is mclust's start
        (``emix.init.mclust_start``: the hierarchical tree, built once and
        cut at each K, or quantile classes for 1-D data).
    reg_covar : float, default=0.0
        Diagonal jitter. ``0`` fits the models exactly as mclust does.
    tol : float, default=1e-5
        Stopping threshold of ``convergence``; with the default rule, EM
        stops when ``|L_t - L_{t-1}| <= tol (1 + |L_t|)``, mclust's rule and
        tolerance.
    convergence : {'mclust', 'aitken', 'sklearn'}, default='mclust'
        The stopping rule (see :class:`~emix.engine.ConvergenceMonitor`).
    max_iter : int or None, default=None
        EM iterations per fit; ``None``: no limit, as mclust.
    accelerate : bool, default=False
        SQUAREM; off, so that each fit takes mclust's EM steps.
    n_jobs : int or None, default=None
        Worker processes (forked; where ``fork`` is unavailable the fits run
        in this process). ``None``: every core when the grid is large enough
        to pay for the workers, else this process; ``-1``: every core; ``1``:
        this process.
    random_state : int, Generator or None, default=0
        Passed to every fit (mclust's start uses it only to draw the subset
        of rows of data larger than 2000 rows).
    progress : callable, optional
        Called as ``progress(done, total, record)`` each time a fit ends, in
        this process (with workers, in the order the fits end).
    noise : bool or float, default=False
        Give every fit a noise component (see :class:`~emix.GaussianMixture`'s
        ``noise``), as ``mclustBIC(X, initialization = list(noise = ...))``:
        ``n_parameters`` counts the noise weight and the volume (mclust's
        ``nMclustParams(..., noise = TRUE)``), ICL the noise column. As in
        mclust, K = 0 (noise alone: ``log L = -n log V``, one parameter) is a
        cell of the grid, and the default grid is K = 0..9; when it is the
        best, ``best_estimator`` is ``None``.
    noise_init : bool array of shape (n_samples,), float or None, default=None
        The noise guess every fit starts from (mclust's ``initialization$noise``:
        the tree is built on the other rows).
    **estimator_params
        Other :class:`~emix.GaussianMixture` arguments (``n_init``, ``rtol``,
        ``chunk_size`` ...). ``prior='default'`` (or a
        :class:`~emix.GaussianPrior`) fits every cell by MAP with mclust's
        conjugate prior and tabulates BIC as ``mclustBIC(X, prior =
        priorControl())`` does: ``2 log L - p log n`` with ``log L`` the
        log-likelihood at the MAP estimate; the default models are then
        mclust's ten with a prior (not VEE, EVE, VVE, EVV).

    Returns
    -------
    SelectionResult
        The table (``records``, ``table()``, ``to_frame()``, ``format_table()``),
        the best model and K, and the fitted best estimator.

    Raises
    ------
    InvalidParameterError
        Unknown model or criterion, a K that is not a positive int, empty
        grid, or no fit succeeded.

    Warns
    -----
    SelectionWarning
        Once, when some fits are NA or warned; each fit's lines are in its
        record's ``warnings`` (fits never warn on their own); and when a K
        above ``n_samples`` is left out of the grid (naming it).

    Examples
    --------
    >>> import emix
    >>> result = emix.select(emix.datasets.load_faithful(), [2, 3], models=["EEE", "VVV"], n_jobs=1)
    >>> result.best_model, result.best_n_components, round(result.best.bic, 1)
    ('EEE', 3, -2314.3)
    """
    check_criterion(criterion, CRITERIA)
    X = check_array(X, min_samples=2, allow_nan=True)
    check_missing_rows(X)
    models = tuple(default_models(*X.shape) if models is None else models)
    if estimator_params.get("prior") is not None and models == default_models(*X.shape):
        models = tuple(m for m in models if m in MAP_MODELS)  # mclust has no prior for VEE EVE VVE EVV
    for m in models:
        if m not in COVARIANCE_MODELS:
            raise InvalidParameterError(f"unknown model {m!r}; choose from {sorted(COVARIANCE_MODELS)}")
    noisy = noise is not False or noise_init is not None
    if noisy and n_components == range(1, 10):
        n_components = range(0, 10)  # mclust's grid with noise: G = 0 (noise alone) to 9
    ks = _grid_ks(n_components, X.shape[0], noisy)
    if not ks or not models:
        raise InvalidParameterError("the grid is empty: give at least one model and one K in [1, n_samples]")
    if len(set(models)) != len(models):
        raise InvalidParameterError(f"models are repeated: {list(models)}")
    params = dict(
        init_params=init_params,
        reg_covar=reg_covar,
        tol=tol,
        convergence=convergence,
        max_iter=NO_LIMIT if max_iter is None else max_iter,
        accelerate=accelerate,
        random_state=random_state,
        **estimator_params,
    )
    if noisy:  # not a direct cell: fitted by GaussianMixture
        params.update(noise=noise, noise_init=noise_init)
    params.setdefault("n_jobs", 1)  # one thread per fit: the grid is the parallel part
    for m in models:  # bad arguments raise here, once, rather than failing every cell
        GaussianMixture(n_components=1, covariance_type=m, **params)._validate_params()
    tasks = [(m, k) for m in models for k in ks if k > 0]
    workers = workers_for(n_jobs, X, tasks)
    if np.ndim(noise_init) == 0:  # with a noise guess the tree is built on the other rows
        _warm_start_cache(X, init_params, ks)
    records, kept = run_grid(X, tasks, params, workers, progress) if tasks else ([], {})
    if 0 in ks:  # noise alone: one cell per model, alike, as mclust's row G = 0
        records = _with_noise_alone(records, noise_alone(X, models, noise))
    scored = [(getattr(r, criterion), i) for i, r in enumerate(records) if np.isfinite(getattr(r, criterion))]
    if not scored:
        raise InvalidParameterError(
            "no fit of the grid succeeded (all degenerate); try reg_covar > 0, fewer components or "
            "standardised features"
        )
    _summarise(records)
    best = records[max(scored)[1]]
    est = kept.get((best.model, best.n_components))
    if best.n_components == 0:  # noise alone is best: no Gaussian model to keep
        best, est = next(r for r in records if r.n_components == 0), None  # its cells are alike
    elif est is None:  # fitted directly or in a worker: fit it here (the same start, the same fit)
        est = GaussianMixture(n_components=best.n_components, covariance_type=best.model, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X)
    return SelectionResult(
        records=tuple(records),
        models=models,
        n_components=ks,
        n_samples=int(X.shape[0]),
        criterion=criterion,
        best_model=best.model,
        best_n_components=best.n_components,
        best_estimator=est,
        n_features=int(X.shape[1]),
    )
