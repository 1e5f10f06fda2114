"""Where the rows come from: how EM's "sum over chunks" is taken.

A *source* yields ``(X_chunk, w_chunk)`` pairs, ``w_chunk`` being the sample
weights of the rows or ``None``. The EM driver only ever iterates a source, so
in-memory arrays, files read in pieces and distributed collections all run the
same loop.
"""

from __future__ import annotations

from collections.abc import Iterator

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
