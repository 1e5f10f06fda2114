"""``emix sample``: draw rows from a fitted mixture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .files import check_outputs, emit_table, load_model
from .options import ModelArg, SeedOpt

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix sample model.emix -n 1000 -o synthetic.csv\n\n"
    "  emix sample model.emix -n 5 --seed 1"
)


def sample(
    model_path: ModelArg,
    n: Annotated[int, typer.Option("-n", "--n-samples", help="Number of rows to draw.", min=1)] = 100,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="CSV, TSV, Parquet or .npy (default: CSV on stdout)."),
    ] = None,
    seed: SeedOpt = 0,
) -> None:
    """Draw rows from a fitted mixture, in the data's units.

    Rows come grouped by component; the 'component' column says which one
    drew each row (a .npy output holds the features only).
    """
    import pandas as pd

    from ..sources.tables import table_format

    check_outputs(output)
    model, cols, scaling, _ = load_model(model_path)
    model.set_params(random_state=seed)
    Z, y = model.sample(n)
    X = scaling.to_data(Z)
    frame = pd.DataFrame(X, columns=cols)
    if output is None or table_format(output) != "npy":
        frame["component"] = y
    emit_table(frame, output)
