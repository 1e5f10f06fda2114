"""Fitting the cells of a selection grid: one (model, K) at a time, in this process or in workers.

A cell never raises for numerical trouble and never prints: what it warns is
kept as text in its record, and a degenerate or failed fit gets ``nan``
criteria with the reason. Small grids run in this process (forking workers
costs more than fitting them); large ones are spread over forked worker
processes, each sent one cell at a time, so that the caller's progress
callback is told of every cell as it ends.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

from ..estimators.gaussian import GaussianMixture
from ..exceptions import DegenerateComponentWarning, EmixError
from .result import SelectionRecord, information_criteria

#: Below this many row-feature-component products per cell on average, a grid runs in one process.
PROCESS_WORK = 2_000_000


def _warning_lines(caught: list) -> tuple[str, ...]:
    """The distinct messages of caught warnings, in order, as ``Category: message``."""
    out: list[str] = []
    for w in caught:
        line = f"{w.category.__name__}: {w.message}"
        if line not in out:
            out.append(line)
    return tuple(out)


def _failed(model: str, k: int, init: str, reason: str, lines: tuple[str, ...]) -> SelectionRecord:
    nan = math.nan
    return SelectionRecord(model, k, nan, -1, nan, nan, nan, False, 0, True, init, reason, lines)


def fit_cell(X: np.ndarray, model: str, k: int, params: dict[str, Any]) -> tuple[SelectionRecord, Any]:
    """Fit one (model, K); numerical trouble is recorded, not raised.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    model : str
    k : int
    params : dict
        :class:`~emix.GaussianMixture` arguments.

    Returns
    -------
    record : SelectionRecord
    estimator : GaussianMixture or None
        ``None`` when the fit failed.
    """
    est = GaussianMixture(n_components=k, covariance_type=model, **params)
    init = str(params.get("init_params", ""))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X)
            resp = est.predict_proba(X)
        except (EmixError, ArithmeticError, np.linalg.LinAlgError) as exc:
            return _failed(model, k, init, f"failed: {exc}", _warning_lines(caught)), None
    lines = _warning_lines(caught)
    degenerate = bool(est.degenerate_.size)
    p = est._n_parameters()
    crit = information_criteria(est.log_likelihood_, p, X.shape[0], resp)
    message = ""
    if degenerate:
        crit = dict.fromkeys(crit, math.nan)
        found = [w for w in caught if issubclass(w.category, DegenerateComponentWarning)]
        message = str(found[-1].message) if found else f"degenerate component(s) {est.degenerate_.tolist()}"
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
        warnings=lines,
    )
    return rec, est


def _record_only(X: np.ndarray, model: str, k: int, params: dict[str, Any]) -> SelectionRecord:
    return fit_cell(X, model, k, params)[0]


def workers_for(n_jobs: int | None, X: np.ndarray, tasks: list[tuple[str, int]]) -> int:
    """Worker processes for the grid: 1 (this process) for small grids or where ``fork`` is missing.

    ``n_jobs=None`` uses every core when the grid is large enough to pay for
    the workers (on average at least :data:`PROCESS_WORK` row-feature-component
    products per cell); a number is taken as it is.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # spawn would need the caller's `if __name__ == "__main__"` guard
    if n_jobs is None:
        n, d = X.shape
        work = n * max(d, 1) ** 2 * float(np.mean([k for _, k in tasks]))
        workers = os.cpu_count() or 1 if work >= PROCESS_WORK else 1
    else:
        workers = int(n_jobs)
    return max(1, min(workers, len(tasks)))


def run_grid(
    X: np.ndarray,
    tasks: list[tuple[str, int]],
    params: dict[str, Any],
    workers: int,
    progress: Callable[[int, int, SelectionRecord], Any] | None,
) -> tuple[list[SelectionRecord], dict[tuple[str, int], Any]]:
    """Fit every task; return the records in task order and the estimators kept in this process.

    With workers, only records come back (the caller refits the cell it
    keeps); in this process every fitted estimator is kept.
    """
    total = len(tasks)
    if workers == 1:
        records, kept = [], {}
        for i, (m, k) in enumerate(tasks):
            rec, est = fit_cell(X, m, k, params)
            records.append(rec)
            kept[m, k] = est
            if progress is not None:
                progress(i + 1, total, rec)
        return records, kept
    done: dict[tuple[str, int], SelectionRecord] = {}
    ctx = multiprocessing.get_context("fork")
    # expensive cells (large K) first, so that the last ones to finish are cheap
    order = sorted(tasks, key=lambda t: -t[1])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(_record_only, X, m, k, params): (m, k) for m, k in order}
        for f in as_completed(futures):
            rec = f.result()
            done[futures[f]] = rec
            if progress is not None:
                progress(len(done), total, rec)
    return [done[t] for t in tasks], {}
