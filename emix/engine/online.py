"""Online EM: running sufficient statistics blended with each batch's, an M-step after every batch.

This is stepwise EM (Cappé and Moulines 2009; Liang and Klein 2009). The
statistics EM sums over the data are kept *per unit of weight*: a batch ``b``
of total weight ``W_b`` gives ``s_b = S_b / W_b`` (its statistics at the
current parameters, divided by its weight), and the running statistics move
towards it by a step ``gamma``::

    s      <- (1 - gamma_t) s + gamma_t s_b,   gamma_t = (t + 2)^(-alpha)
    params <- m_step(s * W_seen)

where ``t = 0, 1, ...`` counts the batches after the first (whose statistics
start ``s``), ``alpha`` is in ``(0.5, 1]`` and ``W_seen`` is the total weight
of the batches seen. Dividing by the batch's weight makes batches of
different sizes or weights enter by their step alone; multiplying back by
``W_seen`` gives the M-step statistics of the size of the rows seen, so that
pseudo-counts and floors weigh as in a batch fit of those rows (the M-steps
of the Gaussian and Student-t families do not depend on the scale at all).

The running statistics are centred on the anchor of the batch that entered
last; before a new batch enters they are moved to its anchor exactly
(:func:`emix.families.base.recentre_stats`, the Chan-Golub-LeVeque shift for
the Gaussian), so large feature offsets cost no digits here either.
"""

from __future__ import annotations

import dataclasses

from ..families.base import Family, Stats, recentre_stats
from .passes import e_pass, m_step
from .pool import ChunkPool
from .results import MixtureParams


@dataclasses.dataclass(frozen=True)
class OnlineState:
    """Where online EM stands between two batches.

    Attributes
    ----------
    params : MixtureParams
        The parameters after the last batch's M-step.
    stats : Stats
        The running statistics per unit of weight, centred on the anchor of
        the last batch (``stats.nk`` sums to one).
    n_batches : int
        Batches blended in so far (the first included).
    weight_seen : float
        Their total weight.
    """

    params: MixtureParams
    stats: Stats
    n_batches: int
    weight_seen: float


def step_size(t: int, alpha: float) -> float:
    """``(t + 2)^(-alpha)``: the weight of the ``t``-th batch after the first (``t = 0, 1, ...``)."""
    return float((t + 2.0) ** (-alpha))


def blend(family: Family, running: Stats, batch: Stats, gamma: float) -> Stats:
    """``(1 - gamma) running + gamma batch``, the running statistics first moved to ``batch``'s anchor.

    Parameters
    ----------
    family : Family
    running, batch : Stats
        Of the same type; per unit of weight.
    gamma : float
        In ``(0, 1]``.

    Returns
    -------
    Stats
        Centred on ``batch``'s anchor.
    """
    moved = recentre_stats(family, running, batch)
    return moved.scaled(1.0 - gamma) + batch.scaled(gamma)


def online_update(
    state: OnlineState | None,
    batch,
    family: Family,
    params: MixtureParams,
    *,
    alpha: float,
    pool: ChunkPool | None = None,
) -> tuple[OnlineState, float]:
    """One step of online EM: the E-step on ``batch`` at ``params``, the blend, the M-step.

    Parameters
    ----------
    state : OnlineState or None
        ``None`` for the first batch, whose statistics start the running ones.
    batch : a source (see :mod:`emix.sources`)
        The batch's rows (and weights), e.g. an :class:`~emix.sources.ArraySource`.
    family : Family
        The family of the pass and the M-step (the missing-data variant for a
        batch with missing values: its statistics have the same form).
    params : MixtureParams
        The parameters of the E-step: ``state.params``, or the starting point
        for the first batch.
    alpha : float
        The step exponent, in ``(0.5, 1]`` (checked by the caller).
    pool : ChunkPool, optional

    Returns
    -------
    state : OnlineState
        After the M-step.
    log_likelihood : float
        The batch's (weighted) log-likelihood at ``params``, before the update.
    """
    res = e_pass(batch, family, params, pool=pool)
    weight = float(batch.total_weight)
    stats = res.stats.scaled(1.0 / weight)
    if state is None:
        n_batches, seen = 1, weight
    else:
        stats = blend(family, state.stats, stats, step_size(state.n_batches - 1, alpha))
        n_batches, seen = state.n_batches + 1, state.weight_seen + weight
    new = m_step(family, stats.scaled(seen), params)
    return OnlineState(params=new, stats=stats, n_batches=n_batches, weight_seen=seen), res.log_likelihood
