"""Reading and writing tables of numbers: CSV, TSV, Parquet and ``.npy``.

Used by the ``emix`` command; needs the ``cli`` extra (pandas, pyarrow),
imported when a function is called. Errors are :class:`InvalidInputError`
(or :class:`InputTypeError` for text in a numeric column) with one line that
names the file, the column and, where it helps, the row.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InputTypeError, InvalidInputError
from .csvfields import check_fields, check_separator, first_records

__all__ = ["Table", "read_table", "write_table", "table_format"]

_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npy": "npy",
}


#: Suffixes of compressed text files, which pandas reads through (``data.tsv.gz`` is a TSV file).
COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")


def data_suffix(path: str | os.PathLike) -> str:
    """The suffix that says the file's format, lower case: ``.tsv`` for ``data.TSV.gz``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) > 1 and suffixes[-1] in COMPRESSED:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def table_format(path: str | os.PathLike) -> str:
    """``'csv'``, ``'tsv'``, ``'parquet'`` or ``'npy'`` from the file's suffix (default csv).

    A compression suffix (``.gz``, ``.bz2``, ``.xz``, ``.zst``, ``.zip``) is
    looked through: ``data.tsv.gz`` is a TSV file.
    """
    return _FORMATS.get(data_suffix(path), "csv")


def separator(path: str | os.PathLike) -> str:
    """The field separator of a CSV or TSV file: a tab for ``.tsv`` and ``.tab``, else a comma."""
    return "\t" if table_format(path) == "tsv" else ","


# -- the messages the readers share: problem, place (file, column, row from 1), fix -------------------------
_THOUSANDS_OR_DECIMAL_COMMA = re.compile(
    r"^\s*[-+]?\d+([,.]\d{3})*[,]\d+\s*$|^\s*[-+]?\d{1,3}([.]\d{3})+\s*$"
)


def not_numeric(path: Path, name: str, row: int, value: Any) -> InputTypeError:
    """The error for a cell that is not a number: the file, the column, the row (from 1), the value, the fix."""
    if isinstance(value, str) and _THOUSANDS_OR_DECIMAL_COMMA.match(value):
        fix = (
            "numbers need '.' as the decimal point and no thousands separator: rewrite the file so "
            "(e.g. pandas.read_csv(path, decimal=',', thousands='.').to_csv(...))"
        )
    elif isinstance(value, (list, tuple, dict, np.ndarray)):
        return nested(path, name, type(value).__name__)
    else:
        fix = "choose numeric columns with columns= (--columns on the command line) or encode it as numbers"
    return InputTypeError(f"{path}: column {name!r} is not numeric (row {row} holds {value!r}); {fix}")


def nested(path: Path, name: str, kind: str) -> InputTypeError:
    """The error for a column of lists, structs or maps (one value per cell is needed)."""
    return InputTypeError(
        f"{path}: column {name!r} holds lists or records ({kind}), not one number per cell; spread them over "
        "columns of their own, or leave the column out (columns=, --columns on the command line)"
    )


def dates(path: Path, name: str, kind: Any) -> InputTypeError:
    """The error for a column of dates, times or durations."""
    return InputTypeError(
        f"{path}: column {name!r} holds dates or times ({kind}), not numbers; convert it to a "
        "number with a meaning (e.g. days since a date) or leave it out"
    )


def infinite(path: Path, name: str, row: int) -> InvalidInputError:
    """The error for an infinite value (or one too large for a float) in a column."""
    return InvalidInputError(
        f"{path}: column {name!r} has an infinite value in row {row} (a number too large for a "
        "float, or inf); replace it or drop the row"
    )


def no_rows(path: Path, what: str = "the file has no rows") -> InvalidInputError:
    """The error for a file with columns but no data rows."""
    return InvalidInputError(f"{path}: {what}; give a file with data rows")


def check_names(path: Path, names: Sequence[str]) -> None:
    """Refuse a column name given twice (pandas would rename the second ``a.1`` without a word).

    Raises
    ------
    InvalidInputError
        Naming the name and the two columns, counted from 1.
    """
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name == "":
            continue
        if name in seen:
            raise InvalidInputError(
                f"{path}: column name {name!r} is repeated (columns {seen[name] + 1} and {j + 1}); "
                "give every column a name of its own"
            )
        seen[name] = j


@dataclasses.dataclass(frozen=True)
class Table:
    """Numeric columns read from a file.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_columns)
        float64, in the file's row order.
    columns : tuple of str
        Names of the columns of ``X``.
    ids : ndarray of shape (n_rows,) or None
        The id column, if one was asked for.
    id_name : str or None
    """

    X: np.ndarray
    columns: tuple[str, ...]
    ids: np.ndarray | None = None
    id_name: str | None = None
    extra: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or its type's name when the message is empty."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_data_file(path: Path) -> None:
    """Raise :class:`InvalidInputError` if ``path`` is missing, a directory or empty."""
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file")
    if path.is_dir():
        raise InvalidInputError(f"{path}: is a directory, not a data file")
    if path.stat().st_size == 0:
        raise InvalidInputError(f"{path}: the file is empty")


def choose_columns(
    path: Path, available: Sequence[str], columns: Sequence[str] | None, exclude: Sequence[str] = ()
) -> list[str]:
    """The feature columns: ``columns`` checked against the file's, or all but ``exclude``.

    Raises
    ------
    InvalidInputError
        A named column is not in the file, is named twice, or nothing is left.
    """
    if columns is None:
        chosen = [c for c in available if c not in exclude]
    else:
        chosen = [str(c) for c in columns]
        missing = [c for c in chosen if c not in available]
        if missing:
            raise InvalidInputError(
                f"{path}: column {missing[0]!r} not found; columns are: {', '.join(available)}"
            )
        if len(set(chosen)) != len(chosen):
            raise InvalidInputError(f"{path}: a column is named twice in {', '.join(chosen)}")
    if not chosen:
        raise InvalidInputError(f"{path}: no data columns to use")
    return chosen


def check_head(path: Path, sep: str, header: bool) -> None:
    """Check a CSV file's first lines: the separator its suffix says, and no repeated column name.

    Raises
    ------
    InputTypeError
        The first line is one column holding another separator (``;`` in a ``.csv``).
    InvalidInputError
        A column name given twice in the header.
    """
    records = first_records(path, sep)
    check_separator(path, sep, records)
    if header and records:
        check_names(path, records[0])


def _read_frame(path: Path, header: bool):
    import pandas as pd

    check_data_file(path)
    fmt = table_format(path)
    try:
        if fmt == "npy":
            arr = np.load(path, allow_pickle=False)
            if arr.dtype.names is not None:
                raise InvalidInputError(
                    f"{path}: a structured array (fields {', '.join(arr.dtype.names)}); save a plain 2-D "
                    "array of numbers, or the table as CSV or Parquet"
                )
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2:
                raise InvalidInputError(f"{path}: expected a 2-D array, got shape {arr.shape}")
            return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        if fmt == "parquet":
            import pyarrow.parquet as pq

            check_names(path, pq.read_schema(path).names)
            return pd.read_parquet(path)
        return _read_csv(path, separator(path), header)
    except (InvalidInputError, InputTypeError):
        raise
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot be parsed as {fmt.upper()} ({first_line(exc)})") from None
    except (ValueError, OSError, ImportError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise InvalidInputError(f"{path}: cannot be read as {fmt.upper()} ({first_line(exc)})") from None


def _read_csv(path: Path, sep: str, header: bool):
    """The whole CSV/TSV file as a DataFrame, every row checked to have one field per column.

    pandas fills a missing field with NaN and may read a row with an extra
    field as a valid row; :func:`~emix.sources.csvfields.check_fields` names
    the line instead. It also runs when pandas cannot parse the file, since a
    row with the wrong number of fields is the likeliest cause.
    """
    import pandas as pd

    check_head(path, sep, header)
    error: Exception | None = None
    try:
        frame = pd.read_csv(path, sep=sep, header=0 if header else None, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        error = exc
    check_fields(path, sep, header)
    if error is not None:  # the fields were fine: pandas' own message
        raise error
    return frame


def read_table(
    path: str | os.PathLike,
    columns: Sequence[str] | None = None,
    *,
    id_column: str | None = None,
    header: bool = True,
    allow_missing: bool = False,
    extra: Sequence[str] = (),
    extra_with_missing: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Table:
    """Read numeric columns from a CSV, TSV, Parquet or ``.npy`` file.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.txt`` (comma), ``.tsv``/``.tab`` (tab), ``.parquet``/``.pq``
        or ``.npy`` (columns named ``x0, x1, ...``); other suffixes are read as CSV.
    columns : sequence of str, optional
        Columns to use, in this order. Default: every column except ``id_column``.
    id_column : str, optional
        A column carried along unchanged (e.g. to label predictions).
    header : bool, default=True
        Whether a CSV/TSV file has a header row; without one the columns are
        named ``x0, x1, ...``.
    allow_missing : bool, default=False
        Read empty cells and ``NaN`` as missing values (NaN in ``X``) instead
        of refusing them. Boolean columns are read as 0 and 1.
    extra : sequence of str, default=()
        Further numeric columns to read into ``Table.extra`` (complete, never
        part of ``X``), e.g. row weights.
    extra_with_missing : sequence of str, default=()
        Like ``extra``, but empty cells are allowed (read as NaN), e.g. labels
        known for some rows only.
    exclude : sequence of str, default=()
        Columns left out of the default choice (all columns), e.g. a row id;
        each must be in the file.

    Returns
    -------
    Table

    Raises
    ------
    InvalidInputError
        Missing, empty or unparsable file; a CSV/TSV row with more or fewer
        fields than the header (the line is named, counted from 1 with the
        header as line 1); a column name given twice; a named column not
        found; no rows; a missing value (the column and row are named).
    InputTypeError
        A non-numeric column (named, with its first offending value and row),
        a column of dates, times or lists, or a CSV/TSV file whose first line
        is one column holding another separator (which is named).
    """

    path = Path(path)
    df = _read_frame(path, header)
    df.columns = (
        [str(c) for c in df.columns]
        if header or table_format(path) in ("parquet", "npy")
        else [f"x{i}" for i in range(df.shape[1])]
    )
    available = list(df.columns)
    if id_column is not None and id_column not in available:
        raise InvalidInputError(
            f"{path}: id column {id_column!r} not found; columns are: {', '.join(available)}"
        )
    extra_all = [*extra, *extra_with_missing]
    for name in [*extra_all, *exclude]:
        if name not in available:
            raise InvalidInputError(f"{path}: column {name!r} not found; columns are: {', '.join(available)}")
    columns = choose_columns(path, available, columns, exclude=[id_column, *extra_all, *exclude])
    if len(df) == 0:
        csv = table_format(path) in ("csv", "tsv")
        raise no_rows(path, "the file has a header but no rows" if csv else "the file has no rows")
    arrays = [_numeric_column(df, name, path, allow_missing) for name in columns]
    X = np.column_stack(arrays)
    ids = df[id_column].to_numpy() if id_column is not None else None
    extras = {name: _numeric_column(df, name, path, name in extra_with_missing) for name in extra_all}
    return Table(X=X, columns=tuple(columns), ids=ids, id_name=id_column, extra=extras)


def _numeric_column(df: Any, name: str, path: Path, allow_missing: bool) -> np.ndarray:
    """One column as float64, with errors naming the column and the row (1-based data rows)."""
    import pandas as pd

    col = df[name]
    if pd.api.types.is_complex_dtype(col):
        raise InputTypeError(
            f"{path}: column {name!r} is complex ({col.dtype}); emix fits real-valued data only: "
            "write the real part, the imaginary part or the modulus as columns of their own"
        )
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        raise dates(path, name, col.dtype)
    if pd.api.types.is_bool_dtype(col):  # booleans are 0 and 1, as in a NumPy array (nulls missing)
        col = col.astype("Float64")
    elif not pd.api.types.is_numeric_dtype(col):
        converted = pd.to_numeric(col, errors="coerce")
        bad = converted.isna() & col.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise not_numeric(path, name, row + 1, col.iloc[row])
        col = converted
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    nan = np.isnan(values)
    if nan.any() and not allow_missing:
        raise InvalidInputError(
            f"{path}: column {name!r} has a missing value in row {int(np.flatnonzero(nan)[0]) + 1}; "
            "remove or fill missing values first"
        )
    if np.isinf(values).any():
        raise infinite(path, name, int(np.flatnonzero(np.isinf(values))[0]) + 1)
    return values


def write_table(frame: Any, path: str | os.PathLike | None) -> str | None:
    """Write a pandas DataFrame atomically as CSV, TSV or Parquet (by suffix).

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str, path-like or None
        ``None`` returns the CSV text instead of writing a file.

    Returns
    -------
    str or None
        The CSV text when ``path`` is None.
    """
    from .._files import atomic_write_bytes

    if path is None:
        return frame.to_csv(index=False, float_format="%.10g")
    fmt = table_format(path)
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        data = buf.getvalue()
    elif fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, frame.to_numpy(dtype=np.float64), allow_pickle=False)
        data = buf.getvalue()
    else:
        sep = "\t" if fmt == "tsv" else ","
        data = frame.to_csv(index=False, sep=sep, float_format="%.17g").encode("utf-8")
    atomic_write_bytes(path, data)
    return None
