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
    """One fit of the grid (criteria in mclust's sign: larger is better; ``nan`` when NA).

    Attributes
    ----------
    model : str
        The covariance model (``covariance_type``).
    n_components : int
        K.
    log_likelihood : float
        Total log-likelihood of the fit (``nan`` if it failed).
    n_parameters : int
        Free parameters, as mclust counts them.
    bic, aic, icl : float
        The criteria, larger is better; ``nan`` when the fit is NA.
    converged : bool
        Whether EM met its stopping rule.
    n_iter : int
        EM iterations.
    degenerate : bool
        Whether a component became degenerate by mclust's test (or the fit failed).
    init_used : str
        How the fit started.
    message : str
        Why the fit is NA (empty otherwise).
    warnings : tuple of str
        What the fit warned, one line each.

    Examples
    --------
    >>> import emix
    >>> result = emix.select(emix.datasets.load_faithful(), [3], models=["EEE"], n_jobs=1)
    >>> record = result.record("EEE", 3)
    >>> record.n_parameters, round(record.bic, 1), record.degenerate
    (11, -2314.3, False)
    """

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
    criteria : dict
        ``{'bic': ..., 'aic': ..., 'icl': ...}``.

    Examples
    --------
    >>> from emix.selection import information_criteria
    >>> crit = information_criteria(-1126.316, n_parameters=11, n_samples=272)
    >>> round(crit["bic"], 3), round(crit["aic"], 3), crit["icl"]
    (-2314.296, -2274.632, nan)
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
    best_estimator : GaussianMixture or None
        The fitted estimator of the best (model, K); ``None`` when the best is
        K = 0, a noise component alone (``select(noise=True)``).
    n_features : int

    Examples
    --------
    >>> import emix
    >>> result = emix.select(emix.datasets.load_faithful(), [2, 3], models=["EEE", "VVV"], n_jobs=1)
    >>> result.best_model, result.best_n_components
    ('EEE', 3)
    >>> [(r.model, r.n_components) for r in result.top(2)]
    [('EEE', 3), ('VVV', 2)]
    """

    records: tuple[SelectionRecord, ...]
    models: tuple[str, ...]
    n_components: tuple[int, ...]
    n_samples: int
    criterion: str
    best_model: str
    best_n_components: int
    best_estimator: GaussianMixture | None
    n_features: int = 0

    @property
    def best(self) -> SelectionRecord:
        """The record of the chosen fit."""
        return self.record(self.best_model, self.best_n_components)

    def record(self, model: str, n_components: int) -> SelectionRecord:
        """The record of one (model, K).

        Parameters
        ----------
        model : str
        n_components : int

        Returns
        -------
        SelectionRecord

        Raises
        ------
        KeyError
            When the grid has no such fit.
        """
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
        """The ``n`` best records by ``criterion``; NA fits are left out.

        Parameters
        ----------
        n : int, default=3
        criterion : {'bic', 'icl', 'aic'}, optional
            Default: the criterion the selection was made on.

        Returns
        -------
        list of SelectionRecord
        """
        crit = criterion or self.criterion
        check_criterion(crit, CRITERIA)
        first_alone = next((r for r in self.records if r.n_components == 0), None)
        ok = [  # the cells of noise alone (K = 0) are alike: the first model's stands for them
            r
            for r in self.records
            if np.isfinite(getattr(r, crit)) and (r.n_components > 0 or r is first_alone)
        ]
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

        Parameters
        ----------
        criterion : {'bic', 'aic', 'icl', 'log_likelihood', 'n_parameters'}, default='bic'
        digits : int, default=3
            Digits after the decimal point.
        width : int, default=80
            The widest line.

        Returns
        -------
        str
        """
        best = (self.best_model, self.best_n_components) if criterion == self.criterion else None
        return text.grid(self.table(criterion), self.models, self.n_components, digits, width, best)

    def summary(self, n: int = 5) -> str:
        """The best fit, the ``n`` best by the selection's criterion and the NA fits, as text.

        Parameters
        ----------
        n : int, default=5

        Returns
        -------
        str
        """
        return text.summary(self, n)

    def __repr__(self) -> str:
        return self.summary(5)

    def _repr_html_(self) -> str:
        return text.html(self)

    def plot(self, criterion: str = "bic", ax=None):
        """Criterion against K, one line per model (see :func:`emix.teach.plot.plot_criterion`).

        Parameters
        ----------
        criterion : {'bic', 'aic', 'icl'}, default='bic'
        ax : matplotlib Axes, optional
            Draw into this axes instead of a new figure.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..teach.plot import plot_criterion

        return plot_criterion(self, criterion=criterion, ax=ax)
