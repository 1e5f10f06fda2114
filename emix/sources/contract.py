"""The source contract: what a source is, and how a pass maps over its chunks.

EM in emix is a reduction over chunks of rows (see ``docs/design.md``); a
*source* says how the chunks are reached. This module holds the contract
(:class:`Source`), the functions that every pass goes through
(:func:`map_chunks`, :func:`checked_map`), the test :func:`is_source` and the
chunk sizing (:func:`auto_chunk_size`).

The source contract
-------------------
A source has

``n_samples``, ``n_features``, ``dtype``, ``total_weight``
    Sizes, the chunks' float dtype and the sum of the sample weights (the
    number of rows when unweighted). File and Dask sources learn them in one
    scan (see :attr:`summary`) the first time they are asked.
``first_chunk() -> ndarray of shape (m, n_features)``
    The first rows, brought to the caller (initialisers centre on them).
``chunks() -> iterator of (X_chunk, w_chunk)``
    Every chunk, in row order, *on the calling process*: ``X_chunk`` of
    shape (m, n_features), ``w_chunk`` of shape (m,) or ``None``. Always
    available; a Dask source fetches one block at a time.
``map_chunks(fn, pool=None) -> iterator of values``
    ``fn(X_chunk, w_chunk, row_offset)`` applied to every chunk *wherever the
    chunk lives* (a thread of ``pool`` for in-memory and file sources, a
    worker for Dask), the values returned **in chunk order**. ``row_offset``
    is the absolute index of the chunk's first row. The EM passes and the
    initial M-step go through ``map_chunks``; summing its values in order
    gives the same result whatever runs the map. ``fn`` must be picklable for
    a distributed source (closures are, by cloudpickle); its values should be
    small (statistics, not rows).

A source written with ``chunks()`` only still works everywhere:
:func:`map_chunks` falls back to iterating it. Sources with a
``relocate(message, row_offset)`` method turn a chunk-relative error message
("row 3, column 1") into one that names the file, the absolute row and the
column name.

File and Dask sources validate every chunk as it is read (non-numeric cells,
infinities, bad weights), naming the file, the column and the absolute row.
NaN is a missing value: the source allows it and records where it is (see
:class:`~emix.sources.summary.SourceSummary`); the estimator then accepts or
refuses it exactly as it does for in-memory data.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from ..exceptions import EmixError

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
    chunk, no threads). This is the chunk size of ``chunk_size=None``.

    Parameters
    ----------
    n_features : int
        D.
    n_components : int
        K.
    itemsize : int, default=8
        Bytes per value (8 for float64, 4 for float32).
    n_samples : int, optional
        Rows of the data.
    n_threads : int, default=1
        Threads the passes run on.

    Returns
    -------
    int
        Rows per chunk, between 256 and 65536.

    Examples
    --------
    >>> from emix.sources import auto_chunk_size
    >>> auto_chunk_size(2, 3), auto_chunk_size(64, 16)
    (43690, 2048)
    >>> auto_chunk_size(2, 3, n_samples=1_000_000, n_threads=8)    # four chunks per thread
    31250
    """
    width = max(n_features, n_components, 1)
    rows = max(DEFAULT_CHUNK_BYTES // (itemsize * width), 256)
    if n_samples is not None and n_threads > 1:
        rows = min(rows, max(-(-n_samples // (4 * n_threads)), MIN_THREAD_CHUNK))
    return int(min(rows, 65536))


# -- mapping over chunks -----------------------------------------------------------------------------

#: The type of the function a pass maps over the chunks: ``fn(X_chunk, w_chunk, row_offset)``
#: with ``X_chunk`` of shape (m, n_features), ``w_chunk`` of shape (m,) or ``None``, and
#: ``row_offset`` the absolute index of the chunk's first row.
ChunkFn = Callable[[np.ndarray, "np.ndarray | None", int], Any]


def with_offsets(chunks: Iterable[tuple[np.ndarray, np.ndarray | None]]):
    """``(X, w, row_offset)`` for each ``(X, w)`` of ``chunks``.

    Parameters
    ----------
    chunks : iterable of (ndarray, ndarray or None)
        What a source's ``chunks()`` yields.

    Yields
    ------
    X : ndarray of shape (m, n_features)
    w : ndarray of shape (m,) or None
    row_offset : int
        The absolute index of the chunk's first row.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import ArraySource, with_offsets
    >>> source = ArraySource(np.zeros((5, 2)), None, chunk_size=2)
    >>> [(len(X), offset) for X, w, offset in with_offsets(source.chunks())]
    [(2, 0), (2, 2), (1, 4)]
    """
    offset = 0
    for X, w in chunks:
        yield X, w, offset
        offset += X.shape[0]


def _iterate_map(source, fn: ChunkFn, pool=None) -> Iterator[Any]:
    """``map_chunks`` by iterating ``source.chunks()`` on this process (threads of ``pool``)."""

    def work(item):
        return fn(*item)

    items = with_offsets(source.chunks())
    return pool.map(work, items) if pool is not None else map(work, items)


def map_chunks(source, fn: ChunkFn, pool=None) -> Iterator[Any]:
    """Apply ``fn(X_chunk, w_chunk, row_offset)`` to every chunk of ``source``, values in chunk order.

    Uses the source's own ``map_chunks`` (a distributed map for Dask) when it
    has one, else iterates ``source.chunks()`` through ``pool`` (an
    ``emix.engine.ChunkPool``) or on the calling thread. Every EM pass goes
    through this function.

    Parameters
    ----------
    source : source
        Any source (see :class:`Source`).
    fn : callable
        See :data:`ChunkFn`.
    pool : emix.engine.ChunkPool, optional
        Threads for sources that run their chunks on this process.

    Returns
    -------
    iterator
        The values of ``fn``, in chunk order.

    See Also
    --------
    checked_map : The same, with errors in terms of the whole source.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import ArraySource, map_chunks
    >>> source = ArraySource(np.arange(10.0).reshape(5, 2), None, chunk_size=2)
    >>> [float(total) for total in map_chunks(source, lambda X, w, offset: X.sum())]
    [6.0, 22.0, 17.0]
    """
    own = getattr(source, "map_chunks", None)
    if own is not None:
        return own(fn, pool)
    return _iterate_map(source, fn, pool)


@dataclasses.dataclass(frozen=True)
class _ChunkFailure:
    """An error raised by ``fn`` on one chunk, returned as a value (to be relocated by the caller)."""

    kind: type
    message: str
    offset: int


def _guarded(fn: ChunkFn, X: np.ndarray, w: np.ndarray | None, offset: int) -> Any:
    try:
        return fn(X, w, offset)
    except EmixError as exc:
        return _ChunkFailure(type(exc), str(exc), offset)


def checked_map(source, fn: ChunkFn, pool=None) -> Iterator[Any]:
    """:func:`map_chunks`, with emix errors of ``fn`` re-raised in terms of the whole source.

    A chunk-relative message ("row 3, column 1") becomes absolute and names
    the source (file, column names) through the source's ``relocate``.

    Parameters
    ----------
    source : source
        Any source (see :class:`Source`).
    fn : callable
        See :data:`ChunkFn`; it raises :class:`~emix.exceptions.EmixError`
        with chunk-relative rows.
    pool : emix.engine.ChunkPool, optional
        Threads for sources that run their chunks on this process.

    Yields
    ------
    value : object
        The values of ``fn``, in chunk order.

    Raises
    ------
    EmixError
        Of the class ``fn`` raised, with the message relocated.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import ArraySource, checked_map, summarise_chunk
    >>> source = ArraySource(np.array([[1.0], [2.0], [np.inf]]), None, chunk_size=2)
    >>> list(checked_map(source, summarise_chunk))
    Traceback (most recent call last):
        ...
    emix.exceptions.InvalidInputError: X has an infinite value at row 2, column 0
    """
    for value in map_chunks(source, functools.partial(_guarded, fn), pool):
        if isinstance(value, _ChunkFailure):
            relocate = getattr(source, "relocate", None)
            msg = value.message if relocate is None else relocate(value.message, value.offset)
            raise value.kind(msg)
        yield value


def is_source(obj: Any) -> bool:
    """Whether ``obj`` follows the source contract (rather than being array-like data).

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
        True when ``obj`` has ``chunks()``, ``total_weight`` and ``n_features``.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.sources import ArraySource, is_source
    >>> X = np.zeros((4, 2))
    >>> is_source(ArraySource(X, None, 2)), is_source(X)
    (True, False)
    """
    return (
        callable(getattr(obj, "chunks", None)) and hasattr(obj, "total_weight") and hasattr(obj, "n_features")
    )


def relocate_message(
    message: str,
    offset: int,
    *,
    name: str | None = None,
    first_row: int = 0,
    columns: Sequence[str] | None = None,
) -> str:
    """Rewrite a chunk-relative message in terms of the whole source.

    ``row i`` becomes ``row offset + i + first_row`` (``first_row=1`` for files,
    whose rows are counted from 1 as on the command line); ``column j`` becomes
    the column's name when ``columns`` is given; ``name`` is put in front.

    Parameters
    ----------
    message : str
        A message naming ``row i`` and ``column j`` of a chunk.
    offset : int
        Absolute index of the chunk's first row.
    name : str, optional
        Put in front of the message (a file's path).
    first_row : int, default=0
        The number of the first row (1 for files).
    columns : sequence of str, optional
        Column names.

    Returns
    -------
    str

    Examples
    --------
    >>> from emix.sources import relocate_message
    >>> relocate_message("X has an infinite value at row 3, column 1", 100,
    ...                  name="data.csv", first_row=1, columns=["a", "b"])
    "data.csv: X has an infinite value at row 104, column 'b'"
    """
    msg = re.sub(r"\brow (\d+)", lambda m: f"row {offset + int(m.group(1)) + first_row}", message)
    if columns is not None:

        def col(m: re.Match) -> str:
            j = int(m.group(1))
            return f"column {columns[j]!r}" if j < len(columns) else m.group(0)

        msg = re.sub(r"\bcolumn (\d+)", col, msg)
    return msg if name is None else f"{name}: {msg}"


class Source(Protocol):
    """What a source has (the contract in the module docstring), as a type.

    Only the members below are required. Optional: ``map_chunks(fn, pool)``
    (else :func:`map_chunks` iterates :meth:`chunks`), ``relocate(message,
    row_offset)`` (chunk-relative error messages in terms of the source),
    ``summary`` (a cached :class:`~emix.sources.SourceSummary`) and
    ``name`` (put in front of messages).

    Attributes
    ----------
    n_samples : int
        Number of rows.
    n_features : int
        Number of columns of every chunk.
    dtype : numpy.dtype
        The chunks' float dtype.
    total_weight : float
        Sum of the sample weights (``n_samples`` when unweighted).

    Examples
    --------
    A source of rows drawn on the fly, three chunks of 100 rows; every
    estimator method takes it:

    >>> import numpy as np
    >>> import emix
    >>> class Generated:
    ...     n_samples, n_features, dtype, total_weight = 300, 2, np.dtype("float64"), 300.0
    ...     def chunks(self):
    ...         for seed in range(3):
    ...             yield np.random.default_rng(seed).normal(5.0, 1.0, size=(100, 2)), None
    ...     def first_chunk(self):
    ...         return next(self.chunks())[0]
    >>> emix.sources.is_source(Generated())
    True
    >>> gm = emix.GaussianMixture(1).fit(Generated())
    >>> gm.means_.round(1), gm.n_features_in_
    (array([[5., 5.]]), 2)
    """

    @property
    def n_samples(self) -> int: ...

    @property
    def n_features(self) -> int: ...

    @property
    def dtype(self) -> np.dtype: ...

    @property
    def total_weight(self) -> float: ...

    def first_chunk(self) -> np.ndarray:
        """The first rows, brought to the caller, shape (m, n_features)."""
        ...

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Every chunk in row order, on the calling process.

        Yields
        ------
        X_chunk : ndarray of shape (m, n_features)
        w_chunk : ndarray of shape (m,) or None
        """
        ...
