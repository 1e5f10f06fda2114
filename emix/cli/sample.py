"""``emix sample``: draw rows from a fitted mixture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .console import err
from .errors import Failure
from .files import check_outputs, emit_table, load_model
from .options import ImageShapeOpt, ModelArg, SeedOpt, parse_image_shape

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix sample model.emix -n 1000 -o synthetic.csv\n\n"
    "  emix sample model.emix -n 5 --seed 1\n\n"
    "  emix sample model.emix -n 300 -o draws.csv --picture ancestral.png\n\n"
    "  emix sample digits.emix -n 24 -o draws.csv --picture digits.png --image-shape 8x8"
)


def sample(
    model_path: ModelArg,
    n: Annotated[int, typer.Option("-n", "--n-samples", help="Number of rows to draw.", min=1)] = 100,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="CSV, TSV, Parquet or .npy (default: CSV on stdout)."),
    ] = None,
    seed: SeedOpt = 0,
    picture: Annotated[
        Path | None,
        typer.Option(
            "--picture",
            help="Also draw ancestral sampling (PNG): each z_n from the weights, then x_n from component "
            "z_n. The rows then come in the order drawn.",
        ),
    ] = None,
    image_shape: ImageShapeOpt = None,
) -> None:
    """Draw rows from a fitted mixture, in the data's units.

    Rows come grouped by component; the 'component' column says which one
    drew each row (a .npy output holds the features only). With --picture the
    draws are ancestral, in the order made: z_n from the weights, then x_n
    from component z_n, and the picture shows both steps.
    """
    import pandas as pd

    from ..sources.tables import table_format

    shape = parse_image_shape(image_shape)
    if shape is not None and picture is None:
        raise Failure("--image-shape goes with --picture")
    check_outputs(output)
    model, cols, scaling, _ = load_model(model_path)
    if picture is None:
        model.set_params(random_state=seed)
        Z, y = model.sample(n)
    else:
        from ..teach.ancestral import ancestral_sample

        drawn = ancestral_sample(model, n, random_state=seed)
        Z, y = drawn.X, drawn.z
    X = scaling.to_data(Z)
    frame = pd.DataFrame(X, columns=cols)
    if output is None or table_format(output) != "npy":
        frame["component"] = y
    emit_table(frame, output)
    if picture is not None:
        from ..teach.plot import plot_ancestral, save_figure

        save_figure(plot_ancestral(drawn.with_X(X), image_shape=shape, feature_names=cols), picture)
        err().print(f"picture written to {picture}")
