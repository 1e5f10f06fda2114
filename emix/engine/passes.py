"""One EM iteration: a pass over the data (E-step and statistics), then the M-step.

One iteration is one pass over the source accumulating the family's
sufficient statistics and the log-likelihood, followed by the M-step::

    stats, loglik = e_pass(source, family, params)   # E-step + statistics
    params = m_step(family, stats, params)           # small

No (n_samples, n_components) responsibility matrix is kept: memory beyond the
data is one chunk's worth of temporaries. The chunks' statistics are summed in
chunk order, so the result does not depend on how the chunks are run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._linalg import normalize_log_rows
from ..exceptions import DegenerateComponentWarning, NumericalError
from ..families.base import Family, Stats
from ..sources import ArraySource, map_chunks
from .hooks import objective_term, weights_step
from .pool import ChunkPool
from .results import MixtureParams, PassResult

#: The least weight of a component after an M-step (an emptied one keeps its place).
_WEIGHT_FLOOR = 10.0 * float(np.finfo(np.float64).eps)


def log_joint(family: Family, X: np.ndarray, params: MixtureParams) -> np.ndarray:
    """``log pi_k + log p(x_n | k)`` of every row and component.

    Parameters
    ----------
    family : Family
    X : ndarray of shape (n, D)
    params : MixtureParams

    Returns
    -------
    ndarray of shape (n, K), in the dtype of ``family.log_prob``
    """
    out = family.log_prob(X, params.components)
    with np.errstate(divide="ignore"):
        out += np.log(params.weights).astype(out.dtype, copy=False)
    return out


def _pin_labels(resp: np.ndarray, y: np.ndarray, rows: np.ndarray) -> None:
    """Set the responsibilities of ``rows`` (indices into ``y``) to their known component, in place.

    Parameters
    ----------
    resp : ndarray of shape (n, K)
    y : ndarray of int of shape (n,)
    rows : ndarray of int of shape (m,)
    """
    resp[rows] = 0.0
    resp[rows, y[rows]] = 1.0


def _generic_chunk(
    family: Family, X: np.ndarray, w, params: MixtureParams, anchor, y: np.ndarray | None = None
) -> tuple[Stats, float]:
    """log_prob + normalise + accumulate: the path every family supports.

    Parameters
    ----------
    family : Family
    X : ndarray of shape (n, D)
    w : ndarray of shape (n,) or None
        Row weights.
    params : MixtureParams
    anchor : the family's anchor for the statistics
    y : ndarray of int of shape (n,), optional
        Known components, ``-1`` where unknown: a labelled row's
        responsibilities are fixed to its label and it contributes
        ``log pi_y + log p(x | y)`` to the objective.

    Returns
    -------
    (Stats, float)
        The chunk's statistics and its (weighted) log-likelihood.
    """
    lj = log_joint(family, X, params)
    labelled = None if y is None else np.flatnonzero(y >= 0)
    if labelled is not None and labelled.size:
        known = lj[labelled, y[labelled]].copy()
    resp, log_norm = normalize_log_rows(lj)
    if labelled is not None and labelled.size:
        _pin_labels(resp, y, labelled)
        log_norm[labelled] = known
    if w is None:
        loglik = float(log_norm.sum(dtype=np.float64))
    else:
        loglik = float(w.astype(np.float64) @ log_norm)
        resp *= w[:, None]
    return family.accumulate(X, resp, anchor), loglik


def e_pass(
    source,
    family: Family,
    params: MixtureParams,
    *,
    pool: ChunkPool | None = None,
    fused: bool = True,
    labels: np.ndarray | None = None,
    grouped: bool = True,
    statistics: bool = True,
) -> PassResult:
    """One pass over ``source``: responsibilities, statistics and log-likelihood.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    family : Family
    params : MixtureParams
    pool : ChunkPool, optional
        Threads to spread the chunks over; ``None`` runs on the calling thread.
        Chunk results are summed in chunk order whatever the number of threads.
        The chunks are reached through :func:`emix.sources.map_chunks`, so a
        distributed source runs them on its workers (and ignores ``pool``).
    fused : bool, default=True
        Use the family's optional ``e_step_accumulate(X, w, log_weights, params,
        anchor) -> (stats, loglik)`` when it has one (through its optional
        ``prepare_pass(log_weights, params, anchor) -> chunk_fn(X, w)``, which
        computes per-pass constants once, when it has that too); otherwise (or
        with ``False``) ``log_prob`` + normalisation + ``accumulate``.
    labels : ndarray of int of shape (n_samples,), optional
        Known components of some rows, ``-1`` for the others (semi-supervised
        EM): labelled rows keep their responsibilities fixed to their label.
    grouped : bool, default=True
        For an in-memory :class:`~emix.sources.ArraySource` whose family offers a compiled
        pass over row groups (its optional ``prepare_groups(log_weights, params, anchor, X,
        w, bounds)``, used with the fused path): the whole array in the groups of
        :func:`row_groups`, fixed by the number of rows, their ranges spread over ``pool``'s
        threads and their statistics added in group order, so that neither the threads nor
        ``chunk_size`` change a bit of the result. ``False``: the source's chunks.
    statistics : bool, default=True
        ``False``: only the log-likelihood is wanted (EM's final pass); the grouped pass then
        skips the statistics (about half of the loops' work, less where the densities run in
        BLAS) and ``stats`` is ``None``; other passes compute them anyway.

    Returns
    -------
    PassResult
        The summed statistics and the total log-likelihood, plus the
        family's ``log_prior(weights, components)`` when it has one (the
        objective of a MAP or variational fit; see :mod:`emix.engine.hooks`).

    Raises
    ------
    NumericalError
        When the log-likelihood is not finite.
    """
    anchor = family.anchor(params.components)
    fast = getattr(family, "e_step_accumulate", None) if fused and labels is None else None
    if labels is not None:

        def work(X, w, offset):
            return _generic_chunk(family, X, w, params, anchor, labels[offset : offset + X.shape[0]])

    elif fast is not None:
        with np.errstate(divide="ignore"):
            log_w = np.log(np.asarray(params.weights, dtype=np.float64))
        prepare = getattr(family, "prepare_pass", None)
        if prepare is not None:
            # per-pass constants computed once, not once per chunk
            run = prepare(log_w, params.components, anchor)

            def work(X, w, offset):
                return run(X, w)

        else:

            def work(X, w, offset):
                return fast(X, w, log_w, params.components, anchor)

    else:

        def work(X, w, offset):
            return _generic_chunk(family, X, w, params, anchor)

    whole = (
        _grouped(source, family, params, anchor, pool, statistics) if grouped and fast is not None else None
    )
    if whole is not None:
        stats, loglik = whole
    else:
        # the chunks may be mapped over threads or, for a distributed source, over workers;
        # the values come back in chunk order and are summed here, in that order
        stats = None
        loglik = 0.0
        for part, ll in map_chunks(source, work, pool):
            loglik += ll
            stats = part if stats is None else stats + part
    term = objective_term(family, params.weights, params.components)  # hook (b)
    loglik += term
    if not math.isfinite(loglik):
        raise NumericalError(
            "the log-likelihood is not finite: some rows have zero density under every "
            "component. Check the data for extreme values or increase reg_covar"
        )
    return PassResult(stats=stats, log_likelihood=loglik, objective_term=term)


#: :func:`row_groups` makes ``ceil(n / GROUP_ROWS)`` groups rounded up to a multiple of
#: ``GROUP_MULTIPLE``, at most ``MAX_GROUPS``: an in-memory pass keeps one slot of statistics per
#: group, so its extra memory is bounded whatever the rows.
GROUP_ROWS = 16384
MAX_GROUPS = 16
#: more than one group: a multiple of this many, so that 2 or 4 threads take equal shares (with 7
#: groups on 2 threads one thread did 4/7 of the pass)
GROUP_MULTIPLE = 4


def row_groups(n: int) -> np.ndarray:
    """Row bounds (G + 1,) of the groups of an in-memory pass over ``n`` rows: one group up to
    16384 rows, else ``G = min(16, ceil(n / 16384))`` rounded up to a multiple of 4, nearly
    equal groups, fixed by ``n`` alone (not by the threads or chunks)."""
    g = max(1, -(-n // GROUP_ROWS))
    if g > 1:
        g = min(MAX_GROUPS, -(-g // GROUP_MULTIPLE) * GROUP_MULTIPLE)
    return (np.arange(g + 1, dtype=np.int64) * n) // g


def _grouped(source, family: Family, params: MixtureParams, anchor, pool: ChunkPool | None, moments=True):
    """The pass over an in-memory array in fixed row groups (the family's optional
    ``prepare_groups``), the groups' ranges spread over ``pool``'s threads and their statistics
    added in group order; ``(stats, loglik)``, or ``None`` when it does not apply."""
    prepare = getattr(family, "prepare_groups", None)
    if prepare is None or type(source) is not ArraySource:
        return None
    X = source.X
    bounds = row_groups(X.shape[0])
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(params.weights, dtype=np.float64))
    run = prepare(
        log_w, params.components, anchor, X, source.sample_weight, bounds, moments=moments, memo=source.memo
    )
    if run is None:
        return None
    g = len(bounds) - 1
    parts = min(g, 1 if pool is None else pool.n_jobs)
    if parts == 1:
        run.run(0, g)
    else:
        ranges = [(i * g // parts, (i + 1) * g // parts) for i in range(parts)]
        for _ in pool.map(lambda r: run.run(*r), ranges):
            pass
    return run.total()


def single_chunk(source, family: Family) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(X, w)`` when ``source`` is an in-memory array read in one chunk and ``family`` has a
    per-pass kernel (``prepare_pass``), else ``None``: small data then skip the chunk machinery."""
    if getattr(family, "prepare_pass", None) is None or type(source) is not ArraySource:
        return None
    if source.X.shape[0] > source.chunk_size:
        return None
    return source.X, source.sample_weight


def whole_pass(family: Family, params: MixtureParams, X: np.ndarray, w: np.ndarray | None) -> PassResult:
    """:func:`e_pass` over data held in one chunk: the family's fused kernel, called once.

    Parameters
    ----------
    family : Family
        With ``prepare_pass`` (see :func:`single_chunk`).
    params : MixtureParams
    X : ndarray of shape (n, D)
    w : ndarray of shape (n,) or None

    Returns
    -------
    PassResult

    Raises
    ------
    NumericalError
        When the log-likelihood is not finite.
    """
    w_ = np.asarray(params.weights, dtype=np.float64)
    if w_.min() > 0.0:
        log_w = np.log(w_)
    else:
        with np.errstate(divide="ignore"):
            log_w = np.log(w_)
    stats, loglik = family.prepare_pass(log_w, params.components, family.anchor(params.components))(X, w)
    term = objective_term(family, params.weights, params.components)  # hook (b), as in e_pass
    loglik += term
    if not math.isfinite(loglik):
        raise NumericalError(
            "the log-likelihood is not finite: some rows have zero density under every "
            "component. Check the data for extreme values or increase reg_covar"
        )
    return PassResult(stats=stats, log_likelihood=loglik, objective_term=term)


def stats_from_responsibilities(
    source,
    family: Family,
    resp_fn: Callable[[np.ndarray, int], np.ndarray],
    anchor: Any,
    *,
    pool: ChunkPool | None = None,
    labels: np.ndarray | None = None,
) -> Stats:
    """Statistics of a pass whose responsibilities come from ``resp_fn(X_chunk, row_offset)``.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    family : Family
    resp_fn : callable
        ``resp_fn(X_chunk, row_offset)``, ``X_chunk`` of shape (n, D), gives
        the chunk's responsibilities, shape (n, K).
    anchor : the family's anchor for the statistics
    pool : ChunkPool, optional
    labels : ndarray of int of shape (n_samples,), optional
        Rows with a known component (``>= 0``) take it instead of ``resp_fn``'s.

    Returns
    -------
    Stats
        Summed over the chunks, in chunk order.
    """

    def work(X, w, offset):
        resp = resp_fn(X, offset)
        if labels is not None:
            y = labels[offset : offset + X.shape[0]]
            known = np.flatnonzero(y >= 0)
            if known.size:
                resp = np.array(resp, dtype=resp.dtype, copy=True)
                _pin_labels(resp, y, known)
        if w is not None:
            resp = resp * w[:, None]
        return family.accumulate(X, resp, anchor)

    parts = map_chunks(source, work, pool)
    stats = None
    for part in parts:
        stats = part if stats is None else stats + part
    return stats


def m_step(family: Family, stats: Stats, previous: MixtureParams | None) -> MixtureParams:
    """Mixing weights from ``stats.nk`` and the family's own M-step.

    An emptied component keeps its place: its weight is floored at
    ``10 * eps`` (and the weights renormalised) so that it can still recover.
    A family with ``weights_step(nk, previous_weights)`` makes the weights'
    step itself (see :mod:`emix.engine.hooks`).

    Parameters
    ----------
    family : Family
    stats : Stats
        Summed statistics; ``stats.nk`` has shape (K,).
    previous : MixtureParams or None
        The parameters the statistics were computed at, when there are some.

    Returns
    -------
    MixtureParams
        ``weights`` of shape (K,), float64.
    """
    nk = np.asarray(stats.nk, dtype=np.float64)
    weights = weights_step(family, nk, None if previous is None else previous.weights)  # hook (a)
    components = family.m_step(stats, None if previous is None else previous.components)
    return MixtureParams(weights=weights, components=components)


#: A component holding at most this weight (mclust's ``sqrt(eps)`` on ``sum_n z_nk``) is empty.
EMPTY_WEIGHT = math.sqrt(float(np.finfo(np.float64).eps))


def degenerate_components(family: Family, params: MixtureParams, total_weight: float) -> tuple[int, ...]:
    """Components of ``params`` that are degenerate: (numerically) empty, or singular by the
    family's test (its optional ``singular_components(components)``; for Gaussians, mclust's).

    Parameters
    ----------
    family : Family
    params : MixtureParams
    total_weight : float
        Number of rows (sum of the weights) ``N``; a component is empty when
        ``weight * N <= sqrt(eps)``.

    Returns
    -------
    tuple of int
        Sorted component indices; empty when none is degenerate.
    """
    w = np.asarray(params.weights, dtype=np.float64)
    test = getattr(family, "singular_components", None)
    singular = () if test is None else test(params.components)
    if w.min() * float(total_weight) > EMPTY_WEIGHT and not singular:
        return ()
    empty = np.flatnonzero(w * float(total_weight) <= EMPTY_WEIGHT)
    return tuple(sorted(set(empty.tolist()) | set(singular)))


def m_step_noting_repairs(
    family: Family, stats: Stats, previous: MixtureParams
) -> tuple[MixtureParams, bool]:
    """Run the M-step; also say whether it repaired a component (emptied or singular).

    A repaired M-step is not an exact maximisation, so the likelihood may drop
    after it without anything being wrong; the monitor is told not to warn.
    A family with ``repair_count()`` (a per-thread count of its repairs, or
    ``None`` when it cannot tell) is asked directly; otherwise the M-step's
    :class:`DegenerateComponentWarning` are caught and re-issued, which costs
    more than the M-step of a small model.

    Parameters
    ----------
    family : Family
    stats : Stats
    previous : MixtureParams

    Returns
    -------
    (MixtureParams, bool)
        The M-step's parameters, and whether it repaired a component.
    """
    counter = getattr(family, "repair_count", None)
    before = None if counter is None else counter()
    if before is not None:
        params = m_step(family, stats, previous)
        return params, counter() != before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateComponentWarning)
        params = m_step(family, stats, previous)
    repaired = False
    for w in caught:
        if issubclass(w.category, DegenerateComponentWarning):
            repaired = True
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return params, repaired
