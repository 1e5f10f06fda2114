"""A source seen through an encoding of its rows (used to start EM in an encoded space)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import map_chunks


class EncodedSource:
    """The rows of ``source`` passed through ``encode`` (e.g. categorical codes to one-hot columns).

    Parameters
    ----------
    source : a source
    encode : callable
        ``encode(X)`` maps a chunk of shape (n, D) to float64 of shape (n, D'); it must be
        picklable where the source runs its chunks elsewhere (Dask).
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
        """``fn`` over the encoded chunks, run where the underlying source runs its chunks."""
        return map_chunks(self._source, functools.partial(_encoded_call, fn, self._encode), pool)


def _encoded_call(fn: Callable, encode: Callable, X: np.ndarray, w: Any, offset: int) -> Any:
    return fn(encode(X), w, offset)
