"""Sources that are a view of another source: :class:`MeanFilledSource` (NaN filled by column means) and :class:`EncodedSource` (rows through an encoding)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .contract import ChunkFn, map_chunks


class MeanFilledSource:
    """A view of another source with NaN replaced by the (weighted) column means.

    Used to start EM on data with missing values: initialisers such as k-means
    need complete rows. The means are computed in one pass when created.

    Parameters
    ----------
    source : source
        Any source (see :class:`~emix.sources.Source`).
    columns : sequence of int, optional
        Fill only these columns (NaN elsewhere is left as is); default all.

    Attributes
    ----------
    fill : ndarray of shape (n_features,)
        The value put in place of NaN in each column.
    has_missing : bool
        Whether the pass found any NaN in the filled columns.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> from emix.sources import ArraySource, MeanFilledSource
    >>> X = emix.datasets.load_faithful()
    >>> X[0, 1] = np.nan
    >>> filled = MeanFilledSource(ArraySource(X, None, 100))
    >>> filled.has_missing, filled.fill.round(3)
    (True, array([ 3.488, 70.867]))
    >>> filled.first_chunk()[0].round(3)
    array([ 3.6  , 70.867])
    """

    def __init__(self, source, columns: Sequence[int] | None = None) -> None:
        self.source = source
        d = source.n_features
        self._columns = None if columns is None else np.isin(np.arange(d), np.asarray(columns, dtype=int))
        total = np.zeros(d)
        count = np.zeros(d)
        n_missing = 0
        for part_total, part_count, part_missing in map_chunks(
            source, functools.partial(_fill_moments, columns=self._columns)
        ):
            n_missing += part_missing
            total += part_total
            count += part_count
        self.has_missing = n_missing > 0
        self.fill = np.where(count > 0, total / np.maximum(count, 1e-300), 0.0).astype(source.dtype)

    n_samples = property(lambda self: self.source.n_samples)
    n_features = property(lambda self: self.source.n_features)
    dtype = property(lambda self: self.source.dtype)
    total_weight = property(lambda self: self.source.total_weight)

    def fill_chunk(self, X: np.ndarray) -> np.ndarray:
        """One chunk of the underlying source with its NaN filled.

        Parameters
        ----------
        X : ndarray of shape (n, n_features)

        Returns
        -------
        ndarray of shape (n, n_features)
        """
        return _fill(X, self.fill, self._columns)

    def filler(self) -> Callable[[np.ndarray], np.ndarray]:
        """:meth:`fill_chunk` as a small picklable function (without the source)."""
        return functools.partial(_fill, fill=self.fill, columns=self._columns)

    def first_chunk(self) -> np.ndarray:
        return self.fill_chunk(self.source.first_chunk())

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for X, w in self.source.chunks():
            yield self.fill_chunk(X), w

    def map_chunks(self, fn: ChunkFn, pool=None) -> Iterator[Any]:
        """``fn`` over the filled chunks, run where the underlying source runs its chunks.

        Parameters
        ----------
        fn : callable
            ``fn(X_chunk, w_chunk, row_offset)`` of the filled chunks.
        pool : emix.engine.ChunkPool, optional
            Passed to the underlying source.

        Returns
        -------
        iterator
            The values of ``fn``, in chunk order.
        """
        return map_chunks(self.source, functools.partial(_filled_call, fn, self.fill, self._columns), pool)

    def relocate(self, message: str, offset: int) -> str:
        relocate = getattr(self.source, "relocate", None)
        return message if relocate is None else relocate(message, offset)


def _fill(X: np.ndarray, fill: np.ndarray, columns: np.ndarray | None) -> np.ndarray:
    nan = np.isnan(X)
    if columns is not None:
        nan &= columns
    return np.where(nan, fill, X) if nan.any() else X


def _fill_moments(X: np.ndarray, w: np.ndarray | None, offset: int, columns: np.ndarray | None):
    obs = ~np.isnan(X)
    missing = ~obs if columns is None else ~obs & columns
    ww = np.ones(X.shape[0]) if w is None else w.astype(np.float64)
    return ww @ np.where(obs, X, 0.0), ww @ obs, int(np.count_nonzero(missing))


def _filled_call(fn: ChunkFn, fill: np.ndarray, columns, X: np.ndarray, w, offset: int) -> Any:
    return fn(_fill(X, fill, columns), w, offset)


class EncodedSource:
    """The rows of ``source`` passed through ``encode`` (e.g. categorical codes to one-hot columns).

    Parameters
    ----------
    source : source
        Any source (see :class:`~emix.sources.Source`).
    encode : callable
        ``encode(X)`` maps a chunk of shape (n, D) to float64 of shape (n, D'); it must be
        picklable where the source runs its chunks elsewhere (Dask).

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> from emix.sources import ArraySource, EncodedSource
    >>> X = emix.datasets.load_faithful()
    >>> squared = EncodedSource(ArraySource(X, None, 100), lambda X: np.column_stack([X, X[:, 0] ** 2]))
    >>> squared.n_features, squared.first_chunk()[0]
    (3, array([ 3.6 , 79.  , 12.96]))
    """

    def __init__(self, source: Any, encode: Callable[[np.ndarray], np.ndarray]) -> None:
        self._source = source
        self._encode = encode
        self.dtype = np.dtype(np.float64)
        self.total_weight = source.total_weight
        self.n_samples = source.n_samples
        self.n_features = encode(source.first_chunk()[:1]).shape[1]

    def first_chunk(self) -> np.ndarray:
        """The encoded first chunk, shape (n, D')."""
        return self._encode(self._source.first_chunk())

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Encoded chunks and their weights, in order."""
        for X, w in self._source.chunks():
            yield self._encode(X), w

    def map_chunks(self, fn: Callable, pool: Any = None) -> Iterator[Any]:
        """``fn`` over the encoded chunks, run where the underlying source runs its chunks.

        Parameters
        ----------
        fn : callable
            ``fn(X_chunk, w_chunk, row_offset)`` of the encoded chunks.
        pool : emix.engine.ChunkPool, optional
            Passed to the underlying source.

        Returns
        -------
        iterator
            The values of ``fn``, in chunk order.
        """
        return map_chunks(self._source, functools.partial(_encoded_call, fn, self._encode), pool)


def _encoded_call(fn: Callable, encode: Callable, X: np.ndarray, w: Any, offset: int) -> Any:
    return fn(encode(X), w, offset)
