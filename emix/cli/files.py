"""Model files and data tables: the stored columns and standardisation, reading and writing them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._files import check_destination
from ..exceptions import EmixError
from .checks import in_file, warn_about_table
from .console import err
from .errors import Failure
from .options import parse_columns


class Scaling:
    """``X_model = (X - loc) / scale``; identity when the model was fitted on raw data.

    Parameters
    ----------
    loc, scale : ndarray of shape (D,) or None
        The column means and standard deviations of ``--standardize``; both
        None for a model fitted on raw data.
    """

    def __init__(self, loc: np.ndarray | None, scale: np.ndarray | None) -> None:
        self.loc = loc
        self.scale = scale

    @property
    def active(self) -> bool:
        """Whether the model was fitted on standardised features."""
        return self.loc is not None

    def to_model(self, X: np.ndarray) -> np.ndarray:
        """Data units to the model's units."""
        return X if not self.active else (X - self.loc) / self.scale

    def to_data(self, Z: np.ndarray) -> np.ndarray:
        """The model's units to data units."""
        return Z if not self.active else Z * self.scale + self.loc

    @property
    def log_jacobian(self) -> float:
        """``sum_d ln scale_d``: subtract it from a per-row log-density in model units."""
        return 0.0 if not self.active else float(np.log(self.scale).sum())

    def to_json(self) -> dict[str, list[float]] | None:
        """The form stored in a model file: ``{"loc": [...], "scale": [...]}``, or None."""
        if not self.active:
            return None
        return {"loc": self.loc.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_json(cls, value: Any, d: int, path: Path) -> Scaling:
        """Read what :meth:`to_json` stored, checked against a ``d``-feature model.

        Parameters
        ----------
        value : dict or None
            The stored standardisation.
        d : int
            The model's number of features.
        path : Path
            The model file, for the error message.

        Returns
        -------
        Scaling

        Raises
        ------
        Failure
            When the stored value is malformed or does not fit the model.
        """
        if value is None:
            return cls(None, None)
        try:
            loc = np.asarray(value["loc"], dtype=np.float64)
            scale = np.asarray(value["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise Failure(f"{path}: the stored standardisation is malformed") from None
        finite = np.isfinite(loc).all() and np.isfinite(scale).all()
        if loc.shape != (d,) or scale.shape != (d,) or not finite or not (scale > 0).all():
            raise Failure(f"{path}: the stored standardisation does not fit a {d}-feature model")
        return cls(loc, scale)


def check_outputs(*paths: Path | None) -> None:
    """Refuse, before any work, destinations that cannot be written (see :func:`emix._files.check_destination`).

    Parameters
    ----------
    *paths : Path or None
        The output options; None (not given) and ``""`` are skipped.

    Raises
    ------
    OutputFileError
        For the first destination that is a directory, a device, a FIFO, or
        in a folder that does not exist.
    """
    for path in paths:
        if path is not None and str(path) not in ("", "."):
            check_destination(path)


def load_model(path: Path) -> tuple[Any, list[str], Scaling, dict[str, Any]]:
    """Read a model file written by ``emix fit``.

    Parameters
    ----------
    path : Path
        The model file.

    Returns
    -------
    model : estimator
        The fitted estimator.
    columns : list of str
        The feature names stored at fit time by ``emix fit``, else the model's
        ``feature_names_in_`` (a fit on a data frame), else ``x0, x1, ...``.
    scaling : Scaling
        The standardisation stored at fit time.
    cli : dict
        Everything ``emix fit`` stored (data, n_samples, log-likelihood, BIC, AIC).
    """
    from ..io import load

    model, extra = load(path, return_extra=True)
    cli = extra.get("cli") if isinstance(extra.get("cli"), dict) else {}
    d = int(model.n_features_in_)
    cols = cli.get("columns")
    if not (isinstance(cols, list) and len(cols) == d and all(isinstance(c, str) for c in cols)):
        # a model fitted in Python on a data frame knows its column names (feature_names_in_)
        names = getattr(model, "feature_names_in_", None)
        cols = (
            [str(c) for c in names] if names is not None and len(names) == d else [f"x{i}" for i in range(d)]
        )
    scaling = Scaling.from_json(cli.get("standardize"), d, path)
    return model, cols, scaling, cli


def read_for_model(
    data: Path, model: Any, stored: list[str], columns: str | None, id_column: str | None, header: bool
) -> Any:
    """Read the model's features from ``data``: --columns, else the stored names, else by position.

    Parameters
    ----------
    data : Path
        The data file.
    model : estimator
        The fitted model the features are for.
    stored : list of str
        The feature names stored in the model file.
    columns : str or None
        The ``--columns`` option.
    id_column : str or None
        The ``--id`` column, read alongside.
    header : bool
        Whether a CSV/TSV file starts with column names.

    Returns
    -------
    Table
        What :func:`emix.sources.tables.read_table` returns, with as many
        feature columns as the model has.
    """
    from ..sources.tables import read_table

    chosen = parse_columns(columns)
    d = int(model.n_features_in_)
    if chosen is None:
        try:
            table = read_table(data, stored, id_column=id_column, header=header, allow_missing=True)
        except EmixError as exc:
            if "not found" not in str(exc):
                raise
            table = read_table(data, None, id_column=id_column, header=header, allow_missing=True)
            if table.X.shape[1] != d:
                raise Failure(
                    f"{data}: the model needs the columns {', '.join(stored)} ({d} features), but the file "
                    f"has {', '.join(table.columns)}; choose them with --columns"
                ) from None
    else:
        table = read_table(data, chosen, id_column=id_column, header=header, allow_missing=True)
    if table.X.shape[1] != d:
        raise Failure(f"{data}: {table.X.shape[1]} columns selected, but the model has {d} features")
    warn_about_table(data, table, header=header and _has_header_row(data), chosen=True)
    return table


def _has_header_row(data: Path) -> bool:
    """Whether the file's format has a header row (CSV and TSV)."""
    from ..sources.tables import table_format

    return table_format(data) in ("csv", "tsv")


def model_step(data: Path, table: Any, **names: str | None):
    """The context in which a model works on ``table``: its data errors said in the file's terms.

    Parameters
    ----------
    data : Path
        The file the table was read from.
    table : Table
        The table (its column names name the columns).
    **names : str or None
        ``weights`` and ``labels``: the columns behind ``sample_weight`` and ``y``.

    Returns
    -------
    context manager
        See :func:`.checks.in_file`.
    """
    return in_file(data, table.columns, **names)


def write_model(
    model: Any,
    path: Path,
    columns: Sequence[str],
    scaling: Scaling,
    n: int,
    data: str,
    ll: float,
    bic: float,
    aic: float,
) -> None:
    """Save ``model`` with what the other commands read back (columns, standardisation, statistics).

    Parameters
    ----------
    model : estimator
        The fitted model.
    path : Path
        The model file to write (atomically).
    columns : sequence of str
        The feature names.
    scaling : Scaling
        The standardisation the model was fitted under.
    n : int
        The number of rows fitted.
    data : str
        The data file, as given.
    ll, bic, aic : float
        Log-likelihood, BIC and AIC in data units.
    """
    from ..io import save_model

    extra = {
        "cli": {
            "columns": list(columns),
            "standardize": scaling.to_json(),
            "data": data,
            "n_samples": int(n),
            "log_likelihood": ll,
            "bic": bic,
            "aic": aic,
        }
    }
    save_model(model, path, extra=extra)


def emit_table(frame: Any, output: Path | None) -> None:
    """Write ``frame`` atomically to ``output``, or as CSV to stdout when it is None.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write.
    output : Path or None
        CSV, TSV, Parquet or .npy file; None for CSV on stdout.
    """
    from ..sources.tables import write_table

    text = write_table(frame, output)
    if text is not None:
        sys.stdout.write(text)
    else:
        err().print(f"{len(frame)} rows written to {output}")
