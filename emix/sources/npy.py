"""A ``.npy`` file, memory-mapped: :class:`NpySource`.

The array is mapped with ``numpy.load(mmap_mode="r")``: a pass reads the
pages it touches, the operating system keeps or drops them, and memory stays
near one chunk whatever the file's size. Chunks are views of the mapping
when the file holds float64 or float32 in the machine's byte order and every
column is used in order; otherwise each chunk is a converted copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..exceptions import InputTypeError, InvalidInputError
from .files import DEFAULT_FILE_ROWS, _FileSource
from .tables import infinite, no_rows

_MAGIC = b"\x93NUMPY"


class NpySource(_FileSource):
    """A ``.npy`` file of shape (n_samples, n_features), memory-mapped and read in row chunks.

    Parameters
    ----------
    path : str or path-like
        A file written by ``numpy.save``: a 2-D array of real numbers
        (float, integer or bool), or a 1-D array, read as one column.
    columns : sequence of str, optional
        Feature columns by name, in this order: the columns of a ``.npy``
        file are named ``x0, x1, ...`` (as by ``emix.tables`` and the
        command line). Default: every column but ``weights``.
    weights : str, optional
        A column of non-negative sample weights (e.g. ``"x3"``), not a feature.
    chunk_rows : int, default=65536
        Rows per chunk.
    dtype : float dtype, optional
        dtype of the chunks. Default: the file's for float32 and float64
        (chunks are then views of the mapping), else float64.

    Attributes
    ----------
    shape : tuple of int
        The shape of the array in the file, ``(n_samples, n_columns)``.

    Notes
    -----
    NaN is a missing value. An infinite value or a bad weight is an error
    naming the file, the column and the row (counted from 1). Complex,
    object, string and structured arrays, and arrays of more than two
    dimensions, are refused when the source is made. The file must not
    change while the source uses it (a :class:`~emix.exceptions.DataChangedError`
    is raised between passes); a file truncated *during* a pass may crash the
    process, as any memory-mapped file may.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> np.save("faithful.npy", emix.datasets.load_faithful())
    >>> source = emix.NpySource("faithful.npy", chunk_rows=100)
    >>> source
    NpySource('faithful.npy', shape=(272, 2))
    >>> source.columns, source.dtype, source.first_chunk().shape
    (('x0', 'x1'), dtype('float64'), (100, 2))
    """

    def __init__(
        self,
        path: str | os.PathLike,
        columns: Sequence[str] | None = None,
        *,
        weights: str | None = None,
        chunk_rows: int = DEFAULT_FILE_ROWS,
        dtype: Any = None,
    ) -> None:
        super().__init__(path, columns, weights, chunk_rows, dtype)
        names = self._column_names()
        self._index = np.array([names.index(c) for c in self.columns], dtype=np.intp)
        self._all_in_order = self._index.tolist() == list(range(len(names)))
        self._w_index = None if weights is None else names.index(weights)

    def _map(self) -> np.ndarray:
        """The array of the file, memory-mapped (read-only), always 2-D."""
        with open(self.path, "rb") as fh:
            if fh.read(len(_MAGIC)) != _MAGIC:
                raise InvalidInputError(
                    f"{self.path}: not a .npy file (it does not start with the .npy magic bytes); "
                    "write arrays with numpy.save"
                )
        try:
            arr = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            if "Python objects" in str(exc) or "pickled" in str(exc):
                raise InputTypeError(
                    f"{self.path}: the array holds Python objects (dtype object); emix reads arrays "
                    "of real numbers: convert it with X.astype(float) and save it again"
                ) from None
            raise InvalidInputError(f"{self.path}: cannot be read as .npy ({exc})") from None
        except OSError as exc:
            raise InvalidInputError(f"{self.path}: cannot be read as .npy ({exc})") from None
        return arr[:, None] if arr.ndim == 1 else arr

    def _open(self) -> None:
        arr = self._map()
        if arr.ndim != 2:
            raise InvalidInputError(
                f"{self.path}: the array has shape {arr.shape}; expected 2-D (n_samples, n_features) "
                "or 1-D (one feature): reshape it before saving"
            )
        kind = arr.dtype.kind
        if kind == "c":
            raise InputTypeError(
                f"{self.path}: the array is complex ({arr.dtype}); emix fits real-valued data only"
            )
        if kind not in "biuf":
            raise InputTypeError(
                f"{self.path}: the array has dtype {arr.dtype}, not numbers; emix reads arrays of "
                "real numbers (float, integer or bool)"
            )
        self.shape = tuple(int(s) for s in arr.shape)
        self._file_dtype = arr.dtype

    def _chunk_dtype(self, requested: Any) -> np.dtype:
        if requested is not None:
            return np.dtype(requested)
        return np.dtype(np.float32 if self._file_dtype == np.float32 else np.float64)

    def _column_names(self) -> list[str]:
        return [f"x{j}" for j in range(self.shape[1])]

    def schema(self) -> tuple[tuple[str, str], ...]:
        """``(name, dtype)`` of every column of the array."""
        return tuple((name, str(self._file_dtype)) for name in self._column_names())

    @property
    def n_samples(self) -> int:
        return self.shape[0]

    def _read_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Views (or converted copies) of the mapping, ``rows`` rows at a time."""
        arr = self._map()
        view = self._all_in_order and arr.dtype == self._dtype
        for start in range(0, self.shape[0], self.rows):
            block = np.asarray(arr[start : start + self.rows])  # a view, as an ndarray not a memmap
            X = block if view else np.asarray(block[:, self._index], dtype=self._dtype)
            bad = np.isinf(X)
            if bad.any():
                i, j = (int(v) for v in np.argwhere(bad)[0])
                raise infinite(self.path, self.columns[j], start + i + 1)
            w = None
            if self._w_index is not None:
                w = np.asarray(block[:, self._w_index], dtype=self._dtype)
                wrong = np.isnan(w) | (w < 0) | np.isinf(w)
                if wrong.any():
                    i = int(np.flatnonzero(wrong)[0])
                    raise InvalidInputError(
                        f"{self.path}: weights column {self.weights!r} has {float(w[i])!r} in row "
                        f"{start + i + 1}; weights must be non-negative numbers"
                    )
            yield X, w

    def first_chunk(self) -> np.ndarray:
        """The first chunk of rows, shape (m, n_features): a copy, kept after the first call."""
        if self._first is None:
            if self.shape[0] == 0:
                raise self._no_rows()
            for X, _ in self.chunks():
                self._first = np.array(X)  # a copy: the mapping is not held between passes
                break
        return self._first

    def _no_rows(self) -> InvalidInputError:
        return no_rows(self.path, f"the array has no rows (shape {self.shape})")

    def __repr__(self) -> str:
        return f"NpySource({str(self.path)!r}, shape={self.shape})"
