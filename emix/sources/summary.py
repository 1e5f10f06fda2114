"""One scan of a source: sizes, weights and missing values (:class:`SourceSummary`).

Summaries of consecutive chunks add, so a scan is a :func:`checked_map` of
:func:`summarise_chunk` over the source, summed in chunk order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..exceptions import InvalidInputError
from .contract import checked_map


@dataclasses.dataclass(frozen=True)
class SourceSummary:
    """What one scan of a source learns; summaries of consecutive chunks add (``a + b``).

    Attributes
    ----------
    n_samples : int
    total_weight : float
        Sum of the sample weights (``n_samples`` when unweighted).
    n_missing : int
        Number of NaN cells.
    first_missing : tuple of (int, int) or None
        ``(row, column)`` of the first NaN cell, row 0-based and absolute.
    first_empty_row : int or None
        First row with no observed value (every cell NaN).
    observed : ndarray of shape (n_features,)
        Observed (non-NaN) cells per column.
    col_min, col_max : ndarray of shape (n_features,)
        Smallest and largest observed value per column (NaN if none).

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> from emix.sources import ArraySource, summarise
    >>> X = emix.datasets.load_faithful()
    >>> X[0, 1] = np.nan
    >>> summary = summarise(ArraySource(X, None, 100))
    >>> summary.n_samples, summary.n_missing, summary.first_missing
    (272, 1, (0, 1))
    >>> summary.observed, summary.col_max
    (array([272, 271]), array([ 5.1, 96. ]))
    """

    n_samples: int
    total_weight: float
    n_missing: int
    first_missing: tuple[int, int] | None
    first_empty_row: int | None
    observed: np.ndarray
    col_min: np.ndarray
    col_max: np.ndarray

    def __add__(self, later: SourceSummary) -> SourceSummary:
        """Merge with the summary of the rows that follow."""
        return SourceSummary(
            n_samples=self.n_samples + later.n_samples,
            total_weight=self.total_weight + later.total_weight,
            n_missing=self.n_missing + later.n_missing,
            first_missing=self.first_missing if self.first_missing is not None else later.first_missing,
            first_empty_row=self.first_empty_row
            if self.first_empty_row is not None
            else later.first_empty_row,
            observed=self.observed + later.observed,
            col_min=np.fmin(self.col_min, later.col_min),
            col_max=np.fmax(self.col_max, later.col_max),
        )

    def probe(self) -> np.ndarray:
        """A tiny array standing for the data in whole-data checks, shape (2 or 3, n_features).

        Rows: the column maxima, the column minima and, when values are
        missing, a row with NaN in every column that has a missing value. The
        estimators' family checks need only these (which columns have NaN, the
        range of codes), so a family configured on the probe is the family
        configured on the data.
        """
        rows = [self.col_max, self.col_min]
        if self.n_missing:
            rows.append(np.where(self.observed < self.n_samples, np.nan, self.col_max))
        return np.stack(rows).astype(np.float64)


def summarise_chunk(X: np.ndarray, w: np.ndarray | None, offset: int) -> SourceSummary:
    """The :class:`SourceSummary` of one chunk; raises on infinite values or bad weights.

    Parameters
    ----------
    X : ndarray of shape (m, n_features)
        The chunk.
    w : ndarray of shape (m,) or None
        Its weights.
    offset : int
        Absolute index of the chunk's first row.

    Returns
    -------
    SourceSummary

    Raises
    ------
    InvalidInputError
        An infinite value, or a negative or non-finite weight. Messages give
        chunk-relative rows (``row i``); sources relocate them.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import summarise_chunk
    >>> part = summarise_chunk(np.array([[1.0, np.nan], [3.0, 4.0]]), None, offset=10)
    >>> part.n_samples, part.first_missing, part.col_min
    (2, (10, 1), array([1., 4.]))
    """
    nan = np.isnan(X)
    inf = np.isinf(X)
    if inf.any():
        i, j = (int(v) for v in np.argwhere(inf)[0])
        raise InvalidInputError(f"X has an infinite value at row {i}, column {j}")
    if w is not None:
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                f"sample_weight is {float(w[i])!r} at row {i}; weights must be finite and >= 0"
            )
    obs = ~nan
    observed = obs.sum(axis=0)
    with np.errstate(invalid="ignore"):
        lo = np.where(obs, X, np.inf).min(axis=0, initial=np.inf).astype(np.float64)
        hi = np.where(obs, X, -np.inf).max(axis=0, initial=-np.inf).astype(np.float64)
    lo[observed == 0] = np.nan
    hi[observed == 0] = np.nan
    n_missing = int(nan.sum())
    first_missing = None
    first_empty = None
    if n_missing:
        i, j = (int(v) for v in np.argwhere(nan)[0])
        first_missing = (offset + i, j)
        empty = nan.all(axis=1)
        if empty.any():
            first_empty = offset + int(np.flatnonzero(empty)[0])
    total = float(X.shape[0]) if w is None else float(np.sum(w, dtype=np.float64))
    return SourceSummary(
        n_samples=int(X.shape[0]),
        total_weight=total,
        n_missing=n_missing,
        first_missing=first_missing,
        first_empty_row=first_empty,
        observed=observed.astype(np.int64),
        col_min=lo,
        col_max=hi,
    )


def summarise(source, pool=None) -> SourceSummary:
    """One scan of ``source``: sizes, weights and missing values (see :class:`SourceSummary`).

    Parameters
    ----------
    source : source
        Any source (see :class:`Source`).
    pool : emix.engine.ChunkPool, optional
        Threads for the scan.

    Returns
    -------
    SourceSummary

    Raises
    ------
    InvalidInputError
        The source has no rows, or a chunk holds an infinite value or a bad
        weight (named in terms of the whole source).

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import ArraySource, summarise
    >>> source = ArraySource(np.ones((5, 2)), np.full(5, 2.0), chunk_size=2)
    >>> summarise(source).total_weight
    10.0
    """
    total = None
    for part in checked_map(source, summarise_chunk, pool):
        total = part if total is None else total + part
    if total is None:
        raise InvalidInputError(f"{_name(source)} has no rows")
    return total


def source_summary(source) -> SourceSummary:
    """``source.summary`` if the source keeps one, else a fresh :func:`summarise`.

    Parameters
    ----------
    source : source
        Any source (see :class:`Source`).

    Returns
    -------
    SourceSummary

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import ArraySource, source_summary
    >>> source = ArraySource(np.ones((5, 2)), None, chunk_size=2)
    >>> source_summary(source) is source.summary          # kept by the source
    True
    """
    summary = getattr(source, "summary", None)
    return summary if isinstance(summary, SourceSummary) else summarise(source)


def _name(source) -> str:
    return str(getattr(source, "name", type(source).__name__))
