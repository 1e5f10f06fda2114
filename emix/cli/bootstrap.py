"""``emix bootstrap``: standard errors and percentile intervals of a model's parameters."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table as RichTable

from .console import out
from .errors import Failure
from .files import Scaling, load_model, read_for_model
from .options import ColumnsOpt, DataArg, HeaderOpt, ModelArg

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix bootstrap faithful.emix faithful.csv\n\n"
    "  emix bootstrap model.emix data.csv --kind weighted --n-boot 2000 --plot intervals.png\n\n"
    "  emix bootstrap model.emix data.csv --json > se.json"
)


class Kind(str, enum.Enum):
    """The values of ``--kind``."""

    nonparametric = "nonparametric"
    parametric = "parametric"
    weighted = "weighted"


def bootstrap_command(
    model_path: ModelArg,
    data: DataArg,
    n_boot: Annotated[int, typer.Option("--n-boot", "-B", help="Bootstrap replicates.")] = 999,
    kind: Annotated[
        Kind, typer.Option("--kind", help="Resample rows, draw from the model, or weight rows (Dirichlet).")
    ] = Kind.nonparametric,
    level: Annotated[float, typer.Option("--level", help="Coverage of the percentile intervals.")] = 0.95,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (reproducible by default).")] = 0,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Threads over the replicates (-1: all cores).")
    ] = 1,
    columns: ColumnsOpt = None,
    header: HeaderOpt = True,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the intervals (PNG, SVG, PDF).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of rows instead.")] = False,
) -> None:
    """Bootstrap the model on DATA: standard errors and percentile intervals of its parameters.

    Every replicate refits the model from its fitted parameters to resampled
    rows (--kind nonparametric), to rows drawn from the model (parametric), or
    to the rows under random Dirichlet weights (weighted likelihood
    bootstrap); replicates are matched to the model's components by their
    means, so labels do not switch. Means and covariances are shown in the
    data's units (a standardisation stored at fit time is undone).
    """
    from ..uncertainty import bootstrap

    model, stored, scaling, _ = load_model(model_path)
    table = read_for_model(data, model, stored, columns, None, header)
    if not hasattr(model, "means_"):
        raise Failure(
            f"emix bootstrap summarises Gaussian-type mixtures; {type(model).__name__} has no means"
        )
    result = bootstrap(
        model,
        scaling.to_model(table.X),
        n_boot=n_boot,
        kind=kind.value,
        random_state=seed,
        n_jobs=jobs,
        conf_level=level,
        feature_names=stored,
    )
    result = in_data_units(result, scaling)
    if as_json:
        sys.stdout.write(json.dumps(result.rows()) + "\n")
    else:
        console = out()
        console.print(rich_table(result, f"{type(model).__name__} on {data.name}"))
        if plot is not None:
            from ..teach.plot import plot_intervals, save_figure

            save_figure(plot_intervals(result), plot)
            console.print(f"picture written to {plot}")


def in_data_units(result: Any, scaling: Scaling) -> Any:
    """``result`` with its means and covariances in the data's units (unchanged without standardisation).

    Means become ``m * scale + loc`` and covariances ``S_ij * scale_i * scale_j``;
    the standard errors and intervals are recomputed from the transformed replicates.
    """
    if not scaling.active:
        return result
    loc, scale = np.asarray(scaling.loc), np.asarray(scaling.scale)
    outer = np.outer(scale, scale)

    def convert(name: str, values: np.ndarray) -> np.ndarray:
        if name == "means":
            return values * scale + loc
        if name == "covariances":
            return values * outer
        return values

    return type(result).from_replicates(
        result.kind,
        result.n_boot,
        result.conf_level,
        {n: convert(n, v) for n, v in result.estimate.items()},
        {n: convert(n, v) for n, v in result.replicates.items()},
        result.feature_names,
    )


def rich_table(result: Any, title: str) -> RichTable:
    """The standard errors and intervals as a Rich table, one parameter per row."""
    pct = f"{100 * result.conf_level:g}%"
    caption = (
        f"{result.kind} bootstrap, {result.n_replicates} of {result.n_boot} replicates fitted; "
        "components matched to the model's by their means"
    )
    t = RichTable(title=title, caption=caption, title_justify="left", show_edge=False, header_style="bold")
    for head in ("parameter", "estimate", "std. error", f"{pct} lower", f"{pct} upper"):
        t.add_column(head, justify="left" if head == "parameter" else "right")
    for row in result.rows():
        t.add_row(row["parameter"], *(f"{row[c]:.5g}" for c in ("estimate", "se", "lower", "upper")))
    return t
