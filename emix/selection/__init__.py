"""Model selection over covariance models and numbers of components, as mclust does.

:func:`select` fits every (model, K) of a grid and tabulates, for each fit,

=================  ==============================================================
column             meaning
=================  ==============================================================
``log_likelihood`` total log-likelihood ``log L`` of the fitted mixture
``n_parameters``   free parameters ``p``: ``K D`` means, ``K - 1`` weights and the
                   covariance parameters counted as mclust counts them
``bic``            ``2 log L - p log n``        (mclust's sign: larger is better)
``aic``            ``2 log L - 2 p``            (same sign: larger is better)
``icl``            ``bic + 2 sum_n log max_k z_nk`` (Biernacki et al. 2000, as
                   mclust's ``icl``: BIC penalised by the entropy of the MAP
                   classification; larger is better)
=================  ==============================================================

**Sign convention.** The table uses mclust's sign, in which larger is better.
The estimators' own ``GaussianMixture.bic(X)`` and ``aic(X)`` keep
scikit-learn's sign (``-2 log L + p log n``, smaller is better), so
``table bic == -estimator.bic(X)``.

A fit whose covariance became singular (it needed jitter: a
:class:`~emix.exceptions.DegenerateComponentWarning`), or that failed, gets
``nan`` criteria, as mclust reports ``NA``, and is never chosen.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from . import exceptions
from ._validation import check_array
from .estimators.gaussian import GaussianMixture
from .exceptions import (
    DegenerateComponentWarning,
    EmixError,
    InvalidParameterError,
)
from .families.gaussian import COVARIANCE_MODELS
from .families.gaussian.mclust import MCLUST_MODELS

__all__ = ["select", "SelectionRecord", "SelectionResult", "information_criteria", "CRITERIA"]

#: Criteria a selection can be made on (all: larger is better).
CRITERIA = ("bic", "icl", "aic")


@dataclasses.dataclass(frozen=True)
class SelectionRecord:
    """One fit of the grid (criteria in mclust's sign: larger is better)."""

    model: str
    n_components: int
    log_likelihood: float
    n_parameters: int
    bic: float
    aic: float
    icl: float
    converged: bool
    n_iter: int
    degenerate: bool
    init_used: str
    message: str = ""


def information_criteria(
    log_likelihood: float, n_parameters: int, n_samples: int, resp: np.ndarray | None = None
) -> dict[str, float]:
    """BIC, AIC and ICL in mclust's sign (larger is better).

    Parameters
    ----------
    log_likelihood : float
        Total log-likelihood ``log L``.
    n_parameters : int
        Free parameters ``p``.
    n_samples : int
        ``n``.
    resp : ndarray of shape (n_samples, K), optional
        Responsibilities, for ICL; without them ICL is ``nan``.

    Returns
    -------
    dict with keys ``'bic'``, ``'aic'``, ``'icl'``
    """
    bic = 2.0 * log_likelihood - n_parameters * math.log(n_samples)
    aic = 2.0 * log_likelihood - 2.0 * n_parameters
    icl = math.nan
    if resp is not None:
        zmax = resp.max(axis=1)
        with np.errstate(divide="ignore"):
            icl = bic + 2.0 * float(np.sum(np.where(zmax > 0, np.log(zmax), 0.0)))
    return {"bic": bic, "aic": aic, "icl": icl}


@dataclasses.dataclass(frozen=True)
class SelectionResult:
    """What :func:`select` returns.

    Attributes
    ----------
    records : tuple of SelectionRecord
        One per (model, K), models in the order asked, K increasing.
    models : tuple of str
    n_components : tuple of int
    n_samples : int
    criterion : str
        The criterion the best fit was chosen on.
    best_model : str
    best_n_components : int
    best_estimator : GaussianMixture
        The fitted estimator of the best (model, K).
    """

    records: tuple[SelectionRecord, ...]
    models: tuple[str, ...]
    n_components: tuple[int, ...]
    n_samples: int
    criterion: str
    best_model: str
    best_n_components: int
    best_estimator: GaussianMixture

    @property
    def best(self) -> SelectionRecord:
        """The record of the chosen fit."""
        return self.record(self.best_model, self.best_n_components)

    def record(self, model: str, n_components: int) -> SelectionRecord:
        """The record of one (model, K)."""
        for r in self.records:
            if r.model == model and r.n_components == n_components:
                return r
        raise KeyError((model, n_components))

    def table(self, criterion: str = "bic") -> np.ndarray:
        """The criterion as a grid like mclust's ``mclustBIC`` print.

        Returns
        -------
        values : ndarray of shape (len(n_components), len(models))
            Row ``i`` is ``n_components[i]``, column ``j`` is ``models[j]``;
            ``nan`` where the fit was degenerate or failed.
        """
        _check_criterion(criterion, ("bic", "aic", "icl", "log_likelihood", "n_parameters"))
        out = np.full((len(self.n_components), len(self.models)), np.nan)
        row = {k: i for i, k in enumerate(self.n_components)}
        col = {m: j for j, m in enumerate(self.models)}
        for r in self.records:
            out[row[r.n_components], col[r.model]] = getattr(r, criterion)
        return out

    def top(self, n: int = 3, criterion: str | None = None) -> list[SelectionRecord]:
        """The ``n`` best records by ``criterion`` (default: the selection's)."""
        crit = criterion or self.criterion
        ok = [r for r in self.records if np.isfinite(getattr(r, crit))]
        return sorted(ok, key=lambda r: getattr(r, crit), reverse=True)[:n]

    def to_records(self) -> list[dict[str, Any]]:
        """The table as a list of plain dicts (one per fit)."""
        return [dataclasses.asdict(r) for r in self.records]

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` (needs pandas), one row per fit."""
        import pandas as pd

        return pd.DataFrame(self.to_records())

    def format_table(self, criterion: str = "bic", digits: int = 3) -> str:
        """The criterion grid as text (rows K, columns models), for printing."""
        values = self.table(criterion)
        width = max(10, digits + 8)
        head = "K".rjust(3) + "".join(m.rjust(width) for m in self.models)
        lines = [head]
        for i, k in enumerate(self.n_components):
            cells = "".join(
                ("NA" if not np.isfinite(v) else f"{v:.{digits}f}").rjust(width) for v in values[i]
            )
            lines.append(str(k).rjust(3) + cells)
        return "\n".join(lines)

    def plot(self, criterion: str = "bic", ax=None):
        """Criterion against K, one line per model (see :func:`emix.plot.plot_criterion`); returns the figure."""
        from .teach.plot import plot_criterion

        return plot_criterion(self, criterion=criterion, ax=ax)


def _check_criterion(criterion: str, allowed: Sequence[str]) -> None:
    if criterion not in allowed:
        raise InvalidParameterError(f"criterion must be one of {list(allowed)}, got {criterion!r}")


def _fit_one(X: np.ndarray, model: str, k: int, params: dict[str, Any]) -> tuple[SelectionRecord, Any]:
    """Fit one (model, K); never raises for numerical trouble (it is recorded)."""
    n = X.shape[0]
    est = GaussianMixture(n_components=k, covariance_type=model, **params)
    degenerate = False
    message = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X)
        except (EmixError, ArithmeticError, np.linalg.LinAlgError) as exc:
            nan = math.nan
            rec = SelectionRecord(
                model, k, nan, -1, nan, nan, nan, False, 0, True, str(params.get("init_params", "")), str(exc)
            )
            return rec, None
    for w in caught:
        if issubclass(w.category, DegenerateComponentWarning):
            degenerate = True
            message = str(w.message)
        elif not issubclass(w.category, exceptions.ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    p = est._n_parameters()
    crit = information_criteria(est.log_likelihood_, p, n, est.predict_proba(X))
    if degenerate:
        crit = dict.fromkeys(crit, math.nan)
    rec = SelectionRecord(
        model=model,
        n_components=k,
        log_likelihood=float(est.log_likelihood_),
        n_parameters=int(p),
        bic=crit["bic"],
        aic=crit["aic"],
        icl=crit["icl"],
        converged=bool(est.converged_),
        n_iter=int(est.n_iter_),
        degenerate=degenerate,
        init_used=est.init_used_,
        message=message,
    )
    return rec, est


def _fit_many(X: np.ndarray, tasks: list[tuple[str, int]], params: dict[str, Any]):
    return [_fit_one(X, m, k, params) for m, k in tasks]


def select(
    X: Any,
    n_components: Iterable[int] = range(1, 10),
    models: Sequence[str] | None = None,
    *,
    criterion: str = "bic",
    init_params: str = "hierarchical",
    reg_covar: float = 0.0,
    tol: float = 1e-6,
    max_iter: int = 1000,
    n_jobs: int | None = None,
    random_state: Any = 0,
    **estimator_params: Any,
) -> SelectionResult:
    """Fit a grid of Gaussian mixtures and choose the covariance model and K by BIC (or ICL).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : iterable of int, default=range(1, 10)
        Numbers of components to try (K larger than ``n_samples`` is skipped).
    models : sequence of str, optional
        Covariance models (any ``covariance_type``); default: the 14 mclust
        models in mclust's order.
    criterion : {'bic', 'icl', 'aic'}, default='bic'
        What chooses the best fit; all are in mclust's sign (larger is better).
    init_params : str, default='hierarchical'
        Initialisation of every fit; the default is mclust's (model-based
        hierarchical agglomeration, computed once and cut at each K).
    reg_covar : float, default=0.0
        Diagonal jitter. ``0`` fits the models exactly as mclust does; fits
        whose covariance turns singular are then reported as ``nan`` (mclust's
        ``NA``).
    tol : float, default=1e-6
        EM stops when the mean log-likelihood per sample changes less than this.
    max_iter : int, default=1000
    n_jobs : int or None, default=None
        Worker processes (forked; where ``fork`` is unavailable the fits run
        in this process); ``None`` uses every core (``os.cpu_count()``), ``1``
        fits in this process.
    random_state : int, Generator or None, default=0
        Passed to every fit (the hierarchical initialisation uses it only to
        draw a subset of rows of large data).
    **estimator_params
        Other :class:`~emix.GaussianMixture` arguments (``n_init``,
        ``chunk_size``...).

    Returns
    -------
    SelectionResult
        The table (``records``, ``table()``, ``to_frame()``), the best model
        and K, and the fitted best estimator.

    Raises
    ------
    InvalidParameterError
        Unknown model or criterion, empty grid, or no fit succeeded.
    """
    _check_criterion(criterion, CRITERIA)
    X = check_array(X, min_samples=2)
    models = tuple(MCLUST_MODELS if models is None else models)
    for m in models:
        if m not in COVARIANCE_MODELS:
            raise InvalidParameterError(f"unknown model {m!r}; choose from {sorted(COVARIANCE_MODELS)}")
    ks = tuple(sorted({int(k) for k in n_components if 1 <= int(k) <= X.shape[0]}))
    if not ks or not models:
        raise InvalidParameterError("the grid is empty: give at least one model and one K in [1, n_samples]")
    if len(set(models)) != len(models):
        raise InvalidParameterError(f"models are repeated: {list(models)}")
    params = dict(
        init_params=init_params,
        reg_covar=reg_covar,
        tol=tol,
        max_iter=max_iter,
        random_state=random_state,
        **estimator_params,
    )
    tasks = [(m, k) for m in models for k in ks]
    workers = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    workers = max(1, min(workers, len(tasks)))
    if "fork" not in multiprocessing.get_all_start_methods():
        workers = 1  # spawn would need the caller's `if __name__ == "__main__"` guard
    if workers == 1:
        results = _fit_many(X, tasks, params)
    else:
        # interleave so that each worker gets cheap and expensive fits alike
        batches = [tasks[i::workers] for i in range(workers)]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_fit_many, X, b, params) for b in batches]
            done = {}
            for b, f in zip(batches, futures, strict=True):
                for task, res in zip(b, f.result(), strict=True):
                    done[task] = res
        results = [done[t] for t in tasks]
    records = tuple(r for r, _ in results)
    scored = [(getattr(r, criterion), i) for i, r in enumerate(records) if np.isfinite(getattr(r, criterion))]
    if not scored:
        raise InvalidParameterError(
            "no fit of the grid succeeded (all degenerate); try reg_covar > 0, fewer components or "
            "standardised features"
        )
    _, best_i = max(scored)
    best = records[best_i]
    return SelectionResult(
        records=records,
        models=models,
        n_components=ks,
        n_samples=int(X.shape[0]),
        criterion=criterion,
        best_model=best.model,
        best_n_components=best.n_components,
        best_estimator=results[best_i][1],
    )
