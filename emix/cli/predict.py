"""``emix predict``: label each row of a table with its most probable component."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .files import check_outputs, emit_table, load_model, model_step, read_for_model
from .options import ColumnsOpt, DataArg, HeaderOpt, IdOpt, ModelArg

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix predict model.emix new.csv -o labels.csv\n\n"
    "  emix predict model.emix new.parquet --proba --id customer_id -o out.parquet\n\n"
    "  emix predict model.emix new.csv | head"
)


def predict(
    model_path: ModelArg,
    data: DataArg,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="CSV, TSV or Parquet file (default: CSV on stdout).")
    ] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Also write the responsibilities p(k | x).")] = False,
    columns: ColumnsOpt = None,
    id_column: IdOpt = None,
    header: HeaderOpt = True,
) -> None:
    """Label each row with its most probable component, in the input's row order.

    The model's columns are found by name (or by position when the file has
    exactly as many data columns); a standardisation stored at fit time is
    applied. Output columns: the --id column if given, 'label', and with
    --proba one 'proba_K' column per component.
    """
    import pandas as pd

    check_outputs(output)
    model, stored, scaling, _ = load_model(model_path)
    table = read_for_model(data, model, stored, columns, id_column, header)
    Z = scaling.to_model(table.X)
    out: dict[str, Any] = {}
    if table.id_name is not None:
        out[table.id_name] = table.ids
    with model_step(data, table):
        out["label"] = model.predict(Z)
        resp = model.predict_proba(Z) if proba else None
    if resp is not None:
        for k in range(resp.shape[1]):
            out[f"proba_{k}"] = resp[:, k]
    emit_table(pd.DataFrame(out), output)
