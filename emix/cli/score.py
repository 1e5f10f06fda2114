"""``emix score``: the mean log-likelihood per row of a table under a model."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from .console import out
from .files import load_model, model_step, read_for_model
from .options import ColumnsOpt, DataArg, HeaderOpt, ModelArg

EPILOG = "[bold]Examples[/]\n\n  emix score model.emix test.csv\n\n  emix score model.emix test.csv --json"


def score(
    model_path: ModelArg,
    data: DataArg,
    columns: ColumnsOpt = None,
    header: HeaderOpt = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object instead.")] = False,
) -> None:
    """Print the mean log-likelihood per row of DATA under the model.

    Log-densities are in the data's own units: a standardisation stored at
    fit time is undone (its Jacobian included), so scores of models fitted
    with and without --standardize can be compared.
    """
    model, stored, scaling, _ = load_model(model_path)
    table = read_for_model(data, model, stored, columns, None, header)
    with model_step(data, table):
        per_row = model.score_samples(scaling.to_model(table.X)) - scaling.log_jacobian
    mean = float(per_row.mean())
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "mean_log_likelihood": mean,
                    "n_rows": int(per_row.size),
                    "total_log_likelihood": float(per_row.sum()),
                }
            )
            + "\n"
        )
    else:
        out().print(
            f"mean log-likelihood per row: {mean:.6f}  ({per_row.size} rows, total {per_row.sum():.6f})"
        )
