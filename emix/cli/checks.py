"""What a table looks like before it is fitted, and the library's errors said in the file's terms.

:func:`warn_about_table` warns (``emix: warning: ...``, once each) about what
is most likely a mistake but might not be: a row-id column read as a feature
(R's ``rownames``, pandas' ``Unnamed: 0``, a column counting ``1..n`` or
``0..n-1``), offering ``--exclude``; a header row that is all numbers (a
file without a header), offering ``--no-header``.

:func:`in_file_terms` rewrites the estimator's messages, which count rows and
columns of the array from 0, as rows of the file counted from 1 (the header
not counted) and columns by name, with the file in front: ``X has value -1.0
at row 0, column 1`` becomes ``data.csv: X has value -1.0 at row 1, column
'visits'``.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import EmixWarning, InputTypeError, InvalidInputError
from ..sources import relocate_message
from .errors import Failure

#: column names that are row ids, not features (lower case)
ID_NAMES = {"", "rownames", "row.names", "row_names", "unnamed: 0", "index", "id", "rowid", "row_id"}


def id_column_reason(name: str, values: np.ndarray) -> str | None:
    """Why column ``name`` looks like a row id (its name, or values ``1..n`` / ``0..n-1``), or None.

    Parameters
    ----------
    name : str
        The column's name.
    values : ndarray of shape (n,)
        Its values (NaN for missing).

    Returns
    -------
    str or None
    """
    if name.strip().lower() in ID_NAMES:
        return f"its name is {name!r}"
    n = values.shape[0]
    if n >= 3:
        for start in (1, 0):
            if np.array_equal(values, np.arange(start, start + n, dtype=np.float64)):
                return f"it counts {start}..{start + n - 1}"
    return None


def warn_about_table(data: Path, table: Any, *, header: bool, chosen: bool) -> None:
    """Warn about a row-id column and a numeric header row (see the module docstring).

    Parameters
    ----------
    data : Path
        The file, for the message.
    table : Table
        What :func:`emix.sources.tables.read_table` returned.
    header : bool
        Whether the file was read with a header row.
    chosen : bool
        Whether the columns were named with ``--columns`` (then no id warning).
    """
    if not chosen:
        for j, name in enumerate(table.columns):
            reason = id_column_reason(name, table.X[:, j])
            if reason is not None:
                warnings.warn(
                    f"{data}: column {name!r} looks like a row id ({reason}), not a feature; leave it "
                    f"out with --exclude {_quoted(name)} (or name the features with --columns)",
                    EmixWarning,
                    stacklevel=2,
                )
    if header and all(_is_number(c) for c in table.columns):
        first = ", ".join(table.columns[:4]) + (", ..." if len(table.columns) > 4 else "")
        warnings.warn(
            f"{data}: the header row ({first}) is all numbers, so the file probably has no header and "
            "its first row of data was read as column names; if so, add --no-header",
            EmixWarning,
            stacklevel=2,
        )


def _quoted(name: str) -> str:
    """``name`` as the shell needs it after ``--exclude``."""
    return name if re.fullmatch(r"[\w.,-]+", name) else repr(name)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def in_file_terms(
    message: str,
    data: Path,
    columns: Sequence[str],
    *,
    weights: str | None = None,
    labels: str | None = None,
) -> str:
    """An estimator's message about an array in terms of the file it was read from.

    Parameters
    ----------
    message : str
        Rows and columns counted from 0, as the library counts them.
    data : Path
        The file, put in front.
    columns : sequence of str
        The names of the array's columns, in order.
    weights, labels : str, optional
        The ``--weights`` and ``--labels`` columns, named where the message
        says ``sample_weight`` or ``y``.

    Returns
    -------
    str
        Rows counted from 1 (the header not counted), columns by name.
    """
    if weights is not None:
        message = message.replace("sample_weight", f"the --weights column {weights!r}")
    if labels is not None:
        message = re.sub(r"^y has", f"the --labels column {labels!r} has", message)
    if message.startswith(f"{data}:"):
        return message
    return relocate_message(message, 0, name=str(data), first_row=1, columns=list(columns))


@contextlib.contextmanager
def in_file(
    data: Path, columns: Sequence[str], *, weights: str | None = None, labels: str | None = None
) -> Iterator[None]:
    """Re-raise the data errors of the block as :class:`Failure` in the file's terms (:func:`in_file_terms`)."""
    try:
        yield
    except (InvalidInputError, InputTypeError) as exc:
        raise Failure(in_file_terms(str(exc), data, columns, weights=weights, labels=labels)) from None
