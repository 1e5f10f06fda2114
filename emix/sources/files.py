"""Files larger than memory: :class:`ParquetSource` and :class:`CSVSource`.

A file source re-reads its file in row batches on every pass, so memory is
bounded by one batch; pandas and pyarrow are imported when a file is read.
The file must not change while a source uses it: its fingerprint (see
:mod:`emix.sources.fingerprint`) is checked at the start and at the end of
every pass. :func:`~emix.sources.many.file_source` opens one file or many.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InputTypeError, InvalidInputError
from .base import _SourceBase
from .csvfields import FieldCheck
from .fingerprint import WatchedFile
from .readahead import read_ahead
from .tables import (
    check_data_file,
    check_head,
    check_names,
    choose_columns,
    dates,
    first_line,
    infinite,
    nested,
    no_rows,
    not_numeric,
    separator,
)

#: Rows per batch read from a file by default (a few MiB for tens of columns).
DEFAULT_FILE_ROWS = 65536


class _FileSource(WatchedFile, _SourceBase):
    """A table file re-read in row batches on every pass; memory is one batch.

    Subclasses give ``_column_names()`` and either ``_frames()`` (pandas
    DataFrames of the needed columns, in row order) or ``_read_chunks()``;
    ``_open()`` reads what they need once, when the source is made.
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
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise InputTypeError(f"dtype must be a float dtype, got {np.dtype(dtype)}")
        self._watch()  # before the first read: any change from here on is seen
        self._open()
        self._dtype = self._chunk_dtype(dtype)
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
        self._check_types()
        self._first: np.ndarray | None = None
        self.rows_read: int | None = None  # rows of the last complete pass

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

    def _open(self) -> None:
        """Read what the source needs from the file once (its schema), when it is made."""

    def _check_types(self) -> None:
        """Refuse, when the source is made, needed columns whose declared type is not numbers."""

    def _chunk_dtype(self, requested: Any) -> np.dtype:
        """The chunks' dtype: ``requested``, float64 by default."""
        return np.dtype(np.float64 if requested is None else requested)

    def schema(self) -> tuple[tuple[str, str], ...]:
        """``(name, type)`` of every column of the file (type ``""`` where the file has none).

        Files of one :class:`~emix.sources.many.MultiFileSource` must have the same schema.
        """
        return tuple((name, "") for name in self._column_names())

    def _column_names(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _frames(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Read the file again, one batch at a time: ``(X_chunk, w_chunk)`` as in :class:`ArraySource`.

        The next batch is read on a background thread while the caller works
        on the current one (``emix.sources.readahead.read_ahead``: one
        batch ahead at most; the batches are the same either way).

        Yields
        ------
        X_chunk : ndarray of shape (m, n_features)
        w_chunk : ndarray of shape (m,) or None

        Raises
        ------
        DataChangedError
            The file changed since the source was made (checked before the
            first chunk, after the last, and when reading fails).
        InvalidInputError
            The file has no rows (after the pass).
        """
        rows = 0
        for X, w in self.pass_chunks():
            yield X, w
            rows += X.shape[0]
        if rows == 0:
            raise self._no_rows()

    def _no_rows(self) -> InvalidInputError:
        return no_rows(self.path)

    def pass_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """:meth:`chunks`, but a file without rows gives no chunk rather than an error.

        :class:`~emix.sources.many.MultiFileSource` reads its files so: one
        empty part among others (as Spark writes them) is no error.
        """
        self.check_unchanged()
        offset = 0
        try:
            for X, w in read_ahead(self._read_chunks()):  # the next chunk is read while this one computes
                yield X, w
                offset += X.shape[0]
        except Exception as exc:
            self._raise_if_changed(exc)
            raise
        self.check_unchanged()
        self.rows_read = offset

    def _read_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """The chunks of :meth:`_frames`, checked and converted."""
        offset = 0
        for frame in self._frames():
            m = len(frame)
            if m == 0:
                continue
            X = np.empty((m, len(self.columns)), dtype=self._dtype)
            for j, name in enumerate(self.columns):
                X[:, j] = self._column(frame, name, offset)
            w = None
            if self.weights is not None:
                w = self._column(frame, self.weights, offset).astype(self._dtype)
                bad = np.isnan(w) | (w < 0)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise InvalidInputError(
                        f"{self.path}: weights column {self.weights!r} has {float(w[i])!r} in row "
                        f"{offset + i + 1}; weights must be non-negative numbers"
                    )
            del frame  # not held (with its buffers) while the next batch is read
            yield X, w
            offset += m

    def first_chunk(self) -> np.ndarray:
        """The first batch of rows, shape (m, n_features) (kept after the first call)."""
        if self._first is None:
            for X, _ in self.chunks():
                self._first = X
                break
            else:  # pragma: no cover - chunks() raises first
                raise self._no_rows()
        return self._first

    def _column(self, frame: Any, name: str, offset: int) -> np.ndarray:
        """Column ``name`` of a frame of :meth:`_frames` as float64 (see :meth:`_numeric`)."""
        return self._numeric(frame[name], name, offset)

    def _numeric(self, col: Any, name: str, offset: int) -> np.ndarray:
        """One column of a batch as float64, with errors naming the file, column and absolute row."""
        import pandas as pd

        if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
            raise dates(self.path, name, col.dtype)
        if pd.api.types.is_bool_dtype(col):  # booleans are 0 and 1, as read_table reads them
            col = col.astype("Float64")
        elif not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_complex_dtype(col):
            converted = pd.to_numeric(col, errors="coerce")
            bad = (converted.isna() & col.notna()).to_numpy()
            if bad.any() or pd.api.types.is_complex_dtype(col):
                i = int(np.flatnonzero(bad)[0]) if bad.any() else 0
                raise not_numeric(self.path, name, offset + i + 1, col.iloc[i])
            col = converted
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            raise infinite(self.path, name, offset + int(np.flatnonzero(inf)[0]) + 1)
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
        The Parquet file.
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
    Nulls and NaN are missing values; booleans are 0 and 1. A non-numeric
    cell or an infinite value is an error naming the file, the column and the
    row (rows counted from 1); date, time, duration and nested columns, and a
    repeated column name, are refused when the source is made. The file must not change while the source uses it: its size,
    modification time and footer are checked at the start and the end of
    every pass (:class:`~emix.exceptions.DataChangedError`).

    Examples
    --------
    >>> import pandas as pd
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> pd.DataFrame(X, columns=["eruptions", "waiting"]).to_parquet("faithful.parquet")
    >>> source = emix.ParquetSource("faithful.parquet", batch_rows=100)
    >>> source
    ParquetSource('faithful.parquet', columns=['eruptions', 'waiting'])
    >>> source.n_samples, source.schema()
    (272, (('eruptions', 'double'), ('waiting', 'double')))
    >>> gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(source)
    >>> round(gm.log_likelihood_, 4)            # the in-memory fit's
    -1126.3159
    """

    _footer = True  # the fingerprint hashes the footer (the metadata)

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
            raise InvalidInputError(f"{self.path}: cannot be read as Parquet ({first_line(exc)})") from None

    def _open(self) -> None:
        with self._file() as pf:
            self._types = {str(f.name): f.type for f in pf.schema_arrow}
            self._schema = tuple((str(f.name), str(f.type)) for f in pf.schema_arrow)
            self._num_rows = int(pf.metadata.num_rows)
        check_names(self.path, [name for name, _ in self._schema])

    def _check_types(self) -> None:
        """Dates, times and nested values are refused by their declared type, before any pass."""
        import pyarrow as pa

        for name in self._needed():
            kind = self._types[name]
            if pa.types.is_temporal(kind):
                raise dates(self.path, name, kind)
            if pa.types.is_nested(kind):
                raise nested(self.path, name, str(kind))

    def _no_rows(self) -> InvalidInputError:
        columns = ", ".join(name for name, _ in self._schema)
        return no_rows(self.path, f"the file has columns ({columns}) but no rows")

    def _column_names(self) -> list[str]:
        return [name for name, _ in self._schema]

    def schema(self) -> tuple[tuple[str, str], ...]:
        """``(name, Arrow type)`` of every column of the file."""
        return self._schema

    @property
    def n_samples(self) -> int:
        return self._num_rows

    def _frames(self) -> Iterator[Any]:
        """Arrow record batches (converted column by column by :meth:`_column`, not through pandas).

        Row group by row group: ``iter_batches`` over the whole file reads
        ahead every row group (memory grows with the file); one row group at a
        time keeps memory at one row group, and is faster.
        """
        with self._file() as pf:
            for group in range(pf.num_row_groups):
                yield from pf.iter_batches(batch_size=self.rows, row_groups=[group], columns=self._needed())

    def _column(self, frame: Any, name: str, offset: int) -> np.ndarray:
        """A numeric Arrow column straight to float64 (nulls as NaN); other types through pandas."""
        import pyarrow as pa

        col = frame.column(name)
        kind = col.type
        numeric = pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind)
        if not numeric or pa.types.is_float16(kind):  # booleans are 0 and 1, nulls missing
            return self._numeric(col.to_pandas(), name, offset)
        values = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
        inf = np.isinf(values)
        if inf.any():
            raise infinite(self.path, name, offset + int(np.flatnonzero(inf)[0]) + 1)
        return values


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
    Empty cells and ``NaN`` are missing values; a column of ``True`` and
    ``False`` is 0 and 1. A non-numeric cell or an infinite value is an error
    naming the file, the column and the row (data rows counted from 1, the
    header not counted). A repeated column name, and a first line that is one
    column holding another separator (``a;b``), are refused when the source
    is made. A row with more or fewer
    fields than the header is an error naming the line (counted from 1, the
    header is line 1); the first pass over the file checks every line
    (``emix.sources.csvfields``). The file must not change while the
    source uses it: its size, modification time and first and last bytes are
    checked at the start and the end of every pass
    (:class:`~emix.exceptions.DataChangedError`).

    Examples
    --------
    >>> import pandas as pd
    >>> import emix
    >>> table = pd.DataFrame(emix.datasets.load_faithful(), columns=["eruptions", "waiting"])
    >>> table["w"] = 1.0
    >>> table.loc[:9, "w"] = 2.0                     # the first ten rows count twice
    >>> table.to_csv("faithful.csv", index=False)
    >>> source = emix.CSVSource("faithful.csv", weights="w", chunk_rows=50)
    >>> source.columns, source.n_samples, source.total_weight
    (('eruptions', 'waiting'), 272, 282.0)
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(source)
    >>> round(gm.log_likelihood_, 3)
    -1177.39
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
        self.sep = separator(path)
        self._fields_checked = False
        super().__init__(path, columns, weights, chunk_rows, dtype)

    def _read(self, **kwargs: Any):
        import pandas as pd

        try:
            return pd.read_csv(self.path, sep=self.sep, skipinitialspace=True, **kwargs)
        except pd.errors.EmptyDataError:
            raise InvalidInputError(f"{self.path}: the file is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise self._unparsable(exc) from None

    def _open(self) -> None:
        check_head(self.path, self.sep, self.header)

    def _no_rows(self) -> InvalidInputError:
        if self.header:
            return no_rows(self.path, "the file has a header but no rows")
        return super()._no_rows()

    def _unparsable(self, exc: BaseException) -> InvalidInputError:
        """The error for a file pandas cannot parse, with the first line of pandas' message."""
        return InvalidInputError(f"{self.path}: cannot be parsed as CSV ({first_line(exc)})")

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
        # pandas reads a row with a field too many or too few without a word: the field check
        # reads the same lines, a chunk ahead of the rows handed out; once a whole pass has been
        # checked the file cannot change (its fingerprint is checked), so later passes skip it
        check = None if self._fields_checked else FieldCheck(self.path, self.sep, self.header)
        reader = self._read(chunksize=self.rows, **kwargs)
        try:
            with reader:
                while True:
                    try:
                        frame = next(reader)
                    except StopIteration:
                        break
                    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
                        if check is not None:
                            check.finish()  # a row with the wrong number of fields says more
                        raise self._unparsable(exc) from None
                    if check is not None:
                        check.check(len(frame))
                    frame.columns = [str(c) for c in frame.columns]
                    yield frame
            if check is not None:
                check.finish()
                self._fields_checked = True
        finally:
            if check is not None:
                check.close()
