"""The arguments and options several commands share, their types, and the parsing of ``--columns``."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from .errors import Failure


def covariance_names() -> list[str]:
    """The covariance models ``--covariance`` and ``--models`` accept.

    Returns
    -------
    list of str
        The four scikit-learn names and the 14 mclust names (EII ... VVV).
    """
    from ..families.gaussian import COVARIANCE_MODELS

    return list(COVARIANCE_MODELS)


# the four scikit-learn names and the 14 mclust names (EII ... VVV)
Covariance = enum.Enum("Covariance", {name: name for name in covariance_names()}, type=str)

DataArg = Annotated[Path, typer.Argument(help="CSV, TSV, Parquet or .npy file.", show_default=False)]
ModelArg = Annotated[Path, typer.Argument(help="Model file written by 'emix fit'.", show_default=False)]
ColumnsOpt = Annotated[
    str | None, typer.Option("--columns", "-c", help="Comma-separated columns to use (default: all).")
]
ExcludeOpt = Annotated[
    str | None,
    typer.Option(
        "--exclude", help="Comma-separated columns to leave out (e.g. a row id), when --columns is not given."
    ),
]
IdOpt = Annotated[
    str | None, typer.Option("--id", help="Column copied unchanged to the output (e.g. a row id).")
]
HeaderOpt = Annotated[
    bool, typer.Option("--header/--no-header", help="Whether a CSV/TSV file starts with column names.")
]
CovarianceOpt = Annotated[Covariance, typer.Option("--covariance", help="Covariance model.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed.")]


def parse_exclude(exclude: str | None, columns: str | None) -> list[str]:
    """The column names of ``--exclude a,b`` (empty when not given).

    Raises
    ------
    Failure
        When given together with ``--columns`` or naming no column.
    """
    if exclude is None:
        return []
    if columns is not None:
        raise Failure("--exclude and --columns cannot be combined; name the features with --columns only")
    names = [c.strip() for c in exclude.split(",") if c.strip()]
    if not names:
        raise Failure("--exclude is empty; give names separated by commas, e.g. --exclude id")
    return names


def parse_columns(columns: str | None) -> list[str] | None:
    """The column names of ``--columns a,b``.

    Parameters
    ----------
    columns : str or None
        The option's value.

    Returns
    -------
    list of str or None
        The names, or None (all columns) when the option was not given.

    Raises
    ------
    Failure
        When the option names no column.
    """
    if columns is None:
        return None
    names = [c.strip() for c in columns.split(",") if c.strip()]
    if not names:
        raise Failure("--columns is empty; give names separated by commas, e.g. --columns a,b")
    return names


ImageShapeOpt = Annotated[
    str | None,
    typer.Option("--image-shape", help="Draw each row as an image of HxW pixels, e.g. 8x8 for digits."),
]


def parse_image_shape(text: str | None) -> tuple[int, int] | None:
    """``(H, W)`` from ``--image-shape HxW``.

    Parameters
    ----------
    text : str or None
        The option's value, e.g. ``8x8``.

    Returns
    -------
    (int, int) or None
        None when the option was not given.

    Raises
    ------
    Failure
        When the value is not two positive whole numbers joined by ``x``.
    """
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        h, w = (int(p) for p in parts)
    except ValueError:
        raise Failure(f"--image-shape must be HxW with two whole numbers, e.g. 8x8; got {text!r}") from None
    if h < 1 or w < 1:
        raise Failure(f"--image-shape must be positive, got {text!r}")
    return h, w
