"""What :func:`emix.select` returns: one :class:`SelectionRecord` per fit, gathered in a :class:`SelectionResult`.

Every criterion is in mclust's sign, larger is better:

=================  ==============================================================
column             meaning
=================  ==============================================================
``log_likelihood`` total log-likelihood ``log L`` of the fitted mixture
``n_parameters``   free parameters ``p``: ``K D`` means, ``K - 1`` weights and the
                   covariance parameters counted as mclust counts them
``bic``            ``2 log L - p log n``
``aic``            ``2 log L - 2 p``
``icl``            ``bic + 2 sum_n log max_k z_nk`` (Biernacki et al. 2000, as
                   mclust's ``icl``: BIC penalised by the entropy of the MAP
                   classification)
``degenerate``     the fit is degenerate (a component empty or singular by
                   mclust's test): its criteria are ``nan`` (mclust's ``NA``)
                   and it is never chosen; ``message`` says why
``warnings``       what the fit warned, one line each
=================  ==============================================================

The estimators' own ``GaussianMixture.bic(X)`` and ``aic(X)`` keep
scikit-learn's sign (``-2 log L + p log n``, smaller is better), so
``table bic == -estimator.bic(X)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..estimators.gaussian import GaussianMixture
from ..exceptions import InvalidParameterError
from . import text

#: Criteria a selection can be made on (all: larger is better).
CRITERIA = ("bic", "icl", "aic")


@dataclasses.dataclass(frozen=True)
class SelectionRecord:
    """One fit of the grid (criteria in mclust's sign: larger is better; ``nan`` when NA)."""

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
    message: str = ""  # why the fit is NA (degenerate or failed); empty otherwise
    warnings: tuple[str, ...] = ()  # what the fit warned, one line each


def information_criteria(
    log_likelihood: float,
    n_parameters: int,
    n_samples: int,
    resp: np.ndarray | None = None,
    *,
    map_log_sum: float | None = None,
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
        Responsibilities, for ICL; without them (or ``map_log_sum``) ICL is ``nan``.
    map_log_sum : float, optional
        ``sum_n log max_k z_nk`` itself, instead of ``resp``.

    Returns
    -------
    dict with keys ``'bic'``, ``'aic'``, ``'icl'``
    """
    bic = 2.0 * log_likelihood - n_parameters * math.log(n_samples)
    aic = 2.0 * log_likelihood - 2.0 * n_parameters
    icl = math.nan
    if map_log_sum is not None:
        icl = bic + 2.0 * float(map_log_sum)
    elif resp is not None:
        zmax = resp.max(axis=1)
        with np.errstate(divide="ignore"):
            icl = bic + 2.0 * float(np.sum(np.where(zmax > 0, np.log(zmax), 0.0)))
    return {"bic": bic, "aic": aic, "icl": icl}


def check_criterion(criterion: str, allowed: Sequence[str]) -> None:
    """Raise :class:`InvalidParameterError` unless ``criterion`` is one of ``allowed``."""
    if criterion not in allowed:
        raise InvalidParameterError(f"criterion must be one of {list(allowed)}, got {criterion!r}")


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
    n_features : int
    """

    records: tuple[SelectionRecord, ...]
    models: tuple[str, ...]
    n_components: tuple[int, ...]
    n_samples: int
    criterion: str
    best_model: str
    best_n_components: int
    best_estimator: GaussianMixture
    n_features: int = 0

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

        Parameters
        ----------
        criterion : {'bic', 'aic', 'icl', 'log_likelihood', 'n_parameters'}, default='bic'

        Returns
        -------
        values : ndarray of shape (len(n_components), len(models))
            Row ``i`` is ``n_components[i]``, column ``j`` is ``models[j]``;
            ``nan`` where the fit was degenerate or failed.
        """
        check_criterion(criterion, ("bic", "aic", "icl", "log_likelihood", "n_parameters"))
        out = np.full((len(self.n_components), len(self.models)), np.nan)
        row = {k: i for i, k in enumerate(self.n_components)}
        col = {m: j for j, m in enumerate(self.models)}
        for r in self.records:
            out[row[r.n_components], col[r.model]] = getattr(r, criterion)
        return out

    def top(self, n: int = 3, criterion: str | None = None) -> list[SelectionRecord]:
        """The ``n`` best records by ``criterion`` (default: the selection's); NA fits are left out."""
        crit = criterion or self.criterion
        check_criterion(crit, CRITERIA)
        ok = [r for r in self.records if np.isfinite(getattr(r, crit))]
        return sorted(ok, key=lambda r: getattr(r, crit), reverse=True)[:n]

    @property
    def na(self) -> list[SelectionRecord]:
        """The records whose criteria are NA (degenerate or failed fits)."""
        return [r for r in self.records if not np.isfinite(r.bic)]

    def to_records(self) -> list[dict[str, Any]]:
        """The table as a list of plain dicts (one per fit)."""
        return [dataclasses.asdict(r) for r in self.records]

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` (needs pandas), one row per fit."""
        import pandas as pd

        return pd.DataFrame(self.to_records())

    def format_table(self, criterion: str = "bic", digits: int = 3, width: int = 80) -> str:
        """The criterion grid as text (rows K, columns models), in blocks of columns at most ``width`` wide.

        ``NA`` marks degenerate or failed fits, ``*`` the best one.
        """
        best = (self.best_model, self.best_n_components) if criterion == self.criterion else None
        return text.grid(self.table(criterion), self.models, self.n_components, digits, width, best)

    def summary(self, n: int = 5) -> str:
        """The best fit, the ``n`` best by the selection's criterion and the NA fits, as text."""
        return text.summary(self, n)

    def __repr__(self) -> str:
        return self.summary(5)

    def _repr_html_(self) -> str:
        return text.html(self)

    def plot(self, criterion: str = "bic", ax=None):
        """Criterion against K, one line per model (see :func:`emix.plot.plot_criterion`); returns the figure."""
        from ..teach.plot import plot_criterion

        return plot_criterion(self, criterion=criterion, ax=ax)
