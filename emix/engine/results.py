"""The engine's value types: a mixture's parameters, what one pass returns, what one EM run returns."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..families.base import Stats


@dataclasses.dataclass(frozen=True)
class MixtureParams:
    """Mixing weights and the family's component parameters.

    Attributes
    ----------
    weights : ndarray of shape (K,)
    components : family-specific parameters (e.g. :class:`GaussianParams`)
    """

    weights: np.ndarray
    components: Any


@dataclasses.dataclass(frozen=True)
class PassResult:
    """What one pass over the data returns.

    Attributes
    ----------
    stats : Stats
        The family's sufficient statistics summed over the chunks.
    log_likelihood : float
        ``sum_n w_n log p(x_n | theta)``, plus the family's objective term (``log_prior``) if any.
    objective_term : float
        That term (``0.0`` without the hook): ``log_likelihood - objective_term`` is the
        likelihood alone, which the ``"mclust"`` rule reads for a MAP fit, as mclust does.
    """

    stats: Stats
    log_likelihood: float  # sum_n w_n log p(x_n | theta) + the objective term
    objective_term: float = 0.0


@dataclasses.dataclass(frozen=True)
class EMResult:
    """Outcome of one EM run from one starting point.

    Attributes
    ----------
    params : MixtureParams
        The final parameters.
    history : tuple of float, of length n_entries
        Total log-likelihood at the start of each iteration, then that of the final parameters.
    n_iter : int
        Passes made, the final one excepted.
    converged : bool
    accelerated : tuple of bool, of length n_entries
        Per history entry: whether it was evaluated at an extrapolated point.
    run : (tuple of float, tuple of bool)
        The stopping rule's last run of plain entries (it may reach back into
        the run this one continued) and their ``accelerated`` flags: what a
        warm start from the final parameters passes to ``run_em(previous=...)``.
    degenerate : tuple of int
        Components found degenerate (see :func:`emix.engine.degenerate_components`):
        those of the M-step that stopped EM (with an exact M-step, EM stops
        rather than accept a singular or repaired step, and ``params`` are
        the last good ones), or those of the final parameters.
    map_log_sum : float or None
        ``sum_n log max_k p(k | x_n)`` at the final parameters (ICL's term),
        when the run computed it (a compiled run does); else ``None``.
    """

    params: MixtureParams
    history: tuple[float, ...]  # total log-likelihood at the start of each iteration, then the final
    n_iter: int
    converged: bool
    accelerated: tuple[bool, ...] = ()  # per history entry: evaluated at an extrapolated point
    run: tuple[tuple[float, ...], tuple[bool, ...]] = ((), ())
    degenerate: tuple[int, ...] = ()  # components that stopped EM, or that are degenerate at the end
    map_log_sum: float | None = None  # sum_n log max_k z_nk at the final parameters, when computed

    @property
    def log_likelihood(self) -> float:
        """Total log-likelihood of the final parameters."""
        return self.history[-1]
