"""Data in memory: :class:`ArraySource`, an array read in row chunks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .base import _SourceBase


class ArraySource(_SourceBase):
    """An in-memory array read in row chunks.

    ``fit(X)`` makes one for in-memory data; the chunks are views of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data, already checked (finite, float).
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative row weights, or ``None`` for weight one.
    chunk_size : int
        Rows per chunk.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import ArraySource
    >>> source = ArraySource(np.arange(10.0).reshape(5, 2), None, chunk_size=2)
    >>> [chunk.shape for chunk, weights in source.chunks()]
    [(2, 2), (2, 2), (1, 2)]
    >>> source.n_samples, source.n_features, source.total_weight
    (5, 2, 5.0)
    >>> list(source.map_chunks(lambda X, w, row_offset: (row_offset, len(X))))
    [(0, 2), (2, 2), (4, 1)]
    """

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray | None, chunk_size: int) -> None:
        self.X = X
        self.sample_weight = sample_weight
        self.chunk_size = int(chunk_size)
        #: what a family computes once from the rows and keeps for the fits on this source (the
        #: tied model's scatter of each row group); the rows must not change meanwhile
        self.memo: dict = {}

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.X.dtype

    @property
    def total_weight(self) -> float:
        """Sum of the sample weights (the number of rows when unweighted)."""
        if self.sample_weight is None:
            return float(self.n_samples)
        return float(self.sample_weight.sum(dtype=np.float64))

    def first_chunk(self) -> np.ndarray:
        """The first ``chunk_size`` rows, shape (m, n_features)."""
        return self.X[: self.chunk_size]

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Every chunk in row order: views of ``X`` and of the weights.

        Yields
        ------
        X_chunk : ndarray of shape (m, n_features)
        w_chunk : ndarray of shape (m,) or None
        """
        n, step = self.n_samples, self.chunk_size
        w = self.sample_weight
        for start in range(0, n, step):
            stop = min(start + step, n)
            yield self.X[start:stop], (None if w is None else w[start:stop])
