"""Where the rows come from: how EM's "sum over chunks" is taken.

EM in emix is a reduction over chunks of rows (see ``docs/design.md``); a
*source* says how the chunks are reached. These ship with emix:

* :class:`ArraySource`: an in-memory array cut into row chunks;
* :class:`ParquetSource` and :class:`CSVSource`: a file re-read in row
  batches on every pass, so memory is bounded by one chunk, not the file;
* :class:`NpySource`: a ``.npy`` file, memory-mapped, chunks are views;
* :class:`MultiFileSource`: many files of one kind and one schema as one
  source; :func:`file_source` opens a file, a folder, a glob pattern or a
  list of paths, choosing the kind by suffix;
* :class:`DaskSource`: a Dask array or dataframe persisted on a cluster; each
  pass is a distributed map over its blocks, summed on the client.

A file must not change while a source reads it: every pass checks it against
the fingerprint taken when the source was made
(:class:`~emix.exceptions.DataChangedError`).

The contract, in short: a source has ``n_samples``, ``n_features``, ``dtype``
and ``total_weight``, ``first_chunk()`` and ``chunks()`` (every ``(X_chunk,
w_chunk)`` in row order, on the calling process); it may have
``map_chunks(fn, pool)``, which runs ``fn(X_chunk, w_chunk, row_offset)``
where the chunks live and returns the values in chunk order, and
``relocate(message, row_offset)`` for error messages. Every pass goes through
:func:`map_chunks`, which falls back to iterating ``chunks()``. The full text
is in :class:`~emix.sources.Source` and in ``emix.sources.contract``.

The package:

==========================  ===================================================
``contract``                the contract, :func:`map_chunks`, :func:`checked_map`,
                            :func:`is_source`, :func:`auto_chunk_size`
``summary``                 one scan: :class:`SourceSummary`, :func:`summarise`
``base``                    what the shipped sources share
``memory``                  :class:`ArraySource`
``derived``                 views of another source: :class:`MeanFilledSource`
``files``                   :class:`ParquetSource`, :class:`CSVSource`
``npy``                     :class:`NpySource`
``many``                    :class:`MultiFileSource`, :func:`file_source`
``readahead``               the next chunk of a file read while the current one computes
``fingerprint``             what a file looked like when opened; the change check
``csvfields``               the check that every CSV row has one field per column
``dask``                    :class:`DaskSource`, :func:`is_dask_collection`
``tables``                  whole tables read and written for the command line
==========================  ===================================================

Importing this package imports neither Dask nor pandas nor pyarrow.
"""

from __future__ import annotations

from .contract import (
    DEFAULT_CHUNK_BYTES,
    MIN_THREAD_CHUNK,
    ChunkFn,
    Source,
    auto_chunk_size,
    checked_map,
    is_source,
    map_chunks,
    relocate_message,
    with_offsets,
)
from .dask import DaskSource, is_dask_collection
from .derived import EncodedSource, MeanFilledSource
from .files import DEFAULT_FILE_ROWS, CSVSource, ParquetSource
from .many import MultiFileSource, file_source
from .memory import ArraySource
from .npy import NpySource
from .summary import SourceSummary, source_summary, summarise, summarise_chunk

__all__ = [
    "ArraySource",
    "MeanFilledSource",
    "ParquetSource",
    "CSVSource",
    "NpySource",
    "MultiFileSource",
    "DaskSource",
    "SourceSummary",
    "file_source",
    "map_chunks",
    "checked_map",
    "summarise",
    "is_source",
    "EncodedSource",
    # also imported by the estimators, or public before the split
    "Source",
    "ChunkFn",
    "source_summary",
    "summarise_chunk",
    "auto_chunk_size",
    "is_dask_collection",
    "relocate_message",
    "with_offsets",
    "DEFAULT_CHUNK_BYTES",
    "MIN_THREAD_CHUNK",
    "DEFAULT_FILE_ROWS",
]
