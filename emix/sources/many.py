"""Many files as one source: :class:`MultiFileSource`, and :func:`file_source` to open one or many.

A data set written as many files (``part-0000.parquet``, ``part-0001.parquet``,
...) is one source whose rows are those of every file, in order. The files
are opened once, as file sources of one kind, and must share one schema (the
same columns, with the same names and types, in the same order). Each pass
reads them one after the other; each file keeps its own fingerprint, and
error messages name the file that holds the row and count the row within it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError
from .base import _SourceBase
from .files import DEFAULT_FILE_ROWS, CSVSource, ParquetSource, _FileSource
from .npy import NpySource

#: File kinds by suffix; a folder is read for the files with these suffixes.
KINDS: dict[str, type[_FileSource]] = {
    ".parquet": ParquetSource,
    ".pq": ParquetSource,
    ".csv": CSVSource,
    ".tsv": CSVSource,
    ".tab": CSVSource,
    ".txt": CSVSource,
    ".npy": NpySource,
}


class MultiFileSource(_SourceBase):
    """The rows of several file sources, one file after the other, as one source.

    Parameters
    ----------
    sources : sequence of file sources
        :class:`~emix.sources.ParquetSource`, :class:`~emix.sources.CSVSource`
        or :class:`~emix.sources.NpySource`, all of one kind, with the same
        feature and weights columns and the same dtype.
    name : str, optional
        Put in front of messages about the whole source (default: the files).

    Attributes
    ----------
    sources : tuple of file sources
    paths : tuple of Path
    columns : tuple of str
        The feature columns (every file's).
    weights : str or None

    Raises
    ------
    InvalidInputError
        No sources, sources of different kinds, or files whose schemas differ
        (the first file that differs from the first file is named, with what
        differs).

    Notes
    -----
    ``n_samples`` is the sum over the files (from the metadata for Parquet
    and ``.npy``, from one scan for CSV). Each pass checks every file's
    fingerprint before its first chunk and after its last
    (:class:`~emix.exceptions.DataChangedError`). The list of files is fixed
    when the source is made: a file added to a folder later is not read.

    Examples
    --------
    :func:`~emix.sources.file_source` makes one from a folder, a pattern or a list:

    >>> import os
    >>> import pandas as pd
    >>> import emix
    >>> from emix.sources import file_source
    >>> X = emix.datasets.load_faithful()
    >>> os.mkdir("parts")
    >>> for i in range(3):
    ...     part = pd.DataFrame(X[100 * i : 100 * (i + 1)], columns=["eruptions", "waiting"])
    ...     part.to_parquet(f"parts/part-{i}.parquet")
    >>> source = file_source("parts")
    >>> source
    MultiFileSource(3 ParquetSource files: parts)
    >>> source.n_samples, [path.name for path in source.paths]
    (272, ['part-0.parquet', 'part-1.parquet', 'part-2.parquet'])
    >>> source.locate(150)                      # row 150 is row 50 of the second file
    (1, 50)
    """

    def __init__(self, sources: Sequence[_FileSource], *, name: str | None = None) -> None:
        self.sources = tuple(sources)
        if not self.sources:
            raise InvalidInputError("a MultiFileSource needs at least one file")
        first = self.sources[0]
        for other in self.sources[1:]:
            _check_same(first, other)
        self.paths = tuple(s.path for s in self.sources)
        self.columns = first.columns
        self.weights = first.weights
        self._name = name
        self._first: np.ndarray | None = None
        # rows of each file where known (Parquet and .npy from the file, CSV after one pass)
        self._rows: list[int | None] = [_known_rows(s) for s in self.sources]

    @property
    def name(self) -> str:
        if self._name is not None:
            return self._name
        shown = ", ".join(str(p) for p in self.paths[:3])
        more = len(self.paths) - 3
        return shown + (f" and {more} more file(s)" if more > 0 else "")

    def _prefix(self) -> str:
        return self.name

    @property
    def n_features(self) -> int:
        return self.sources[0].n_features

    @property
    def dtype(self) -> np.dtype:
        return self.sources[0].dtype

    @property
    def n_samples(self) -> int:
        if all(r is not None for r in self._rows):
            return int(sum(self._rows))
        return self.summary.n_samples

    def check_unchanged(self) -> None:
        """Raise :class:`~emix.exceptions.DataChangedError` if any of the files changed."""
        for source in self.sources:
            source.check_unchanged()

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Every chunk of every file, in file order: ``(X_chunk, w_chunk)``.

        Yields
        ------
        X_chunk : ndarray of shape (m, n_features)
        w_chunk : ndarray of shape (m,) or None

        Raises
        ------
        InvalidInputError
            Every file is empty (one empty file among others is read as no rows).
        """
        self.check_unchanged()
        for i, source in enumerate(self.sources):
            rows = 0
            for X, w in source.pass_chunks():  # an empty part among others is no error
                yield X, w
                rows += X.shape[0]
            self._rows[i] = rows
        self.check_unchanged()
        if not any(self._rows):
            raise InvalidInputError(f"{self.name}: the files have no rows; give files with data rows")

    def first_chunk(self) -> np.ndarray:
        """The first chunk of rows, shape (m, n_features) (kept after the first call)."""
        if self._first is None:
            for X, _ in self.chunks():
                self._first = np.array(X)
                break
            else:  # pragma: no cover - chunks() raises first
                raise InvalidInputError(f"{self.name}: the files have no rows")
        return self._first

    def locate(self, row: int) -> tuple[int, int]:
        """``(file index, row within that file)`` of the absolute 0-based ``row``.

        Rows past the files whose row counts are known so far are placed in
        the first file whose count is not known yet (the one being read).

        Parameters
        ----------
        row : int
            An absolute row index, from 0.

        Returns
        -------
        (int, int)
            The file's index in ``paths`` and the row within it, from 0.
        """
        start = 0
        for i, count in enumerate(self._rows):
            if count is None or row < start + count:
                return i, row - start
            start += count
        return len(self._rows) - 1, row - (start - (self._rows[-1] or 0))

    def relocate(self, message: str, offset: int) -> str:
        """A chunk-relative message in terms of the file that holds the chunk (its name, its rows).

        Parameters
        ----------
        message : str
            A message naming ``row i`` and ``column j`` of a chunk.
        offset : int
            Absolute index of the chunk's first row.

        Returns
        -------
        str
        """
        i, local = self.locate(offset)
        return self.sources[i].relocate(message, local)

    def __repr__(self) -> str:
        return f"MultiFileSource({len(self.sources)} {type(self.sources[0]).__name__} files: {self.name})"


def _known_rows(source: _FileSource) -> int | None:
    if isinstance(source, (ParquetSource, NpySource)):
        return source.n_samples
    return source.rows_read


def _check_same(first: _FileSource, other: _FileSource) -> None:
    """Raise :class:`InvalidInputError` naming ``other`` and what differs from ``first``."""
    if type(other) is not type(first):
        raise InvalidInputError(
            f"{other.path}: a {type(other).__name__} among {type(first).__name__} files "
            f"(the first is {first.path}); the files of one source must be of one kind"
        )
    a, b = dict(first.schema()), dict(other.schema())
    how = None
    if list(a) != list(b):
        missing = [c for c in a if c not in b]
        extra = [c for c in b if c not in a]
        if missing:
            how = f"column {missing[0]!r} is missing"
        elif extra:
            how = f"it has column {extra[0]!r}, which the first has not"
        else:
            how = f"its columns are in another order ({', '.join(b)})"
    else:
        typed = [c for c in a if a[c] != b[c]]
        if typed:
            how = f"column {typed[0]!r} is {b[typed[0]]} here but {a[typed[0]]} there"
    if how is None and (other.columns, other.weights) != (first.columns, first.weights):
        how = (
            f"it was opened with columns {list(other.columns)} and weights {other.weights!r}, the first "
            f"with {list(first.columns)} and {first.weights!r}"
        )
    if how is None and other.dtype != first.dtype:
        how = f"its chunks are {other.dtype} but those of the first are {first.dtype}"
    if how is not None:
        raise InvalidInputError(
            f"{other.path}: its columns differ from those of {first.path}: {how}; every file of "
            "one source needs the same columns, with the same names and types, in the same order"
        )


def expand_paths(spec: Any) -> list[Path]:
    """The files named by ``spec``: a path, a folder, a glob pattern or a list of paths.

    A folder gives its files with a data suffix (``.parquet``, ``.pq``,
    ``.csv``, ``.tsv``, ``.tab``, ``.txt``, ``.npy``), a glob pattern the files
    it matches, both sorted by name (hidden files, starting with ``.``, left
    out). A list gives its paths in its order, each expanded the same way. A
    path that does not exist and is not a pattern is returned as it is (the
    source then says it does not exist).

    Raises
    ------
    InvalidInputError
        A folder with no data files, a pattern that matches no file, an empty list.
    """
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise InvalidInputError("no files given: the list of paths is empty")
        return [p for item in spec for p in expand_paths(item)]
    path = Path(spec)
    if path.is_dir():
        found = sorted(
            p
            for p in path.iterdir()
            if p.suffix.lower() in KINDS and not p.name.startswith(".") and p.is_file()
        )
        if not found:
            raise InvalidInputError(
                f"{path}: the folder holds no data files (suffixes {', '.join(sorted(KINDS))})"
            )
        return found
    if not path.exists() and any(c in str(spec) for c in "*?["):
        found = sorted(Path(p) for p in glob.glob(os.fspath(spec)) if Path(p).is_file())
        if not found:
            raise InvalidInputError(f"{spec}: no file matches this pattern")
        return found
    return [path]


def file_source(
    path: Any,
    columns: Sequence[str] | None = None,
    *,
    weights: str | None = None,
    rows: int = DEFAULT_FILE_ROWS,
    header: bool = True,
) -> _FileSource | MultiFileSource:
    """Open one file, or many as one source; the kind is chosen by the files' suffix.

    Parameters
    ----------
    path : str, path-like, or a list of them
        A file, a folder (its data files, sorted by name), a glob pattern
        such as ``"parts/*.parquet"`` (the files it matches, sorted), or a
        list of any of these (in the list's order). ``.parquet``/``.pq`` files
        give a :class:`ParquetSource`, ``.npy`` files a :class:`NpySource`,
        other suffixes a :class:`CSVSource`.
    columns : sequence of str, optional
        Feature columns; default every column but ``weights``.
    weights : str, optional
        Column of non-negative sample weights.
    rows : int, default=65536
        Rows per chunk.
    header : bool, default=True
        Whether CSV files start with column names.

    Returns
    -------
    ParquetSource, CSVSource or NpySource
        For a single file.
    MultiFileSource
        For several (all of one kind, with one schema).

    Raises
    ------
    InvalidInputError
        Files of several kinds, no file found, or any error of the sources.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> from emix.sources import file_source
    >>> np.savetxt("faithful.csv", emix.datasets.load_faithful(), delimiter=",",
    ...            header="eruptions,waiting", comments="")
    >>> file_source("faithful.csv")
    CSVSource('faithful.csv', columns=['eruptions', 'waiting'])

    A folder, a pattern or a list gives a :class:`MultiFileSource` (see its
    examples).
    """
    paths = expand_paths(path)
    kinds = {KINDS.get(p.suffix.lower(), CSVSource) for p in paths}
    if len(kinds) > 1:
        suffixes = sorted({p.suffix.lower() or "(none)" for p in paths})
        shown = "the files given" if isinstance(path, (list, tuple)) else str(path)
        raise InvalidInputError(
            f"{shown}: the files are of several kinds ({', '.join(suffixes)}); a source reads files "
            "of one kind: choose them with a pattern such as 'folder/*.parquet'"
        )
    sources = [_open_one(p, columns, weights, rows, header) for p in paths]
    if len(sources) == 1:
        return sources[0]
    name = None if isinstance(path, (list, tuple)) else str(path)
    return MultiFileSource(sources, name=name)


def _open_one(path: Path, columns, weights, rows: int, header: bool) -> _FileSource:
    kind = KINDS.get(path.suffix.lower(), CSVSource)
    if kind is ParquetSource:
        return ParquetSource(path, columns, weights=weights, batch_rows=rows)
    if kind is NpySource:
        return NpySource(path, columns, weights=weights, chunk_rows=rows)
    return CSVSource(path, columns, weights=weights, chunk_rows=rows, header=header)
