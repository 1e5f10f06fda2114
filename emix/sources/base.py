"""What the shipped sources share: ``map_chunks`` by iteration, the cached scan, messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .contract import ChunkFn, _iterate_map, relocate_message
from .summary import SourceSummary, summarise


class _SourceBase:
    """Shared parts: ``map_chunks`` by iteration, the cached scan, sizes from the scan."""

    name = "X"
    columns: tuple[str, ...] | None = None
    _first_row = 0

    @property
    def summary(self) -> SourceSummary:
        """The scan of the whole source (:class:`SourceSummary`), computed once."""
        cached = self.__dict__.get("_summary")
        if cached is None:
            cached = summarise(self)
            self.__dict__["_summary"] = cached
        return cached

    @property
    def n_samples(self) -> int:
        return self.summary.n_samples

    @property
    def total_weight(self) -> float:
        """Sum of the sample weights (the number of rows when unweighted)."""
        return self.summary.total_weight

    def map_chunks(self, fn: ChunkFn, pool=None) -> Iterator[Any]:
        """``fn(X_chunk, w_chunk, row_offset)`` over the chunks, values in chunk order.

        Parameters
        ----------
        fn : callable
            ``fn(X_chunk, w_chunk, row_offset)``, see :data:`~emix.sources.ChunkFn`.
        pool : emix.engine.ChunkPool, optional
            Threads to run ``fn`` on; ``None`` runs it on the calling thread.

        Returns
        -------
        iterator
            The values of ``fn``, in chunk order whatever ran them.
        """
        return _iterate_map(self, fn, pool)

    def relocate(self, message: str, offset: int) -> str:
        """A chunk-relative error message in terms of this source (absolute rows, column names).

        Parameters
        ----------
        message : str
            A message naming ``row i`` and ``column j`` of a chunk.
        offset : int
            Absolute index of the chunk's first row.

        Returns
        -------
        str
            See :func:`~emix.sources.relocate_message`.
        """
        return relocate_message(
            message, offset, name=self._prefix(), first_row=self._first_row, columns=self.columns
        )

    def _prefix(self) -> str | None:
        return None
