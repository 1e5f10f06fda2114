"""Where the rows come from: how EM's "sum over chunks" is taken.

EM in emix is a reduction over chunks of rows (see ``docs/design.md``); a
*source* says how the chunks are reached. Three kinds ship with emix:

* :class:`ArraySource`: an in-memory array cut into row chunks;
* :class:`ParquetSource` and :class:`CSVSource`: a file re-read in row
  batches on every pass, so memory is bounded by one chunk, not the file;
* :class:`DaskSource`: a Dask array or dataframe persisted on a cluster; each
  pass is a distributed map over its blocks, summed on the client.

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
:class:`SourceSummary`); the estimator then accepts or refuses it exactly as
it does for in-memory data.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import EmixError, InputTypeError, InvalidInputError
from .tables import check_data_file, choose_columns

#: Target size in bytes of the per-chunk working set (the (n, K) and (n, D) temporaries).
DEFAULT_CHUNK_BYTES = 1 << 20
#: Fewest rows per chunk when data are split across threads.
MIN_THREAD_CHUNK = 2048
#: Rows per batch read from a file by default (a few MiB for tens of columns).
DEFAULT_FILE_ROWS = 65536


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


# -- the scan: sizes, weights and missing values in one pass ---------------------------------------


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
    w : ndarray of shape (m,) or None
    offset : int
        Absolute index of the chunk's first row.

    Error messages give chunk-relative rows (``row i``); sources relocate them.
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


# -- mapping over chunks -----------------------------------------------------------------------------

ChunkFn = Callable[[np.ndarray, "np.ndarray | None", int], Any]


def with_offsets(chunks: Iterable[tuple[np.ndarray, np.ndarray | None]]):
    """``(X, w, row_offset)`` for each ``(X, w)`` of ``chunks``."""
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
    has one, else iterates ``source.chunks()`` through ``pool`` (a
    :class:`emix._parallel.ChunkPool`) or on the calling thread.
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
    """
    for value in map_chunks(source, functools.partial(_guarded, fn), pool):
        if isinstance(value, _ChunkFailure):
            relocate = getattr(source, "relocate", None)
            msg = value.message if relocate is None else relocate(value.message, value.offset)
            raise value.kind(msg)
        yield value


def summarise(source, pool=None) -> SourceSummary:
    """One scan of ``source``: sizes, weights and missing values (see :class:`SourceSummary`)."""
    total = None
    for part in checked_map(source, summarise_chunk, pool):
        total = part if total is None else total + part
    if total is None:
        raise InvalidInputError(f"{_name(source)} has no rows")
    return total


def source_summary(source) -> SourceSummary:
    """``source.summary`` if the source keeps one, else a fresh :func:`summarise`."""
    summary = getattr(source, "summary", None)
    return summary if isinstance(summary, SourceSummary) else summarise(source)


def is_source(obj: Any) -> bool:
    """Whether ``obj`` follows the source contract (rather than being array-like data)."""
    return (
        callable(getattr(obj, "chunks", None)) and hasattr(obj, "total_weight") and hasattr(obj, "n_features")
    )


def is_dask_collection(obj: Any) -> bool:
    """A Dask array, dataframe or series (checked without importing Dask)."""
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "__dask_graph__")


def _name(source) -> str:
    return str(getattr(source, "name", type(source).__name__))


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
    whose rows are counted from 1 as in ``emix.tables``); ``column j`` becomes
    the column's name when ``columns`` is given; ``name`` is put in front.
    """
    msg = re.sub(r"\brow (\d+)", lambda m: f"row {offset + int(m.group(1)) + first_row}", message)
    if columns is not None:

        def col(m: re.Match) -> str:
            j = int(m.group(1))
            return f"column {columns[j]!r}" if j < len(columns) else m.group(0)

        msg = re.sub(r"\bcolumn (\d+)", col, msg)
    return msg if name is None else f"{name}: {msg}"


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
        """``fn(X_chunk, w_chunk, row_offset)`` over the chunks, in chunk order (see the module doc)."""
        return _iterate_map(self, fn, pool)

    def relocate(self, message: str, offset: int) -> str:
        """A chunk-relative error message in terms of this source (absolute rows, column names)."""
        return relocate_message(
            message, offset, name=self._prefix(), first_row=self._first_row, columns=self.columns
        )

    def _prefix(self) -> str | None:
        return None


class ArraySource(_SourceBase):
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
        """``X`` (one chunk of the underlying source) with its NaN filled, shape (n, n_features)."""
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
        """``fn`` over the filled chunks, run where the underlying source runs its chunks."""
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


# -- files ----------------------------------------------------------------------------------------


class _FileSource(_SourceBase):
    """A table file re-read in row batches on every pass; memory is one batch.

    Subclasses give ``_column_names()`` and ``_frames()`` (pandas DataFrames
    of the needed columns, in row order).
    """

    _first_row = 1  # rows in messages are counted from 1, as by emix.tables and the CLI

    def __init__(
        self,
        path: str | os.PathLike,
        columns: Sequence[str] | None,
        weights: str | None,
        rows: int,
        dtype: Any,
    ) -> None:
        self.path = Path(path)
        check_data_file(self.path)
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
            raise InvalidInputError(f"rows per chunk must be a positive int, got {rows!r}")
        self.rows = int(rows)
        self._dtype = np.dtype(dtype)
        if self._dtype.kind != "f":
            raise InputTypeError(f"dtype must be a float dtype, got {self._dtype}")
        available = self._column_names()
        if weights is not None and weights not in available:
            raise InvalidInputError(
                f"{self.path}: weights column {weights!r} not found; columns are: {', '.join(available)}"
            )
        if columns is not None and weights is not None and weights in [str(c) for c in columns]:
            raise InvalidInputError(f"{self.path}: column {weights!r} is both a feature and the weights")
        columns = choose_columns(self.path, available, columns, exclude=[weights])
        self.columns = tuple(columns)
        self.weights = weights
        self._first: np.ndarray | None = None

    @property
    def name(self) -> str:
        return str(self.path)

    def _prefix(self) -> str:
        return str(self.path)

    def _needed(self) -> list[str]:
        return [*self.columns, *([self.weights] if self.weights is not None else [])]

    @property
    def n_features(self) -> int:
        return len(self.columns)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def _column_names(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _frames(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Read the file again, one batch at a time: ``(X_chunk, w_chunk)`` as in :class:`ArraySource`."""
        offset = 0
        for frame in self._frames():
            m = len(frame)
            if m == 0:
                continue
            X = np.empty((m, len(self.columns)), dtype=self._dtype)
            for j, name in enumerate(self.columns):
                X[:, j] = self._numeric(frame[name], name, offset)
            w = None
            if self.weights is not None:
                w = self._numeric(frame[self.weights], self.weights, offset).astype(self._dtype)
                bad = np.isnan(w) | (w < 0)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise InvalidInputError(
                        f"{self.path}: weights column {self.weights!r} has {float(w[i])!r} in row "
                        f"{offset + i + 1}; weights must be non-negative numbers"
                    )
            yield X, w
            offset += m

    def first_chunk(self) -> np.ndarray:
        """The first batch of rows, shape (m, n_features) (kept after the first call)."""
        if self._first is None:
            for X, _ in self.chunks():
                self._first = X
                break
            else:
                raise InvalidInputError(f"{self.path}: the file has no rows")
        return self._first

    def _numeric(self, col: Any, name: str, offset: int) -> np.ndarray:
        """One column of a batch as float64, with errors naming the file, column and absolute row."""
        import pandas as pd

        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_complex_dtype(col):
            converted = pd.to_numeric(col, errors="coerce")
            bad = (converted.isna() & col.notna()).to_numpy()
            if bad.any() or pd.api.types.is_complex_dtype(col):
                i = int(np.flatnonzero(bad)[0]) if bad.any() else 0
                raise InputTypeError(
                    f"{self.path}: column {name!r} is not numeric: row {offset + i + 1} holds {col.iloc[i]!r}"
                )
            col = converted
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            i = int(np.flatnonzero(inf)[0])
            raise InvalidInputError(
                f"{self.path}: column {name!r} has an infinite value in row {offset + i + 1}"
            )
        return values

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, columns={list(self.columns)!r})"


class ParquetSource(_FileSource):
    """A Parquet file read in row batches with pyarrow, again on every pass.

    Memory is bounded by one batch, so the file may be larger than memory.
    ``n_samples`` comes from the file's metadata; ``total_weight`` and the
    missing values from one scan, the first time they are needed.

    Parameters
    ----------
    path : str or path-like
    columns : sequence of str, optional
        Feature columns, in this order; default every column but ``weights``.
    weights : str, optional
        Column of non-negative sample weights (not a feature).
    batch_rows : int, default=65536
        Rows per batch (chunk) read with ``ParquetFile.iter_batches``.
    dtype : float dtype, default=float64
        dtype of the chunks.

    Notes
    -----
    Nulls and NaN are missing values. A non-numeric cell or an infinite
    value is an error naming the file, the column and the row (rows counted
    from 1).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        columns: Sequence[str] | None = None,
        *,
        weights: str | None = None,
        batch_rows: int = DEFAULT_FILE_ROWS,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(path, columns, weights, batch_rows, dtype)

    def _file(self):
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidInputError(f"{self.path}: cannot be read as Parquet ({first})") from None

    def _column_names(self) -> list[str]:
        return [str(c) for c in self._file().schema_arrow.names]

    @property
    def n_samples(self) -> int:
        return int(self._file().metadata.num_rows)

    def _frames(self) -> Iterator[Any]:
        with self._file() as pf:
            for batch in pf.iter_batches(batch_size=self.rows, columns=self._needed()):
                yield batch.to_pandas()


class CSVSource(_FileSource):
    """A CSV (or TSV) file read in row chunks with pandas, again on every pass.

    Memory is bounded by one chunk, so the file may be larger than memory.
    ``n_samples``, ``total_weight`` and the missing values come from one scan,
    the first time they are needed.

    Parameters
    ----------
    path : str or path-like
        ``.tsv`` and ``.tab`` files are tab-separated, others comma-separated.
    columns : sequence of str, optional
        Feature columns, in this order; default every column but ``weights``.
    weights : str, optional
        Column of non-negative sample weights (not a feature).
    chunk_rows : int, default=65536
        Rows per chunk (``pandas.read_csv(chunksize=...)``).
    header : bool, default=True
        Whether the file starts with column names; without, the columns are
        named ``x0, x1, ...``.
    dtype : float dtype, default=float64
        dtype of the chunks.

    Notes
    -----
    Empty cells and ``NaN`` are missing values. A non-numeric cell or an
    infinite value is an error naming the file, the column and the row (data
    rows counted from 1, the header not counted).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        columns: Sequence[str] | None = None,
        *,
        weights: str | None = None,
        chunk_rows: int = DEFAULT_FILE_ROWS,
        header: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        self.header = bool(header)
        suffix = Path(path).suffix.lower()
        self.sep = "\t" if suffix in (".tsv", ".tab") else ","
        super().__init__(path, columns, weights, chunk_rows, dtype)

    def _read(self, **kwargs: Any):
        import pandas as pd

        try:
            return pd.read_csv(self.path, sep=self.sep, skipinitialspace=True, **kwargs)
        except pd.errors.EmptyDataError:
            raise InvalidInputError(f"{self.path}: the file is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidInputError(f"{self.path}: cannot be parsed as CSV ({first})") from None

    def _column_names(self) -> list[str]:
        if self.header:
            return [str(c) for c in self._read(nrows=0).columns]
        return [f"x{i}" for i in range(self._read(nrows=1, header=None).shape[1])]

    def _frames(self) -> Iterator[Any]:
        import pandas as pd

        if self.header:
            kwargs = dict(header=0, usecols=self._needed())
        else:
            names = self._column_names()
            kwargs = dict(header=None, names=names, usecols=self._needed())
        reader = self._read(chunksize=self.rows, **kwargs)
        with reader:
            while True:
                try:
                    frame = next(reader)
                except StopIteration:
                    return
                except (pd.errors.ParserError, UnicodeDecodeError) as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise InvalidInputError(f"{self.path}: cannot be parsed as CSV ({first})") from None
                frame.columns = [str(c) for c in frame.columns]
                yield frame


def file_source(
    path: str | os.PathLike,
    columns: Sequence[str] | None = None,
    *,
    weights: str | None = None,
    rows: int = DEFAULT_FILE_ROWS,
    header: bool = True,
) -> ParquetSource | CSVSource:
    """A :class:`ParquetSource` for ``.parquet``/``.pq`` files, else a :class:`CSVSource`."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        return ParquetSource(path, columns, weights=weights, batch_rows=rows)
    return CSVSource(path, columns, weights=weights, chunk_rows=rows, header=header)


# -- Dask ------------------------------------------------------------------------------------------


def _apply_block(fn: ChunkFn, X: np.ndarray, w: np.ndarray | None, offset: int) -> Any:
    """Run on a worker: ``fn`` on one block (the block is already a NumPy array there)."""
    return fn(np.asarray(X), None if w is None else np.asarray(w), offset)


def _current_client():
    """The active ``distributed.Client``, or ``None`` (Dask's local scheduler is then used)."""
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover - distributed is part of the dask extra
        return None
    try:
        return get_client()
    except ValueError:
        return None


class DaskSource(_SourceBase):
    """A Dask array or dataframe: every pass is a distributed map over its row blocks.

    The data are persisted once (on the cluster when a ``distributed.Client``
    is active, else in this process) and never come back whole: in a pass,
    each block computes ``fn(X_block, w_block, row_offset)`` (for EM: the
    family's statistics and log-likelihood) where it lives, and the small
    results are summed on the client in block order. The function, with the
    current parameters, is scattered to the workers once per pass.

    Parameters
    ----------
    data : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
        Numeric data; a dataframe's columns are the features (NaN, and
        nulls, are missing values).
    weights : dask array of shape (n_samples,), dask Series, or str, optional
        Sample weights; with a dataframe, a str names its weights column
        (which is then not a feature).
    persist : bool, default=True
        Persist the data once now (recommended: otherwise every pass
        recomputes the whole graph).

    Notes
    -----
    Blocks are re-chunked to hold every column. :meth:`chunks` brings blocks
    to the client one at a time (memory: one block); the initialisers use it
    (k-means passes, random draws in row order), while the EM passes and the
    initial M-step use :meth:`map_chunks`.
    """

    name = "dask data"

    def __init__(self, data: Any, weights: Any = None, *, persist: bool = True) -> None:
        import dask
        import dask.array as da

        columns = None
        if hasattr(data, "columns") and hasattr(data, "to_dask_array"):  # dask dataframe
            if isinstance(weights, str):
                if weights not in data.columns:
                    raise InvalidInputError(
                        f"weights column {weights!r} not found; columns are: "
                        f"{', '.join(map(str, data.columns))}"
                    )
                w_series = data[weights]
                data = data.drop(columns=[weights])
                weights = w_series
            kinds = [
                (c, t) for c, t in zip(data.columns, data.dtypes) if getattr(t, "kind", "O") not in "biuf"
            ]
            if kinds:
                col, typ = kinds[0]
                raise InputTypeError(f"column {col!r} has non-numeric dtype {typ}; encode or drop it")
            columns = tuple(str(c) for c in data.columns)
            X = data.to_dask_array(lengths=True)
            if X.dtype.kind != "f":
                X = X.astype(np.float64)
        elif isinstance(data, da.Array):
            X = data
        else:
            raise InputTypeError(f"DaskSource needs a dask array or dataframe, got {type(data).__name__}")
        if X.ndim != 2:
            raise InvalidInputError(
                f"the dask data have {X.ndim} dimensions; expected 2 (n_samples, n_features)"
            )
        if X.dtype.kind not in "biuf":
            raise InputTypeError(f"the dask data have dtype {X.dtype}; emix needs real numbers")
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        X = X.rechunk({1: -1})
        w = None
        if weights is not None:
            if hasattr(weights, "to_dask_array"):
                weights = weights.to_dask_array(lengths=True)
            w = da.asarray(weights)
            if w.dtype.kind not in "biuf":
                raise InputTypeError(f"sample weights must be numeric, got dtype {w.dtype}")
            if w.ndim != 1 or w.shape[0] != X.shape[0]:
                raise InvalidInputError(f"sample weights have shape {w.shape}; expected ({X.shape[0]},)")
            w = w.astype(X.dtype).rechunk((X.chunks[0],))
        if persist:
            X, w = dask.persist(X, w) if w is not None else (X.persist(), None)
        self.X = X
        self.weights = w
        self.columns = columns
        self._x_blocks = list(X.to_delayed().ravel())
        self._w_blocks = [None] * len(self._x_blocks) if w is None else list(w.to_delayed().ravel())
        self._offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int).tolist()
        self._first: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.X.dtype)

    @property
    def n_blocks(self) -> int:
        return len(self._x_blocks)

    def _prefix(self) -> str:
        return self.name

    def map_chunks(self, fn: ChunkFn, pool=None) -> Iterator[Any]:
        """``fn(X_block, w_block, row_offset)`` on the workers, values in block order.

        ``fn`` is scattered to every worker once (with a ``distributed``
        client); ``pool`` is ignored: the cluster is the parallelism.
        """
        import dask

        client = _current_client()
        ref = fn
        if client is not None:
            [ref] = client.scatter([fn], broadcast=True, hash=False)
        try:
            tasks = [
                dask.delayed(_apply_block, pure=False)(ref, xb, wb, off)
                for xb, wb, off in zip(self._x_blocks, self._w_blocks, self._offsets)
            ]
            values = dask.compute(*tasks)
        finally:
            if client is not None:
                ref.release()
        return iter(values)

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """The blocks, brought to this process one at a time (in row order)."""
        import dask

        for xb, wb in zip(self._x_blocks, self._w_blocks):
            if wb is None:
                (X,) = dask.compute(xb)
                yield np.asarray(X), None
            else:
                X, w = dask.compute(xb, wb)
                yield np.asarray(X), np.asarray(w)

    def first_chunk(self) -> np.ndarray:
        """The first block, shape (m, n_features) (kept after the first call)."""
        if self._first is None:
            import dask

            (X,) = dask.compute(self._x_blocks[0])
            self._first = np.asarray(X)
        return self._first

    def __repr__(self) -> str:
        return f"DaskSource(shape={self.X.shape}, blocks={self.n_blocks})"


__all__ = [
    "ArraySource",
    "MeanFilledSource",
    "ParquetSource",
    "CSVSource",
    "DaskSource",
    "SourceSummary",
    "file_source",
    "map_chunks",
    "checked_map",
    "summarise",
    "is_source",
]

from .encoded import EncodedSource  # noqa: E402, F401  (after map_chunks, which it uses)
