"""Fitting the cells of a selection grid: one (model, K) at a time, in this process or in workers.

A cell never raises for numerical trouble and never prints: what it warns is
kept as text in its record, and a degenerate or failed fit gets ``nan``
criteria with the reason. Small grids run in this process (forking workers
costs more than fitting them); large ones are spread over forked worker
processes, each sent one cell at a time, so that the caller's progress
callback is told of every cell as it ends.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

from .. import exceptions
from .._linalg import logsumexp_rows
from .._validation import check_random_state
from ..engine import (
    ChunkPool,
    available_cpus,
    degenerate_components,
    log_joint,
    resolve_n_jobs,
    run_em,
    single_threaded_blas,
)
from ..estimators import degeneracy, starts
from ..estimators.gaussian import GaussianMixture
from ..exceptions import DegenerateComponentWarning, EmixError
from ..init import HC_SUBSET
from ..sources import ArraySource, auto_chunk_size
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


#: The GaussianMixture arguments a cell can be fitted with directly (see :func:`fit_cell`).
DIRECT = frozenset(
    (
        "init_params",
        "reg_covar",
        "tol",
        "convergence",
        "max_iter",
        "accelerate",
        "random_state",
        "n_jobs",
        "rtol",
    )
)


def fit_cell(
    X: np.ndarray, model: str, k: int, params: dict[str, Any], keep: bool = True
) -> tuple[SelectionRecord, Any]:
    """Fit one (model, K); numerical trouble is recorded, not raised.

    With only the arguments of :data:`DIRECT`, the cell is fitted by the
    calls :meth:`GaussianMixture.fit <emix.GaussianMixture.fit>` makes (its
    start, then :func:`emix.engine.run_em`) without the estimator's per-fit
    checks, which the grid makes once; other arguments (``n_init``,
    ``chunk_size`` ...) go through a :class:`~emix.GaussianMixture`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Checked (NaN is a missing value).
    model : str
    k : int
    params : dict
        :class:`~emix.GaussianMixture` arguments.
    keep : bool, default=True
        Return the fitted estimator (fitted directly, a cell has none: the
        caller fits the one it keeps).

    Returns
    -------
    record : SelectionRecord
    estimator : GaussianMixture or None
        ``None`` when the fit failed or was made directly.
    """
    est = GaussianMixture(n_components=k, covariance_type=model, **params)
    init = str(params.get("init_params", ""))
    direct = set(params) <= DIRECT
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if direct:
                rec = _direct(X, est, k, params)
            else:
                est.fit(X)
                rec = _record(est, model, k, est.predict_proba(X), X.shape[0])
        except (EmixError, ArithmeticError, np.linalg.LinAlgError) as exc:
            return _failed(model, k, init, f"failed: {exc}", _warning_lines(caught)), None
    lines = _warning_lines(caught)
    if rec.degenerate:
        found = [w for w in caught if issubclass(w.category, DegenerateComponentWarning)]
        rec = dataclasses.replace(rec, message=str(found[-1].message) if found else rec.message)
    rec = dataclasses.replace(rec, warnings=lines)
    return rec, (est if keep and not direct else None)


def _record(est: Any, model: str, k: int, resp: np.ndarray, n: int) -> SelectionRecord:
    """The record of a fitted estimator, criteria NA when it is degenerate."""
    degenerate = bool(est.degenerate_.size)
    p = est._n_parameters()
    crit = information_criteria(est.log_likelihood_, p, n, resp)
    if degenerate:
        crit = dict.fromkeys(crit, math.nan)
    return SelectionRecord(
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
        message=f"degenerate component(s) {est.degenerate_.tolist()}" if degenerate else "",
    )


def _direct(X: np.ndarray, est: GaussianMixture, k: int, params: dict[str, Any]) -> SelectionRecord:
    """What ``est.fit(X)`` computes, for a grid's cell: the same start and the same EM run."""
    family = est._base_family()
    missing = bool(np.isnan(X).any())
    fit_family = family.for_missing(X) if missing else family
    n, d = X.shape
    chunk = auto_chunk_size(d, k, X.dtype.itemsize, n_samples=n, n_threads=resolve_n_jobs(est.n_jobs))
    source = ArraySource(X, None, chunk)
    # mclust's start draws only for a subset of large data: no generator to make otherwise
    lazy = est.init_params == "hierarchical" and n <= HC_SUBSET
    rng = None if lazy else check_random_state(est.random_state)
    with ChunkPool(est.n_jobs) as pool:
        start = starts.initial_params(fit_family, source, est.init_params, k, rng, missing=missing, pool=pool)
        result = run_em(
            source,
            fit_family,
            start,
            max_iter=int(est.max_iter),
            tol=float(est.tol),
            strict=bool(family.exact_m_step),
            convergence=est.convergence,
            rtol=float(est.rtol),
            accelerate=bool(est.accelerate),
            pool=pool,
        )
    comps = result.degenerate  # those of a refused step, or of the final parameters
    if comps:
        final = degenerate_components(fit_family, result.params, float(n))
        comps = tuple(sorted(set(comps) | set(final)))
        refused = bool(set(result.degenerate) - set(final))
        warnings.warn(degeneracy.message(est, comps, refused), DegenerateComponentWarning, stacklevel=2)
    elif not result.converged and est.max_iter > 0:
        # made on first use (it derives from scikit-learn's where that is installed): not imported above
        category = exceptions.ConvergenceWarning
        warnings.warn(f"did not converge in max_iter={est.max_iter} iterations", category, stacklevel=2)
    map_log_sum = result.map_log_sum  # sum_n log max_k z_nk, when the run computed it
    if map_log_sum is None:
        lj = log_joint(fit_family, X, result.params)
        map_log_sum = float((lj.max(axis=1) - logsumexp_rows(lj)).sum())
    p = int(family.n_parameters(result.params.components) + k - 1)
    ll = float(result.log_likelihood)
    crit = information_criteria(ll, p, n, map_log_sum=map_log_sum)
    if comps:
        crit = dict.fromkeys(crit, math.nan)
    return SelectionRecord(
        model=str(est.covariance_type),
        n_components=k,
        log_likelihood=ll,
        n_parameters=p,
        bic=crit["bic"],
        aic=crit["aic"],
        icl=crit["icl"],
        converged=bool(result.converged),
        n_iter=int(result.n_iter),
        degenerate=bool(comps),
        init_used=str(est.init_params),
        message=f"degenerate component(s) {list(comps)}" if comps else "",
    )


def _record_only(X: np.ndarray, model: str, k: int, params: dict[str, Any]) -> SelectionRecord:
    with single_threaded_blas():  # each worker fits one small cell at a time
        return fit_cell(X, model, k, params, keep=False)[0]


def workers_for(n_jobs: int | None, X: np.ndarray, tasks: list[tuple[str, int]]) -> int:
    """Worker processes for the grid: 1 (this process) for small grids or where ``fork`` is missing.

    ``n_jobs=None`` uses every core when the grid is large enough to pay for
    the workers (on average at least :data:`PROCESS_WORK` row-feature-component
    products per cell); ``-1`` every core; a number is taken as it is.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # spawn would need the caller's `if __name__ == "__main__"` guard
    if n_jobs is None:
        n, d = X.shape
        work = n * max(d, 1) ** 2 * float(np.mean([k for _, k in tasks]))
        workers = available_cpus() if work >= PROCESS_WORK else 1
    else:
        workers = available_cpus() if int(n_jobs) == -1 else int(n_jobs)
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
        with single_threaded_blas():  # the cells are small: BLAS threads would only be woken
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
