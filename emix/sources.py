"""Where the rows come from: how EM's "sum over chunks" is taken.

A *source* yields ``(X_chunk, w_chunk)`` pairs, ``w_chunk`` being the sample
weights of the rows or ``None``. The EM driver only ever iterates a source, so
in-memory arrays, files read in pieces and distributed collections all run the
same loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

#: Target size in bytes of the per-chunk working set (the (n, K) and (n, D) temporaries).
DEFAULT_CHUNK_BYTES = 1 << 20
#: Fewest rows per chunk when data are split across threads.
MIN_THREAD_CHUNK = 2048


def auto_chunk_size(
    n_features: int,
    n_components: int,
    itemsize: int = 8,
    *,
    n_samples: int | None = None,
    n_threads: int = 1,
) -> int:
    """Rows per chunk so that one chunk's temporaries stay near ``DEFAULT_CHUNK_BYTES``.

    With ``n_samples`` and ``n_threads`` given, the chunk is also made small
    enough that every thread gets about four chunks, but not below
    ``MIN_THREAD_CHUNK`` rows: smaller data are not worth a thread hop (one
    chunk, no threads).
    """
    width = max(n_features, n_components, 1)
    rows = max(DEFAULT_CHUNK_BYTES // (itemsize * width), 256)
    if n_samples is not None and n_threads > 1:
        rows = min(rows, max(-(-n_samples // (4 * n_threads)), MIN_THREAD_CHUNK))
    return int(min(rows, 65536))


class ArraySource:
    """An in-memory array read in row chunks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    chunk_size : int
        Rows per chunk.
    """

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray | None, chunk_size: int) -> None:
        self.X = X
        self.sample_weight = sample_weight
        self.chunk_size = int(chunk_size)

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
        return self.X[: self.chunk_size]

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        n, step = self.n_samples, self.chunk_size
        w = self.sample_weight
        for start in range(0, n, step):
            stop = min(start + step, n)
            yield self.X[start:stop], (None if w is None else w[start:stop])


class MeanFilledSource:
    """A view of another source with NaN replaced by the (weighted) column means.

    Used to start EM on data with missing values: initialisers such as k-means
    need complete rows. The means are computed in one pass when created.

    Parameters
    ----------
    source : a source
    columns : sequence of int, optional
        Fill only these columns (NaN elsewhere is left as is); default all.

    Attributes
    ----------
    fill : ndarray of shape (n_features,)
        The value put in place of NaN in each column.
    has_missing : bool
        Whether the pass found any NaN in the filled columns.
    """

    def __init__(self, source, columns: Sequence[int] | None = None) -> None:
        self.source = source
        d = source.n_features
        self._columns = None if columns is None else np.isin(np.arange(d), np.asarray(columns, dtype=int))
        total = np.zeros(d)
        count = np.zeros(d)
        n_missing = 0
        for X, w in source.chunks():
            obs = ~np.isnan(X)
            missing = ~obs if self._columns is None else ~obs & self._columns
            n_missing += int(np.count_nonzero(missing))
            ww = np.ones(X.shape[0]) if w is None else w.astype(np.float64)
            total += ww @ np.where(obs, X, 0.0)
            count += ww @ obs
        self.has_missing = n_missing > 0
        self.fill = np.where(count > 0, total / np.maximum(count, 1e-300), 0.0).astype(source.dtype)

    n_samples = property(lambda self: self.source.n_samples)
    n_features = property(lambda self: self.source.n_features)
    dtype = property(lambda self: self.source.dtype)
    total_weight = property(lambda self: self.source.total_weight)

    def fill_chunk(self, X: np.ndarray) -> np.ndarray:
        """``X`` (one chunk of the underlying source) with its NaN filled, shape (n, n_features)."""
        nan = np.isnan(X)
        if self._columns is not None:
            nan &= self._columns
        return np.where(nan, self.fill, X) if nan.any() else X

    def first_chunk(self) -> np.ndarray:
        return self.fill_chunk(self.source.first_chunk())

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for X, w in self.source.chunks():
            yield self.fill_chunk(X), w
